import { existsSync, renameSync, rmSync, statSync } from 'node:fs';
import Database from 'better-sqlite3';
import { acquireDbLock } from './db-lock.js';
import { configure, migrate, renewEpoch } from './sqlite-schema.js';

/** What {@link backupDatabase} wrote. */
export interface BackupResult {
  readonly path: string;
  readonly bytes: number;
  /** The epoch recorded in the backup (a restore replaces it with a new one). */
  readonly epoch: number;
}

/** What {@link restoreDatabase} did. */
export interface RestoreResult {
  readonly path: string;
  /** The restored database's new epoch: clients resuming with another one are told to reset. */
  readonly epoch: number;
}

function epochOf(db: Database.Database): number {
  const row = db.prepare<[], { value: number }>("SELECT value FROM meta WHERE key = 'epoch'").get();
  return row?.value ?? 0;
}

function checkIntegrity(db: Database.Database, what: string): void {
  const result = db.pragma('integrity_check', { simple: true });
  if (result !== 'ok') throw new Error(`${what} failed its integrity check: ${String(result)}`);
}

/**
 * Online backup through SQLite's backup API (better-sqlite3 `db.backup`): a consistent snapshot
 * copied page by page while a relay keeps writing to the same file. The result is one
 * self-contained file (rollback journal, no WAL beside it) that passed `integrity_check`.
 * @throws Error if the source is missing, the output exists, or the copy does not verify.
 */
export async function backupDatabase(dbPath: string, outPath: string): Promise<BackupResult> {
  if (!existsSync(dbPath)) throw new Error(`No database at ${dbPath}`);
  if (existsSync(outPath)) throw new Error(`${outPath} exists; refusing to overwrite a backup`);
  const source = new Database(dbPath, { readonly: true, fileMustExist: true });
  try {
    await source.backup(outPath);
  } finally {
    source.close();
  }
  const copy = new Database(outPath);
  try {
    copy.pragma('journal_mode = DELETE');
    checkIntegrity(copy, 'The backup');
    return { path: outPath, bytes: statSync(outPath).size, epoch: epochOf(copy) };
  } finally {
    copy.close();
  }
}

/**
 * Replaces the relay's database with a backup. The relay must be stopped (its lock file is
 * checked). The backup is verified, copied beside the target, migrated to this relay's schema, given
 * a new random epoch — so every client resuming with the old one reloads instead of trusting
 * sequence numbers from another history — and then renamed over the target.
 * @throws DatabaseLockedError if a relay holds the database.
 * @throws Error if the backup is missing or does not verify.
 */
export async function restoreDatabase(backupPath: string, dbPath: string): Promise<RestoreResult> {
  if (!existsSync(backupPath)) throw new Error(`No backup at ${backupPath}`);
  const release = acquireDbLock(dbPath);
  const staging = `${dbPath}.restoring`;
  try {
    for (const suffix of ['', '-wal', '-shm']) rmSync(staging + suffix, { force: true });
    const source = new Database(backupPath, { readonly: true, fileMustExist: true });
    try {
      checkIntegrity(source, 'The backup');
      await source.backup(staging);
    } finally {
      source.close();
    }
    const restored = new Database(staging);
    let epoch: number;
    try {
      configure(restored);
      migrate(restored);
      epoch = renewEpoch(restored);
      restored.pragma('wal_checkpoint(TRUNCATE)');
    } finally {
      restored.close();
    }
    for (const suffix of ['-wal', '-shm']) rmSync(dbPath + suffix, { force: true });
    renameSync(staging, dbPath);
    return { path: dbPath, epoch };
  } finally {
    for (const suffix of ['', '-wal', '-shm']) rmSync(staging + suffix, { force: true });
    release();
  }
}
