import { relayOrigin } from '@sealchat/protocol';

/**
 * Relay options. Every resource limit is an option with a safe default, documented here where it is
 * declared (as ws does with `maxPayload`), so an operator can see in one place what a single socket
 * may cost the process.
 */
export interface RelayOptions {
  /** Interface to listen on. Loopback by default: exposing the relay is a decision, not an accident. */
  readonly host: string;
  /** TCP port; 0 picks any free port (tests, several relays on one machine). */
  readonly port: number;
  /**
   * Where records live: a SQLite database file (its directory is created if missing), or a
   * `postgres://user@host:5432/db?schema=sealchat` URL to share one PostgreSQL database between
   * several relays (docs/deploy.md). Credentials belong in the URL or in PG* environment variables.
   */
  readonly dbPath: string;
  /**
   * How relays tell each other about commits: `memory` (one relay process, the default) or a
   * `redis://host:6379/0` URL (Redis pub/sub between several relays on one PostgreSQL database).
   */
  readonly fanout: string;
  /**
   * Demo mode: unknown organisations may register by publishing a roster, and the `/demo/*` HTTP
   * endpoints (current org key, live view of stored rows) exist. Never enable on a public relay.
   */
  readonly demo: boolean;
  /**
   * Exact `Origin` values (`https://shop.example`) allowed to open a WebSocket or read `/demo/*`.
   * A request without an Origin header (a Node client, curl) is not a browser and is always allowed;
   * one with an Origin not listed is refused with HTTP 403. With an empty list, demo mode allows any
   * localhost origin and production mode allows no browser origin at all.
   */
  readonly allowedOrigins: readonly string[];
  /**
   * The relay's own origins (`wss://relay.example`): the ws:// or wss:// URL origins clients dial to
   * reach it, as a reverse proxy in front of it serves them. An agent's login signature names the
   * relay it was made for (docs/protocol.md §9), and only these names are accepted, so a hostile
   * relay cannot forward this relay's challenge to its own agents and log in as them here. Empty
   * (the default): the upgrade request's Host header, over ws:// or wss://; that header is chosen by
   * whoever connects, so on a relay reachable other than through a proxy that routes by host name
   * this binding is only as good as the setting: set it on every public relay. At most 16.
   */
  readonly publicOrigins: readonly string[];
  /**
   * Organisation root keys in text form (`sc1...`) registered at startup. Outside demo mode this is
   * the only way an organisation comes to exist on the relay.
   */
  readonly orgKeys: readonly string[];
  /**
   * Largest WebSocket message accepted, passed to ws as `maxPayload`; a larger one closes the socket
   * with 1009. The default carries a full 60 KiB envelope plus frame fields. Note that a roster is
   * also bounded by this: about 200 devices fit in 64 KiB.
   */
  readonly maxFrameBytes: number;
  /** Open WebSockets at once; an upgrade beyond it is refused with HTTP 503 (the budget is 10k per process). */
  readonly maxConnections: number;
  /** Conversations one socket may be attached to at once; beyond it attach answers SEALCHAT_E_LIMIT. */
  readonly maxConversationsPerSocket: number;
  /** Conversations one socket may open over its lifetime, so one visitor cannot fill the database. */
  readonly maxOpensPerSocket: number;
  /** Posts from one socket waiting for their commit; beyond it post answers SEALCHAT_E_LIMIT. */
  readonly maxPendingPostsPerSocket: number;
  /** Most conversations returned by `watch-org` (the newest ones). */
  readonly maxConversationList: number;
  /**
   * Bytes queued for a socket that does not read; past this it is closed with 1013 rather than
   * letting one slow client grow the relay's memory without bound.
   */
  readonly maxBufferedBytes: number;
  /** Most stored rows `/demo/rows` replays before streaming new ones (the newest ones). */
  readonly maxDemoReplayRows: number;
  /**
   * Frames per second one socket may send on average (token bucket refill rate). Every frame costs
   * a token, malformed ones included; an empty bucket answers SEALCHAT_E_RATE_LIMITED.
   */
  readonly connectionRate: number;
  /** Token bucket size per socket: the burst a socket may send at once. */
  readonly connectionBurst: number;
  /** Posts per second to one conversation made with its visitor capability (all sockets holding it). */
  readonly capabilityRate: number;
  /** Token bucket size per capability. */
  readonly capabilityBurst: number;
  /** Sockets that may act on one organisation at once; beyond it requests answer SEALCHAT_E_LIMIT. */
  readonly maxConnectionsPerOrg: number;
  /**
   * Open sockets per peer address (counted in memory only, never logged or stored); an upgrade
   * beyond it is refused with HTTP 429. Behind a reverse proxy every client shares one address: set
   * this to at least `maxConnections` there and limit per address at the proxy.
   */
  readonly maxConnectionsPerAddress: number;
  /** Conversations one peer address may open per hour (token bucket, refilled evenly over the hour). */
  readonly maxNewConversationsPerAddressPerHour: number;
  /** Interval between WebSocket pings; a socket that has not answered the previous ping is terminated. */
  readonly pingIntervalMs: number;
  /**
   * A socket that has sent nothing for this long and holds nothing (no subscription, no agent login,
   * no presence watch) is closed with 4001, so idle sockets cannot hold connection slots.
   */
  readonly idleTimeoutMs: number;
  /** Records per page read from storage while catching a socket up, and the cap on `get-history` pages. */
  readonly historyPageSize: number;
  /** Default maximum age of stored records in days, for orgs without their own; 0 keeps records forever. */
  readonly retentionDays: number;
  /**
   * Most days a supervisor may set for their org with `set-retention` (SEALCHAT_E_LIMIT beyond it), so
   * an operator can cap what the disk must hold; at most the wire's 36 500.
   */
  readonly maxRetentionDays: number;
  /**
   * Audit records one organisation may store (`append-audit`; SEALCHAT_E_LIMIT beyond it). Records are
   * at most 16 KiB and never swept, so this bounds what one org's log can cost: 100 000 × 16 KiB ≈ 1.6 GB
   * at worst, far more than years of team changes.
   */
  readonly maxAuditRecords: number;
  /**
   * Rosters kept per organisation for `get-roster-history`; past it the oldest are deleted as new ones
   * are accepted. An org's devices check a message's sender against the roster of its time, so a
   * conversation older than every kept roster can no longer be checked against its own. Rosters are
   * at most `maxFrameBytes`, and orgs publish one per team change: 10 000 is years of changes.
   */
  readonly maxRosterHistory: number;
  /**
   * History grants one device may hold in one organisation (`put-history-grant`; SEALCHAT_E_LIMIT for
   * a new one beyond it, replacing one it holds always works). A device holds at most one per
   * conversation, each at most `maxFrameBytes`, and they go with their conversation and with the
   * device's removal from the roster; this bounds what a supervisor can make one device cost:
   * 100 000 × 64 KiB ≈ 6.5 GB at worst, typically well under 1 KiB each. 0 refuses every new grant.
   */
  readonly maxHistoryGrantsPerDevice: number;
  /** How often the retention sweeper runs. */
  readonly retentionSweepIntervalMs: number;
  /** How often freed pages are returned to the file system and the WAL truncated (incremental vacuum). */
  readonly vacuumIntervalMs: number;
  /**
   * With a cross-relay fan-out, how often each relay compares its live subscriptions with the
   * database's lastSeq and repairs any left behind for a whole interval (a relay that died between
   * its commit and its publish). One query per 1000 subscribed conversations per interval.
   */
  readonly fanoutAuditIntervalMs: number;
  /** PostgreSQL connections per relay process (ignored for SQLite). */
  readonly dbPoolSize: number;
  /** Serve `/metrics` (Prometheus text). It reveals counts, never ids; restrict it at the proxy if needed. */
  readonly metrics: boolean;
}

