import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { loadOrCreateOrganisation, OrgAdministration } from '@sealchat/client';
import { FileClientStore } from '@sealchat/client/node';
import { toHex } from '@sealchat/protocol';
import { beforeAll, describe, expect, it } from 'vitest';
import { startTestRelay, useClosers, WS } from './support.js';

/**
 * The bot tool as a supervisor runs it (examples/faq-bot, built with `tsc -b`): `org`, `id`,
 * `enrol` and `remove` against a real relay. Enrolling and removing a bot are team actions, so each
 * lands in the organisation's audit log, signed by the supervisor device in the org file.
 */
const closers = useClosers();
const run = promisify(execFile);
const cli = resolve('examples/faq-bot/dist/main.js');
const faqBot = (...args: string[]) => run(process.execPath, [cli, ...args], { timeout: 30_000 });

beforeAll(async () => {
  await run(process.execPath, [resolve('node_modules/typescript/bin/tsc'), '-b', 'examples/faq-bot']);
}, 120_000);

describe('faq-bot enrol and remove', { timeout: 60_000 }, () => {
  it('enrols and removes a bot, and both are in the audit log', async () => {
    const running = await startTestRelay(closers);
    const dir = mkdtempSync(join(tmpdir(), 'sealchat-faq-bot-'));
    const orgFile = join(dir, 'org.json');
    const botFile = join(dir, 'bot.json');
    await faqBot('org', '--org-file', orgFile, '--relay', running.url);
    const id = await faqBot('id', '--key-file', botFile);
    const request = /device request: (scd1\S+)/.exec(id.stdout)![1]!;
    const deviceId = /device id:\s+([0-9a-f ]+)/i.exec(id.stdout)![1]!.replaceAll(' ', '');

    const enrolled = await faqBot('enrol', '--org-file', orgFile, '--relay', running.url, '--device', request);
    expect(enrolled.stdout).toMatch(/enrolled device .*: roster version 2 published/);
    await faqBot('remove', '--org-file', orgFile, '--relay', running.url, '--device-id', deviceId);

    // The supervisor reads the log back with the archive key from the same org file.
    const store = await FileClientStore.open(orgFile);
    const org = await loadOrCreateOrganisation(store, { renewBeforeMs: 0 });
    const administration = await OrgAdministration.connect({
      relayUrl: running.url,
      organisation: org,
      store,
      WebSocket: WS,
    });
    closers.push(() => administration.close());
    const entries = await administration.readAuditLog();
    expect(entries.map((e) => e.event.action)).toEqual(['bot-enrolled', 'bot-removed']);
    for (const entry of entries) {
      expect(toHex((entry.event as { deviceId: Uint8Array }).deviceId)).toBe(deviceId.toLowerCase());
      expect((entry.event as { name: string }).name).toBe('FAQ bot');
    }
  });
});
