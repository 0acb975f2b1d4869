import { randomInt } from 'node:crypto';
import pg from 'pg';
import { migratePostgres, SCHEMA_NAME } from './postgres-schema.js';
import {
  StoreClosedError,
  UnknownConversationError,
  type AppendResult,
  type AuditAppendResult,
  type HistoryGrantPutResult,
  type HistoryGrantWrite,
  type OrgPolicy,
  type RelayStore,
  type StoredConversation,
  type StoredAuditRecord,
  type StoredHistoryGrant,
  type StoredOrg,
  type StoredRecord,
  type StoredRoster,
  type StoredRosterHead,
  type SweepResult,
} from './store.js';
import {
  blob,
  bytes,
  toConversation,
  toOrg,
  toAuditRecord,
  toHistoryGrant,
  toRecord,
  toRoster,
  toRosterHead,
  type AuditRow,
  type ConversationRow,
  type GrantRow,
  type OrgRow,
  type QueuedAppend,
  type RecordRow,
  type RosterRow,
  type RosterHeadRow,
} from './store-rows.js';

/** The largest group commit sent as one statement; the rest waits for the next round trip. */
const MAX_BATCH = 2000;
/** Epochs are random in [1, 2^48 - 1], as in SQLite (sqlite-schema.ts MAX_EPOCH). */
const MAX_EPOCH = 2 ** 48 - 1;
/** SQLSTATEs worth one more try of a whole batch: deadlock detected, serialization failure. */
const RETRYABLE = new Set(['40P01', '40001']);

// bigint columns arrive as strings (pg does not guess at precision); every value here is a seq or a
// millisecond time, far below 2^53.
interface AppendRow {
  out_seq: string | null;
  out_duplicate: boolean;
  out_stored_at: string | null;
  out_envelope: Buffer | null;
}

/** Where a PostgreSQL store lives: the connection URL (without `schema`) and the schema name. */
export interface PostgresLocation {
  readonly connectionString: string;
  readonly schema: string;
}

/**
 * Splits `postgres://user@host/db?schema=name` into the URL pg understands and the schema (default
 * `sealchat`), so one flag says both.
 * @throws TypeError for a URL that is not postgres:// or postgresql://, or a bad schema name.
 */
export function parsePostgresUrl(text: string): PostgresLocation {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new TypeError('The database URL is not a valid URL');
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    throw new TypeError('The database URL must start with postgres:// or postgresql://');
  }
  const schema = url.searchParams.get('schema') ?? 'sealchat';
  if (!SCHEMA_NAME.test(schema)) {
    throw new TypeError(`The database URL's schema must be a lower-case identifier, got ${JSON.stringify(schema)}`);
  }
  url.searchParams.delete('schema');
  return { connectionString: url.toString(), schema };
}

/** True for a `--db` value that names PostgreSQL rather than a SQLite file. */
export function isPostgresUrl(db: string): boolean {
  return /^postgres(ql)?:\/\//i.test(db);
}

/** Pool settings a caller may choose. */
export interface PostgresStoreOptions {
  /** Connections in the pool (reads, the group commit, sweeps). */
  readonly poolSize?: number;
}

/**
 * The store for several relays: PostgreSQL through node-postgres, all tables in one schema.
 *
 * Durability: an append settles after its transaction committed with the server's
 * `synchronous_commit` (on by default: the commit record is flushed to disk).
 *
 * Group commit: appends queue and go out as one `append_batch(...)` statement per round trip (one
 * transaction, one WAL flush), with at most one batch in flight, so a batch grows with the load and
 * promises settle in queue order, which is seq order within a conversation. The seq is assigned
 * inside that transaction under the conversation's row lock (`UPDATE conversations SET last_seq =
 * last_seq + 1 ... RETURNING`), so relays sharing the database never hand out the same seq.
 */
export class PostgresStore implements RelayStore {
  private queue: QueuedAppend[] = [];
  private scheduled = false;
  private inFlight: Promise<void> | undefined;
  private closed = false;
  private commitObserver: ((batchSize: number, seconds: number) => void) | undefined;