/** What {@link parseRelayOptions} returns: the options, and whether `--help` was asked for. */
export interface ParsedCommandLine {
  readonly help: boolean;
  readonly options: RelayOptions;
}

/** Defaults, chosen so that `sealchat-relay` with no flags is safe to run. */
export const DEFAULT_RELAY_OPTIONS: RelayOptions = Object.freeze({
  host: '127.0.0.1',
  port: 8787,
  dbPath: 'data/relay.db',
  fanout: 'memory',
  demo: false,
  allowedOrigins: Object.freeze([]),
  publicOrigins: Object.freeze([]),
  orgKeys: Object.freeze([]),
  maxFrameBytes: 64 * 1024,
  maxConnections: 10_000,
  maxConversationsPerSocket: 64,
  maxOpensPerSocket: 16,
  maxPendingPostsPerSocket: 1024,
  maxConversationList: 1000,
  maxBufferedBytes: 4 * 1024 * 1024,
  maxDemoReplayRows: 1000,
  connectionRate: 100,
  connectionBurst: 200,
  capabilityRate: 10,
  capabilityBurst: 30,
  maxConnectionsPerOrg: 5000,
  maxConnectionsPerAddress: 100,
  maxNewConversationsPerAddressPerHour: 30,
  pingIntervalMs: 30_000,
  idleTimeoutMs: 60_000,
  historyPageSize: 200,
  retentionDays: 0,
  maxRetentionDays: 36_500,
  maxAuditRecords: 100_000,
  maxRosterHistory: 10_000,
  maxHistoryGrantsPerDevice: 100_000,
  retentionSweepIntervalMs: 60 * 60 * 1000,
  vacuumIntervalMs: 60 * 60 * 1000,
  fanoutAuditIntervalMs: 10_000,
  dbPoolSize: 10,
  metrics: true,
});

