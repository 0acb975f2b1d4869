/**
 * Domain-separation labels. Every signature, HKDF output and HPKE `info` starts with one of these,
 * so bytes produced for one purpose can never verify or decrypt as another (the confusion behind
 * CVE-2022-39251 in Matrix). docs/protocol.md §Contexts lists them.
 */
export const PROTOCOL_VERSION = 1;

export const Context = {
  orgKeyChecksum: 'sealchat/v1 org-key-checksum',
  orgId: 'sealchat/v1 org-id',
  deviceId: 'sealchat/v1 device-id',
  certificate: 'sealchat/v1 certificate',
  roster: 'sealchat/v1 roster',
  relayAuth: 'sealchat/v1 relay-auth',
  keyShareInfo: 'sealchat/v1 key-share',
  /** HPKE `info` prefix of a note key share (docs/protocol.md §6). */
  noteKeyShareInfo: 'sealchat/v1 note-key-share',
  chainInit: 'sealchat/v1 chain-init',
  chainStep: 'sealchat/v1 chain-step',
  messageKey: 'sealchat/v1 message-key',
  envelopeKeyShare: 'sealchat/v1 envelope key-share',
  envelopeMessage: 'sealchat/v1 envelope message',
  envelopeReceipt: 'sealchat/v1 envelope receipt',
  envelopeTyping: 'sealchat/v1 envelope typing',
  envelopeControl: 'sealchat/v1 envelope control',
  envelopeNoteKeyShare: 'sealchat/v1 envelope note-key-share',
  envelopeNote: 'sealchat/v1 envelope note',
  transcript: 'sealchat/v1 transcript',
  archiveId: 'sealchat/v1 archive-id',
  rosterDigest: 'sealchat/v1 roster-digest',
  /** Signature over a roster head: "this roster is the current one" at a time (§4.4). */
  rosterHead: 'sealchat/v1 roster-head',
  /** Link digest of an audit log record: what the next record and a roster head's audit mark name (§4.4). */
  auditLink: 'sealchat/v1 audit-link',
  safetyCode: 'sealchat/v1 safety-code',
  /** HPKE `info` prefix of a history grant: a conversation's chain seeds re-sealed to one agent device (§14). */
  historyGrant: 'sealchat/v1 history-grant',
} as const;
