import { OrgKeyFormatError, formatOrgKey, orgIdFromRootKey, parseOrgKey } from '@sealchat/protocol';
import { backupDatabase, restoreDatabase } from './backup.js';
import { lockHolder } from './db-lock.js';
import { isPostgresUrl, PostgresStore } from './postgres-store.js';
import { SqliteStore } from './sqlite-store.js';
import type { RelayStore } from './store.js';

/** A bad command line: exit code 2. */
export class UsageError extends TypeError {
  constructor(message: string) {
    super(`${message}; see sealchat-relay --help`);
    this.name = new.target.name;
  }
}

interface Parsed {
  readonly positional: string[];
  readonly flags: Map<string, string[]>;
}

function parse(argv: readonly string[], known: readonly string[]): Parsed {
  const positional: string[] = [];
  const flags = new Map<string, string[]>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (!arg.startsWith('--')) {
      positional.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = eq > 0 ? arg.slice(2, eq) : arg.slice(2);
    if (!known.includes(name)) throw new UsageError(`Unknown flag --${name}`);
    let value = eq > 0 ? arg.slice(eq + 1) : argv[++i];
    if (value === undefined || value === '' || (eq < 0 && value.startsWith('--'))) {
      throw new UsageError(`The --${name} flag needs a value`);
    }
    value = value.trim();
    flags.set(name, [...(flags.get(name) ?? []), value]);
  }
  return { positional, flags };
}

function one(parsed: Parsed, name: string, fallback?: string): string {
  const values = parsed.flags.get(name);
  const value = values?.[values.length - 1] ?? fallback;
  if (value === undefined) throw new UsageError(`The --${name} flag is required`);
  return value;
}

async function orgKey(
  text: string | undefined,
): Promise<{ rootKey: Uint8Array<ArrayBuffer>; orgId: Uint8Array<ArrayBuffer> }> {
  if (text === undefined) throw new UsageError('An organisation key (sc1...) is required');
  try {
    const rootKey = await parseOrgKey(text);
    return { rootKey, orgId: await orgIdFromRootKey(rootKey) };
  } catch (error) {
    if (error instanceof OrgKeyFormatError) throw new UsageError(`Invalid organisation key: ${error.message}`);
    throw error;
  }
}

function checkOrigin(origin: string): string {
  let url: URL | undefined;
  try {
    url = new URL(origin);
  } catch {
    url = undefined;
  }
  if (!url || url.origin !== origin) {
    throw new UsageError(`${JSON.stringify(origin)} is not an origin like "https://shop.example"`);
  }
  return origin;
}

async function withStore<T>(db: string, run: (store: RelayStore) => Promise<T>): Promise<T> {
  const store = isPostgresUrl(db) ? await PostgresStore.open(db, { poolSize: 1 }) : new SqliteStore(db);
  try {
    return await run(store);
  } finally {
    await store.close();
  }
}

function sqliteOnly(db: string, command: string): void {
  if (isPostgresUrl(db)) {
    throw new UsageError(
      `${command} works on SQLite files; for PostgreSQL use pg_dump / pg_restore, then "epoch renew"`,
    );
  }
}

/**
 * Runs `backup`, `restore` or `org ...` and returns what to print (JSON lines, one per result).
 * Org changes go straight into the database file; a running relay sees them on its next lookup.
 * @throws UsageError for a bad command line; Error when the command fails.
 */
export async function runAdminCommand(argv: readonly string[], defaultDb: string): Promise<string> {
  const [command, ...rest] = argv;
  if (command === 'backup') {
    const parsed = parse(rest, ['db', 'out']);
    sqliteOnly(one(parsed, 'db', defaultDb), 'backup');
    const result = await backupDatabase(one(parsed, 'db', defaultDb), one(parsed, 'out'));
    return `${JSON.stringify({ backup: result.path, bytes: result.bytes, epoch: result.epoch })}\n`;
  }
  if (command === 'restore') {
    const parsed = parse(rest, ['db', 'from']);
    const db = one(parsed, 'db', defaultDb);
    sqliteOnly(db, 'restore');
    const holder = lockHolder(db);
    if (holder !== undefined) throw new Error(`A relay (pid ${holder}) is running on ${db}; stop it before restoring`);
    const result = await restoreDatabase(one(parsed, 'from'), db);
    return `${JSON.stringify({ restored: result.path, epoch: result.epoch })}\n`;
  }
  if (command === 'epoch') {
    // After pg_restore (or copying a SQLite file by hand): a new epoch, so clients resuming with the
    // old one reload instead of trusting sequence numbers from another history. Restart the relays.
    const [action, ...args] = rest;
    if (action !== 'renew') throw new UsageError('Unknown epoch action (renew)');
    const db = one(parse(args, ['db']), 'db', defaultDb);
    let epoch: number;
    if (isPostgresUrl(db)) {
      const postgres = await PostgresStore.open(db, { poolSize: 1 });
      try {
        epoch = await postgres.renewEpoch();
      } finally {
        await postgres.close();
      }
    } else {
      const holder = lockHolder(db);
      if (holder !== undefined) throw new Error(`A relay (pid ${holder}) is running on ${db}; stop it first`);
      const sqlite = new SqliteStore(db);
      try {
        epoch = sqlite.renewEpoch();
      } finally {
        await sqlite.close();
      }
    }
    return `${JSON.stringify({ epoch })}\n`;
  }
  if (command !== 'org') throw new UsageError(`Unknown command ${JSON.stringify(command)}`);
  const [action, ...args] = rest;
  const parsed = parse(args, ['db', 'origin', 'retention-days']);
  const db = one(parsed, 'db', defaultDb);
  switch (action) {
    case 'add': {
      const { rootKey, orgId } = await orgKey(parsed.positional[0]);
      const origins = (parsed.flags.get('origin') ?? []).map(checkOrigin);
      const retention = parsed.flags.get('retention-days')?.at(-1);
      if (retention !== undefined && !/^[1-9]\d{0,5}$/.test(retention)) {
        throw new UsageError('The --retention-days flag must be a positive integer');
      }
      const retentionDays = retention === undefined ? undefined : Number(retention);
      await withStore(db, (store) => store.setOrgPolicy(orgId, rootKey, { origins, retentionDays }, Date.now()));
      return `${JSON.stringify({ added: parsed.positional[0], origins, retentionDays: retentionDays ?? null })}\n`;
    }
    case 'remove': {
      const { orgId } = await orgKey(parsed.positional[0]);
      const removed = await withStore(db, async (store) => {
        const found = await store.removeOrg(orgId);
        await store.vacuum();
        return found;
      });
      if (!removed) throw new Error('That organisation is not registered');
      return `${JSON.stringify({ removed: parsed.positional[0] })}\n`;
    }
    case 'list': {
      const orgs = await withStore(db, async (store) =>
        Promise.all((await store.listOrgs()).map(async (org) => ({ org, origins: await store.orgOrigins(org.orgId) }))),
      );
      const lines = await Promise.all(
        orgs.map(async ({ org, origins }) =>
          JSON.stringify({
            org: await formatOrgKey(org.rootKey),
            registeredAt: new Date(org.registeredAt).toISOString(),
            rosterVersion: org.roster ? org.rosterVersion : null,
            retentionDays: org.retentionDays ?? null,
            origins,
          }),
        ),
      );
      return lines.map((line) => `${line}\n`).join('');
    }
    default:
      throw new UsageError(`Unknown org action ${JSON.stringify(action)} (add, list, remove)`);
  }
}