  private constructor(
    private readonly pool: pg.Pool,
    readonly schema: string,
    private currentEpoch: number,
  ) {}

  /**
   * Connects, creates the schema if needed and migrates it, and reads the epoch.
   * @throws TypeError for a bad URL; Error if the server is unreachable or the schema is newer.
   */
  static async open(url: string, options: PostgresStoreOptions = {}): Promise<PostgresStore> {
    const { connectionString, schema } = parsePostgresUrl(url);
    const pool = new pg.Pool({
      connectionString,
      max: options.poolSize ?? 10,
      options: `-c search_path="${schema}"`,
      application_name: 'sealchat-relay',
      connectionTimeoutMillis: 10_000,
    });
    // An idle client that loses its server emits 'error' on the pool; the next query reconnects.
    pool.on('error', () => undefined);
    try {
      await migratePostgres(pool, schema);
      const { rows } = await pool.query<{ value: string }>("SELECT value FROM meta WHERE key = 'epoch'");
      return new PostgresStore(pool, schema, Number(rows[0]?.value ?? 0));
    } catch (error) {
      await pool.end();
      throw error;
    }
  }

  private async rows<R extends pg.QueryResultRow>(text: string, values: unknown[] = []): Promise<R[]> {
    return (await this.pool.query<R>(text, values)).rows;
  }

  async getOrg(orgId: Uint8Array): Promise<StoredOrg | undefined> {
    const [row] = await this.rows<OrgRow>('SELECT * FROM orgs WHERE org_id = $1', [blob(orgId)]);
    return row && toOrg(row);
  }

  async latestOrg(): Promise<StoredOrg | undefined> {
    const [row] = await this.rows<OrgRow>('SELECT * FROM orgs ORDER BY position DESC LIMIT 1');
    return row && toOrg(row);
  }

  async registerOrg(orgId: Uint8Array, rootKey: Uint8Array, now: number): Promise<void> {
    await this.pool.query(
      'INSERT INTO orgs (org_id, root_key, registered_at) VALUES ($1, $2, $3) ON CONFLICT (org_id) DO NOTHING',
      [blob(orgId), blob(rootKey), now],
    );
  }

  /**
   * One transaction. The org row moves forward only: of two relays publishing the same version, the
   * second's UPDATE waits on the first's row lock, then finds the version taken and stores nothing.
   * The row lock also keeps two publications of one org from pruning the history at once, and orders
   * the publication against {@link putHistoryGrant}, which holds the same row.
   */
  async saveRoster(
    orgId: Uint8Array,
    version: number,
    roster: Uint8Array,
    maxHistory: number,
    deviceIds: readonly Uint8Array[],
  ): Promise<boolean> {
    const id = blob(orgId);
    const bytes = blob(roster);
    let saved = false;
    await this.transaction(async (client) => {
      const updated = await client.query(
        'UPDATE orgs SET roster_version = $2, roster = $3 WHERE org_id = $1 AND (roster IS NULL OR roster_version < $2)',
        [id, version, bytes],
      );
      if ((updated.rowCount ?? 0) === 0) return;
      // A kept version can only be met again after an edit by hand; the history follows the org row.
      await client.query(
        `INSERT INTO roster_history (org_id, version, roster) VALUES ($1, $2, $3)
         ON CONFLICT (org_id, version) DO UPDATE SET roster = excluded.roster`,
        [id, version, bytes],
      );
      // Keeps the newest N: everything below the N-th newest version goes (nothing while fewer are kept).
      await client.query(
        `DELETE FROM roster_history WHERE org_id = $1 AND version <
           (SELECT version FROM roster_history WHERE org_id = $1 ORDER BY version DESC LIMIT 1 OFFSET $2)`,
        [id, Math.max(1, maxHistory) - 1],
      );
      await client.query('DELETE FROM history_grants WHERE org_id = $1 AND device_id <> ALL($2::bytea[])', [
        id,
        deviceIds.map(blob),
      ]);
      saved = true;
    });
    return saved;
  }

