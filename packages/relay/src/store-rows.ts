import type {
  AppendResult,
  StoredAuditRecord,
  StoredConversation,
  StoredHistoryGrant,
  StoredOrg,
  StoredRecord,
  StoredRoster,
  StoredRosterHead,
} from './store.js';

/**
 * Rows as both storage engines return them, and their mapping to the store's types. SQLite gives
 * integers as numbers, PostgreSQL gives BIGINTs as strings: `Number()` serves both (every value
 * here is below 2^53).
 */
export interface OrgRow {
  org_id: Buffer;
  root_key: Buffer;
  roster: Buffer | null;
  roster_version: number;
  registered_at: number | string;
  retention_days: number | null;
}

export interface ConversationRow {
  conversation_id: Buffer;
  org_id: Buffer;
  capability_hash: Buffer;
  last_seq: number | string;
  created_at: number | string;
}

export interface RecordRow {
  conversation_id: Buffer;
  seq: number | string;
  client_message_id: Buffer;
  envelope: Buffer;
  stored_at: number | string;
}

export interface AuditRow {
  audit_index: number | string;
  record: Buffer;
  stored_at: number | string;
}

export interface GrantRow {
  conversation_id: Buffer;
  sealed: Buffer;
}

export interface RosterHeadRow {
  roster_version: number | string;
  signed_at: number | string;
  head: Buffer;
  audit_count: number | string;
}

export interface RosterRow {
  version: number | string;
  roster: Buffer;
}

/** A post waiting for its engine's next group commit. */
export interface QueuedAppend {
  readonly conversationId: Uint8Array<ArrayBuffer>;
  readonly clientMessageId: Uint8Array<ArrayBuffer>;
  readonly envelope: Uint8Array<ArrayBuffer>;
  readonly resolve: (result: AppendResult) => void;
  readonly reject: (error: Error) => void;
}

/** Copies a driver's Buffer into a plain Uint8Array, the type the protocol package speaks. */
export function bytes(buffer: Buffer): Uint8Array<ArrayBuffer> {
  return new Uint8Array(buffer);
}

/** A Buffer view of the caller's bytes, for binding as a BLOB/BYTEA (no copy). */
export function blob(data: Uint8Array): Buffer {
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

export function toOrg(row: OrgRow): StoredOrg {
  return {
    orgId: bytes(row.org_id),
    rootKey: bytes(row.root_key),
    roster: row.roster ? bytes(row.roster) : undefined,
    rosterVersion: row.roster_version,
    registeredAt: Number(row.registered_at),
    retentionDays: row.retention_days ?? undefined,
  };
}

export function toConversation(row: ConversationRow): StoredConversation {
  return {
    conversationId: bytes(row.conversation_id),
    orgId: bytes(row.org_id),
    capabilityHash: bytes(row.capability_hash),
    lastSeq: Number(row.last_seq),
    createdAt: Number(row.created_at),
  };
}

export function toRecord(row: RecordRow): StoredRecord {
  return {
    conversationId: bytes(row.conversation_id),
    seq: Number(row.seq),
    clientMessageId: bytes(row.client_message_id),
    envelope: bytes(row.envelope),
    storedAt: Number(row.stored_at),
  };
}

export function toAuditRecord(row: AuditRow): StoredAuditRecord {
  return { index: Number(row.audit_index), record: bytes(row.record), storedAt: Number(row.stored_at) };
}

export function toRoster(row: RosterRow): StoredRoster {
  return { version: Number(row.version), roster: bytes(row.roster) };
}

export function toRosterHead(row: RosterHeadRow): StoredRosterHead {
  return {
    rosterVersion: Number(row.roster_version),
    signedAt: Number(row.signed_at),
    auditCount: Number(row.audit_count),
    head: bytes(row.head),
  };
}

export function toHistoryGrant(row: GrantRow): StoredHistoryGrant {
  return { conversationId: bytes(row.conversation_id), grant: bytes(row.sealed) };
}
