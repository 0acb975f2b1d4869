import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MIGRATIONS } from './sqlite-schema.js';
import { SqliteStore } from './sqlite-store.js';
import { describeStoreContract } from './testing/store-contract.js';

const random = (n: number) => crypto.getRandomValues(new Uint8Array(n));

let dir: string;
let path: string;
let store: SqliteStore;
const orgId = random(16);
let conversationId: Uint8Array<ArrayBuffer>;

describeStoreContract('SQLite', () => {
  const fixtureDir = mkdtempSync(join(tmpdir(), 'sealchat-contract-'));
  const file = join(fixtureDir, 'relay.db');
  return Promise.resolve({
    open: () => Promise.resolve(new SqliteStore(file)),
    cleanup: () => Promise.resolve(rmSync(fixtureDir, { recursive: true, force: true })),
  });
});

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sealchat-store-'));
  path = join(dir, 'a', 'b', 'relay.db');
  store = new SqliteStore(path);
  await store.registerOrg(orgId, random(32), 1);
  conversationId = random(16);
  await store.createConversation({ conversationId, orgId, capabilityHash: random(32), createdAt: 2 });
});

afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

function countRows(): number {
  const db = new Database(path, { readonly: true });
  try {
    return (db.prepare('SELECT count(*) AS n FROM records').get() as { n: number }).n;
  } finally {
    db.close();
  }
}

describe('SqliteStore (engine-specific)', () => {
  it('creates the directory, uses WAL with synchronous=FULL, and records the schema version', () => {
    expect(store.durability()).toEqual({ journalMode: 'wal', synchronous: 'full' });
    const db = new Database(path, { readonly: true });
    expect(db.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length);
    db.close();
  });

  it('migrates a file from before the audit log (schema 2), keeping what it holds', async () => {
    const old = join(dir, 'v2.db');
    const db = new Database(old);
    for (const migration of MIGRATIONS.slice(0, 2)) db.exec(migration);
    db.pragma('user_version = 2');
    db.prepare('INSERT INTO orgs (org_id, root_key, registered_at, retention_days) VALUES (?, ?, 1, 9)').run(
      Buffer.from(orgId),
      Buffer.from(random(32)),
    );
    db.close();
    const migrated = new SqliteStore(old);
    try {
      expect((await migrated.getOrg(orgId))?.retentionDays).toBe(9);
      expect(await migrated.appendAudit(orgId, 0, random(40), 5, 10)).toBe('appended');
      expect(await migrated.auditCount(orgId)).toBe(1);
    } finally {
      await migrated.close();
    }
    const check = new Database(old, { readonly: true });
    expect(check.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length);
    check.close();
  });

  it('migrates a file from before the roster history (schema 3): each org’s current roster starts it', async () => {
    const old = join(dir, 'v3.db');
    const db = new Database(old);
    for (const migration of MIGRATIONS.slice(0, 3)) db.exec(migration);
    db.pragma('user_version = 3');
    const roster = Buffer.from(random(90));
    const insert = db.prepare(
      'INSERT INTO orgs (org_id, root_key, roster, roster_version, registered_at) VALUES (?, ?, ?, ?, 1)',
    );
    insert.run(Buffer.from(orgId), Buffer.from(random(32)), roster, 7);
    const bare = random(16);
    insert.run(Buffer.from(bare), Buffer.from(random(32)), null, 0);
    db.prepare('INSERT INTO audit_records (org_id, audit_index, record, stored_at) VALUES (?, 0, ?, 1)').run(
      Buffer.from(orgId),
      Buffer.from(random(10)),
    );
    db.close();
    const migrated = new SqliteStore(old);
    try {
      expect(await migrated.rosterHistory(orgId, 0, 10)).toEqual([{ version: 7, roster: new Uint8Array(roster) }]);
      expect(await migrated.rosterHistory(bare, 0, 10)).toEqual([]);
      expect(await migrated.auditCount(orgId)).toBe(1);
      const next = random(95);
      expect(await migrated.saveRoster(orgId, 8, next, 10, [])).toBe(true);
      expect((await migrated.rosterHistory(orgId, 0, 10)).map((r) => r.version)).toEqual([7, 8]);
    } finally {
      await migrated.close();
    }
    const check = new Database(old, { readonly: true });
    expect(check.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length);
    check.close();
  });

  it('migrates a file from before history grants (schema 4), and grants then go with their conversation', async () => {
    const old = join(dir, 'v4.db');
    const db = new Database(old);
    db.pragma('foreign_keys = ON');
    for (const migration of MIGRATIONS.slice(0, 4)) db.exec(migration);
    db.pragma('user_version = 4');
    db.prepare('INSERT INTO orgs (org_id, root_key, roster, roster_version, registered_at) VALUES (?, ?, ?, 3, 1)').run(
      Buffer.from(orgId),
      Buffer.from(random(32)),
      Buffer.from(random(40)),
    );
    db.prepare(
      'INSERT INTO conversations (conversation_id, org_id, capability_hash, created_at) VALUES (?, ?, ?, 2)',
    ).run(Buffer.from(conversationId), Buffer.from(orgId), Buffer.from(random(32)));
    db.close();
    const migrated = new SqliteStore(old);
    const deviceId = random(16);
    try {
      const sealed = random(60);
      const write = { orgId, deviceId, conversationId, grant: sealed, rosterVersion: 3, maxPerDevice: 10 };
      expect(await migrated.putHistoryGrant(write)).toBe('stored');
      expect(await migrated.historyGrants(orgId, deviceId, new Uint8Array(16), 10)).toEqual([
        { conversationId, grant: sealed },
      ]);
      expect(await migrated.deleteConversation(conversationId)).toBe(true);
      expect(await migrated.historyGrant(orgId, deviceId, conversationId)).toBeUndefined();
    } finally {
      await migrated.close();
    }
    const check = new Database(old, { readonly: true });
    expect(check.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length);
    check.close();
  });

  it('refuses a database written by a newer relay', async () => {
    await store.close();
    const db = new Database(path);
    db.pragma('user_version = 99');
    db.close();
    expect(() => new SqliteStore(path)).toThrow(/schema is version 99/);
    store = new SqliteStore(join(dir, 'other.db'));
  });

  it('commits a tick’s appends together and settles them only after the commit', async () => {
    const pending = Array.from({ length: 50 }, () => store.append(conversationId, random(16), random(8)));
    let settled = false;
    void Promise.all(pending).then(() => (settled = true));
    await Promise.resolve();
    // Still queued: nothing durable yet, nothing acknowledged yet.
    expect(settled).toBe(false);
    expect(countRows()).toBe(0);
    const results = await Promise.all(pending);
    expect(results.map((r) => r.record.seq)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    expect(countRows()).toBe(50);
    expect((await store.getConversation(conversationId))?.lastSeq).toBe(50);
  });

  it('commits queued appends on close, into the file', async () => {
    const queued = store.append(conversationId, random(16), random(8));
    await store.close();
    expect((await queued).record.seq).toBe(1);
    expect(countRows()).toBe(1);
    store = new SqliteStore(path);
  });
});
