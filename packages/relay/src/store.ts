/**
 * What the relay keeps, as an interface, so the SQLite default and a later PostgreSQL store answer
 * the same questions. Everything in it is either public (ids, public keys, signed rosters) or
 * ciphertext; a conversation's capability is kept only as its SHA-256 hash, so a stolen database
 * does not let anyone attach to a conversation.
 *
 * Every query is asynchronous, because PostgreSQL answers over a socket. The relay therefore never
 * relies on a read and a subscription happening in one synchronous step: a socket that catches up
 * from storage keeps a cursor (`lastSent`) and repairs any gap by seq from the store, so a commit
 * that falls between a read and going live is fetched, not lost (see relay.ts `catchUp`).
 */

/** An organisation the relay serves. */
export interface StoredOrg {
  readonly orgId: Uint8Array<ArrayBuffer>;
  readonly rootKey: Uint8Array<ArrayBuffer>;
  /** The newest roster accepted, as signed; undefined until one is published. */
  readonly roster: Uint8Array<ArrayBuffer> | undefined;
  readonly rosterVersion: number;
  readonly registeredAt: number;
  /** Records older than this many days are swept; undefined uses the relay's `retentionDays` option. */
  readonly retentionDays: number | undefined;
}

/** What an operator sets per organisation (`sealchat-relay org add`). */
export interface OrgPolicy {
  /** Browser origins allowed to act on this org; empty defers to the relay-wide `allowedOrigins`. */
  readonly origins: readonly string[];
  /** Maximum age of records in days; undefined uses the relay's `retentionDays` option. */
  readonly retentionDays: number | undefined;
}

/**
 * One record of an organisation's audit log: opaque ciphertext to the relay (sealed, signed and
 * hash-chained by the org's supervisors), at its position in the org's append-only log.
 */
export interface StoredAuditRecord {
  /** Position in the log, from 0. */
  readonly index: number;
  readonly record: Uint8Array<ArrayBuffer>;
  readonly storedAt: number;
}

/**
 * What {@link RelayStore.appendAudit} did: `appended`; `conflict` when the index was not the log's
 * length (another append took it first, or the writer is behind); `full` when the log has reached
 * its bound.
 */
export type AuditAppendResult = 'appended' | 'conflict' | 'full';

/** A roster the relay accepted for an organisation, as signed; public, and unforgeable by the relay. */
export interface StoredRoster {
  readonly version: number;
  readonly roster: Uint8Array<ArrayBuffer>;
}

/**
 * A roster head as the relay keeps it (docs/protocol.md §4.4): the signed bytes, the roster version
 * they name, when they were signed and how many audit records their mark names. Public, and
 * unforgeable by the relay.
 */
export interface StoredRosterHead {
  readonly rosterVersion: number;
  readonly signedAt: number;
  /** The audit log length the head's mark names (docs/audit-log.md §Heads). */
  readonly auditCount: number;
  readonly head: Uint8Array<ArrayBuffer>;
}

/**
 * A history grant as stored: a conversation's chain seeds, sealed by a supervisor to one device of the
 * org. Opaque ciphertext to the relay; at most one per (org, device, conversation).
 */
export interface StoredHistoryGrant {
  readonly conversationId: Uint8Array<ArrayBuffer>;
  readonly grant: Uint8Array<ArrayBuffer>;
}

/** A grant to store, and the facts the store checks in the same transaction. */
export interface HistoryGrantWrite {
  readonly orgId: Uint8Array;
  readonly deviceId: Uint8Array;
  readonly conversationId: Uint8Array;
  readonly grant: Uint8Array;
  /**
   * The org's roster version the caller found the device on. The grant is stored only while that is
   * still the org's roster, so a roster that drops the device cannot slip in between the check and
   * the write and leave the grant behind.
   */
  readonly rosterVersion: number;
  /** Most grants the device may hold in the org; replacing one it holds never counts against it. */
  readonly maxPerDevice: number;
}

/**
 * What {@link RelayStore.putHistoryGrant} did: `stored` (inserted or replaced); `stale-roster` when
 * the org's roster is no longer `rosterVersion` (or the org is gone); `unknown-conversation` when the
 * conversation does not exist in that org; `full` when the device already holds `maxPerDevice`.
 */
export type HistoryGrantPutResult = 'stored' | 'stale-roster' | 'unknown-conversation' | 'full';

/** What one retention sweep step removed. */
export interface SweepResult {
  readonly deletedRecords: number;
  /** Conversations erased because they were older than the retention age and had no records left. */
  readonly deletedConversations: Uint8Array<ArrayBuffer>[];
  /** True if the step stopped at its batch size and there is more to sweep. */
  readonly more: boolean;
}

