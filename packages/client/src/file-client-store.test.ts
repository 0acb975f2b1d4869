import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  exportPublicKey,
  generateAgreementKeyPair,
  loadOrCreateIdentity,
  sign,
  toBase64Url,
  verify,
  x25519,
} from '@sealchat/protocol';
import { PassphraseError } from './errors.js';
import { FileClientStore } from './file-client-store.js';
import { loadConversationPointer, saveConversationPointer } from './client-store.js';
import { StoredStateError } from './errors.js';

// Each encrypted open runs 600,000 PBKDF2 iterations on purpose.
const SLOW = 30_000;

let directory: string;
let path: string;

beforeEach(async () => {
  directory = await mkdtemp(join(tmpdir(), 'sealchat-file-store-'));
  path = join(directory, 'bot.json');
});

afterEach(async () => {
  await rm(directory, { recursive: true, force: true });
});

describe('FileClientStore', () => {
  it('keeps key pairs and records across instances; keys come back non-extractable and working', async () => {
    const first = await FileClientStore.open(path);
    const pair = await first.generateKeyPair('bot/agreement', 'X25519');
    expect(pair.privateKey.extractable).toBe(false);
    await first.putRecord('settings', { name: 'helper', limits: [1, 2, 3], on: true, nothing: null });
    const orgId = new Uint8Array(16).fill(7);
    const pointer = { conversationId: new Uint8Array(16).fill(1), capability: new Uint8Array(32).fill(2) };
    await saveConversationPointer(first, orgId, pointer);

    const second = await FileClientStore.open(path);
    const loaded = await second.getKeyPair('bot/agreement');
    expect(loaded!.privateKey.extractable).toBe(false);
    await expect(crypto.subtle.exportKey('pkcs8', loaded!.privateKey)).rejects.toThrow();
    const peer = await generateAgreementKeyPair();
    const peerPublic = await exportPublicKey(peer.publicKey);
    expect(await x25519(loaded!.privateKey, peerPublic)).toEqual(await x25519(pair.privateKey, peerPublic));
    expect(await second.getRecord('settings')).toEqual({
      name: 'helper',
      limits: [1, 2, 3],
      on: true,
      nothing: null,
    });
    expect(await loadConversationPointer(second, orgId)).toEqual(pointer);

    await second.deleteKeyPair('bot/agreement');
    await second.deleteRecord('settings');
    const third = await FileClientStore.open(path);
    expect(await third.getKeyPair('bot/agreement')).toBeUndefined();
    expect(await third.getRecord('settings')).toBeUndefined();
  });

  it('keeps a bot identity made with loadOrCreateIdentity across a restart', async () => {
    const created = await loadOrCreateIdentity(await FileClientStore.open(path), 'bot');
    const restored = await loadOrCreateIdentity(await FileClientStore.open(path), 'bot');
    expect(restored.deviceId).toEqual(created.deviceId);
    expect(restored.agreementPublic).toEqual(created.agreementPublic);
    expect(restored.signing.privateKey.extractable).toBe(false);
    expect(restored.agreement.privateKey.extractable).toBe(false);
    const data = new TextEncoder().encode('still me');
    await expect(
      verify(created.signingPublic, 'test', data, await sign(restored.signing.privateKey, 'test', data)),
    ).resolves.toBeUndefined();
  });

  it.skipIf(process.platform === 'win32')('writes the file with mode 0600 and leaves no temporary files', async () => {
    const store = await FileClientStore.open(path);
    await store.generateKeyPair('k', 'Ed25519');
    await store.putRecord('r', 'v');
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect(await readdir(directory)).toEqual(['bot.json']);
  });

  it.skipIf(process.platform === 'win32')('tightens a file whose permissions were loosened', async () => {
    await FileClientStore.open(path);
    const { chmod } = await import('node:fs/promises');
    await chmod(path, 0o644);
    await FileClientStore.open(path);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
  });

  it('refuses a record that is not a JSON value, at once', async () => {
    const store = await FileClientStore.open(path);
    expect(() => store.putRecord('bytes', new Uint8Array(4))).toThrow(TypeError);
    expect(() => store.putRecord('nan', { n: Number.NaN })).toThrow(TypeError);
    expect(() => store.putRecord('undefined', undefined)).toThrow(TypeError);
  });

  it('rejects bad options with TypeError', async () => {
    await expect(FileClientStore.open(path, { passphrase: '' })).rejects.toThrow(TypeError);
    await expect(FileClientStore.open(path, { passphrase: 'p', iterations: 100_000 })).rejects.toThrow(
      new TypeError('iterations must be an integer from 600000 to 10000000, got 100000'),
    );
  });

  it('gives StoredStateError for a corrupt file, never a half-read store', async () => {
    await writeFile(path, '{"format":"sealchat-client-store","version":1,"contents":{"keys":', { mode: 0o600 });
    await expect(FileClientStore.open(path)).rejects.toBeInstanceOf(StoredStateError);
    await writeFile(path, JSON.stringify({ hello: 'world' }));
    await expect(FileClientStore.open(path)).rejects.toBeInstanceOf(StoredStateError);
    await writeFile(path, JSON.stringify({ format: 'sealchat-client-store', version: 2, contents: {} }));
    await expect(FileClientStore.open(path)).rejects.toBeInstanceOf(StoredStateError);
  });

  it('gives StoredStateError for a key pair whose bytes were damaged or whose halves do not match', async () => {
    const store = await FileClientStore.open(path);
    await store.generateKeyPair('a', 'Ed25519');
    await store.generateKeyPair('b', 'Ed25519');
    const document = JSON.parse(await readFile(path, 'utf8'));
    document.contents.keys.a.privateKey = toBase64Url(new Uint8Array(48).fill(9));
    document.contents.keys.b.publicKey = toBase64Url(
      await exportPublicKey((await store.generateKeyPair('c', 'Ed25519')).publicKey),
    );
    await writeFile(path, JSON.stringify(document));
    const reopened = await FileClientStore.open(path);
    await expect(reopened.getKeyPair('a')).rejects.toBeInstanceOf(StoredStateError);
    await expect(reopened.getKeyPair('b')).rejects.toBeInstanceOf(StoredStateError);
    document.contents.keys.a = { algorithm: 'RSA', privateKey: 'x', publicKey: 'y' };
    await writeFile(path, JSON.stringify(document));
    await expect(FileClientStore.open(path)).rejects.toBeInstanceOf(StoredStateError);
  });
});