  async rosterHistory(orgId: Uint8Array, fromVersion: number, limit: number): Promise<StoredRoster[]> {
    const rows = await this.rows<RosterRow>(
      'SELECT version, roster FROM roster_history WHERE org_id = $1 AND version >= $2 ORDER BY version LIMIT $3',
      [blob(orgId), fromVersion, limit],
    );
    return rows.map(toRoster);
  }

  /**
   * One statement: stored only while the org's roster is the version the head names, never over a
   * newer head for it, and never over one whose audit mark names more records. A roster published concurrently may still commit just after; the relay
   * serves a head only while it names the org's roster, so such a head is never handed out.
   */
  async saveRosterHead(orgId: Uint8Array, head: StoredRosterHead): Promise<boolean> {
    const result = await this.pool.query(
      `INSERT INTO roster_heads (org_id, roster_version, signed_at, head, audit_count)
         SELECT org_id, roster_version, $2, $3, $5 FROM orgs WHERE org_id = $1 AND roster IS NOT NULL AND roster_version = $4
       ON CONFLICT (org_id) DO UPDATE SET
         roster_version = excluded.roster_version, signed_at = excluded.signed_at, head = excluded.head,
         audit_count = excluded.audit_count
       WHERE (roster_heads.roster_version < excluded.roster_version
          OR (roster_heads.roster_version = excluded.roster_version AND roster_heads.signed_at <= excluded.signed_at))
         AND roster_heads.audit_count <= excluded.audit_count`,
      [blob(orgId), head.signedAt, blob(head.head), head.rosterVersion, head.auditCount],
    );
    return (result.rowCount ?? 0) > 0;
  }

  async rosterHead(orgId: Uint8Array): Promise<StoredRosterHead | undefined> {
    const [row] = await this.rows<RosterHeadRow>(
      'SELECT roster_version, signed_at, head, audit_count FROM roster_heads WHERE org_id = $1',
      [blob(orgId)],
    );
    return row && toRosterHead(row);
  }

  async createConversation(c: Omit<StoredConversation, 'lastSeq'>): Promise<void> {
    await this.pool.query(
      'INSERT INTO conversations (conversation_id, org_id, capability_hash, created_at) VALUES ($1, $2, $3, $4)',
      [blob(c.conversationId), blob(c.orgId), blob(c.capabilityHash), c.createdAt],
    );
  }

  async getConversation(conversationId: Uint8Array): Promise<StoredConversation | undefined> {
    const [row] = await this.rows<ConversationRow>('SELECT * FROM conversations WHERE conversation_id = $1', [
      blob(conversationId),
    ]);
    return row && toConversation(row);
  }

  async listConversations(orgId: Uint8Array, limit: number): Promise<StoredConversation[]> {
    const rows = await this.rows<ConversationRow>(
      `SELECT * FROM (SELECT * FROM conversations WHERE org_id = $1 ORDER BY created_at DESC, conversation_id LIMIT $2) c
       ORDER BY created_at, conversation_id`,
      [blob(orgId), limit],
    );
    return rows.map(toConversation);
  }

  async recordsAfter(conversationId: Uint8Array, afterSeq: number, limit: number): Promise<StoredRecord[]> {
    const rows = await this.rows<RecordRow>(
      'SELECT * FROM records WHERE conversation_id = $1 AND seq > $2 ORDER BY seq LIMIT $3',
      [blob(conversationId), afterSeq, limit],
    );
    return rows.map(toRecord);
  }

  async recordsBefore(conversationId: Uint8Array, beforeSeq: number, limit: number): Promise<StoredRecord[]> {
    const rows = await this.rows<RecordRow>(
      'SELECT * FROM records WHERE conversation_id = $1 AND seq < $2 ORDER BY seq DESC LIMIT $3',
      [blob(conversationId), beforeSeq, limit],
    );
    return rows.map(toRecord).reverse();
  }

