import { SealchatAgent } from './sealchat-agent.js';
import { SealchatOrgAdmin } from './sealchat-org-admin.js';
import { SealchatOrgSetup, type OrgReadyDetail } from './sealchat-org-setup.js';
import {
  SealchatTeam,
  type RevokeRequestDetail,
  type TeamChangedDetail,
  type TeamJoinedDetail,
} from './sealchat-team.js';

export { SealchatAgent, SealchatOrgAdmin, SealchatOrgSetup, SealchatTeam };

if (!customElements.get('sealchat-agent')) customElements.define('sealchat-agent', SealchatAgent);
if (!customElements.get('sealchat-org-setup')) customElements.define('sealchat-org-setup', SealchatOrgSetup);
if (!customElements.get('sealchat-org-admin')) customElements.define('sealchat-org-admin', SealchatOrgAdmin);
if (!customElements.get('sealchat-team')) customElements.define('sealchat-team', SealchatTeam);

declare global {
  interface HTMLElementTagNameMap {
    'sealchat-agent': SealchatAgent;
    'sealchat-org-admin': SealchatOrgAdmin;
    'sealchat-org-setup': SealchatOrgSetup;
    'sealchat-team': SealchatTeam;
  }
  interface GlobalEventHandlersEventMap {
    'sealchat-select': CustomEvent<string>;
    'sealchat-org-ready': CustomEvent<OrgReadyDetail>;
    'sealchat-team-joined': CustomEvent<TeamJoinedDetail>;
    'sealchat-team-changed': CustomEvent<TeamChangedDetail>;
    'sealchat-request-revoke': CustomEvent<RevokeRequestDetail>;
  }
}