type IntegerOption =
  | 'port'
  | 'maxFrameBytes'
  | 'maxConnections'
  | 'maxConversationsPerSocket'
  | 'maxOpensPerSocket'
  | 'maxPendingPostsPerSocket'
  | 'maxConversationList'
  | 'maxBufferedBytes'
  | 'maxDemoReplayRows'
  | 'connectionRate'
  | 'connectionBurst'
  | 'capabilityRate'
  | 'capabilityBurst'
  | 'maxConnectionsPerOrg'
  | 'maxConnectionsPerAddress'
  | 'maxNewConversationsPerAddressPerHour'
  | 'pingIntervalMs'
  | 'idleTimeoutMs'
  | 'historyPageSize'
  | 'retentionDays'
  | 'maxRetentionDays'
  | 'maxAuditRecords'
  | 'maxRosterHistory'
  | 'maxHistoryGrantsPerDevice'
  | 'retentionSweepIntervalMs'
  | 'vacuumIntervalMs'
  | 'fanoutAuditIntervalMs'
  | 'dbPoolSize';

const INTEGER_RANGES: Record<IntegerOption, readonly [number, number]> = {
  port: [0, 65535],
  // Below 1 KiB not even a roster with one device fits; above 16 MiB one frame is a memory risk.
  maxFrameBytes: [1024, 16 * 1024 * 1024],
  maxConnections: [1, 1_000_000],
  maxConversationsPerSocket: [1, 100_000],
  maxOpensPerSocket: [1, 100_000],
  maxPendingPostsPerSocket: [1, 1_000_000],
  // The wire decoder refuses lists over 10 000 entries.
  maxConversationList: [1, 10_000],
  maxBufferedBytes: [1024, 1024 * 1024 * 1024],
  maxDemoReplayRows: [0, 1_000_000],
  connectionRate: [1, 1_000_000],
  connectionBurst: [1, 1_000_000],
  capabilityRate: [1, 1_000_000],
  capabilityBurst: [1, 1_000_000],
  maxConnectionsPerOrg: [1, 1_000_000],
  maxConnectionsPerAddress: [1, 1_000_000],
  maxNewConversationsPerAddressPerHour: [1, 1_000_000],
  pingIntervalMs: [10, 24 * 60 * 60 * 1000],
  idleTimeoutMs: [10, 24 * 60 * 60 * 1000],
  // A get-history page is bounded by the wire's MAX_HISTORY_PAGE (1000).
  historyPageSize: [1, 1000],
  retentionDays: [0, 100_000],
  // The wire's MAX_RETENTION_DAYS bounds what a set-retention frame can carry.
  maxRetentionDays: [1, 36_500],
  maxAuditRecords: [0, 100_000_000],
  // At least the current roster is always kept.
  maxRosterHistory: [1, 10_000_000],
  maxHistoryGrantsPerDevice: [0, 100_000_000],
  retentionSweepIntervalMs: [10, 7 * 24 * 60 * 60 * 1000],
  vacuumIntervalMs: [10, 7 * 24 * 60 * 60 * 1000],
  fanoutAuditIntervalMs: [10, 24 * 60 * 60 * 1000],
  dbPoolSize: [1, 1000],
};

/** The integer options, each settable as `--kebab-name n` and `SEALCHAT_SNAKE_NAME=n`. */
export const INTEGER_OPTIONS = Object.keys(INTEGER_RANGES) as readonly IntegerOption[];

