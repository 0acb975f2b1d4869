import type { ByteReader } from './codec.js';
import { DecodeError } from './errors.js';
import { CONVERSATION_ID_LENGTH } from './envelope.js';
import { DEVICE_ID_LENGTH } from './identity.js';
import { PUBLIC_KEY_LENGTH, SIGNATURE_LENGTH } from './keys.js';
import { ORG_ID_LENGTH } from './org-key.js';
import {
  CAPABILITY_LENGTH,
  MAX_ENVELOPE_BYTES,
  MAX_ROSTER_BYTES,
  MAX_ROSTER_HEAD_BYTES,
  PRESENCE_CODES,
  frameStart,
  kindOf,
  readPresence,
  type PresenceStatus,
} from './wire-core.js';

/**
 * Every frame beyond the visitor client's (wire-core.ts): those only an organisation's devices use —
 * agent login, the org's conversation list, presence, (revision 3) the supervisor's settings and
 * audit log and the org's roster history, and (revision 4) history grants — and three any socket may
 * use that the visitor's client does not: the revision-1 attach, `hello`, and history pages. Kept apart so the visitor's bundle does not
 * carry them; an agent's `RelayConnection` takes them through `agentWire` (wire.ts).
 * docs/relay-protocol.md describes each frame.
 */

const MAX_LIST = 10_000;
/** Most records one `history` page may carry. */
export const MAX_HISTORY_PAGE = 1000;
/** Most days a supervisor may keep records (`set-retention`): a hundred years. */
export const MAX_RETENTION_DAYS = 36_500;
/** Largest audit record (`append-audit`): opaque ciphertext to the relay. */
export const MAX_AUDIT_RECORD_BYTES = 16 * 1024;
/** Most records one `audit-page` may carry. */
export const MAX_AUDIT_PAGE = 1000;
/** Most rosters one `roster-history` page may carry (docs/relay-protocol.md §Roster history). */
export const MAX_ROSTER_HISTORY_PAGE = 100;
/**
 * Largest history grant (`put-history-grant`, docs/relay-protocol.md §History grants): opaque
 * ciphertext to the relay. A grant is never empty. The relay's frame limit (`maxFrameBytes`, 64 KiB
 * by default) bounds what it accepts slightly below this.
 */
export const MAX_HISTORY_GRANT_BYTES = 64 * 1024;
/** Most grants one `history-grants` page may carry, and the largest `limit` a request may ask for. */
export const MAX_HISTORY_GRANTS_PAGE = 256;

export interface ConversationSummary {
  readonly conversationId: Uint8Array<ArrayBuffer>;
  readonly lastSeq: number;
  readonly createdAt: number;
}

/** One stored record in a `history` page. */
export interface HistoryRecord {
  readonly seq: number;
  readonly envelope: Uint8Array<ArrayBuffer>;
}

/** One record of an organisation's audit log, at its position (from 0) in the log. */
export interface AuditEntry {
  readonly index: number;
  readonly record: Uint8Array<ArrayBuffer>;
}

/** One history grant addressed to the reading device: a conversation's chain seeds, sealed to it. */
export interface HistoryGrantEntry {
  readonly conversationId: Uint8Array<ArrayBuffer>;
  /** 1 to {@link MAX_HISTORY_GRANT_BYTES} bytes, opaque to the relay. */
  readonly grant: Uint8Array<ArrayBuffer>;
}

