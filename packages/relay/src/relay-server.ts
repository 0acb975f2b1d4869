import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { OrgKeyFormatError, orgIdFromRootKey, parseOrgKey } from '@sealchat/protocol';
import { acquireDbLock } from './db-lock.js';
import { createJsonLogger, type RelayLogger } from './logger.js';
import { resolveRelayOptions, type RelayOptions } from './options.js';
import { createOriginPolicy } from './origin-policy.js';
import { InProcessFanout, type Fanout } from './fanout.js';
import { isPostgresUrl, PostgresStore } from './postgres-store.js';
import { RedisFanout } from './redis-fanout.js';
import { Relay } from './relay.js';
import { SqliteStore } from './sqlite-store.js';
import type { RelayStore } from './store.js';

/** A relay that is listening. */
export interface RunningRelay {
  /** The TCP port actually bound (useful with `port: 0`). */
  readonly port: number;
  /** `ws://host:port`, what clients connect to. */
  readonly url: string;
  /**
   * Stops accepting, commits and acknowledges what is pending, closes every socket with 1001, then
   * closes the store. Safe to call twice.
   */
  close(): Promise<void>;
}

/** Collaborators of {@link startRelay}; defaults are JSON lines on stdout and a SQLite file. */
export interface RelayDependencies {
  readonly logger?: RelayLogger;
  /** A store to use instead of opening `options.dbPath`. The relay closes it on shutdown. */
  readonly store?: RelayStore;
  /** A fan-out to use instead of the one `options.fanout` names. The relay closes it on shutdown. */
  readonly fanout?: Fanout;
}

/**
 * Starts a relay: an HTTP server and a WebSocket server on one port, backed by SQLite unless a
 * store is given.
 * @throws TypeError for an invalid option (including an `orgKeys` entry that is not a valid org key).
 */
export async function startRelay(
  input: Partial<RelayOptions> = {},
  deps: RelayDependencies = {},
): Promise<RunningRelay> {
  const options = resolveRelayOptions(input);
  const logger = deps.logger ?? createJsonLogger();
  const preRegistered: Uint8Array<ArrayBuffer>[] = [];
  for (const text of options.orgKeys) {
    try {
      preRegistered.push(await parseOrgKey(text));
    } catch (error) {
      if (error instanceof OrgKeyFormatError) throw new TypeError(`Invalid organisation key: ${error.message}`);
      throw error;
    }
  }
  let store: RelayStore;
  let releaseLock = (): void => undefined;
  if (deps.store) {
    store = deps.store;
  } else if (isPostgresUrl(options.dbPath)) {
    // Several relays share the database by design: no lock file. The URL may hold a password: not logged.
    const postgres = await PostgresStore.open(options.dbPath, { poolSize: options.dbPoolSize });
    logger.log('info', 'storage', { engine: 'postgres', schema: postgres.schema, epoch: postgres.epoch() });
    store = postgres;
  } else {
    if (options.dbPath !== ':memory:') releaseLock = acquireDbLock(options.dbPath);
    try {
      const sqlite = new SqliteStore(options.dbPath);
      logger.log('info', 'storage', { engine: 'sqlite', ...sqlite.durability(), epoch: sqlite.epoch() });
      store = sqlite;
    } catch (error) {
      releaseLock();
      throw error;
    }
  }
  let fanout: Fanout;
  let relay: Relay;
  try {
    const now = Date.now();
    for (const rootKey of preRegistered) await store.registerOrg(await orgIdFromRootKey(rootKey), rootKey, now);
    fanout =
      deps.fanout ?? (options.fanout === 'memory' ? new InProcessFanout() : new RedisFanout(options.fanout, logger));
    relay = new Relay(options, store, logger, createOriginPolicy(options.allowedOrigins, options.demo), fanout);
  } catch (error) {
    await store.close();
    releaseLock();
    throw error;
  }
  try {
    await fanout.start(relay);
    logger.log('info', 'fanout', { kind: fanout.kind });
  } catch (error) {
    await relay.shutdown();
    releaseLock();
    throw error;
  }
  const server: Server = createServer((req, res) => relay.routes.handle(req, res));
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    relay.upgrade(req, socket, head).catch(() => socket.destroy());
  });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port, options.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    await relay.shutdown();
    releaseLock();
    throw error;
  }
  const port = (server.address() as AddressInfo).port;
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  const url = `ws://${host}:${port}`;
  logger.log('info', 'listening', { url, demo: options.demo });
  // Exposed without its public name, agent logins are bound only to a Host header the client writes.
  if (!options.demo && options.publicOrigins.length === 0 && !/^(127\.|::1$|localhost$)/.test(options.host))
    logger.log('warn', 'public-origin-unset', { host: options.host });

  let closing: Promise<void> | undefined;
  return {
    port,
    url,
    close() {
      closing ??= (async () => {
        const serverClosed = new Promise<void>((resolve) => server.close(() => resolve()));
        await relay.shutdown();
        server.closeAllConnections();
        await serverClosed;
        releaseLock();
        logger.log('info', 'closed');
      })();
      return closing;
    },
  };
}
