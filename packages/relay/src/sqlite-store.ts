import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { Checkpointer } from './checkpointer.js';
import { configure, migrate, renewEpoch } from './sqlite-schema.js';
import {
  StoreClosedError,
  UnknownConversationError,
  type AppendResult,
  type AuditAppendResult,
  type HistoryGrantPutResult,
  type HistoryGrantWrite,
  type OrgPolicy,
  type RelayStore,
  type SweepResult,
  type StoredConversation,
  type StoredOrg,
  type StoredAuditRecord,
  type StoredHistoryGrant,
  type StoredRecord,
  type StoredRoster,
  type StoredRosterHead,
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
// better-sqlite3 answers synchronously; the methods are async anyway so that a throw reaches the
// caller as a rejection, exactly as it would from PostgreSQL (the RelayStore contract).
/* eslint-disable @typescript-eslint/require-await */
export class SqliteStore implements RelayStore {
  private readonly db: Database.Database;
  private queue: QueuedAppend[] = [];
  private scheduled = false;
  private closed = false;
  private commitObserver: ((batchSize: number, seconds: number) => void) | undefined;
  private readonly checkpointer: Checkpointer | undefined;
  private readonly stmts;
  private currentEpoch: number | undefined;

  /**
   * Opens (creating if needed) the database file and its directory, and migrates the schema.
   * @throws Error if the file was written by a newer relay (its schema version is unknown here).
   */
  constructor(path: string) {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    this.db = new Database(path);
    configure(this.db);
    migrate(this.db);
    if (path !== ':memory:') {
      this.db.pragma('wal_autocheckpoint = 0');
      this.checkpointer = new Checkpointer(path, 250);
    }
    const db = this.db;
    this.stmts = {
      getOrg: db.prepare<[Buffer], OrgRow>('SELECT * FROM orgs WHERE org_id = ?'),
      latestOrg: db.prepare<[], OrgRow>('SELECT * FROM orgs ORDER BY rowid DESC LIMIT 1'),
      registerOrg: db.prepare<[Buffer, Buffer, number]>(
        'INSERT INTO orgs (org_id, root_key, registered_at) VALUES (?, ?, ?) ON CONFLICT (org_id) DO NOTHING',
      ),
      // Only forward: another process on the same file may have stored this version or a newer one.
      saveRoster: db.prepare<[number, Buffer, Buffer, number]>(
        'UPDATE orgs SET roster_version = ?, roster = ? WHERE org_id = ? AND (roster IS NULL OR roster_version < ?)',
      ),
      // A kept version can only be met again after an edit by hand; the history follows the org row.
      keepRoster: db.prepare<[Buffer, number, Buffer]>(
        `INSERT INTO roster_history (org_id, version, roster) VALUES (?, ?, ?)
         ON CONFLICT (org_id, version) DO UPDATE SET roster = excluded.roster`,
      ),
      // Keeps the newest N: everything below the N-th newest version goes (nothing while fewer are kept).
      pruneRosters: db.prepare<[Buffer, Buffer, number]>(
        `DELETE FROM roster_history WHERE org_id = ? AND version <
           (SELECT version FROM roster_history WHERE org_id = ? ORDER BY version DESC LIMIT 1 OFFSET ?)`,
      ),
      rosterHistory: db.prepare<[Buffer, number, number], RosterRow>(
        'SELECT version, roster FROM roster_history WHERE org_id = ? AND version >= ? ORDER BY version LIMIT ?',
      ),
      orgRosters: db.prepare<[Buffer]>('DELETE FROM roster_history WHERE org_id = ?'),
      // Only while the org's roster is the one the head names, never over a newer head for it, and
      // never over one whose audit mark names more records.
      saveRosterHead: db.prepare<[number, Buffer, number, Buffer, number]>(
        `INSERT INTO roster_heads (org_id, roster_version, signed_at, head, audit_count)
           SELECT org_id, roster_version, ?, ?, ? FROM orgs WHERE org_id = ? AND roster IS NOT NULL AND roster_version = ?
         ON CONFLICT (org_id) DO UPDATE SET
           roster_version = excluded.roster_version, signed_at = excluded.signed_at, head = excluded.head,
           audit_count = excluded.audit_count
         WHERE (roster_heads.roster_version < excluded.roster_version
            OR (roster_heads.roster_version = excluded.roster_version AND roster_heads.signed_at <= excluded.signed_at))
           AND roster_heads.audit_count <= excluded.audit_count`,
      ),
      rosterHead: db.prepare<[Buffer], RosterHeadRow>(
        'SELECT roster_version, signed_at, head, audit_count FROM roster_heads WHERE org_id = ?',
      ),
      // The devices a roster lists arrive as a JSON array of hex ids: one statement whatever their number.
      dropGrants: db.prepare<[Buffer, string]>(
        'DELETE FROM history_grants WHERE org_id = ? AND device_id NOT IN (SELECT unhex(value) FROM json_each(?))',
      ),
      grantConversation: db.prepare<[Buffer, Buffer], { one: number }>(
        'SELECT 1 AS one FROM conversations WHERE conversation_id = ? AND org_id = ?',
      ),
      historyGrant: db.prepare<[Buffer, Buffer, Buffer], { sealed: Buffer }>(
        'SELECT sealed FROM history_grants WHERE org_id = ? AND device_id = ? AND conversation_id = ?',
      ),
      // Counts no further than the bound: a device near it costs one bounded index walk per new grant.
      grantCount: db.prepare<[Buffer, Buffer, number], { n: number }>(
        'SELECT count(*) AS n FROM (SELECT 1 FROM history_grants WHERE org_id = ? AND device_id = ? LIMIT ?)',
      ),
      putGrant: db.prepare<[Buffer, Buffer, Buffer, Buffer]>(
        `INSERT INTO history_grants (org_id, device_id, conversation_id, sealed) VALUES (?, ?, ?, ?)
         ON CONFLICT (org_id, device_id, conversation_id) DO UPDATE SET sealed = excluded.sealed`,
      ),
      historyGrants: db.prepare<[Buffer, Buffer, Buffer, number], GrantRow>(
        `SELECT conversation_id, sealed FROM history_grants
         WHERE org_id = ? AND device_id = ? AND conversation_id > ? ORDER BY conversation_id LIMIT ?`,
      ),
      createConversation: db.prepare<[Buffer, Buffer, Buffer, number]>(
        'INSERT INTO conversations (conversation_id, org_id, capability_hash, created_at) VALUES (?, ?, ?, ?)',
      ),
      getConversation: db.prepare<[Buffer], ConversationRow>('SELECT * FROM conversations WHERE conversation_id = ?'),
      listConversations: db.prepare<[Buffer, number], ConversationRow>(
        `SELECT * FROM (SELECT * FROM conversations WHERE org_id = ? ORDER BY created_at DESC, conversation_id LIMIT ?)
         ORDER BY created_at, conversation_id`,
      ),
      recordsAfter: db.prepare<[Buffer, number, number], RecordRow>(
        'SELECT * FROM records WHERE conversation_id = ? AND seq > ? ORDER BY seq LIMIT ?',
      ),
      recordsBefore: db.prepare<[Buffer, number, number], RecordRow>(
        'SELECT * FROM records WHERE conversation_id = ? AND seq < ? ORDER BY seq DESC LIMIT ?',
      ),
      firstSeq: db.prepare<[Buffer], { seq: number | null }>(
        'SELECT min(seq) AS seq FROM records WHERE conversation_id = ?',
      ),
      epoch: db.prepare<[], { value: number }>("SELECT value FROM meta WHERE key = 'epoch'"),
      deleteRecords: db.prepare<[Buffer]>('DELETE FROM records WHERE conversation_id = ?'),
      deleteConversation: db.prepare<[Buffer]>('DELETE FROM conversations WHERE conversation_id = ?'),
      sweepOrgs: db.prepare<[], { org_id: Buffer; retention_days: number | null }>(
        'SELECT org_id, retention_days FROM orgs',
      ),
      sweepRecords: db.prepare<[Buffer, number, number]>(
        `DELETE FROM records WHERE rowid IN (
           SELECT r.rowid FROM records r JOIN conversations c USING (conversation_id)
           WHERE c.org_id = ? AND r.stored_at < ? LIMIT ?)`,
      ),
      sweepConversations: db.prepare<[Buffer, number, number], { conversation_id: Buffer }>(
        `DELETE FROM conversations WHERE conversation_id IN (
           SELECT conversation_id FROM conversations c WHERE c.org_id = ? AND c.created_at < ?
           AND NOT EXISTS (SELECT 1 FROM records r WHERE r.conversation_id = c.conversation_id) LIMIT ?)
         RETURNING conversation_id`,
      ),
      listOrgs: db.prepare<[], OrgRow>('SELECT * FROM orgs ORDER BY rowid'),
      orgOrigins: db.prepare<[Buffer], { origin: string }>(
        'SELECT origin FROM org_origins WHERE org_id = ? ORDER BY origin',
      ),
      originListed: db.prepare<[string], { one: number }>('SELECT 1 AS one FROM org_origins WHERE origin = ? LIMIT 1'),
      setRetention: db.prepare<[number | null, Buffer]>('UPDATE orgs SET retention_days = ? WHERE org_id = ?'),
      clearOrigins: db.prepare<[Buffer]>('DELETE FROM org_origins WHERE org_id = ?'),
      addOrigin: db.prepare<[Buffer, string]>('INSERT INTO org_origins (org_id, origin) VALUES (?, ?)'),
      orgRecords: db.prepare<[Buffer]>(
        'DELETE FROM records WHERE conversation_id IN (SELECT conversation_id FROM conversations WHERE org_id = ?)',
      ),
      orgConversations: db.prepare<[Buffer]>('DELETE FROM conversations WHERE org_id = ?'),
      deleteOrg: db.prepare<[Buffer]>('DELETE FROM orgs WHERE org_id = ?'),
      orgAudit: db.prepare<[Buffer]>('DELETE FROM audit_records WHERE org_id = ?'),
      // The log is gapless from 0, so its length is max + 1: one index probe, not a count.
      auditCount: db.prepare<[Buffer], { n: number }>(
        'SELECT coalesce(max(audit_index) + 1, 0) AS n FROM audit_records WHERE org_id = ?',
      ),
      insertAudit: db.prepare<[Buffer, number, Buffer, number]>(
        'INSERT INTO audit_records (org_id, audit_index, record, stored_at) VALUES (?, ?, ?, ?)',
      ),
      auditRecords: db.prepare<[Buffer, number, number], AuditRow>(
        'SELECT audit_index, record, stored_at FROM audit_records WHERE org_id = ? AND audit_index >= ? ORDER BY audit_index LIMIT ?',
      ),
      ping: db.prepare<[], { one: number }>('SELECT 1 AS one'),
      recentRecords: db.prepare<[number], RecordRow>(
        'SELECT * FROM (SELECT rowid AS r, * FROM records ORDER BY rowid DESC LIMIT ?) ORDER BY r',
      ),
      findByClientId: db.prepare<[Buffer, Buffer], RecordRow>(
        'SELECT * FROM records WHERE conversation_id = ? AND client_message_id = ?',
      ),
      // The seq is the conversation's last_seq + 1, read and written in the same transaction. A
      // repeated client message id inserts nothing (and returns no row), so a retry costs one lookup.
      insertNext: db.prepare<[Buffer, Buffer, number, Buffer], { seq: number }>(
        `INSERT INTO records (conversation_id, seq, client_message_id, envelope, stored_at)
         SELECT conversation_id, last_seq + 1, ?, ?, ? FROM conversations WHERE conversation_id = ?
         ON CONFLICT (conversation_id, client_message_id) DO NOTHING
         RETURNING seq`,
      ),
      bumpSeq: db.prepare<[Buffer]>('UPDATE conversations SET last_seq = last_seq + 1 WHERE conversation_id = ?'),
    };
    this.epoch();
  }

  /** The durability settings in force, for the startup log and for tests. */
  durability(): { journalMode: string; synchronous: string } {
    const journalMode = String(this.db.pragma('journal_mode', { simple: true }));
    const level = Number(this.db.pragma('synchronous', { simple: true }));
    return { journalMode, synchronous: ['off', 'normal', 'full', 'extra'][level] ?? String(level) };
  }

  async getOrg(orgId: Uint8Array): Promise<StoredOrg | undefined> {
    const row = this.stmts.getOrg.get(blob(orgId));
    return row && toOrg(row);
  }

  async latestOrg(): Promise<StoredOrg | undefined> {
    const row = this.stmts.latestOrg.get();
    return row && toOrg(row);
  }

  async registerOrg(orgId: Uint8Array, rootKey: Uint8Array, now: number): Promise<void> {
    this.stmts.registerOrg.run(blob(orgId), blob(rootKey), now);
  }

  async saveRoster(
    orgId: Uint8Array,
    version: number,
    roster: Uint8Array,
    maxHistory: number,
    deviceIds: readonly Uint8Array[],
  ): Promise<boolean> {
    const id = blob(orgId);
    const bytes = blob(roster);
    const listed = JSON.stringify(deviceIds.map((deviceId) => blob(deviceId).toString('hex')));
    return this.db.transaction(() => {
      if (this.stmts.saveRoster.run(version, bytes, id, version).changes === 0) return false;
      this.stmts.keepRoster.run(id, version, bytes);
      this.stmts.pruneRosters.run(id, id, Math.max(1, maxHistory) - 1);
      this.stmts.dropGrants.run(id, listed);
      return true;
    })();
  }

  async rosterHistory(orgId: Uint8Array, fromVersion: number, limit: number): Promise<StoredRoster[]> {
    return this.stmts.rosterHistory.all(blob(orgId), fromVersion, limit).map(toRoster);
  }

  async saveRosterHead(orgId: Uint8Array, head: StoredRosterHead): Promise<boolean> {
    const { signedAt, auditCount, rosterVersion } = head;
    return this.stmts.saveRosterHead.run(signedAt, blob(head.head), auditCount, blob(orgId), rosterVersion).changes > 0;
  }

  async rosterHead(orgId: Uint8Array): Promise<StoredRosterHead | undefined> {
    const row = this.stmts.rosterHead.get(blob(orgId));
    return row && toRosterHead(row);
  }

  async createConversation(c: Omit<StoredConversation, 'lastSeq'>): Promise<void> {
    this.stmts.createConversation.run(blob(c.conversationId), blob(c.orgId), blob(c.capabilityHash), c.createdAt);
  }

  async getConversation(conversationId: Uint8Array): Promise<StoredConversation | undefined> {
    const row = this.stmts.getConversation.get(blob(conversationId));
    return row && toConversation(row);
  }

  async listConversations(orgId: Uint8Array, limit: number): Promise<StoredConversation[]> {
    return this.stmts.listConversations.all(blob(orgId), limit).map(toConversation);
  }

  async recordsAfter(conversationId: Uint8Array, afterSeq: number, limit: number): Promise<StoredRecord[]> {
    return this.stmts.recordsAfter.all(blob(conversationId), afterSeq, limit).map(toRecord);
  }

  async recordsBefore(conversationId: Uint8Array, beforeSeq: number, limit: number): Promise<StoredRecord[]> {
    return this.stmts.recordsBefore.all(blob(conversationId), beforeSeq, limit).map(toRecord).reverse();
  }

  async lastSeqs(
    conversationIds: readonly Uint8Array[],
  ): Promise<{ conversationId: Uint8Array<ArrayBuffer>; lastSeq: number }[]> {
    const found = [];
    for (const id of conversationIds) {
      const row = this.stmts.getConversation.get(blob(id));
      if (row) found.push({ conversationId: bytes(row.conversation_id), lastSeq: Number(row.last_seq) });
    }
    return found;
  }

  async firstSeq(conversationId: Uint8Array): Promise<number> {
    const first = this.stmts.firstSeq.get(blob(conversationId))?.seq;
    if (first !== null && first !== undefined) return first;
    return ((await this.getConversation(conversationId))?.lastSeq ?? 0) + 1;
  }

  epoch(): number {
    return (this.currentEpoch ??= this.stmts.epoch.get()?.value ?? 0);
  }

  /** Gives the database a new random epoch (after copying a file in by hand); `restore` does this itself. */
  renewEpoch(): number {
    return (this.currentEpoch = renewEpoch(this.db));
  }

  async deleteConversation(conversationId: Uint8Array): Promise<boolean> {
    // Appends queued for it fail with UnknownConversationError rather than resurrect it.
    this.commitQueued();
    const id = blob(conversationId);
    return this.db.transaction(() => {
      this.stmts.deleteRecords.run(id);
      return this.stmts.deleteConversation.run(id).changes > 0;
    })();
  }

  async sweep(now: number, defaultRetentionDays: number, batch: number): Promise<SweepResult> {
    let deletedRecords = 0;
    const deletedConversations: Uint8Array<ArrayBuffer>[] = [];
    for (const org of this.stmts.sweepOrgs.all()) {
      const days = org.retention_days ?? defaultRetentionDays;
      if (days <= 0) continue;
      const cutoff = now - days * 24 * 60 * 60 * 1000;
      const left = batch - deletedRecords;
      if (left <= 0) return { deletedRecords, deletedConversations, more: true };
      deletedRecords += this.stmts.sweepRecords.run(org.org_id, cutoff, left).changes;
      for (const row of this.stmts.sweepConversations.all(org.org_id, cutoff, batch)) {
        deletedConversations.push(bytes(row.conversation_id));
      }
    }
    return { deletedRecords, deletedConversations, more: deletedRecords >= batch };
  }

  async erase(): Promise<void> {
    if (this.closed) return;
    // The checkpointer thread may hold the checkpoint lock for a moment; a busy result means the WAL
    // was not truncated, so try again rather than leave old pages in it.
    for (let attempt = 0; attempt < 20; attempt++) {
      const [result] = this.db.pragma('wal_checkpoint(TRUNCATE)') as { busy: number }[];
      if (result?.busy === 0) return;
    }
  }

  async vacuum(): Promise<void> {
    if (this.closed) return;
    this.db.pragma('incremental_vacuum');
    await this.erase();
  }

  async ping(): Promise<boolean> {
    if (this.closed) return false;
    try {
      return this.stmts.ping.get()?.one === 1;
    } catch {
      return false;
    }
  }

  onCommit(observer: (batchSize: number, seconds: number) => void): void {
    this.commitObserver = observer;
  }

  async listOrgs(): Promise<StoredOrg[]> {
    return this.stmts.listOrgs.all().map(toOrg);
  }

  async orgOrigins(orgId: Uint8Array): Promise<string[]> {
    return this.stmts.orgOrigins.all(blob(orgId)).map((row) => row.origin);
  }

  async originListed(origin: string): Promise<boolean> {
    return this.stmts.originListed.get(origin) !== undefined;
  }

  async setOrgPolicy(orgId: Uint8Array, rootKey: Uint8Array, policy: OrgPolicy, now: number): Promise<void> {
    const id = blob(orgId);
    this.db.transaction(() => {
      this.stmts.registerOrg.run(id, blob(rootKey), now);
      this.stmts.setRetention.run(policy.retentionDays ?? null, id);
      this.stmts.clearOrigins.run(id);
      for (const origin of new Set(policy.origins)) this.stmts.addOrigin.run(id, origin);
    })();
  }

  async removeOrg(orgId: Uint8Array): Promise<boolean> {
    this.commitQueued();
    const id = blob(orgId);
    return this.db.transaction(() => {
      this.stmts.orgRecords.run(id);
      this.stmts.orgConversations.run(id);
      this.stmts.clearOrigins.run(id);
      this.stmts.orgAudit.run(id);
      this.stmts.orgRosters.run(id);
      // History grants went with the conversations, the roster head goes with the org (ON DELETE CASCADE).
      return this.stmts.deleteOrg.run(id).changes > 0;
    })();
  }

  async setRetention(orgId: Uint8Array, retentionDays: number | undefined): Promise<boolean> {
    return this.stmts.setRetention.run(retentionDays ?? null, blob(orgId)).changes > 0;
  }

  async auditCount(orgId: Uint8Array): Promise<number> {
    return this.stmts.auditCount.get(blob(orgId))?.n ?? 0;
  }

  async appendAudit(
    orgId: Uint8Array,
    index: number,
    record: Uint8Array,
    now: number,
    maxRecords: number,
  ): Promise<AuditAppendResult> {
    const id = blob(orgId);
    // IMMEDIATE: the write lock is taken before the length is read, so another connection to the
    // file (another process) cannot append the same index in between.
    return this.db
      .transaction((): AuditAppendResult => {
        const next = this.stmts.auditCount.get(id)?.n ?? 0;
        if (index !== next) return 'conflict';
        if (next >= maxRecords) return 'full';
        this.stmts.insertAudit.run(id, index, blob(record), now);
        return 'appended';
      })
      .immediate();
  }

  async auditRecords(orgId: Uint8Array, fromIndex: number, limit: number): Promise<StoredAuditRecord[]> {
    return this.stmts.auditRecords.all(blob(orgId), fromIndex, limit).map(toAuditRecord);
  }

  async putHistoryGrant(write: HistoryGrantWrite): Promise<HistoryGrantPutResult> {
    const org = blob(write.orgId);
    const device = blob(write.deviceId);
    const conversation = blob(write.conversationId);
    // IMMEDIATE: the write lock is taken before the roster version is read, so a roster saved by
    // another connection to the file cannot fall between the check and the write.
    return this.db
      .transaction((): HistoryGrantPutResult => {
        const row = this.stmts.getOrg.get(org);
        if (!row?.roster || row.roster_version !== write.rosterVersion) return 'stale-roster';
        if (!this.stmts.grantConversation.get(conversation, org)) return 'unknown-conversation';
        const replacing = this.stmts.historyGrant.get(org, device, conversation) !== undefined;
        if (!replacing && (this.stmts.grantCount.get(org, device, write.maxPerDevice)?.n ?? 0) >= write.maxPerDevice) {
          return 'full';
        }
        this.stmts.putGrant.run(org, device, conversation, blob(write.grant));
        return 'stored';
      })
      .immediate();
  }

  async historyGrants(
    orgId: Uint8Array,
    deviceId: Uint8Array,
    after: Uint8Array,
    limit: number,
  ): Promise<StoredHistoryGrant[]> {
    return this.stmts.historyGrants.all(blob(orgId), blob(deviceId), blob(after), limit).map(toHistoryGrant);
  }

  async historyGrant(
    orgId: Uint8Array,
    deviceId: Uint8Array,
    conversationId: Uint8Array,
  ): Promise<Uint8Array<ArrayBuffer> | undefined> {
    const row = this.stmts.historyGrant.get(blob(orgId), blob(deviceId), blob(conversationId));
    return row && bytes(row.sealed);
  }

  async recentRecords(limit: number): Promise<StoredRecord[]> {
    return this.stmts.recentRecords.all(limit).map(toRecord);
  }

  append(
    conversationId: Uint8Array<ArrayBuffer>,
    clientMessageId: Uint8Array<ArrayBuffer>,
    envelope: Uint8Array<ArrayBuffer>,
  ): Promise<AppendResult> {
    if (this.closed) return Promise.reject(new StoreClosedError());
    return new Promise<AppendResult>((resolve, reject) => {
      // Held, not copied: the caller hands over arrays it does not modify (decoded frames are fresh).
      this.queue.push({ conversationId, clientMessageId, envelope, resolve, reject });
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

  async close(): Promise<void> {
    if (this.closed) return;
    this.commitQueued();
    this.closed = true;
    await this.checkpointer?.stop();
    // The last connection to close checkpoints the WAL into the file and removes it.
    this.db.close();
  }

  /** Writes every queued append in one transaction, then settles their promises. */
  private commitQueued(): void {
    this.scheduled = false;
    const batch = this.queue;
    if (batch.length === 0) return;
    this.queue = [];
    const started = performance.now();
    const now = Date.now();
    const outcomes: (AppendResult | Error)[] = [];
    try {
      this.db.transaction(() => {
        for (const item of batch) {
          const conversationId = blob(item.conversationId);
          const clientMessageId = blob(item.clientMessageId);
          const inserted = this.stmts.insertNext.get(clientMessageId, blob(item.envelope), now, conversationId);
          if (inserted) {
            this.stmts.bumpSeq.run(conversationId);
            outcomes.push({
              record: {
                conversationId: item.conversationId,
                seq: inserted.seq,
                clientMessageId: item.clientMessageId,
                envelope: item.envelope,
                storedAt: now,
              },
              duplicate: false,
            });
            continue;
          }
          const existing = this.stmts.findByClientId.get(conversationId, clientMessageId);
          outcomes.push(existing ? { record: toRecord(existing), duplicate: true } : new UnknownConversationError());
        }
      })();
    } catch (cause) {
      // Nothing of this batch was committed: every post in it fails and may be retried as is.
      const error = cause instanceof Error ? cause : new Error(String(cause));
      for (const item of batch) item.reject(error);
      return;
    }
    this.commitObserver?.(batch.length, (performance.now() - started) / 1000);
    batch.forEach((item, i) => {
      const outcome = outcomes[i];
      if (outcome === undefined || outcome instanceof Error) item.reject(outcome ?? new Error('Lost append outcome'));
      else item.resolve(outcome);
    });
  }
}
/* eslint-enable @typescript-eslint/require-await */