/** A conversation: a durable, ordered stream of envelopes. */
export interface StoredConversation {
  readonly conversationId: Uint8Array<ArrayBuffer>;
  readonly orgId: Uint8Array<ArrayBuffer>;
  /** SHA-256 of the visitor's capability. */
  readonly capabilityHash: Uint8Array<ArrayBuffer>;
  /** Highest sequence number committed; 0 for an empty conversation. */
  readonly lastSeq: number;
  readonly createdAt: number;
}

/** One stored envelope. */
export interface StoredRecord {
  readonly conversationId: Uint8Array<ArrayBuffer>;
  readonly seq: number;
  readonly clientMessageId: Uint8Array<ArrayBuffer>;
  readonly envelope: Uint8Array<ArrayBuffer>;
  readonly storedAt: number;
}

/** The outcome of {@link RelayStore.append}, known only once the record is durable. */
export interface AppendResult {
  readonly record: StoredRecord;
  /** True when this client message id was already stored: `record` is the original, nothing new was written. */
  readonly duplicate: boolean;
}

/** The storage the relay needs. */
export interface RelayStore {
  getOrg(orgId: Uint8Array): Promise<StoredOrg | undefined>;
  /** The organisation registered last (what the demo page connects to). */
  latestOrg(): Promise<StoredOrg | undefined>;
  /** Registers an organisation; a no-op if it exists. */
  registerOrg(orgId: Uint8Array, rootKey: Uint8Array, now: number): Promise<void>;
  /**
   * Replaces the organisation's roster and keeps it in the org's roster history, in one transaction;
   * then drops the oldest kept rosters beyond the newest `maxHistory`, and the history grants of every
   * device not in `deviceIds` (the devices the new roster lists). The caller has verified it and
   * checked its version rises. Stores nothing and returns false when the org already holds a roster
   * of this version or newer (another relay on the same database published first) or is not
   * registered.
   */
  saveRoster(
    orgId: Uint8Array,
    version: number,
    roster: Uint8Array,
    maxHistory: number,
    deviceIds: readonly Uint8Array[],
  ): Promise<boolean>;
  /**
   * At most `limit` of the rosters the org's history keeps, with version ≥ `fromVersion`, in version
   * order. Each was accepted by {@link saveRoster} (or was the org's roster when the history began).
   */
  rosterHistory(orgId: Uint8Array, fromVersion: number, limit: number): Promise<StoredRoster[]>;
  /**
   * Keeps `head` as the org's roster head, replacing the one held, in one step that checks the org's
   * roster is still version `head.rosterVersion` (a roster published meanwhile wins), that the
   * held head, if it names that version too, is not newer, and that the held head's `auditCount`,
   * whatever roster it names, is not higher: the audit floor never goes down (docs/audit-log.md
   * §Heads). The caller has verified it against that roster and the audit log. Returns false,
   * storing nothing, otherwise. A head goes with its org ({@link removeOrg}).
   */
  saveRosterHead(orgId: Uint8Array, head: StoredRosterHead): Promise<boolean>;
  /** The org's roster head, whichever roster it names (a newer roster makes it stale, not gone). */
  rosterHead(orgId: Uint8Array): Promise<StoredRosterHead | undefined>;

  createConversation(conversation: Omit<StoredConversation, 'lastSeq'>): Promise<void>;
  getConversation(conversationId: Uint8Array): Promise<StoredConversation | undefined>;
  /** The newest `limit` conversations of an organisation, oldest first. */
  listConversations(orgId: Uint8Array, limit: number): Promise<StoredConversation[]>;
  /** At most `limit` records with seq greater than `afterSeq`, in seq order. */
  recordsAfter(conversationId: Uint8Array, afterSeq: number, limit: number): Promise<StoredRecord[]>;
  /** The newest `limit` records with seq below `beforeSeq`, in ascending seq order. */
  recordsBefore(conversationId: Uint8Array, beforeSeq: number, limit: number): Promise<StoredRecord[]>;
  /** Lowest stored seq of the conversation; `lastSeq + 1` when none is stored (all swept or none yet). */
  firstSeq(conversationId: Uint8Array): Promise<number>;
  /** The committed lastSeq of each conversation that exists (any order); for the fan-out audit. */
  lastSeqs(
    conversationIds: readonly Uint8Array[],
  ): Promise<{ conversationId: Uint8Array<ArrayBuffer>; lastSeq: number }[]>;
  /** The newest `limit` records of all conversations, in the order they were stored. */
  recentRecords(limit: number): Promise<StoredRecord[]>;

