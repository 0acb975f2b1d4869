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
  /** SQLite database file. Its directory is created if missing. */
  readonly dbPath: string;
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
  demo: false,
  allowedOrigins: Object.freeze([]),
  orgKeys: Object.freeze([]),
  maxFrameBytes: 64 * 1024,
  maxConnections: 10_000,
  maxConversationsPerSocket: 64,
  maxOpensPerSocket: 16,
  maxPendingPostsPerSocket: 1024,
  maxConversationList: 1000,
  maxBufferedBytes: 4 * 1024 * 1024,
  maxDemoReplayRows: 1000,
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
  | 'maxDemoReplayRows';

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
};

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
  if (typeof options.demo !== 'boolean') throw new TypeError('The demo option must be a boolean');
  if (!isList(options.allowedOrigins)) throw new TypeError('The allowedOrigins option must be an array of origins');
  for (const origin of options.allowedOrigins) checkOrigin(origin, 'The allowedOrigins option');
  if (!isList(options.orgKeys)) throw new TypeError('The orgKeys option must be an array of sc1... keys');
  for (const key of options.orgKeys) {
    if (typeof key !== 'string' || !key.startsWith('sc1'))
      throw new TypeError('The orgKeys option must list keys starting with "sc1"');
  }
  return Object.freeze({
    ...options,
    allowedOrigins: Object.freeze([...options.allowedOrigins]),
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

/** The text `sealchat-relay --help` prints. */
export const RELAY_USAGE = `Usage: sealchat-relay [options]

Stores and forwards Sealchat ciphertext. It never holds a key that can read a message.

Options:
  --port <n>            TCP port, 0 for any free port (default 8787)      env SEALCHAT_PORT
  --host <address>      interface to listen on (default 127.0.0.1)        env SEALCHAT_HOST
  --db <path>           SQLite database file (default data/relay.db)      env SEALCHAT_DB
  --demo                demo mode: open org registration and /demo/*      env SEALCHAT_DEMO=1
  --allow-origin <o>    browser origin allowed to connect (repeatable)    env SEALCHAT_ALLOW_ORIGIN=a,b
  --org <sc1...>        register an organisation root key (repeatable)    env SEALCHAT_ORG=a,b
  --help                print this text and exit
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
  const envDemo = env['SEALCHAT_DEMO'];
  if (envDemo !== undefined && envDemo !== '') {
    if (envDemo !== '1' && envDemo !== '0')
      throw new TypeError(`SEALCHAT_DEMO must be 1 or 0, got ${JSON.stringify(envDemo)}`);
    input.demo = envDemo === '1';
  }
  const envOrigins = env['SEALCHAT_ALLOW_ORIGIN'];
  if (envOrigins !== undefined && envOrigins !== '')
    input.allowedOrigins = splitList(envOrigins, 'SEALCHAT_ALLOW_ORIGIN');
  const envOrgs = env['SEALCHAT_ORG'];
  if (envOrgs !== undefined && envOrgs !== '') input.orgKeys = splitList(envOrgs, 'SEALCHAT_ORG');

  let help = false;
  const flagOrigins: string[] = [];
  const flagOrgs: string[] = [];
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
      case '--allow-origin': {
        const origin = value();
        checkOrigin(origin, 'The --allow-origin flag');
        flagOrigins.push(origin);
        break;
      }
      case '--org': {
        const key = value();
        if (!key.startsWith('sc1')) throw new TypeError('The --org flag needs an organisation key starting with "sc1"');
        flagOrgs.push(key);
        break;
      }
      default:
        throw new TypeError(`Unknown flag ${JSON.stringify(arg)}; see --help`);
    }
  }
  if (flagOrigins.length > 0) input.allowedOrigins = flagOrigins;
  if (flagOrgs.length > 0) input.orgKeys = flagOrgs;
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

function splitList(text: string, name: string): string[] {
  const items = text
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
  if (name === 'SEALCHAT_ALLOW_ORIGIN') for (const origin of items) checkOrigin(origin, name);
  if (name === 'SEALCHAT_ORG') {
    for (const key of items)
      if (!key.startsWith('sc1')) throw new TypeError(`${name} must list keys starting with "sc1"`);
  }
  return items;
}
