import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateDeviceIdentity } from '@sealchat/protocol';
import { describe, expect, it } from 'vitest';
import { loadTranscriptMark, MemoryClientStore, saveTranscriptMark, type ClientStore } from './client-store.js';
import { StoredStateError } from './errors.js';
import { FileClientStore } from './file-client-store.js';

const id = 'ab'.repeat(16);
const head = (senderSeq: number, byte: string) => ({ senderSeq, digest: byte.repeat(32) });

describe('transcript mark in a client store', () => {
  const stores: [string, () => Promise<ClientStore>][] = [
    ['memory', () => Promise.resolve(new MemoryClientStore())],
    ['file (JSON values only)', () => FileClientStore.open(join(mkdtempSync(join(tmpdir(), 'sealchat-')), 'store'))],
  ];
  for (const [name, open] of stores) {
    it(`round-trips in a ${name} store, with or without its optional parts`, async () => {
      const store = await open();
      expect(await loadTranscriptMark(store, id)).toEqual({ own: undefined, seen: new Map(), visitor: undefined });
      await saveTranscriptMark(store, id, { own: undefined, seen: new Map() });
      expect(await loadTranscriptMark(store, id)).toEqual({ own: undefined, seen: new Map(), visitor: undefined });
      const device = await generateDeviceIdentity();
      const visitor = {
        deviceId: device.deviceId,
        signingPublic: device.signingPublic,
        agreementPublic: device.agreementPublic,
      };
      const mark = { own: head(7, 'aa'), seen: new Map([['cd'.repeat(16), head(2 ** 32 - 1, 'ef')]]), visitor };
      await saveTranscriptMark(store, id, mark);
      expect(await loadTranscriptMark(store, id)).toEqual(mark);
    });
  }

  it('refuses a malformed record with StoredStateError', async () => {
    const store = new MemoryClientStore();
    for (const bad of [
      'x',
      { seen: 'x' },
      { seen: [['not hex', 1, 'aa'.repeat(32)]] },
      { seen: [], own: [-1, 'aa'.repeat(32)] },
      { seen: [], own: [2 ** 32, 'aa'.repeat(32)] },
      { seen: [], own: [1, 'short'] },
      { seen: [], visitor: 'ab' },
    ]) {
      await store.putRecord(`transcript/${id}`, bad);
      await expect(loadTranscriptMark(store, id)).rejects.toThrow(StoredStateError);
    }
  });
});
