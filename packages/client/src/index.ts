/**
 * @sealchat/client — the headless SDK under the widget and the agent console: a relay connection
 * that resumes, an outbox that never drops a message silently, conversation state, and storage.
 * Runs in browsers and in Node (pass `ws` as the WebSocket on Node 20).
 */
export { RelayRequestError, ConnectionLostError, StoredStateError } from './errors.js';
export { RelayConnection } from './relay-connection.js';
export type {
  ConnectionState,
  RelayConnectionOptions,
  RelayConnectionEventMap,
  WebSocketLike,
  WebSocketConstructor,
} from './relay-connection.js';
export type { ChatMessage, MessageState } from './chat-message.js';
export { Conversation } from './conversation.js';
export type {
  Accepted,
  ConversationProblem,
  ConversationOptions,
  TranscriptNotice,
  TypingSignal,
} from './conversation.js';
export { Outbox } from './outbox.js';
export { linkify } from './linkify.js';
export { chime } from './chime.js';
export { maskText, parseMaskPatterns, MaskRuleError } from './masking.js';
export type { MaskRule, MaskTextOptions, MaskPatternLimits } from './masking.js';
export type { TextSegment } from './linkify.js';
export type { OutboxItem, OutboxListener, OutboxOptions, SealedItem } from './outbox.js';
export {
  MemoryClientStore,
  loadConversationPointer,
  saveConversationPointer,
  deleteConversationPointer,
  loadRosterMark,
  saveRosterMark,
} from './client-store.js';
export type { ClientStore, ConversationPointer, RosterMark } from './client-store.js';
export { IdbClientStore } from './idb-client-store.js';
export type { IdbClientStoreOptions } from './idb-client-store.js';
export { ChatSession, TYPING_INTERVAL_MS } from './chat-session.js';
export type { ChatSessionOptions, ChatSessionEventMap } from './chat-session.js';
export { VisitorSession } from './visitor-session.js';
export { openVisitorChat } from './visitor-chat.js';
export type { VisitorChat, VisitorChatOptions } from './visitor-chat.js';
export type { VisitorSessionOptions } from './visitor-session.js';
export { AgentSession, AgentConversation } from './agent-session.js';
export type { Assignment, RefusedControl } from './agent-session.js';
export type { AgentSessionOptions } from './agent-session.js';
export type { PresenceStatus } from '@sealchat/protocol';
export { loadOrCreateOrganisation, publishRoster, publishRosterHead } from './organisation-bootstrap.js';
export { RosterHeadRenewal, HEAD_RENEWAL_INTERVAL_MS, HEAD_WARNING_AGE_MS } from './roster-head-renewal.js';
export { fetchAuditFloor } from './audit-floor.js';
export type { AuditFloor, RequestChannel } from './audit-floor.js';
export type { RosterHeadOptions } from './organisation-bootstrap.js';
export type { RosterHeadRenewalOptions } from './roster-head-renewal.js';
export type { Organisation, OrganisationOptions } from './organisation-bootstrap.js';
export {
  createOrganisation,
  restoreOrganisation,
  loadOrganisation,
  loadBackupFile,
  registerOrganisation,
  fetchRelayRoster,
  OrganisationExistsError,
} from './org-setup.js';
export type {
  RecoverableOrganisation,
  OrgBackupFile,
  CreateOrganisationOptions,
  RestoreOrganisationOptions,
} from './org-setup.js';
export {
  BackupPassphraseError,
  BackupCorruptError,
  BackupVersionError,
  WeakPassphraseError,
  MIN_BACKUP_ITERATIONS,
  MIN_PASSPHRASE_LENGTH,
  MAX_ORG_NAME_LENGTH,
} from './org-backup.js';
export { embedSnippet } from './embed-snippet.js';
export type { EmbedSnippetOptions } from './embed-snippet.js';
export {
  createInvite,
  listInvites,
  inviteCodeOf,
  cancelInvite,
  reviewJoinRequest,
  approveJoinRequest,
  listTeam,
  revokeDevice,
  InviteNotFoundError,
  InviteUsedError,
  InviteExpiredError,
  InviteMacError,
  WrongOrganisationError,
  TooManyInvitesError,
} from './team.js';
export type { InviteInfo, InviteState, CreateInviteOptions, ReviewedRequest, TeamMember } from './team.js';
export { acceptInvite, loadMembership, forgetMembership, waitForApproval } from './team-join.js';
export type { Membership, WaitForApprovalOptions } from './team-join.js';
export {
  TeamCodeError,
  parseInviteCode,
  parseJoinRequest,
  formatDeviceId,
  INVITE_CODE_PREFIX,
  JOIN_REQUEST_PREFIX,
  MAX_MEMBER_NAME_LENGTH,
} from './team-codes.js';
export type { InviteCode, JoinRequest } from './team-codes.js';
export {
  adoptRoster,
  currentRoster,
  enrolDevice,
  enrolAgentDevice,
  removeDevice,
  removeAgentDevice,
} from './team-roster.js';
export type {
  IssuedRoster,
  ListedDevice,
  RosterChangeOptions,
  EnrolOptions,
  EnrolDeviceOptions,
} from './team-roster.js';
export { setRetention, getOrgSettings, relayAuditTransport } from './org-admin.js';
export { fetchRosterHistory } from './org-admin.js';
export type { OrgAdminChannel, OrgSettings } from './org-admin.js';
export { OrgAdministration } from './org-administration.js';
export type { OrgAdministrationOptions, OrgAdministrationEventMap } from './org-administration.js';
export {
  AUDIT_ACTIONS,
  AUDIT_ENTRY_VERSION,
  MAX_AUDIT_TEXT_BYTES,
  encodeAuditEvent,
  decodeAuditEvent,
} from './audit-entry.js';
export type { AuditAction, AuditEvent } from './audit-entry.js';
export {
  AUDIT_RECORD_VERSION,
  AUDIT_ENTRY_BLOCK,
  MAX_AUDIT_RECORD_BYTES,
  AuditLogWriter,
  AuditLogTamperedError,
  AuditLogKeyError,
  readAuditLog,
  verifyAuditLog,
  exportAuditLog,
} from './audit-log.js';
export type {
  AuditTransport,
  AuditHead,
  AuditSigner,
  AuditLogEntry,
  VerifiedAuditRecord,
  AuditLogLimits,
  AuditLogWriterOptions,
  VerifyAuditLogOptions,
  ReadAuditLogOptions,
} from './audit-log.js';
