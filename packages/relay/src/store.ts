/**
 * What the relay keeps, as an interface, so the SQLite default and a later PostgreSQL store answer
 * the same questions. Everything in it is either public (ids, public keys, signed rosters) or
 * ciphertext; a conversation's capability is kept only as its SHA-256 hash, so a stolen database
 * does not let anyone attach to a conversation.
 *
 * Reads are synchronous on purpose: the server reads history and subscribes a socket in one
 * synchronous step, so no commit can fall between the two.
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
  getOrg(orgId: Uint8Array): StoredOrg | undefined;
  /** The organisation registered last (what the demo page connects to). */
  latestOrg(): StoredOrg | undefined;
  /** Registers an organisation; a no-op if it exists. */
  registerOrg(orgId: Uint8Array, rootKey: Uint8Array, now: number): void;
  /** Replaces the organisation's roster. The caller has verified it and checked its version rises. */
  saveRoster(orgId: Uint8Array, version: number, roster: Uint8Array): void;

  createConversation(conversation: Omit<StoredConversation, 'lastSeq'>): void;
  getConversation(conversationId: Uint8Array): StoredConversation | undefined;
  /** The newest `limit` conversations of an organisation, oldest first. */
  listConversations(orgId: Uint8Array, limit: number): StoredConversation[];
  /** At most `limit` records with seq greater than `afterSeq`, in seq order. */
  recordsAfter(conversationId: Uint8Array, afterSeq: number, limit: number): StoredRecord[];
  /** The newest `limit` records with seq below `beforeSeq`, in ascending seq order. */
  recordsBefore(conversationId: Uint8Array, beforeSeq: number, limit: number): StoredRecord[];
  /** Lowest stored seq of the conversation; `lastSeq + 1` when none is stored (all swept or none yet). */
  firstSeq(conversationId: Uint8Array): number;
  /** The newest `limit` records of all conversations, in the order they were stored. */
  recentRecords(limit: number): StoredRecord[];

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
   * `(epoch, lastSeq)` from another history is recognised as such.
   */
  epoch(): number;
  /** Erases a conversation and its records; false if it did not exist. */
  deleteConversation(conversationId: Uint8Array): boolean;
  /** One bounded step of the retention sweep: records older than their org's maximum age. */
  sweep(now: number, defaultRetentionDays: number, batch: number): SweepResult;
  /**
   * Makes committed deletions unrecoverable from the database files: with `secure_delete` the freed
   * cells are zeroed, and this checkpoints and truncates the WAL, which still holds old page images.
   */
  erase(): void;
  /** Returns free pages to the file system (incremental vacuum), then {@link erase}. */
  vacuum(): void;
  /** True if the database answers a trivial query (readiness). */
  ping(): boolean;
  /** Called after each group commit with its size and duration (metrics). */
  onCommit(observer: (batchSize: number, seconds: number) => void): void;

  listOrgs(): StoredOrg[];
  orgOrigins(orgId: Uint8Array): string[];
  /** True if some organisation lists this origin. */
  originListed(origin: string): boolean;
  /** Registers the org if needed and replaces its policy. */
  setOrgPolicy(orgId: Uint8Array, rootKey: Uint8Array, policy: OrgPolicy, now: number): void;
  /** Removes an organisation with all its conversations and records; false if it was not registered. */
  removeOrg(orgId: Uint8Array): boolean;

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
