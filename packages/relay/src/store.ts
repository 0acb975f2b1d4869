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
  /** Records with seq greater than `afterSeq`, in seq order. */
  recordsAfter(conversationId: Uint8Array, afterSeq: number): StoredRecord[];
  /** The newest `limit` records of all conversations, in the order they were stored. */
  recentRecords(limit: number): StoredRecord[];

  /**
   * Appends an envelope. The sequence number is assigned in the same transaction that inserts the
   * row, and the promise settles only after that transaction committed. A client message id already
   * stored in this conversation resolves with the original record and writes nothing.
   * @throws StoreClosedError once {@link close} has begun.
   * @throws UnknownConversationError if the conversation does not exist.
   */
  append(conversationId: Uint8Array, clientMessageId: Uint8Array, envelope: Uint8Array): Promise<AppendResult>;
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
