#!/usr/bin/env node
/**
 * `faq-bot`: a Sealchat agent device that answers a few FAQs and hands off to people. Exit codes: 0
 * after a clean stop or a finished command, 1 when a command fails or the relay refuses the bot,
 * 2 for a bad flag, variable or file. `faq-bot --help` lists the commands; docs/bots.md explains them.
 */
import { access } from 'node:fs/promises';
import {
  currentRoster,
  loadOrCreateOrganisation,
  OrgAdministration,
  publishRoster,
  type ClientStore,
  type Organisation,
  type WebSocketConstructor,
} from '@sealchat/client';
import { FileClientStore } from '@sealchat/client/node';
import { bytesEqual, formatOrgKey, SealchatError } from '@sealchat/protocol';
import { WebSocket } from 'ws';
import { ConfigError, parseCommandLine, USAGE, type BotCommand } from './config.js';
import { createBotIdentity, formatDeviceId, formatDeviceRequest } from './device-request.js';
import { enrolAgentDevice, removeAgentDevice } from './enrolment.js';
import { startFaqBot, type BotLogEntry } from './faq-bot.js';

// Node 20 has no global WebSocket; `ws` is what the relay itself uses.
const WS = WebSocket as unknown as WebSocketConstructor;
const out = (text: string): boolean => process.stdout.write(`${text}\n`);

/** One JSON line per event on stdout, with the time; entries carry no message text and no key. */
function logLine(entry: BotLogEntry): void {
  out(JSON.stringify({ time: new Date().toISOString(), ...entry }));
}

async function openExisting(path: string, passphrase: string | undefined, what: string): Promise<FileClientStore> {
  try {
    await access(path);
  } catch {
    throw new ConfigError(`${what} ${path} does not exist`);
  }
  return FileClientStore.open(path, passphrase === undefined ? {} : { passphrase });
}

/**
 * The supervisor's organisation, from its key file. Its roster is not renewed on load: the
 * bootstrap would re-issue it with its one agent device only, dropping every enrolled bot.
 */
function loadOrg(store: ClientStore) {
  return loadOrCreateOrganisation(store, { renewBeforeMs: 0 });
}

/** Records a bot's enrolment or removal in the organisation's audit log, signed by its supervisor device. */
async function audit(
  relayUrl: string,
  store: ClientStore,
  organisation: Organisation,
  event: Parameters<OrgAdministration['record']>[0],
): Promise<void> {
  const administration = await OrgAdministration.connect({ relayUrl, organisation, store, WebSocket: WS });
  try {
    await administration.record(event);
  } finally {
    administration.close();
  }
}

async function run(command: Exclude<BotCommand, { command: 'help' }>): Promise<number> {
  switch (command.command) {
    case 'id': {
      const store = await FileClientStore.open(
        command.keyFile,
        command.passphrase === undefined ? {} : { passphrase: command.passphrase },
      );
      const identity = await createBotIdentity(store);
      // Public keys only: this is what the supervisor needs, and what they compare.
      out(`device request: ${formatDeviceRequest(identity)}`);
      out(`device id:      ${formatDeviceId(identity.deviceId)}`);
      return 0;
    }
    case 'org': {
      const store = await FileClientStore.open(
        command.orgFile,
        command.orgPassphrase === undefined ? {} : { passphrase: command.orgPassphrase },
      );
      const org = await loadOrCreateOrganisation(store);
      await publishRoster(command.relayUrl, org, { WebSocket: WS });
      out(`organisation key: ${org.orgKey}`);
      out(`roster version:   ${org.rosterVersion}`);
      return 0;
    }
    case 'enrol':
    case 'remove': {
      const store = await openExisting(command.orgFile, command.orgPassphrase, 'The organisation file');
      const org = await loadOrg(store);
      const deviceId = command.command === 'enrol' ? command.device.deviceId : command.deviceId;
      const name =
        command.command === 'enrol'
          ? command.name
          : ((await currentRoster(store, org)).devices.find((d) => bytesEqual(d.deviceId, deviceId))?.displayName ??
            'bot');
      const issued =
        command.command === 'enrol'
          ? await enrolAgentDevice(store, org, command.device, { displayName: command.name })
          : await removeAgentDevice(store, org, command.deviceId);
      await publishRoster(command.relayUrl, issued, { WebSocket: WS });
      await audit(command.relayUrl, store, org, {
        action: command.command === 'enrol' ? 'bot-enrolled' : 'bot-removed',
        deviceId,
        name,
      });
      const id = formatDeviceId(deviceId);
      out(
        `${command.command === 'enrol' ? 'enrolled' : 'removed'} device ${id}: roster version ${issued.version} published`,
      );
      if (command.command === 'enrol') out(`organisation key: ${await formatOrgKey(org.rootPublic)}`);
      return 0;
    }
    case 'run': {
      const store = await openExisting(command.keyFile, command.passphrase, 'The key file');
      const bot = await startFaqBot({
        relayUrl: command.relayUrl,
        orgRootKey: command.orgRootKey,
        store,
        WebSocket: WS,
        log: logLine,
        ...(command.faqs ? { faqs: command.faqs } : {}),
        ...(command.replyDelayMs !== undefined ? { replyDelayMs: command.replyDelayMs } : {}),
        ...(command.maxMisses !== undefined ? { maxMisses: command.maxMisses } : {}),
      });
      const stop = (): void => void bot.close();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      const reason = await bot.stopped;
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      return reason === 'refused' ? 1 : 0;
    }
  }
}

async function main(): Promise<number> {
  let command: BotCommand;
  try {
    command = await parseCommandLine(process.argv.slice(2), process.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`faq-bot: ${error.message}\nfaq-bot --help lists the commands and options.\n`);
    return 2;
  }
  if (command.command === 'help') {
    process.stdout.write(USAGE);
    return 0;
  }
  try {
    return await run(command);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`faq-bot: ${error.message}\n`);
      return 2;
    }
    if (error instanceof SealchatError && error.code === 'SEALCHAT_E_UNAUTHORIZED') {
      process.stderr.write(
        'faq-bot: the relay refused this device: it is not on the organisation roster, or its certificate expired.\n' +
          'Enrol it: faq-bot enrol --device <the request `faq-bot id` prints> (docs/bots.md).\n',
      );
      return 1;
    }
    // Error messages name files, flags and codes; none carries a message text or a key.
    const code = error instanceof SealchatError ? ` [${error.code}]` : '';
    process.stderr.write(`faq-bot: ${error instanceof Error ? error.message : String(error)}${code}\n`);
    return 1;
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`faq-bot: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  },
);
