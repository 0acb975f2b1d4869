/**
 * @sealchat/protocol — the cryptographic core of Sealchat, over WebCrypto and @hpke/core only.
 * It knows nothing of sockets, DOM or storage engines. docs/protocol.md specifies what it implements.
 */
export {
  utf8Encode,
  utf8Decode,
  concatBytes,
  bytesEqual,
  randomBytes,
  toHex,
  fromHex,
  toBase64Url,
  fromBase64Url,
} from './bytes.js';
export { ByteReader, ByteWriter } from './codec.js';
export { PROTOCOL_VERSION, Context } from './contexts.js';
export { padmeLength, pad, unpad } from './padding.js';
export { ORG_KEY_PREFIX, ORG_ID_LENGTH, formatOrgKey, parseOrgKey, orgIdFromRootKey } from './org-key.js';
export { DEVICE_ID_LENGTH, generateDeviceIdentity, restoreDeviceIdentity, deviceIdFromSigningKey } from './identity.js';
export { CERTIFICATE_FORMAT, MAX_ADMINISTER_LIFETIME_MS, issueCertificate, verifyCertificate } from './certificate.js';
export type { DeviceRole, CertificateFields, VerifiedCertificate } from './certificate.js';
export { HPKE_ENC_LENGTH, hpkeSeal, hpkeOpen } from './hpke.js';
export type { HpkeSealed } from './hpke.js';
export { CHAIN_ID_LENGTH, CHAIN_SEED_LENGTH, SendingChain, ReceivingChain } from './sender-chain.js';
export type { MessageKey, ReceivingChainOptions } from './sender-chain.js';
export {
  MAX_TEXT_BYTES,
  MAX_FORM_FIELDS,
  MAX_FIELD_NAME_BYTES,
  MAX_FIELD_VALUE_BYTES,
  MAX_RECEIPT_HEADS,
  encodeContent,
  decodeContent,
  envelopeTypeOf,
  textOf,
  encodeNote,
  decodeNote,
} from './message-content.js';
export type {
  Content,
  MessageContent,
  FormContent,
  ReceiptContent,
  ReceiptHead,
  TypingContent,
  NoteContent,
  MessageChainContent,
} from './message-content.js';
export {
  KEY_PAIR_USAGES,
  MemoryKeyStore,
  loadOrCreateKeyPair,
  loadOrCreateIdentity,
  keyPairMatches,
} from './key-store.js';
export type { KeyStore, KeyAlgorithm } from './key-store.js';
export { CHALLENGE_LENGTH, relayOrigin, signRelayChallenge, verifyRelayChallenge } from './relay-auth.js';
export {
  WIRE_VERSION,
  WIRE_REVISION,
  MAX_HISTORY_PAGE,
  CLIENT_MESSAGE_ID_LENGTH,
  CAPABILITY_LENGTH,
  MAX_ENVELOPE_BYTES,
  MAX_RETENTION_DAYS,
  MAX_AUDIT_RECORD_BYTES,
  MAX_AUDIT_PAGE,
  MAX_ROSTER_HISTORY_PAGE,
  MAX_HISTORY_GRANT_BYTES,
  MAX_HISTORY_GRANTS_PAGE,
  encodeClientFrame,
  decodeClientFrame,
  encodeRelayFrame,
  decodeRelayFrame,
  agentWire,
} from './wire.js';
export type {
  ClientFrame,
  RelayFrame,
  ConversationSummary,
  PresenceStatus,
  DevicePresence,
  HistoryRecord,
  AuditEntry,
  HistoryGrantEntry,
  CoreClientFrame,
  CoreRelayFrame,
  AgentClientFrame,
  AgentRelayFrame,
  WireCodec,
} from './wire.js';
export { encodeCoreClientFrame, decodeCoreRelayFrame } from './wire-core.js';
export {
  SealchatError,
  DecodeError,
  OrgKeyFormatError,
  SignatureError,
  CertificateError,
  RosterError,
  RosterForkError,
  RosterJumpError,
  RosterSignerError,
  RosterHeadError,
  StaleRosterHeadError,
  OpenError,
  ChainIndexError,
  ReplayError,
  WrongConversationError,
  UntrustedSenderError,
  NoChainError,
  ConversationModeError,
  ArchiveShareError,
  NoteChainError,
  ArchiveKeyError,
} from './errors.js';
export {
  PUBLIC_KEY_LENGTH,
  SIGNATURE_LENGTH,
  generateSigningKeyPair,
  generateAgreementKeyPair,
  exportPublicKey,
  ed25519Sign,
  ed25519Verify,
  x25519,
  sign,
  verify,
  sha256,
  labelledHash,
} from './keys.js';
export type { DeviceIdentity, PublicDevice, Recipient } from './identity.js';
export {
  MAX_ROSTER_DEVICES,
  ROSTER_FORMAT,
  ROSTER_DIGEST_LENGTH,
  issueRoster,
  verifyRoster,
  peekRosterHeader,
  rosterReaders,
  archiveIdFromKey,
} from './roster.js';
export type { VerifiedRoster, RosterFields, RosterMark, ArchiveKey } from './roster.js';
export { ROSTER_HEAD_FORMAT, DEFAULT_MAX_HEAD_AGE_MS, issueRosterHead, verifyRosterHead } from './roster-head.js';
export type { VerifiedRosterHead } from './roster-head.js';
export { AUDIT_DIGEST_LENGTH, EMPTY_AUDIT_MARK, auditLinkDigest } from './audit-mark.js';
export type { AuditMark } from './audit-mark.js';
export {
  CONVERSATION_ID_LENGTH,
  TRANSCRIPT_LINK_LENGTH,
  HEADER_LENGTH,
  ZERO_LINK,
  MAX_SHARE_RECIPIENTS,
  MAX_BODY_BYTES,
  EnvelopeType,
  decodeEnvelope,
  envelopeDigest,
  verifyEnvelope,
  sealKeyShare,
  readKeyShareIntro,
  openKeyShare,
  sealPayload,
  openPayload,
} from './envelope.js';
export type {
  EnvelopeHeader,
  Envelope,
  KeyShareBinding,
  KeyShareIntro,
  ConversationMode,
  PayloadType,
  KeyShareType,
  MessageChainType,
  KeyShareParams,
  ShareOpener,
} from './envelope.js';
export { SecureConversation } from './secure-conversation.js';
export { AgentSecureConversation, verifyArchiveKey } from './agent-secure-conversation.js';
export type { AgentSecureConversationOptions } from './agent-secure-conversation.js';
export { MAX_GRANTED_SEEDS, openHistoryGrant, sealHistoryGrant, type GrantedSeed } from './history-grant.js';
export { verifyHeldRoster, verifyPastRoster, verifyRosterHistory } from './past-rosters.js';
export type { RosterHistory } from './past-rosters.js';
export { safetyCode } from './safety-code.js';
export { encodeControl, decodeControl } from './control-content.js';
export type { ControlAction, ControlContent } from './control-content.js';
export type {
  SecureConversationOptions,
  RotationPolicy,
  SenderInfo,
  Received,
  TranscriptEvent,
  Sealed,
  SendingState,
  OwnHead,
} from './secure-conversation.js';