/** Client frames beyond the visitor client's: mostly an organisation's devices'. */
export type AgentClientFrame =
  | {
      kind: 'attach-conversation';
      requestId: number;
      conversationId: Uint8Array<ArrayBuffer>;
      /** The visitor's capability; empty for an authenticated agent. */
      capability: Uint8Array<ArrayBuffer>;
      afterSeq: number;
    }
  /** Revision 2: announces the feature revision the client speaks; answered by `welcome`. */
  | { kind: 'hello'; requestId: number; revision: number }
  /** Revision 2: one bounded page of records with seq below `beforeSeq` (0: from the newest). */
  | {
      kind: 'get-history';
      requestId: number;
      conversationId: Uint8Array<ArrayBuffer>;
      capability: Uint8Array<ArrayBuffer>;
      beforeSeq: number;
      limit: number;
    }
  | {
      kind: 'auth-agent';
      requestId: number;
      orgId: Uint8Array<ArrayBuffer>;
      deviceId: Uint8Array<ArrayBuffer>;
      signature: Uint8Array<ArrayBuffer>;
    }
  | { kind: 'watch-org'; requestId: number }
  /** Revision 2: an authenticated agent sets its device's availability. */
  | { kind: 'set-presence'; requestId: number; status: PresenceStatus }
  /** Revision 3, supervisors: days records are kept (0: the relay's default), at most {@link MAX_RETENTION_DAYS}. */
  | { kind: 'set-retention'; requestId: number; days: number }
  /** Revision 3, supervisors: answered by `org-settings`. */
  | { kind: 'get-org-settings'; requestId: number }
  /** Revision 3, supervisors: appends `record` at `index`, which must be the log's length (compare-and-set). */
  | { kind: 'append-audit'; requestId: number; index: number; record: Uint8Array<ArrayBuffer> }
  /** Revision 3, supervisors: audit records from `fromIndex` on, at most `limit` (0: as many as a page holds). */
  | { kind: 'get-audit'; requestId: number; fromIndex: number; limit: number }
  /**
   * Revision 3, any authenticated device of the org: the rosters the relay accepted with a version of
   * at least `fromVersion`, at most `limit` (0: as many as a page holds).
   */
  | { kind: 'get-roster-history'; requestId: number; fromVersion: number; limit: number }
  /**
   * Revision 4, supervisors: stores `grant` for the device `deviceId` of the org's current roster and
   * the org's conversation `conversationId`, replacing an earlier one for the same pair. Answered by `ok`.
   */
  | {
      kind: 'put-history-grant';
      requestId: number;
      deviceId: Uint8Array<ArrayBuffer>;
      conversationId: Uint8Array<ArrayBuffer>;
      grant: Uint8Array<ArrayBuffer>;
    }
  /**
   * Revision 4, any authenticated device of the org: the grants addressed to this device, ascending
   * by conversation id, strictly after `after` (all zeros: from the start), at most `limit`
   * (1 to {@link MAX_HISTORY_GRANTS_PAGE}).
   */
  | { kind: 'get-history-grants'; requestId: number; after: Uint8Array<ArrayBuffer>; limit: number }
  /**
   * Revision 5, anyone (the head is signed): stores a roster head for the org of `orgRootKey`
   * (docs/protocol.md §4.4). Answered by `ok`. Here, not in the core set, so the visitor's bundle
   * does not carry it: consoles and keepers send it over an `agentWire` connection.
   */
  | {
      kind: 'publish-roster-head';
      requestId: number;
      orgRootKey: Uint8Array<ArrayBuffer>;
      head: Uint8Array<ArrayBuffer>;
    };

/** Relay frames beyond what the visitor's client receives. */
export type AgentRelayFrame =
  | { kind: 'attached'; requestId: number; lastSeq: number }
  /** Revision 2: answer to `hello`; `revision` is the one both sides speak, `epoch` the database's. */
  | { kind: 'welcome'; requestId: number; revision: number; epoch: number }
  /** Revision 2: answer to `get-history`, records in ascending seq order. */
  | {
      kind: 'history';
      requestId: number;
      conversationId: Uint8Array<ArrayBuffer>;
      firstSeq: number;
      records: readonly HistoryRecord[];
    }
  | { kind: 'conversation-list'; requestId: number; conversations: readonly ConversationSummary[] }
  | { kind: 'conversation-created'; conversation: ConversationSummary }
  /**
   * Revision 3: answer to `get-org-settings`. `retentionDays` 0 means the org has none of its own and
   * `defaultRetentionDays` applies (0 there: kept forever); `auditCount` is the audit log's length.
   */
  | {
      kind: 'org-settings';
      requestId: number;
      retentionDays: number;
      defaultRetentionDays: number;
      auditCount: number;
    }
  /** Revision 3: answer to `get-audit`, ascending by index. */
  | { kind: 'audit-page'; requestId: number; records: readonly AuditEntry[] }
  /**
   * Revision 3: answer to `get-roster-history`, signed rosters as published, ascending by version.
   * The relay cannot forge one; the client verifies each under the org's root key.
   */
  | { kind: 'roster-history'; requestId: number; rosters: readonly Uint8Array<ArrayBuffer>[] }
  /**
   * Revision 4: answer to `get-history-grants`, ascending by conversation id. Fewer than the `limit`
   * asked for means there are no more.
   */
  | { kind: 'history-grants'; requestId: number; grants: readonly HistoryGrantEntry[] }
  /**
   * Revision 4: pushed (no request) to the addressed device's sockets that said `hello` with revision
   * 4 or later, when a grant for it is stored.
   */
  | { kind: 'history-granted'; conversationId: Uint8Array<ArrayBuffer>; grant: Uint8Array<ArrayBuffer> };

