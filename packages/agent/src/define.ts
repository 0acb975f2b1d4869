import { SealchatAgent } from './sealchat-agent.js';
import { SealchatOrgSetup, type OrgReadyDetail } from './sealchat-org-setup.js';

export { SealchatAgent, SealchatOrgSetup };

if (!customElements.get('sealchat-agent')) customElements.define('sealchat-agent', SealchatAgent);
if (!customElements.get('sealchat-org-setup')) customElements.define('sealchat-org-setup', SealchatOrgSetup);

declare global {
  interface HTMLElementTagNameMap {
    'sealchat-agent': SealchatAgent;
    'sealchat-org-setup': SealchatOrgSetup;
  }
  interface GlobalEventHandlersEventMap {
    'sealchat-select': CustomEvent<string>;
    'sealchat-org-ready': CustomEvent<OrgReadyDetail>;
  }
}
