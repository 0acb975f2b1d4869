import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { Checkpointer } from './checkpointer.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe('Checkpointer', () => {
  it('copies committed WAL pages into the database file from its worker thread', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'sealchat-ckpt-')), 'relay.db');
    const db = new Database(path);
    cleanups.push(() => {
      db.close();
    });
    db.pragma('journal_mode = WAL');
    db.pragma('wal_autocheckpoint = 0'); // as the relay runs: only the worker checkpoints
    db.exec('CREATE TABLE t (b BLOB)');
    const insert = db.prepare('INSERT INTO t (b) VALUES (?)');
    db.transaction(() => {
      for (let i = 0; i < 200; i++) insert.run(Buffer.alloc(4096, i));
    })();
    const before = statSync(path).size;
    expect(statSync(`${path}-wal`).size).toBeGreaterThan(800_000);

    const checkpointer = new Checkpointer(path, 20);
    cleanups.push(() => checkpointer.stop());
    await expect.poll(() => statSync(path).size, { timeout: 5000 }).toBeGreaterThan(before + 800_000);
  });
});
