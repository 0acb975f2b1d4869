import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import {
  StoreClosedError,
  UnknownConversationError,
  type AppendResult,
  type RelayStore,
  type StoredConversation,
  type StoredOrg,
  type StoredRecord,
} from './store.js';

/**
 * Schema migrations, applied in order; `PRAGMA user_version` records how many ran. Append only:
 * an edited migration would leave existing databases on a schema no fresh one has.
 */
const MIGRATIONS: readonly string[] = [
  `CREATE TABLE orgs (
     org_id BLOB NOT NULL UNIQUE CHECK (length(org_id) = 16),
     root_key BLOB NOT NULL CHECK (length(root_key) = 32),
     roster BLOB,
     roster_version INTEGER NOT NULL DEFAULT 0,
     registered_at INTEGER NOT NULL
   );
   CREATE TABLE conversations (
     conversation_id BLOB PRIMARY KEY CHECK (length(conversation_id) = 16),
     org_id BLOB NOT NULL REFERENCES orgs (org_id),
     capability_hash BLOB NOT NULL CHECK (length(capability_hash) = 32),
     last_seq INTEGER NOT NULL DEFAULT 0,
     created_at INTEGER NOT NULL
   ) WITHOUT ROWID;
   CREATE INDEX conversations_by_org ON conversations (org_id, created_at);
   CREATE TABLE records (
     conversation_id BLOB NOT NULL REFERENCES conversations (conversation_id),
     seq INTEGER NOT NULL,
     client_message_id BLOB NOT NULL CHECK (length(client_message_id) = 16),
     envelope BLOB NOT NULL,
     stored_at INTEGER NOT NULL,
     UNIQUE (conversation_id, seq),
     UNIQUE (conversation_id, client_message_id)
   );`,
];

interface OrgRow {
  org_id: Buffer;
  root_key: Buffer;
  roster: Buffer | null;
  roster_version: number;
  registered_at: number;
}
interface ConversationRow {
  conversation_id: Buffer;
  org_id: Buffer;
  capability_hash: Buffer;
  last_seq: number;
  created_at: number;
}
interface RecordRow {
  conversation_id: Buffer;
  seq: number;
  client_message_id: Buffer;
  envelope: Buffer;
  stored_at: number;
}

interface QueuedAppend {
  readonly conversationId: Buffer;
  readonly clientMessageId: Buffer;
  readonly envelope: Buffer;
  readonly resolve: (result: AppendResult) => void;
  readonly reject: (error: Error) => void;
}

/** Copies SQLite's Buffer into a plain Uint8Array, the type the protocol package speaks. */
function bytes(buffer: Buffer): Uint8Array<ArrayBuffer> {
  return new Uint8Array(buffer);
}

