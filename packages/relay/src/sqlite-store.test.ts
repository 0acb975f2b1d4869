import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SqliteStore } from './sqlite-store.js';
import { StoreClosedError, UnknownConversationError } from './store.js';

const random = (n: number) => crypto.getRandomValues(new Uint8Array(n));

let dir: string;
let path: string;
let store: SqliteStore;
const orgId = random(16);
let conversationId: Uint8Array<ArrayBuffer>;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'sealchat-store-'));
  path = join(dir, 'a', 'b', 'relay.db');
  store = new SqliteStore(path);
  store.registerOrg(orgId, random(32), 1);
  conversationId = random(16);
  store.createConversation({ conversationId, orgId, capabilityHash: random(32), createdAt: 2 });
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

describe('SqliteStore', () => {
  it('creates the directory, uses WAL with synchronous=FULL, and records the schema version', () => {
    expect(store.durability()).toEqual({ journalMode: 'wal', synchronous: 'full' });
    const db = new Database(path, { readonly: true });
    expect(db.pragma('user_version', { simple: true })).toBe(2);
    db.close();
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
    expect(store.getConversation(conversationId)?.lastSeq).toBe(50);
  });

  it('returns the original record for a repeated client message id and writes nothing', async () => {
    const id = random(16);
    const envelope = random(8);
    const first = await store.append(conversationId, id, envelope);
    const again = await store.append(conversationId, id, random(8));
    expect(again.duplicate).toBe(true);
    expect(again.record.seq).toBe(first.record.seq);
    expect(again.record.envelope).toEqual(envelope);
    expect(countRows()).toBe(1);
    // The same client id in another conversation is a different message.
    const other = random(16);
    store.createConversation({ conversationId: other, orgId, capabilityHash: random(32), createdAt: 3 });
    expect((await store.append(other, id, envelope)).duplicate).toBe(false);
  });

  it('fails only the append to a missing conversation, not its batch', async () => {
    const [good, bad] = await Promise.allSettled([
      store.append(conversationId, random(16), random(8)),
      store.append(random(16), random(16), random(8)),
    ]);
    expect(good.status).toBe('fulfilled');
    expect(bad.status === 'rejected' && bad.reason).toBeInstanceOf(UnknownConversationError);
  });

  it('commits queued appends on close and rejects later ones', async () => {
    const queued = store.append(conversationId, random(16), random(8));
    await store.close();
    expect((await queued).record.seq).toBe(1);
    await expect(store.append(conversationId, random(16), random(8))).rejects.toBeInstanceOf(StoreClosedError);
    expect(countRows()).toBe(1);
    store = new SqliteStore(path);
    expect(store.recordsAfter(conversationId, 0, 10).map((r) => r.seq)).toEqual([1]);
  });

  it('lists conversations and recent records in order, newest `limit` of them', () => {
    for (let i = 0; i < 3; i++)
      store.createConversation({ conversationId: random(16), orgId, capabilityHash: random(32), createdAt: 10 + i });
    const list = store.listConversations(orgId, 2);
    expect(list.map((c) => c.createdAt)).toEqual([11, 12]);
    expect(store.latestOrg()?.orgId).toEqual(orgId);
  });
});