  async lastSeqs(
    conversationIds: readonly Uint8Array[],
  ): Promise<{ conversationId: Uint8Array<ArrayBuffer>; lastSeq: number }[]> {
    if (conversationIds.length === 0) return [];
    const rows = await this.rows<{ conversation_id: Buffer; last_seq: string }>(
      'SELECT conversation_id, last_seq FROM conversations WHERE conversation_id = ANY($1::bytea[])',
      [conversationIds.map(blob)],
    );
    return rows.map((row) => ({ conversationId: bytes(row.conversation_id), lastSeq: Number(row.last_seq) }));
  }

  async firstSeq(conversationId: Uint8Array): Promise<number> {
    const [row] = await this.rows<{ first: string | null; last: string | null }>(
      `SELECT (SELECT min(seq) FROM records WHERE conversation_id = $1) AS first,
              (SELECT last_seq FROM conversations WHERE conversation_id = $1) AS last`,
      [blob(conversationId)],
    );
    if (row?.first !== null && row?.first !== undefined) return Number(row.first);
    return Number(row?.last ?? 0) + 1;
  }

  async recentRecords(limit: number): Promise<StoredRecord[]> {
    const rows = await this.rows<RecordRow>(
      'SELECT * FROM (SELECT * FROM records ORDER BY position DESC LIMIT $1) r ORDER BY position',
      [limit],
    );
    return rows.map(toRecord);
  }

  epoch(): number {
    return this.currentEpoch;
  }

  /** Gives the database a new random epoch (after `pg_restore`); relays must restart to use it. */
  async renewEpoch(): Promise<number> {
    const epoch = randomInt(1, MAX_EPOCH + 1);
    await this.pool.query("UPDATE meta SET value = $1 WHERE key = 'epoch'", [epoch]);
    this.currentEpoch = epoch;
    return epoch;
  }

  async deleteConversation(conversationId: Uint8Array): Promise<boolean> {
    // What was queued before the erasure commits first; the cascade removes it with the rest.
    await this.flush();
    const result = await this.pool.query('DELETE FROM conversations WHERE conversation_id = $1', [
      blob(conversationId),
    ]);
    return (result.rowCount ?? 0) > 0;
  }

  async sweep(now: number, defaultRetentionDays: number, batch: number): Promise<SweepResult> {
    let deletedRecords = 0;
    const deletedConversations: Uint8Array<ArrayBuffer>[] = [];
    const orgs = await this.rows<{ org_id: Buffer; retention_days: number | null }>(
      'SELECT org_id, retention_days FROM orgs ORDER BY position',
    );
    for (const org of orgs) {
      const days = org.retention_days ?? defaultRetentionDays;
      if (days <= 0) continue;
      const cutoff = now - days * 24 * 60 * 60 * 1000;
      const left = batch - deletedRecords;
      if (left <= 0) return { deletedRecords, deletedConversations, more: true };
      const swept = await this.pool.query(
        `DELETE FROM records WHERE position IN (
           SELECT r.position FROM records r JOIN conversations c USING (conversation_id)
           WHERE c.org_id = $1 AND r.stored_at < $2 LIMIT $3)`,
        [org.org_id, cutoff, left],
      );
      deletedRecords += swept.rowCount ?? 0;
      // SKIP LOCKED: a conversation an append holds is busy, not empty; it is not erased under it.
      const gone = await this.rows<{ conversation_id: Buffer }>(
        `DELETE FROM conversations WHERE conversation_id IN (
           SELECT conversation_id FROM conversations c WHERE c.org_id = $1 AND c.created_at < $2
           AND NOT EXISTS (SELECT 1 FROM records r WHERE r.conversation_id = c.conversation_id)
           LIMIT $3 FOR UPDATE SKIP LOCKED)
         RETURNING conversation_id`,
        [org.org_id, cutoff, batch],
      );
      for (const row of gone) deletedConversations.push(bytes(row.conversation_id));
    }
    return { deletedRecords, deletedConversations, more: deletedRecords >= batch };
  }