/** A Buffer view of the caller's bytes, for binding as a BLOB (no copy). */
function blob(data: Uint8Array): Buffer {
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

function toOrg(row: OrgRow): StoredOrg {
  return {
    orgId: bytes(row.org_id),
    rootKey: bytes(row.root_key),
    roster: row.roster ? bytes(row.roster) : undefined,
    rosterVersion: row.roster_version,
    registeredAt: row.registered_at,
  };
}

function toConversation(row: ConversationRow): StoredConversation {
  return {
    conversationId: bytes(row.conversation_id),
    orgId: bytes(row.org_id),
    capabilityHash: bytes(row.capability_hash),
    lastSeq: row.last_seq,
    createdAt: row.created_at,
  };
}

function toRecord(row: RecordRow): StoredRecord {
  return {
    conversationId: bytes(row.conversation_id),
    seq: row.seq,
    clientMessageId: bytes(row.client_message_id),
    envelope: bytes(row.envelope),
    storedAt: row.stored_at,
  };
}

/**
 * The default store: one SQLite file through better-sqlite3.
 *
 * Durability: WAL journal with `synchronous=FULL` set explicitly (SQLite's WAL default of NORMAL may
 * lose the last transactions on power loss, and an ack promises the message survives).
 *
 * Group commit: appends are queued and written once per event-loop turn (setImmediate) in a single
 * transaction, so one fsync covers every post that arrived in that turn. Each append's promise
 * settles after that commit, in queue order, which is seq order within a conversation.
 */
export class SqliteStore implements RelayStore {
  private readonly db: Database.Database;
  private queue: QueuedAppend[] = [];
  private scheduled = false;
  private closed = false;
  private readonly stmts;

  /**
   * Opens (creating if needed) the database file and its directory, and migrates the schema.
   * @throws Error if the file was written by a newer relay (its schema version is unknown here).
   */
  constructor(path: string) {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.db.pragma('foreign_keys = ON');
    this.db.pragma('busy_timeout = 5000');
    this.migrate();
    const db = this.db;
    this.stmts = {
      getOrg: db.prepare<[Buffer], OrgRow>('SELECT * FROM orgs WHERE org_id = ?'),
      latestOrg: db.prepare<[], OrgRow>('SELECT * FROM orgs ORDER BY rowid DESC LIMIT 1'),
      registerOrg: db.prepare<[Buffer, Buffer, number]>(
        'INSERT INTO orgs (org_id, root_key, registered_at) VALUES (?, ?, ?) ON CONFLICT (org_id) DO NOTHING',
      ),
      saveRoster: db.prepare<[number, Buffer, Buffer]>(
        'UPDATE orgs SET roster_version = ?, roster = ? WHERE org_id = ?',
      ),
      createConversation: db.prepare<[Buffer, Buffer, Buffer, number]>(
        'INSERT INTO conversations (conversation_id, org_id, capability_hash, created_at) VALUES (?, ?, ?, ?)',
      ),
      getConversation: db.prepare<[Buffer], ConversationRow>('SELECT * FROM conversations WHERE conversation_id = ?'),
      listConversations: db.prepare<[Buffer, number], ConversationRow>(
        `SELECT * FROM (SELECT * FROM conversations WHERE org_id = ? ORDER BY created_at DESC, conversation_id LIMIT ?)
         ORDER BY created_at, conversation_id`,
      ),
      recordsAfter: db.prepare<[Buffer, number], RecordRow>(
        'SELECT * FROM records WHERE conversation_id = ? AND seq > ? ORDER BY seq',
      ),
      recentRecords: db.prepare<[number], RecordRow>(
        'SELECT * FROM (SELECT rowid AS r, * FROM records ORDER BY rowid DESC LIMIT ?) ORDER BY r',
      ),
      findByClientId: db.prepare<[Buffer, Buffer], RecordRow>(
        'SELECT * FROM records WHERE conversation_id = ? AND client_message_id = ?',
      ),
      nextSeq: db.prepare<[Buffer], { last_seq: number }>(
        'UPDATE conversations SET last_seq = last_seq + 1 WHERE conversation_id = ? RETURNING last_seq',
      ),
      insertRecord: db.prepare<[Buffer, number, Buffer, Buffer, number]>(
        'INSERT INTO records (conversation_id, seq, client_message_id, envelope, stored_at) VALUES (?, ?, ?, ?, ?)',
      ),
    };
  }

  /** The durability settings in force, for the startup log and for tests. */
  durability(): { journalMode: string; synchronous: string } {
    const journalMode = String(this.db.pragma('journal_mode', { simple: true }));
    const level = Number(this.db.pragma('synchronous', { simple: true }));
    return { journalMode, synchronous: ['off', 'normal', 'full', 'extra'][level] ?? String(level) };
  }

  private migrate(): void {
    const version = this.db.pragma('user_version', { simple: true }) as number;
    if (version > MIGRATIONS.length) {
      throw new Error(`The database schema is version ${version}; this relay knows up to ${MIGRATIONS.length}`);
    }
    for (let next = version; next < MIGRATIONS.length; next++) {
      this.db.transaction(() => {
        this.db.exec(MIGRATIONS[next] ?? '');
        this.db.pragma(`user_version = ${next + 1}`);
      })();
    }
  }

  getOrg(orgId: Uint8Array): StoredOrg | undefined {
    const row = this.stmts.getOrg.get(blob(orgId));
    return row && toOrg(row);
  }

  latestOrg(): StoredOrg | undefined {
    const row = this.stmts.latestOrg.get();
    return row && toOrg(row);
  }

  registerOrg(orgId: Uint8Array, rootKey: Uint8Array, now: number): void {
    this.stmts.registerOrg.run(blob(orgId), blob(rootKey), now);
  }

  saveRoster(orgId: Uint8Array, version: number, roster: Uint8Array): void {
    this.stmts.saveRoster.run(version, blob(roster), blob(orgId));
  }

  createConversation(c: Omit<StoredConversation, 'lastSeq'>): void {
    this.stmts.createConversation.run(blob(c.conversationId), blob(c.orgId), blob(c.capabilityHash), c.createdAt);
  }

  getConversation(conversationId: Uint8Array): StoredConversation | undefined {
    const row = this.stmts.getConversation.get(blob(conversationId));
    return row && toConversation(row);
  }

  listConversations(orgId: Uint8Array, limit: number): StoredConversation[] {
    return this.stmts.listConversations.all(blob(orgId), limit).map(toConversation);
  }

  recordsAfter(conversationId: Uint8Array, afterSeq: number): StoredRecord[] {
    return this.stmts.recordsAfter.all(blob(conversationId), afterSeq).map(toRecord);
  }

  recentRecords(limit: number): StoredRecord[] {
    return this.stmts.recentRecords.all(limit).map(toRecord);
  }

  append(conversationId: Uint8Array, clientMessageId: Uint8Array, envelope: Uint8Array): Promise<AppendResult> {
    if (this.closed) return Promise.reject(new StoreClosedError());
    return new Promise<AppendResult>((resolve, reject) => {
      // Copies: the caller's buffers may be reused before the commit runs.
      this.queue.push({
        conversationId: Buffer.from(conversationId),
        clientMessageId: Buffer.from(clientMessageId),
        envelope: Buffer.from(envelope),
        resolve,
        reject,
      });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.commitQueued());
      }
    });
  }

  flush(): Promise<void> {
    this.commitQueued();
    return Promise.resolve();
  }

  close(): Promise<void> {
    if (!this.closed) {
      this.commitQueued();
      this.closed = true;
      this.db.close();
    }
    return Promise.resolve();
  }

  /** Writes every queued append in one transaction, then settles their promises. */
  private commitQueued(): void {
    this.scheduled = false;
    const batch = this.queue;
    if (batch.length === 0) return;
    this.queue = [];
    const now = Date.now();
    const outcomes: (AppendResult | Error)[] = [];
    try {
      this.db.transaction(() => {
        for (const item of batch) {
          const existing = this.stmts.findByClientId.get(item.conversationId, item.clientMessageId);
          if (existing) {
            outcomes.push({ record: toRecord(existing), duplicate: true });
            continue;
          }
          const next = this.stmts.nextSeq.get(item.conversationId);
          if (!next) {
            outcomes.push(new UnknownConversationError());
            continue;
          }
          this.stmts.insertRecord.run(item.conversationId, next.last_seq, item.clientMessageId, item.envelope, now);
          outcomes.push({
            record: {
              conversationId: bytes(item.conversationId),
              seq: next.last_seq,
              clientMessageId: bytes(item.clientMessageId),
              envelope: bytes(item.envelope),
              storedAt: now,
            },
            duplicate: false,
          });
        }
      })();
    } catch (cause) {
      // Nothing of this batch was committed: every post in it fails and may be retried as is.
      const error = cause instanceof Error ? cause : new Error(String(cause));
      for (const item of batch) item.reject(error);
      return;
    }
    batch.forEach((item, i) => {
      const outcome = outcomes[i];
      if (outcome === undefined || outcome instanceof Error) item.reject(outcome ?? new Error('Lost append outcome'));
      else item.resolve(outcome);
    });
  }
}