const CLIENT_KINDS = {
  'attach-conversation': 2,
  'auth-agent': 3,
  'watch-org': 4,
  hello: 8,
  'get-history': 10,
  'set-presence': 12,
  'set-retention': 14,
  'get-org-settings': 15,
  'append-audit': 16,
  'get-audit': 17,
  'get-roster-history': 18,
  'put-history-grant': 19,
  'get-history-grants': 20,
  'publish-roster-head': 22,
} as const satisfies Record<AgentClientFrame['kind'], number>;

const RELAY_KINDS = {
  attached: 0x85,
  'conversation-list': 0x88,
  'conversation-created': 0x89,
  welcome: 0x8b,
  history: 0x8d,
  'org-settings': 0x90,
  'audit-page': 0x91,
  'roster-history': 0x92,
  'history-grants': 0x93,
  'history-granted': 0x94,
} as const satisfies Record<AgentRelayFrame['kind'], number>;

/** The agent client frame kind with this code, if it is one. */
export function agentClientKind(code: number): AgentClientFrame['kind'] | undefined {
  return kindOf(CLIENT_KINDS, code);
}

/** The agent relay frame kind with this code, if it is one. */
export function agentRelayKind(code: number): AgentRelayFrame['kind'] | undefined {
  return kindOf(RELAY_KINDS, code);
}

export function isAgentClientFrame(frame: { kind: string }): frame is AgentClientFrame {
  return frame.kind in CLIENT_KINDS;
}

export function isAgentRelayFrame(frame: { kind: string }): frame is AgentRelayFrame {
  return frame.kind in RELAY_KINDS;
}

function readSummary(r: ByteReader): ConversationSummary {
  return { conversationId: r.fixed(CONVERSATION_ID_LENGTH), lastSeq: r.u64(), createdAt: r.u64() };
}

/** A grant: 1 to {@link MAX_HISTORY_GRANT_BYTES} bytes. */
function readGrant(r: ByteReader): Uint8Array<ArrayBuffer> {
  const grant = r.bytes(MAX_HISTORY_GRANT_BYTES);
  if (grant.length === 0) throw new DecodeError('A history grant is never empty');
  return grant;
}

function grantsLimit(r: ByteReader): number {
  const limit = r.u32();
  if (limit < 1 || limit > MAX_HISTORY_GRANTS_PAGE) {
    throw new DecodeError(`A history grants page limit must be 1 to ${MAX_HISTORY_GRANTS_PAGE}, got ${limit}`);
  }
  return limit;
}

function retentionDays(r: ByteReader): number {
  const days = r.u32();
  if (days > MAX_RETENTION_DAYS) throw new DecodeError(`Retention of ${days} days is over ${MAX_RETENTION_DAYS}`);
  return days;
}

export function encodeAgentClientFrame(frame: AgentClientFrame): Uint8Array<ArrayBuffer> {
  const w = frameStart(CLIENT_KINDS[frame.kind]).u32(frame.requestId);
  switch (frame.kind) {
    case 'attach-conversation':
      return w.fixed(frame.conversationId, CONVERSATION_ID_LENGTH).bytes(frame.capability).u64(frame.afterSeq).finish();
    case 'hello':
      return w.u32(frame.revision).finish();
    case 'get-history':
      return w
        .fixed(frame.conversationId, CONVERSATION_ID_LENGTH)
        .bytes(frame.capability)
        .u64(frame.beforeSeq)
        .u32(frame.limit)
        .finish();
    case 'auth-agent':
      return w
        .fixed(frame.orgId, ORG_ID_LENGTH)
        .fixed(frame.deviceId, DEVICE_ID_LENGTH)
        .fixed(frame.signature, SIGNATURE_LENGTH)
        .finish();
    case 'watch-org':
    case 'get-org-settings':
      return w.finish();
    case 'set-presence':
      return w.u8(PRESENCE_CODES[frame.status]).finish();
    case 'set-retention':
      return w.u32(frame.days).finish();
    case 'append-audit':
      return w.u64(frame.index).bytes(frame.record).finish();
    case 'get-audit':
      return w.u64(frame.fromIndex).u32(frame.limit).finish();
    case 'get-roster-history':
      return w.u64(frame.fromVersion).u32(frame.limit).finish();
    case 'put-history-grant':
      return w
        .fixed(frame.deviceId, DEVICE_ID_LENGTH)
        .fixed(frame.conversationId, CONVERSATION_ID_LENGTH)
        .bytes(frame.grant)
        .finish();
    case 'get-history-grants':
      return w.fixed(frame.after, CONVERSATION_ID_LENGTH).u32(frame.limit).finish();
    case 'publish-roster-head':
      return w.fixed(frame.orgRootKey, PUBLIC_KEY_LENGTH).bytes(frame.head).finish();
  }
}