  /**
   * Nothing to force online: a deleted row stays in its heap page as a dead tuple until VACUUM marks
   * the space free (autovacuum, or {@link vacuum}), and its bytes until the page is overwritten; the
   * WAL keeps the original insert until the segment is recycled. docs/deploy.md says what that means.
   */
  erase(): Promise<void> {
    return Promise.resolve();
  }

  /** Plain VACUUM of the tables that hold ciphertext: frees dead tuples for reuse, takes no exclusive lock. */
  async vacuum(): Promise<void> {
    if (this.closed) return;
    await this.pool.query('VACUUM records, conversations, history_grants');
  }

  async ping(): Promise<boolean> {
    if (this.closed) return false;
    try {
      const [row] = await this.rows<{ one: number }>('SELECT 1 AS one');
      return row?.one === 1;
    } catch {
      return false;
    }
  }

  onCommit(observer: (batchSize: number, seconds: number) => void): void {
    this.commitObserver = observer;
  }

  async listOrgs(): Promise<StoredOrg[]> {
    return (await this.rows<OrgRow>('SELECT * FROM orgs ORDER BY position')).map(toOrg);
  }

  async orgOrigins(orgId: Uint8Array): Promise<string[]> {
    const rows = await this.rows<{ origin: string }>(
      'SELECT origin FROM org_origins WHERE org_id = $1 ORDER BY origin',
      [blob(orgId)],
    );
    return rows.map((row) => row.origin);
  }

  async originListed(origin: string): Promise<boolean> {
    return (await this.rows('SELECT 1 FROM org_origins WHERE origin = $1 LIMIT 1', [origin])).length > 0;
  }

  async setOrgPolicy(orgId: Uint8Array, rootKey: Uint8Array, policy: OrgPolicy, now: number): Promise<void> {
    const id = blob(orgId);
    await this.transaction(async (client) => {
      await client.query(
        'INSERT INTO orgs (org_id, root_key, registered_at) VALUES ($1, $2, $3) ON CONFLICT (org_id) DO NOTHING',
        [id, blob(rootKey), now],
      );
      await client.query('UPDATE orgs SET retention_days = $1 WHERE org_id = $2', [policy.retentionDays ?? null, id]);
      await client.query('DELETE FROM org_origins WHERE org_id = $1', [id]);
      for (const origin of new Set(policy.origins)) {
        await client.query('INSERT INTO org_origins (org_id, origin) VALUES ($1, $2)', [id, origin]);
      }
    });
  }

  async removeOrg(orgId: Uint8Array): Promise<boolean> {
    await this.flush();
    // The cascades remove its origins, conversations, records, audit log, roster history, roster head
    // and history grants in the same transaction.
    const result = await this.pool.query('DELETE FROM orgs WHERE org_id = $1', [blob(orgId)]);
    return (result.rowCount ?? 0) > 0;
  }

  async setRetention(orgId: Uint8Array, retentionDays: number | undefined): Promise<boolean> {
    const result = await this.pool.query('UPDATE orgs SET retention_days = $1 WHERE org_id = $2', [
      retentionDays ?? null,
      blob(orgId),
    ]);
    return (result.rowCount ?? 0) > 0;
  }

  async auditCount(orgId: Uint8Array): Promise<number> {
    // The log is gapless from 0, so its length is max + 1: one index probe, not a count.
    const [row] = await this.rows<{ n: string }>(
      'SELECT coalesce(max(audit_index) + 1, 0) AS n FROM audit_records WHERE org_id = $1',
      [blob(orgId)],
    );
    return Number(row?.n ?? 0);
  }

