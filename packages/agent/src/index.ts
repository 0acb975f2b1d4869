/**
 * @sealchat/agent — `<sealchat-agent>`, the agent console. Import `@sealchat/agent/define` to
 * register the tag, or this module for the class alone (no side effects).
 */
export { SealchatAgent } from './sealchat-agent.js';
export { SealchatOrgAdmin } from './sealchat-org-admin.js';
export { SealchatOrgSetup } from './sealchat-org-setup.js';
export type { OrgReadyDetail } from './sealchat-org-setup.js';
export { SealchatTeam } from './sealchat-team.js';
export type { TeamJoinedDetail, TeamChangedDetail, RevokeRequestDetail } from './sealchat-team.js';
