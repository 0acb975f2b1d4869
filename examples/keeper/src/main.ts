#!/usr/bin/env node
/**
 * `keeper`: keeps an organisation's roster head fresh (README.md). Exit codes: 0 after a clean stop or
 * a finished command, 1 when a command fails, 2 for a bad flag.
 *
 *   keeper id    --key-file FILE                              prints the device request to enrol
 *   keeper enrol --org-file FILE --relay URL --device scd1... [--name NAME]   (the supervisor's side)
 *   keeper run   --key-file FILE --relay URL --org sc1...  [--every-hours N]
 */
import { enrolDevice, loadOrCreateOrganisation, publishRoster, type WebSocketConstructor } from '@sealchat/client';
import { FileClientStore } from '@sealchat/client/node';
import {
  concatBytes,
  deviceIdFromSigningKey,
  fromBase64Url,
  loadOrCreateIdentity,
  parseOrgKey,
  PUBLIC_KEY_LENGTH,
  toBase64Url,
  toHex,
} from '@sealchat/protocol';
import { WebSocket } from 'ws';
import { startKeeper } from './keeper.js';

const WS = WebSocket as unknown as WebSocketConstructor;
const out = (text: string): boolean => process.stdout.write(`${text}\n`);
const PREFIX = 'scd1';

class UsageError extends Error {}

/** `--name value` pairs after the command; every flag must be known and given a value. */
function flags(args: readonly string[], known: readonly string[]): Map<string, string> {
  const map = new Map<string, string>();
  for (let i = 0; i < args.length; i += 2) {
    const name = args[i]!.replace(/^--/, '');
    const value = args[i + 1];
    if (!args[i]!.startsWith('--') || !known.includes(name) || value === undefined)
      throw new UsageError(`Unknown or incomplete flag ${JSON.stringify(args[i])}`);
    map.set(name, value);
  }
  return map;
}

function need(map: Map<string, string>, name: string): string {
  const value = map.get(name);
  if (value === undefined) throw new UsageError(`--${name} is required`);
  return value;
}

async function main(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === 'id') {
    const store = await FileClientStore.open(need(flags(rest, ['key-file']), 'key-file'));
    const identity = await loadOrCreateIdentity(store, 'keeper');
    out(`device request: ${PREFIX}${toBase64Url(concatBytes(identity.signingPublic, identity.agreementPublic))}`);
    out(`device id:      ${toHex(identity.deviceId)}`);
    return 0;
  }
  if (command === 'enrol') {
    const f = flags(rest, ['org-file', 'relay', 'device', 'name']);
    const request = need(f, 'device');
    const body = request.startsWith(PREFIX) ? fromBase64Url(request.slice(PREFIX.length)) : new Uint8Array();
    if (body.length !== 2 * PUBLIC_KEY_LENGTH) throw new UsageError(`--device takes what \`keeper id\` printed`);
    const signingPublic = body.slice(0, PUBLIC_KEY_LENGTH);
    const device = {
      deviceId: await deviceIdFromSigningKey(signingPublic),
      signingPublic,
      agreementPublic: body.slice(PUBLIC_KEY_LENGTH),
    };
    const store = await FileClientStore.open(need(f, 'org-file'));
    // Not renewed on load: the bootstrap would re-issue the roster with its own devices only.
    const org = await loadOrCreateOrganisation(store, { renewBeforeMs: 0 });
    const issued = await enrolDevice(store, org, device, 'supervisor', f.get('name') ?? 'Keeper', { administer: true });
    await publishRoster(need(f, 'relay'), issued, { WebSocket: WS });
    out(`enrolled keeper ${toHex(device.deviceId)}: roster version ${issued.version} published`);
    return 0;
  }
  if (command === 'run') {
    const f = flags(rest, ['key-file', 'relay', 'org', 'every-hours']);
    const hours = Number(f.get('every-hours') ?? '6');
    if (!Number.isInteger(hours) || hours < 1 || hours > 72) throw new UsageError('--every-hours takes 1 to 72');
    const store = await FileClientStore.open(need(f, 'key-file'));
    const keeper = startKeeper({
      relayUrl: need(f, 'relay'),
      orgRootKey: await parseOrgKey(need(f, 'org')),
      identity: await loadOrCreateIdentity(store, 'keeper'),
      store,
      WebSocket: WS,
      intervalMs: hours * 3_600_000,
      log: (entry) => out(JSON.stringify({ time: new Date().toISOString(), ...entry })),
    });
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    keeper.close();
    return 0;
  }
  throw new UsageError('Commands: id, enrol, run (see README.md)');
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`keeper: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(error instanceof UsageError ? 2 : 1);
  },
);
