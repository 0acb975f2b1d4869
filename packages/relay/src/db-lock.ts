import { mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/** Another live process holds the database (a running relay, or a restore in progress). */
export class DatabaseLockedError extends Error {
  readonly code = 'SEALCHAT_E_DB_LOCKED';
  constructor(path: string, pid: number) {
    super(`The database ${path} is in use by process ${pid}; stop it first`);
    this.name = new.target.name;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The pid holding `<db>.lock`, if that process is alive. */
export function lockHolder(dbPath: string): number | undefined {
  let text: string;
  try {
    text = readFileSync(`${dbPath}.lock`, 'utf8');
  } catch {
    return undefined;
  }
  const pid = Number(text.trim());
  return Number.isInteger(pid) && pid > 0 && alive(pid) ? pid : undefined;
}

/**
 * Takes `<db>.lock`, a pid file: two relays on one file would each fan out only their own commits,
 * and a restore must not replace a file a relay has open. A lock left by a killed process is stale
 * (its pid is gone) and is taken over.
 * @throws DatabaseLockedError if another live process holds it.
 * @returns a function that releases the lock.
 */
export function acquireDbLock(dbPath: string): () => void {
  const lockPath = `${dbPath}.lock`;
  mkdirSync(dirname(dbPath), { recursive: true });
  const holder = lockHolder(dbPath);
  if (holder !== undefined && holder !== process.pid) throw new DatabaseLockedError(dbPath, holder);
  writeFileSync(lockPath, String(process.pid));
  return () => {
    try {
      if (readFileSync(lockPath, 'utf8') === String(process.pid)) unlinkSync(lockPath);
    } catch {
      // Already gone: nothing to release.
    }
  };
}