describe('FileClientStore with a passphrase', () => {
  it(
    'round-trips encrypted, with no key or record in the clear on disk',
    async () => {
      const first = await FileClientStore.open(path, { passphrase: 'correct horse' });
      const created = await loadOrCreateIdentity(first, 'bot');
      await first.putRecord('secret-record', 'visible-if-not-encrypted');
      const text = await readFile(path, 'utf8');
      expect(text).not.toContain('visible-if-not-encrypted');
      expect(text).not.toContain('bot/signing');
      expect(text).not.toContain(toBase64Url(created.signingPublic));
      const header = JSON.parse(text).encryption;
      expect(header).toMatchObject({ kdf: 'PBKDF2-SHA-256', iterations: 600_000, cipher: 'AES-256-GCM' });

      const second = await FileClientStore.open(path, { passphrase: 'correct horse' });
      expect((await loadOrCreateIdentity(second, 'bot')).deviceId).toEqual(created.deviceId);
      expect(await second.getRecord('secret-record')).toBe('visible-if-not-encrypted');
    },
    SLOW,
  );

  it(
    'gives PassphraseError for a wrong or missing passphrase, and for a passphrase on a plain file',
    async () => {
      await FileClientStore.open(path, { passphrase: 'correct horse' });
      await expect(FileClientStore.open(path, { passphrase: 'battery staple' })).rejects.toBeInstanceOf(
        PassphraseError,
      );
      await expect(FileClientStore.open(path)).rejects.toBeInstanceOf(PassphraseError);

      const plain = join(directory, 'plain.json');
      await FileClientStore.open(plain);
      // A plain file where an encrypted one is expected may have been swapped in: refuse it.
      await expect(FileClientStore.open(plain, { passphrase: 'correct horse' })).rejects.toMatchObject({
        name: 'PassphraseError',
        code: 'SEALCHAT_E_PASSPHRASE',
      });
    },
    SLOW,
  );

  it(
    'gives StoredStateError, not PassphraseError, when the ciphertext is damaged',
    async () => {
      const store = await FileClientStore.open(path, { passphrase: 'correct horse' });
      await store.putRecord('r', 1);
      const document = JSON.parse(await readFile(path, 'utf8'));
      const ciphertext: string = document.ciphertext;
      document.ciphertext = (ciphertext.startsWith('A') ? 'B' : 'A') + ciphertext.slice(1);
      await writeFile(path, JSON.stringify(document));
      await expect(FileClientStore.open(path, { passphrase: 'correct horse' })).rejects.toBeInstanceOf(
        StoredStateError,
      );
      // The open instance notices too, on its next read.
      await expect(store.getRecord('r')).rejects.toBeInstanceOf(StoredStateError);
    },
    SLOW,
  );
});