/** Reads the fields of an agent client frame after its header; the caller checks the end. */
export function readAgentClientFrame(kind: AgentClientFrame['kind'], r: ByteReader): AgentClientFrame {
  const requestId = r.u32();
  switch (kind) {
    case 'attach-conversation':
      return {
        kind,
        requestId,
        conversationId: r.fixed(CONVERSATION_ID_LENGTH),
        capability: r.bytes(CAPABILITY_LENGTH),
        afterSeq: r.u64(),
      };
    case 'hello':
      return { kind, requestId, revision: r.u32() };
    case 'get-history':
      return {
        kind,
        requestId,
        conversationId: r.fixed(CONVERSATION_ID_LENGTH),
        capability: r.bytes(CAPABILITY_LENGTH),
        beforeSeq: r.u64(),
        limit: r.u32(),
      };
    case 'auth-agent':
      return {
        kind,
        requestId,
        orgId: r.fixed(ORG_ID_LENGTH),
        deviceId: r.fixed(DEVICE_ID_LENGTH),
        signature: r.fixed(SIGNATURE_LENGTH),
      };
    case 'watch-org':
    case 'get-org-settings':
      return { kind, requestId };
    case 'set-presence':
      return { kind, requestId, status: readPresence(r) };
    case 'set-retention':
      return { kind, requestId, days: retentionDays(r) };
    case 'append-audit':
      return { kind, requestId, index: r.u64(), record: r.bytes(MAX_AUDIT_RECORD_BYTES) };
    case 'get-audit':
      return { kind, requestId, fromIndex: r.u64(), limit: r.u32() };
    case 'get-roster-history':
      return { kind, requestId, fromVersion: r.u64(), limit: r.u32() };
    case 'put-history-grant':
      return {
        kind,
        requestId,
        deviceId: r.fixed(DEVICE_ID_LENGTH),
        conversationId: r.fixed(CONVERSATION_ID_LENGTH),
        grant: readGrant(r),
      };
    case 'get-history-grants':
      return { kind, requestId, after: r.fixed(CONVERSATION_ID_LENGTH), limit: grantsLimit(r) };
    case 'publish-roster-head':
      return { kind, requestId, orgRootKey: r.fixed(PUBLIC_KEY_LENGTH), head: r.bytes(MAX_ROSTER_HEAD_BYTES) };
  }
}

export function encodeAgentRelayFrame(frame: AgentRelayFrame): Uint8Array<ArrayBuffer> {
  const w = frameStart(RELAY_KINDS[frame.kind]);
  const summary = (c: ConversationSummary) =>
    w.fixed(c.conversationId, CONVERSATION_ID_LENGTH).u64(c.lastSeq).u64(c.createdAt);
  switch (frame.kind) {
    case 'attached':
      return w.u32(frame.requestId).u64(frame.lastSeq).finish();
    case 'welcome':
      return w.u32(frame.requestId).u32(frame.revision).u64(frame.epoch).finish();
    case 'history': {
      if (frame.records.length > MAX_HISTORY_PAGE) throw new RangeError('History page over MAX_HISTORY_PAGE');
      w.u32(frame.requestId)
        .fixed(frame.conversationId, CONVERSATION_ID_LENGTH)
        .u64(frame.firstSeq)
        .u32(frame.records.length);
      for (const record of frame.records) w.u64(record.seq).bytes(record.envelope);
      return w.finish();
    }
    case 'conversation-list': {
      w.u32(frame.requestId).u32(frame.conversations.length);
      for (const c of frame.conversations) summary(c);
      return w.finish();
    }
    case 'conversation-created':
      return summary(frame.conversation).finish();
    case 'org-settings':
      return w
        .u32(frame.requestId)
        .u32(frame.retentionDays)
        .u32(frame.defaultRetentionDays)
        .u64(frame.auditCount)
        .finish();
    case 'audit-page': {
      if (frame.records.length > MAX_AUDIT_PAGE) throw new RangeError('Audit page over MAX_AUDIT_PAGE');
      w.u32(frame.requestId).u32(frame.records.length);
      for (const entry of frame.records) w.u64(entry.index).bytes(entry.record);
      return w.finish();
    }
    case 'roster-history': {
      if (frame.rosters.length > MAX_ROSTER_HISTORY_PAGE) {
        throw new RangeError('Roster history page over MAX_ROSTER_HISTORY_PAGE');
      }
      w.u32(frame.requestId).u32(frame.rosters.length);
      for (const roster of frame.rosters) w.bytes(roster);
      return w.finish();
    }
    case 'history-grants': {
      if (frame.grants.length > MAX_HISTORY_GRANTS_PAGE) {
        throw new RangeError('History grants page over MAX_HISTORY_GRANTS_PAGE');
      }
      w.u32(frame.requestId).u32(frame.grants.length);
      for (const entry of frame.grants) w.fixed(entry.conversationId, CONVERSATION_ID_LENGTH).bytes(entry.grant);
      return w.finish();
    }
    case 'history-granted':
      return w.fixed(frame.conversationId, CONVERSATION_ID_LENGTH).bytes(frame.grant).finish();
  }
}