  /**
   * Appends an envelope. The sequence number is assigned in the same transaction that inserts the
   * row, and the promise settles only after that transaction committed. A client message id already
   * stored in this conversation resolves with the original record and writes nothing. The store
   * keeps the given arrays (no copy) until the promise settles: do not modify them.
   * @throws StoreClosedError once {@link close} has begun.
   * @throws UnknownConversationError if the conversation does not exist.
   */
  append(
    conversationId: Uint8Array<ArrayBuffer>,
    clientMessageId: Uint8Array<ArrayBuffer>,
    envelope: Uint8Array<ArrayBuffer>,
  ): Promise<AppendResult>;
  /**
   * The database's epoch: random, fixed at creation and replaced by a restore, so a client's
   * `(epoch, lastSeq)` from another history is recognised as such. Read once when the store opens.
   */
  epoch(): number;
  /**
   * Erases a conversation and its records; false if it did not exist. Appends queued for it before
   * the call fail with UnknownConversationError or commit before the erasure, never after it.
   */
  deleteConversation(conversationId: Uint8Array): Promise<boolean>;
  /** One bounded step of the retention sweep: records older than their org's maximum age. */
  sweep(now: number, defaultRetentionDays: number, batch: number): Promise<SweepResult>;
  /**
   * Makes committed deletions unrecoverable from the database files, as far as the engine allows.
   * SQLite: `secure_delete` zeroed the freed cells, and this checkpoints and truncates the WAL, which
   * still holds old page images. PostgreSQL: nothing can be forced online (MVCC keeps dead tuples
   * until VACUUM, and even then the bytes stay until overwritten); see docs/deploy.md.
   */
  erase(): Promise<void>;
  /** Returns free pages to the file system (incremental vacuum), then {@link erase}. */
  vacuum(): Promise<void>;
  /** True if the database answers a trivial query (readiness). */
  ping(): Promise<boolean>;
  /** Called after each group commit with its size and duration (metrics). */
  onCommit(observer: (batchSize: number, seconds: number) => void): void;

  listOrgs(): Promise<StoredOrg[]>;
  orgOrigins(orgId: Uint8Array): Promise<string[]>;
  /** True if some organisation lists this origin. */
  originListed(origin: string): Promise<boolean>;
  /** Registers the org if needed and replaces its policy. */
  setOrgPolicy(orgId: Uint8Array, rootKey: Uint8Array, policy: OrgPolicy, now: number): Promise<void>;
  /**
   * Removes an organisation with all its conversations, records, audit log, roster history and
   * history grants; false if it was not registered.
   */
  removeOrg(orgId: Uint8Array): Promise<boolean>;
  /**
   * Sets the org's own maximum record age (a supervisor's `set-retention`), or clears it with
   * undefined so the relay's default applies; its origins stay as they are. False if not registered.
   */
  setRetention(orgId: Uint8Array, retentionDays: number | undefined): Promise<boolean>;

  /** The length of the org's audit log: the index its next record must take. */
  auditCount(orgId: Uint8Array): Promise<number>;
  /**
   * Appends `record` at `index` if, and only if, `index` is the log's length and below `maxRecords`,
   * as one atomic step: of several stores (relays) appending the same index, exactly one gets
   * `appended`. Audit records are never swept by retention and outlive every conversation; only
   * {@link removeOrg} removes them.
   */
  appendAudit(
    orgId: Uint8Array,
    index: number,
    record: Uint8Array,
    now: number,
    maxRecords: number,
  ): Promise<AuditAppendResult>;
  /** At most `limit` records of the org's audit log from `fromIndex` on, in index order. */
  auditRecords(orgId: Uint8Array, fromIndex: number, limit: number): Promise<StoredAuditRecord[]>;

  /**
   * Inserts or replaces the grant for (org, device, conversation) after checking, in one transaction,
   * that the org's roster is still `rosterVersion`, that the conversation belongs to the org, and the
   * device's bound. Grants go with their conversation (deletion, retention sweep), with their device
   * (a roster without it, {@link saveRoster}) and with their org ({@link removeOrg}).
   */
  putHistoryGrant(write: HistoryGrantWrite): Promise<HistoryGrantPutResult>;
  /**
   * At most `limit` of the grants addressed to `deviceId` in the org, with conversation id greater
   * than `after` (compared as bytes), ascending by conversation id.
   */
  historyGrants(
    orgId: Uint8Array,
    deviceId: Uint8Array,
    after: Uint8Array,
    limit: number,
  ): Promise<StoredHistoryGrant[]>;
  /** The grant for one (org, device, conversation), if stored. */
  historyGrant(
    orgId: Uint8Array,
    deviceId: Uint8Array,
    conversationId: Uint8Array,
  ): Promise<Uint8Array<ArrayBuffer> | undefined>;

  /** Commits what is queued; resolves once it is durable. */
  flush(): Promise<void>;
  /** Commits what is queued, then closes. Later appends reject. */
  close(): Promise<void>;
}

/** The store was closed (the relay is shutting down); the client should retry on another connection. */
export class StoreClosedError extends Error {
  readonly code = 'SEALCHAT_E_UNAVAILABLE';
  constructor() {
    super('The relay store is closed');
    this.name = new.target.name;
  }
}

/** An append named a conversation that does not exist. */
export class UnknownConversationError extends Error {
  readonly code = 'SEALCHAT_E_UNAUTHORIZED';
  constructor() {
    super('No such conversation');
    this.name = new.target.name;
  }
}
