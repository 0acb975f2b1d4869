/**
 * The command line and environment of `faq-bot`, parsed once into typed commands. Flags override
 * environment variables. Everything that comes from outside (flags, variables, the passphrase file,
 * the FAQ file) is checked here, and nothing downstream checks it again.
 */
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { fromHex, parseOrgKey, type PublicDevice } from '@sealchat/protocol';
import { parseDeviceRequest } from './device-request.js';
import { parseFaqTable, type FaqEntry } from './faq.js';

/** A flag, variable or file is missing or bad; the message names it. Exit code 2. */
export class ConfigError extends TypeError {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

interface OrgFileCommand {
  readonly relayUrl: string;
  readonly orgFile: string;
  readonly orgPassphrase: string | undefined;
}

export type BotCommand =
  | { readonly command: 'help' }
  | ({ readonly command: 'org' } & OrgFileCommand)
  | { readonly command: 'id'; readonly keyFile: string; readonly passphrase: string | undefined }
  | ({ readonly command: 'enrol'; readonly device: PublicDevice; readonly name: string } & OrgFileCommand)
  | ({ readonly command: 'remove'; readonly deviceId: Uint8Array<ArrayBuffer> } & OrgFileCommand)
  | {
      readonly command: 'run';
      readonly relayUrl: string;
      readonly orgRootKey: Uint8Array<ArrayBuffer>;
      readonly keyFile: string;
      readonly passphrase: string | undefined;
      readonly faqs: readonly FaqEntry[] | undefined;
      readonly replyDelayMs: number | undefined;
      readonly maxMisses: number | undefined;
    };

export const USAGE = `Usage: faq-bot <command> [options]

  faq-bot id     --key-file <path>                      make the bot's identity; print its device request
  faq-bot enrol  --org-file <path> --relay <url> --device <scd1...> [--name <name>]
                                                        put the bot on the organisation's roster
  faq-bot run    --key-file <path> --relay <url> --org <sc1...>
                                                        answer visitors
  faq-bot remove --org-file <path> --relay <url> --device-id <hex>
                                                        take a device off the roster
  faq-bot org    --org-file <path> --relay <url>        demo: create an organisation in a file, publish it

Options:
  --relay <url>               ws:// or wss:// URL of the relay                  env SEALCHAT_RELAY_URL
  --org <sc1...>              the organisation key, as pinned in the widget     env SEALCHAT_ORG_KEY
  --key-file <path>           the bot's key file                                env SEALCHAT_BOT_KEY_FILE
  --passphrase-file <path>    file holding the key file's passphrase            env SEALCHAT_BOT_PASSPHRASE (the passphrase)
  --org-file <path>           the organisation's key file (supervisor side)     env SEALCHAT_ORG_FILE
  --org-passphrase-file <p>   file holding the org file's passphrase            env SEALCHAT_ORG_PASSPHRASE (the passphrase)
  --device <scd1...>          the device request \`faq-bot id\` printed
  --device-id <hex>           the device id to remove
  --name <name>               the bot's name, shown to visitors (default "FAQ bot")
  --faq-file <path>           JSON array of { id, topic, keywords, answer }     env SEALCHAT_BOT_FAQ_FILE
  --reply-delay-ms <n>        "typing" before each answer (default 700)
  --max-misses <n>            unanswerable questions in a row before handing off (default 2)
  --help                      print this text

Passphrases are never taken as flags: other users of the machine can read command lines.
docs/bots.md explains enrolment, what a bot can read, and the key file.
`;

type Env = Readonly<Record<string, string | undefined>>;

const FLAGS = {
  relay: { type: 'string' },
  org: { type: 'string' },
  'key-file': { type: 'string' },
  'passphrase-file': { type: 'string' },
  'org-file': { type: 'string' },
  'org-passphrase-file': { type: 'string' },
  device: { type: 'string' },
  'device-id': { type: 'string' },
  name: { type: 'string' },
  'faq-file': { type: 'string' },
  'reply-delay-ms': { type: 'string' },
  'max-misses': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

type Flag = keyof typeof FLAGS;
type Command = Exclude<BotCommand['command'], 'help'>;

const ACCEPTS: Record<Command, readonly Flag[]> = {
  id: ['key-file', 'passphrase-file'],
  enrol: ['org-file', 'org-passphrase-file', 'relay', 'device', 'name'],
  run: ['key-file', 'passphrase-file', 'relay', 'org', 'faq-file', 'reply-delay-ms', 'max-misses'],
  remove: ['org-file', 'org-passphrase-file', 'relay', 'device-id'],
  org: ['org-file', 'org-passphrase-file', 'relay'],
};

/**
 * Parses `argv` (without node and the script) and `env` into a command, reading the passphrase and
 * FAQ files it names.
 * @throws ConfigError naming the flag, variable or file, for anything missing, unknown or bad.
 */
export async function parseCommandLine(argv: readonly string[], env: Env): Promise<BotCommand> {
  const secret = argv.find((arg) => /^--(org-)?passphrase(=|$)/.test(arg));
  if (secret !== undefined) {
    throw new ConfigError(
      `${secret.split('=')[0]!} is not accepted: command lines are visible to other users. ` +
        'Use SEALCHAT_BOT_PASSPHRASE / SEALCHAT_ORG_PASSPHRASE or --passphrase-file / --org-passphrase-file',
    );
  }
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], options: FLAGS, allowPositionals: true, strict: true });
  } catch (error) {
    throw new ConfigError(error instanceof Error ? error.message.split('. ')[0]! : String(error));
  }
  const { values, positionals } = parsed;
  if (values.help || positionals.length === 0) return { command: 'help' };
  const [name, ...extra] = positionals;
  if (!isCommand(name)) throw new ConfigError(`Unknown command "${name}"; expected id, enrol, run, remove or org`);
  if (extra.length > 0) throw new ConfigError(`Unexpected argument "${extra[0]!}"`);
  for (const flag of Object.keys(values) as Flag[]) {
    if (flag !== 'help' && !ACCEPTS[name].includes(flag))
      throw new ConfigError(`--${flag} is not an option of ${name}`);
  }

  const flagOrEnv = (flag: Flag, variable: string | undefined): string | undefined => {
    const value = values[flag];
    if (typeof value === 'string') {
      if (value.trim() === '') throw new ConfigError(`--${flag} needs a value`);
      return value;
    }
    const fromEnv = variable === undefined ? undefined : env[variable];
    return fromEnv === undefined || fromEnv === '' ? undefined : fromEnv;
  };
  const required = (flag: Flag, variable?: string): string => {
    const value = flagOrEnv(flag, variable);
    if (value === undefined) throw new ConfigError(`Missing --${flag}${variable ? ` (or ${variable})` : ''}`);
    return value;
  };
  const passphrase = (flag: Flag, variable: string): Promise<string | undefined> =>
    typeof values[flag] === 'string'
      ? readSecret(required(flag), `--${flag}`)
      : Promise.resolve(env[variable] || undefined);
  const integer = (flag: Flag, min: number, max: number): number | undefined => {
    const text = flagOrEnv(flag, undefined);
    if (text === undefined) return undefined;
    const n = Number(text);
    if (!/^\d+$/.test(text) || n < min || n > max) {
      throw new ConfigError(`--${flag} must be an integer from ${min} to ${max}, got ${JSON.stringify(text)}`);
    }
    return n;
  };

  switch (name) {
    case 'id':
      return {
        command: 'id',
        keyFile: required('key-file', 'SEALCHAT_BOT_KEY_FILE'),
        passphrase: await passphrase('passphrase-file', 'SEALCHAT_BOT_PASSPHRASE'),
      };
    case 'run': {
      const faqFile = flagOrEnv('faq-file', 'SEALCHAT_BOT_FAQ_FILE');
      return {
        command: 'run',
        relayUrl: relayUrl(required('relay', 'SEALCHAT_RELAY_URL')),
        orgRootKey: await orgKey(required('org', 'SEALCHAT_ORG_KEY')),
        keyFile: required('key-file', 'SEALCHAT_BOT_KEY_FILE'),
        passphrase: await passphrase('passphrase-file', 'SEALCHAT_BOT_PASSPHRASE'),
        faqs: faqFile === undefined ? undefined : await readFaqs(faqFile),
        replyDelayMs: integer('reply-delay-ms', 0, 60_000),
        maxMisses: integer('max-misses', 1, 100),
      };
    }
    default: {
      const orgFile = {
        relayUrl: relayUrl(required('relay', 'SEALCHAT_RELAY_URL')),
        orgFile: required('org-file', 'SEALCHAT_ORG_FILE'),
        orgPassphrase: await passphrase('org-passphrase-file', 'SEALCHAT_ORG_PASSPHRASE'),
      };
      if (name === 'org') return { command: 'org', ...orgFile };
      if (name === 'remove') return { command: 'remove', ...orgFile, deviceId: deviceId(required('device-id')) };
      const displayName = flagOrEnv('name', undefined) ?? 'FAQ bot';
      if (displayName.length > 64) throw new ConfigError('--name must be at most 64 characters');
      return { command: 'enrol', ...orgFile, device: await deviceRequest(required('device')), name: displayName };
    }
  }
}