function kebab(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

function envName(name: string): string {
  return `SEALCHAT_${name.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`;
}

/**
 * Fills defaults and checks every value, the way ws checks its options: at once, with a `TypeError`
 * naming the option.
 * @throws TypeError when a value is of the wrong type or out of range.
 */
export function resolveRelayOptions(input: Partial<RelayOptions> = {}): RelayOptions {
  const options: RelayOptions = { ...DEFAULT_RELAY_OPTIONS, ...stripUndefined(input) };
  for (const name of Object.keys(INTEGER_RANGES) as IntegerOption[]) {
    const [min, max] = INTEGER_RANGES[name];
    const value = options[name];
    if (!Number.isInteger(value) || value < min || value > max) {
      throw new TypeError(`The ${name} option must be an integer from ${min} to ${max}`);
    }
  }
  if (typeof options.host !== 'string' || options.host === '')
    throw new TypeError('The host option must be a non-empty string');
  if (typeof options.dbPath !== 'string' || options.dbPath === '') {
    throw new TypeError('The dbPath option must be a non-empty string');
  }
  if (options.dbPath.includes('://') && !/^postgres(ql)?:\/\//i.test(options.dbPath)) {
    throw new TypeError('The dbPath option must be a file path or a postgres:// URL');
  }
  if (typeof options.fanout !== 'string' || (options.fanout !== 'memory' && !/^rediss?:\/\//i.test(options.fanout))) {
    throw new TypeError('The fanout option must be "memory" or a redis:// URL');
  }
  if (options.fanout !== 'memory' && !/^postgres(ql)?:\/\//i.test(options.dbPath)) {
    throw new TypeError(
      'A redis fanout needs a shared postgres:// database (several relays on one SQLite file would each be alone)',
    );
  }
  if (typeof options.demo !== 'boolean') throw new TypeError('The demo option must be a boolean');
  if (typeof options.metrics !== 'boolean') throw new TypeError('The metrics option must be a boolean');
  if (!isList(options.allowedOrigins)) throw new TypeError('The allowedOrigins option must be an array of origins');
  for (const origin of options.allowedOrigins) checkOrigin(origin, 'The allowedOrigins option');
  if (!isList(options.publicOrigins) || options.publicOrigins.length > MAX_PUBLIC_ORIGINS)
    throw new TypeError(`The publicOrigins option must be an array of at most ${MAX_PUBLIC_ORIGINS} origins`);
  for (const origin of options.publicOrigins) checkRelayOrigin(origin, 'The publicOrigins option');
  if (!isList(options.orgKeys)) throw new TypeError('The orgKeys option must be an array of sc1... keys');
  for (const key of options.orgKeys) {
    if (typeof key !== 'string' || !key.startsWith('sc1'))
      throw new TypeError('The orgKeys option must list keys starting with "sc1"');
  }
  return Object.freeze({
    ...options,
    allowedOrigins: Object.freeze([...options.allowedOrigins]),
    publicOrigins: Object.freeze([...options.publicOrigins]),
    orgKeys: Object.freeze([...options.orgKeys]),
  });
}

function stripUndefined(input: Partial<RelayOptions>): Partial<RelayOptions> {
  return Object.fromEntries(Object.entries(input).filter(([, value]) => value !== undefined));
}

/** `Array.isArray` without widening the element type to `any`. */
function isList(value: unknown): value is readonly unknown[] {
  return Array.isArray(value);
}

/** An origin is `scheme://host[:port]` exactly as a browser sends it: no path, no trailing slash. */
function checkOrigin(origin: unknown, where: string): asserts origin is string {
  if (typeof origin !== 'string') throw new TypeError(`${where} must list origins as strings`);
  let parsed: URL | undefined;
  try {
    parsed = new URL(origin);
  } catch {
    parsed = undefined;
  }
  if (!parsed || parsed.origin !== origin) {
    throw new TypeError(`${where} got ${JSON.stringify(origin)}, which is not an origin like "https://shop.example"`);
  }
}

/** A failed agent login costs one signature check per public origin: a short list keeps that cheap. */
const MAX_PUBLIC_ORIGINS = 16;

/** A relay origin is `ws[s]://host[:port]` exactly as `relayOrigin` spells it: no path, no trailing slash. */
function checkRelayOrigin(origin: unknown, where: string): asserts origin is string {
  let canonical: string | undefined;
  try {
    canonical = typeof origin === 'string' ? relayOrigin(origin) : undefined;
  } catch {
    canonical = undefined;
  }
  if (canonical === undefined || canonical !== origin) {
    throw new TypeError(`${where} got ${JSON.stringify(origin)}, which is not an origin like "wss://relay.example"`);
  }
}

/** The text `sealchat-relay --help` prints. */
export const RELAY_USAGE = `Usage: sealchat-relay [serve] [options]
       sealchat-relay backup --db <path> --out <path>
       sealchat-relay restore --from <backup> --db <path>
       sealchat-relay org add <sc1...> [--origin <o>]... [--retention-days <n>] --db <path>
       sealchat-relay org list --db <path>
       sealchat-relay org remove <sc1...> --db <path>
       sealchat-relay epoch renew --db <path|url>

Stores and forwards Sealchat ciphertext. It never holds a key that can read a message.
docs/operations.md explains running, backing up, restoring and monitoring it.

Options:
  --port <n>            TCP port, 0 for any free port (default 8787)      env SEALCHAT_PORT
  --host <address>      interface to listen on (default 127.0.0.1)        env SEALCHAT_HOST
  --db <path|url>       SQLite file (default data/relay.db), or           env SEALCHAT_DB
                        postgres://user@host:5432/db?schema=sealchat
  --fanout <url>        redis://host:6379 to fan out across relays        env SEALCHAT_FANOUT
                        (default: memory, one relay process)
  --demo                demo mode: open org registration and /demo/*      env SEALCHAT_DEMO=1
  --allow-origin <o>    browser origin allowed to connect (repeatable)    env SEALCHAT_ALLOW_ORIGIN=a,b
  --public-origin <o>   this relay's wss:// origin as clients dial it,    env SEALCHAT_PUBLIC_ORIGIN=a,b
                        named in agent logins (repeatable; default:
                        the request's Host header)
  --org <sc1...>        register an organisation root key (repeatable)    env SEALCHAT_ORG=a,b
  --no-metrics          do not serve /metrics                             env SEALCHAT_METRICS=0
  --help                print this text and exit

Limits (integers; each also as env SEALCHAT_<NAME>, e.g. SEALCHAT_RETENTION_DAYS=30):
${INTEGER_OPTIONS.filter((name) => name !== 'port')
  .map((name) => `${`  --${kebab(name)} <n>`.padEnd(48)} default ${DEFAULT_RELAY_OPTIONS[name]}`)
  .join('\n')}
`;

/**
 * Parses the command line and environment into options. Flags override environment variables.
 * Accepts `--flag value` and `--flag=value`.
 * @throws TypeError naming the flag or variable, for an unknown flag, a missing or a bad value.
 */
export function parseRelayOptions(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>> = {},
): ParsedCommandLine {
  const input: { -readonly [K in keyof RelayOptions]?: RelayOptions[K] } = {};
  const envPort = env['SEALCHAT_PORT'];
  if (envPort !== undefined && envPort !== '') input.port = parsePort(envPort, 'SEALCHAT_PORT');
  const envHost = env['SEALCHAT_HOST'];
  if (envHost !== undefined && envHost !== '') input.host = envHost;
  const envDb = env['SEALCHAT_DB'];
  if (envDb !== undefined && envDb !== '') input.dbPath = envDb;
  const envFanout = env['SEALCHAT_FANOUT'];
  if (envFanout !== undefined && envFanout !== '') input.fanout = envFanout;
  const envDemo = env['SEALCHAT_DEMO'];
  if (envDemo !== undefined && envDemo !== '') {
    if (envDemo !== '1' && envDemo !== '0')
      throw new TypeError(`SEALCHAT_DEMO must be 1 or 0, got ${JSON.stringify(envDemo)}`);
    input.demo = envDemo === '1';
  }
  const envOrigins = env['SEALCHAT_ALLOW_ORIGIN'];
  if (envOrigins !== undefined && envOrigins !== '')
    input.allowedOrigins = splitList(envOrigins, 'SEALCHAT_ALLOW_ORIGIN');
  const envPublic = env['SEALCHAT_PUBLIC_ORIGIN'];
  if (envPublic !== undefined && envPublic !== '') input.publicOrigins = splitList(envPublic, 'SEALCHAT_PUBLIC_ORIGIN');
  const envOrgs = env['SEALCHAT_ORG'];
  if (envOrgs !== undefined && envOrgs !== '') input.orgKeys = splitList(envOrgs, 'SEALCHAT_ORG');

  const envMetrics = env['SEALCHAT_METRICS'];
  if (envMetrics !== undefined && envMetrics !== '') {
    if (envMetrics !== '1' && envMetrics !== '0')
      throw new TypeError(`SEALCHAT_METRICS must be 1 or 0, got ${JSON.stringify(envMetrics)}`);
    input.metrics = envMetrics === '1';
  }
  for (const name of INTEGER_OPTIONS) {
    if (name === 'port') continue;
    const text = env[envName(name)];
    if (text !== undefined && text !== '') input[name] = parseInteger(text, envName(name));
  }

  let help = false;
  const flagOrigins: string[] = [];
  const flagOrgs: string[] = [];
  const flagPublic: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    const eq = arg.indexOf('=');
    const flag = arg.startsWith('--') && eq > 0 ? arg.slice(0, eq) : arg;
    const inline = arg.startsWith('--') && eq > 0 ? arg.slice(eq + 1) : undefined;
    const value = (): string => {
      if (inline !== undefined) return inline;
      const next = argv[i + 1];
      if (next === undefined || next.startsWith('--')) throw new TypeError(`The ${flag} flag needs a value`);
      i++;
      return next;
    };
    switch (flag) {
      case '--help':
      case '-h':
        help = true;
        break;
      case '--demo':
        if (inline !== undefined) throw new TypeError('The --demo flag takes no value');
        input.demo = true;
        break;
      case '--port':
        input.port = parsePort(value(), '--port');
        break;
      case '--host': {
        const host = value();
        if (host === '') throw new TypeError('The --host flag needs a value');
        input.host = host;
        break;
      }
      case '--db': {
        const db = value();
        if (db === '') throw new TypeError('The --db flag needs a value');
        input.dbPath = db;
        break;
      }
      case '--fanout': {
        const fanout = value();
        if (fanout === '') throw new TypeError('The --fanout flag needs a value');
        input.fanout = fanout;
        break;
      }
      case '--allow-origin': {
        const origin = value();
        checkOrigin(origin, 'The --allow-origin flag');
        flagOrigins.push(origin);
        break;
      }
      case '--public-origin': {
        const origin = value();
        checkRelayOrigin(origin, 'The --public-origin flag');
        flagPublic.push(origin);
        break;
      }
      case '--org': {
        const key = value();
        if (!key.startsWith('sc1')) throw new TypeError('The --org flag needs an organisation key starting with "sc1"');
        flagOrgs.push(key);
        break;
      }
      case '--no-metrics':
        input.metrics = false;
        break;
      default: {
        const name = INTEGER_OPTIONS.find((option) => option !== 'port' && `--${kebab(option)}` === flag);
        if (!name) throw new TypeError(`Unknown flag ${JSON.stringify(arg)}; see --help`);
        input[name] = parseInteger(value(), flag);
      }
    }
  }
  if (flagOrigins.length > 0) input.allowedOrigins = flagOrigins;
  if (flagOrgs.length > 0) input.orgKeys = flagOrgs;
  if (flagPublic.length > 0) input.publicOrigins = flagPublic;
  return { help, options: resolveRelayOptions(input) };
}

function parsePort(text: string, name: string): number {
  if (!/^\d{1,5}$/.test(text) || Number(text) > 65535) {
    throw new TypeError(
      `${name.startsWith('--') ? `The ${name} flag` : name} must be an integer from 0 to 65535, got ${JSON.stringify(text)}`,
    );
  }
  return Number(text);
}

function parseInteger(text: string, name: string): number {
  if (!/^\d{1,16}$/.test(text)) {
    throw new TypeError(
      `${name.startsWith('--') ? `The ${name} flag` : name} must be an integer, got ${JSON.stringify(text)}`,
    );
  }
  return Number(text);
}

function splitList(text: string, name: string): string[] {
  const items = text
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
  if (name === 'SEALCHAT_ALLOW_ORIGIN') for (const origin of items) checkOrigin(origin, name);
  if (name === 'SEALCHAT_PUBLIC_ORIGIN') for (const origin of items) checkRelayOrigin(origin, name);
  if (name === 'SEALCHAT_ORG') {
    for (const key of items)
      if (!key.startsWith('sc1')) throw new TypeError(`${name} must list keys starting with "sc1"`);
  }
  return items;
}