  /**
   * One statement: insert only where `index` is the log's length, and let the primary key settle a
   * race. Two relays sending the same index both see the same length; the second INSERT waits on the
   * first's uncommitted key, then does nothing (ON CONFLICT) once it commits, so exactly one wins. An
   * index past the length never inserts, so the log stays gapless.
   */
  async appendAudit(
    orgId: Uint8Array,
    index: number,
    record: Uint8Array,
    now: number,
    maxRecords: number,
  ): Promise<AuditAppendResult> {
    const [row] = await this.rows<{ next: string; inserted: string }>(
      `WITH log AS (SELECT coalesce(max(audit_index) + 1, 0) AS next FROM audit_records WHERE org_id = $1),
       added AS (
         INSERT INTO audit_records (org_id, audit_index, record, stored_at)
         SELECT $1, $2, $3, $4 FROM log WHERE log.next = $2 AND log.next < $5
         ON CONFLICT (org_id, audit_index) DO NOTHING
         RETURNING 1)
       SELECT (SELECT next FROM log) AS next, (SELECT count(*) FROM added) AS inserted`,
      [blob(orgId), index, blob(record), now, maxRecords],
    );
    if (Number(row?.inserted ?? 0) === 1) return 'appended';
    return Number(row?.next) === index && index >= maxRecords ? 'full' : 'conflict';
  }

  async auditRecords(orgId: Uint8Array, fromIndex: number, limit: number): Promise<StoredAuditRecord[]> {
    const rows = await this.rows<AuditRow>(
      `SELECT audit_index, record, stored_at FROM audit_records WHERE org_id = $1 AND audit_index >= $2
       ORDER BY audit_index LIMIT $3`,
      [blob(orgId), fromIndex, limit],
    );
    return rows.map(toAuditRecord);
  }

  /**
   * One transaction. The org row is held `FOR NO KEY UPDATE` from the version check to the commit: a
   * roster publication (whose UPDATE wants the same lock) waits, then deletes what this stored if it
   * drops the device; one that committed first has changed the version, so nothing is stored. The
   * conversation is held `FOR KEY SHARE`, so it cannot be deleted under the write. Grants of one org
   * are written one at a time, which also keeps the device's bound exact across relays.
   */
  async putHistoryGrant(write: HistoryGrantWrite): Promise<HistoryGrantPutResult> {
    const org = blob(write.orgId);
    const device = blob(write.deviceId);
    const conversation = blob(write.conversationId);
    let result: HistoryGrantPutResult = 'stored';
    await this.transaction(async (client) => {
      const { rows: orgs } = await client.query<{ roster_version: number; listed: boolean }>(
        'SELECT roster_version, roster IS NOT NULL AS listed FROM orgs WHERE org_id = $1 FOR NO KEY UPDATE',
        [org],
      );
      if (!orgs[0]?.listed || orgs[0].roster_version !== write.rosterVersion) {
        result = 'stale-roster';
        return;
      }
      const { rows } = await client.query<{ known: boolean; replacing: boolean; held: string }>(
        `SELECT EXISTS (SELECT 1 FROM conversations WHERE conversation_id = $3 AND org_id = $1 FOR KEY SHARE) AS known,
                EXISTS (SELECT 1 FROM history_grants WHERE org_id = $1 AND device_id = $2 AND conversation_id = $3)
                  AS replacing,
                (SELECT count(*) FROM (SELECT 1 FROM history_grants WHERE org_id = $1 AND device_id = $2 LIMIT $4) g)
                  AS held`,
        [org, device, conversation, write.maxPerDevice],
      );
      const found = rows[0];
      if (!found?.known) {
        result = 'unknown-conversation';
        return;
      }
      if (!found.replacing && Number(found.held) >= write.maxPerDevice) {
        result = 'full';
        return;
      }
      await client.query(
        `INSERT INTO history_grants (org_id, device_id, conversation_id, sealed) VALUES ($1, $2, $3, $4)
         ON CONFLICT (org_id, device_id, conversation_id) DO UPDATE SET sealed = excluded.sealed`,
        [org, device, conversation, blob(write.grant)],
      );
    });
    return result;
  }