function isCommand(name: string | undefined): name is Command {
  return name !== undefined && Object.hasOwn(ACCEPTS, name);
}

function relayUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new ConfigError(
      `The relay URL ${JSON.stringify(text)} does not parse; expected ws://host:port or wss://host`,
    );
  }
  if (url.protocol !== 'ws:' && url.protocol !== 'wss:') {
    throw new ConfigError(`The relay URL must start with ws:// or wss://, got ${url.protocol}//`);
  }
  return text;
}

async function orgKey(text: string): Promise<Uint8Array<ArrayBuffer>> {
  try {
    return await parseOrgKey(text);
  } catch (error) {
    throw new ConfigError(`--org: ${error instanceof Error ? error.message : String(error)}`);
  }
}

async function deviceRequest(text: string): Promise<PublicDevice> {
  try {
    return await parseDeviceRequest(text);
  } catch (error) {
    throw new ConfigError(`--device: ${error instanceof Error ? error.message : String(error)}`);
  }
}

function deviceId(text: string): Uint8Array<ArrayBuffer> {
  const hex = text.replace(/\s+/g, '').toLowerCase();
  if (!/^[0-9a-f]{32}$/.test(hex)) throw new ConfigError('--device-id must be 32 hex digits (spaces allowed)');
  return fromHex(hex);
}

/** The first line of the file: a trailing newline is not part of a passphrase. */
async function readSecret(path: string, flag: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`${flag}: cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  const secret = text.replace(/\r?\n$/, '');
  if (secret === '' || secret.includes('\n')) throw new ConfigError(`${flag}: ${path} must hold one non-empty line`);
  return secret;
}

async function readFaqs(path: string): Promise<FaqEntry[]> {
  let value: unknown;
  try {
    value = JSON.parse(await readFile(path, 'utf8'));
  } catch (error) {
    const reason =
      error instanceof SyntaxError
        ? 'is not JSON'
        : `cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'})`;
    throw new ConfigError(`The FAQ file ${path} ${reason}`);
  }
  try {
    return parseFaqTable(value);
  } catch (error) {
    throw new ConfigError(`The FAQ file ${path}: ${error instanceof Error ? error.message : String(error)}`);
  }
}