/** Reads the fields of an agent relay frame after its header; the caller checks the end. */
export function readAgentRelayFrame(kind: AgentRelayFrame['kind'], r: ByteReader): AgentRelayFrame {
  switch (kind) {
    case 'attached':
      return { kind, requestId: r.u32(), lastSeq: r.u64() };
    case 'welcome':
      return { kind, requestId: r.u32(), revision: r.u32(), epoch: r.u64() };
    case 'history': {
      const requestId = r.u32();
      const conversationId = r.fixed(CONVERSATION_ID_LENGTH);
      const firstSeq = r.u64();
      const count = r.u32();
      if (count > MAX_HISTORY_PAGE) throw new DecodeError(`History page of ${count} is over the limit`);
      const records: HistoryRecord[] = [];
      for (let i = 0; i < count; i++) records.push({ seq: r.u64(), envelope: r.bytes(MAX_ENVELOPE_BYTES) });
      return { kind, requestId, conversationId, firstSeq, records };
    }
    case 'conversation-list': {
      const requestId = r.u32();
      const count = r.u32();
      if (count > MAX_LIST) throw new DecodeError(`Conversation list of ${count} is over the limit`);
      const conversations: ConversationSummary[] = [];
      for (let i = 0; i < count; i++) conversations.push(readSummary(r));
      return { kind, requestId, conversations };
    }
    case 'conversation-created':
      return { kind, conversation: readSummary(r) };
    case 'org-settings':
      return {
        kind,
        requestId: r.u32(),
        retentionDays: r.u32(),
        defaultRetentionDays: r.u32(),
        auditCount: r.u64(),
      };
    case 'audit-page': {
      const requestId = r.u32();
      const count = r.u32();
      if (count > MAX_AUDIT_PAGE) throw new DecodeError(`Audit page of ${count} is over the limit`);
      const records: AuditEntry[] = [];
      for (let i = 0; i < count; i++) records.push({ index: r.u64(), record: r.bytes(MAX_AUDIT_RECORD_BYTES) });
      return { kind, requestId, records };
    }
    case 'roster-history': {
      const requestId = r.u32();
      const count = r.u32();
      if (count > MAX_ROSTER_HISTORY_PAGE) throw new DecodeError(`Roster history page of ${count} is over the limit`);
      const rosters: Uint8Array<ArrayBuffer>[] = [];
      for (let i = 0; i < count; i++) rosters.push(r.bytes(MAX_ROSTER_BYTES));
      return { kind, requestId, rosters };
    }
    case 'history-grants': {
      const requestId = r.u32();
      const count = r.u32();
      if (count > MAX_HISTORY_GRANTS_PAGE) throw new DecodeError(`History grants page of ${count} is over the limit`);
      const grants: HistoryGrantEntry[] = [];
      for (let i = 0; i < count; i++)
        grants.push({ conversationId: r.fixed(CONVERSATION_ID_LENGTH), grant: readGrant(r) });
      return { kind, requestId, grants };
    }
    case 'history-granted':
      return { kind, conversationId: r.fixed(CONVERSATION_ID_LENGTH), grant: readGrant(r) };
  }
}