  async historyGrants(
    orgId: Uint8Array,
    deviceId: Uint8Array,
    after: Uint8Array,
    limit: number,
  ): Promise<StoredHistoryGrant[]> {
    const rows = await this.rows<GrantRow>(
      `SELECT conversation_id, sealed FROM history_grants
       WHERE org_id = $1 AND device_id = $2 AND conversation_id > $3 ORDER BY conversation_id LIMIT $4`,
      [blob(orgId), blob(deviceId), blob(after), limit],
    );
    return rows.map(toHistoryGrant);
  }

  async historyGrant(
    orgId: Uint8Array,
    deviceId: Uint8Array,
    conversationId: Uint8Array,
  ): Promise<Uint8Array<ArrayBuffer> | undefined> {
    const [row] = await this.rows<{ sealed: Buffer }>(
      'SELECT sealed FROM history_grants WHERE org_id = $1 AND device_id = $2 AND conversation_id = $3',
      [blob(orgId), blob(deviceId), blob(conversationId)],
    );
    return row && bytes(row.sealed);
  }

  append(
    conversationId: Uint8Array<ArrayBuffer>,
    clientMessageId: Uint8Array<ArrayBuffer>,
    envelope: Uint8Array<ArrayBuffer>,
  ): Promise<AppendResult> {
    if (this.closed) return Promise.reject(new StoreClosedError());
    return new Promise<AppendResult>((resolve, reject) => {
      this.queue.push({ conversationId, clientMessageId, envelope, resolve, reject });
      this.schedule();
    });
  }

  async flush(): Promise<void> {
    while (this.queue.length > 0 || this.inFlight) {
      if (!this.inFlight) this.commitQueued();
      await this.inFlight;
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.flush();
    this.closed = true;
    await this.pool.end();
  }

  private async transaction(run: (client: pg.PoolClient) => Promise<void>): Promise<void> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      await run(client);
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  /** Appends wait for the end of this event-loop turn, or for the batch in flight to commit. */
  private schedule(): void {
    if (this.scheduled || this.inFlight) return;
    this.scheduled = true;
    setImmediate(() => this.commitQueued());
  }

  private commitQueued(): void {
    this.scheduled = false;
    if (this.inFlight || this.queue.length === 0) return;
    const batch = this.queue.splice(0, MAX_BATCH);
    this.inFlight = this.commit(batch).finally(() => {
      this.inFlight = undefined;
      if (this.queue.length > 0) this.schedule();
    });
  }

  /** Writes one batch in one transaction, then settles its promises in order. Never rejects. */
  private async commit(batch: QueuedAppend[]): Promise<void> {
    const started = performance.now();
    const now = Date.now();
    let rows: AppendRow[] | undefined;
    let failure: Error | undefined;
    for (let attempt = 0; attempt < 3 && rows === undefined; attempt++) {
      try {
        rows = await this.rows<AppendRow>('SELECT * FROM append_batch($1::bytea[], $2::bytea[], $3::bytea[], $4)', [
          batch.map((item) => blob(item.conversationId)),
          batch.map((item) => blob(item.clientMessageId)),
          batch.map((item) => blob(item.envelope)),
          now,
        ]);
      } catch (cause) {
        failure = cause instanceof Error ? cause : new Error(String(cause));
        if (!RETRYABLE.has((cause as { code?: string }).code ?? '')) break;
      }
    }
    if (rows === undefined) {
      // Nothing of this batch was committed: every post in it fails and may be retried as is.
      for (const item of batch) item.reject(failure ?? new Error('Append failed'));
      return;
    }
    this.commitObserver?.(batch.length, (performance.now() - started) / 1000);
    batch.forEach((item, i) => {
      const row = rows[i];
      if (!row || row.out_seq === null) return item.reject(new UnknownConversationError());
      item.resolve({
        record: {
          conversationId: item.conversationId,
          seq: Number(row.out_seq),
          clientMessageId: item.clientMessageId,
          envelope: row.out_duplicate && row.out_envelope ? bytes(row.out_envelope) : item.envelope,
          storedAt: Number(row.out_stored_at),
        },
        duplicate: row.out_duplicate,
      });
    });
  }
}
