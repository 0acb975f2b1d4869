import { describe, expect, it, vi } from 'vitest';
import { openDB } from 'idb';
import {
  generateAgreementKeyPair,
  generateSigningKeyPair,
  loadOrCreateIdentity,
  sign,
  verify,
  x25519,
  exportPublicKey,
  type DeviceIdentity,
} from '@sealchat/protocol';
import { IdbClientStore } from './idb-client-store.js';
import { loadConversationPointer } from './client-store.js';
import { StoredStateError } from './errors.js';

const freshName = (): string => `sealchat-test-${crypto.randomUUID()}`;

/** Reads a record the way an attacker with the profile directory would: straight out of the database. */
async function rawGet(dbName: string, store: 'keys' | 'meta', key: string): Promise<unknown> {
  const db = await openDB(dbName);
  try {
    return await db.get(store, key);
  } finally {
    db.close();
  }
}

async function rawPut(dbName: string, store: 'keys' | 'meta', key: string, value: unknown): Promise<void> {
  const db = await openDB(dbName);
  try {
    await db.put(store, value, key);
  } finally {
    db.close();
  }
}

async function expectUsable(restored: DeviceIdentity, created: DeviceIdentity): Promise<void> {
  expect(restored.deviceId).toEqual(created.deviceId);
  for (const key of [restored.signing.privateKey, restored.agreement.privateKey]) {
    expect(key.extractable).toBe(false);
    await expect(crypto.subtle.exportKey('pkcs8', key)).rejects.toThrow();
  }
  const data = new TextEncoder().encode('hello');
  const signature = await sign(restored.signing.privateKey, 'test', data);
  await expect(verify(created.signingPublic, 'test', data, signature)).resolves.toBeUndefined();
  const peer = await generateAgreementKeyPair();
  const peerPublic = await exportPublicKey(peer.publicKey);
  expect(await x25519(restored.agreement.privateKey, peerPublic)).toEqual(
    await x25519(created.agreement.privateKey, peerPublic),
  );
}

describe('IdbClientStore (real IndexedDB in Chromium)', () => {
  it('keeps a device identity across reopen: same keys, still non-extractable, still able to sign', async () => {
    const name = freshName();
    const first = await IdbClientStore.open(name);
    const created = await loadOrCreateIdentity(first, 'visitor');
    first.close();

    const second = await IdbClientStore.open(name);
    const restored = await loadOrCreateIdentity(second, 'visitor');
    await expectUsable(restored, created);
    second.close();
  });

  it('stores both key types natively in Chromium once its probe passes, and leaves no probe record', async () => {
    const name = freshName();
    const store = await IdbClientStore.open(name);
    await loadOrCreateIdentity(store, 'agent');
    store.close();
    for (const key of ['agent/signing', 'agent/agreement']) {
      const record = (await rawGet(name, 'keys', key)) as Record<string, unknown>;
      expect(record['form']).toBe('native');
      expect(record['privateKey']).toBeInstanceOf(CryptoKey);
    }
    expect(await rawGet(name, 'meta', 'probe/Ed25519')).toBeUndefined();
    expect(await rawGet(name, 'meta', 'probe/X25519')).toBeUndefined();
  });

  it('falls back to wrapping only the key type this engine cannot store (simulated Safari X25519 bug)', async () => {
    // Safari stores an X25519 CryptoKey but reads it back as null; imitate that for the probe.
    const realGet: IDBObjectStore['get'] = Reflect.get(IDBObjectStore.prototype, 'get');
    const spy = vi.spyOn(IDBObjectStore.prototype, 'get').mockImplementation(function (
      this: IDBObjectStore,
      query: IDBValidKey | IDBKeyRange,
    ) {
      const request = realGet.call(this, query);
      if (query === 'probe/X25519') Object.defineProperty(request, 'result', { get: () => null });
      return request;
    });
    const name = freshName();
    let created: DeviceIdentity;
    try {
      const store = await IdbClientStore.open(name);
      created = await loadOrCreateIdentity(store, 'visitor');
      store.close();
    } finally {
      spy.mockRestore();
    }
    expect(((await rawGet(name, 'keys', 'visitor/signing')) as Record<string, unknown>)['form']).toBe('native');
    expect(((await rawGet(name, 'keys', 'visitor/agreement')) as Record<string, unknown>)['form']).toBe('wrapped');
    const reopened = await IdbClientStore.open(name);
    await expectUsable(await loadOrCreateIdentity(reopened, 'visitor'), created);
    reopened.close();
  });

  it('reads key pairs written by version 1 of the database (a bare CryptoKeyPair)', async () => {
    const name = freshName();
    const legacy = await openDB(name, 1, {
      upgrade(database) {
        database.createObjectStore('keys');
        database.createObjectStore('records');
      },
    });
    const pair = await generateAgreementKeyPair();
    await legacy.put('keys', pair, 'old/agreement');
    legacy.close();

    const store = await IdbClientStore.open(name);
    const loaded = await store.getKeyPair('old/agreement');
    expect(await exportPublicKey(loaded!.publicKey)).toEqual(await exportPublicKey(pair.publicKey));
    store.close();
  });

  it('rejects an unknown keyForm at once', async () => {
    await expect(IdbClientStore.open(freshName(), { keyForm: 'plain' as 'auto' })).rejects.toThrow(
      new TypeError("keyForm must be 'auto' or 'wrapped', got plain"),
    );
  });

  it('refuses a corrupt stored record with a typed error instead of using it', async () => {
    const store = await IdbClientStore.open(freshName());
    const orgId = new Uint8Array(16);
    await store.putRecord('conversation/00000000000000000000000000000000', { conversationId: 42 });
    await expect(loadConversationPointer(store, orgId)).rejects.toBeInstanceOf(StoredStateError);
    store.close();
  });
});

describe('IdbClientStore, AES-KW wrapped fallback (forced)', () => {
  it('round-trips an identity across close and reopen: non-extractable, signs, derives the same secret', async () => {
    const name = freshName();
    const first = await IdbClientStore.open(name, { keyForm: 'wrapped' });
    const created = await loadOrCreateIdentity(first, 'visitor');
    expect(created.signing.privateKey.extractable).toBe(false);
    expect(created.agreement.privateKey.extractable).toBe(false);
    first.close();

    // Reading follows each record's own form, so the default options read wrapped records too.
    const second = await IdbClientStore.open(name);
    const restored = await loadOrCreateIdentity(second, 'visitor');
    await expectUsable(restored, created);
    second.close();
  });

  it('stores only the wrapped private key and the raw public key, under a non-extractable AES-KW key', async () => {
    const name = freshName();
    const store = await IdbClientStore.open(name, { keyForm: 'wrapped' });
    const identity = await loadOrCreateIdentity(store, 'visitor');
    store.close();

    const expected = { 'visitor/signing': identity.signingPublic, 'visitor/agreement': identity.agreementPublic };
    for (const [key, publicKey] of Object.entries(expected)) {
      const record = (await rawGet(name, 'keys', key)) as Record<string, unknown>;
      expect(Object.keys(record).sort()).toEqual(['algorithm', 'form', 'publicKey', 'wrappedPrivate']);
      expect(record['form']).toBe('wrapped');
      expect(record['publicKey']).toEqual(publicKey);
      // PKCS#8 of a 32-byte key is 48 bytes; AES-KW adds its 8-byte integrity block. Nothing else
      // in the record could carry the private key, and no CryptoKey sits in it.
      expect(record['wrappedPrivate']).toBeInstanceOf(Uint8Array);
      expect((record['wrappedPrivate'] as Uint8Array).length).toBe(56);
      expect(Object.values(record).some((value) => value instanceof CryptoKey)).toBe(false);
    }
    const kek = (await rawGet(name, 'meta', 'kek')) as CryptoKey;
    expect(kek).toBeInstanceOf(CryptoKey);
    expect(kek.algorithm.name).toBe('AES-KW');
    expect(kek.extractable).toBe(false);
    expect([...kek.usages].sort()).toEqual(['unwrapKey', 'wrapKey']);
  });

  it('gives StoredStateError, not a half key, for a wrapped private key altered by one bit', async () => {
    const name = freshName();
    const store = await IdbClientStore.open(name, { keyForm: 'wrapped' });
    await loadOrCreateIdentity(store, 'visitor');
    store.close();
    const record = (await rawGet(name, 'keys', 'visitor/signing')) as { wrappedPrivate: Uint8Array };
    record.wrappedPrivate[20]! ^= 1;
    await rawPut(name, 'keys', 'visitor/signing', record);

    const reopened = await IdbClientStore.open(name, { keyForm: 'wrapped' });
    await expect(reopened.getKeyPair('visitor/signing')).rejects.toBeInstanceOf(StoredStateError);
    // And the identity is not silently replaced by a new one.
    await expect(loadOrCreateIdentity(reopened, 'visitor')).rejects.toBeInstanceOf(StoredStateError);
    reopened.close();
  });

  it('gives StoredStateError when the stored public key no longer belongs to the private key', async () => {
    const name = freshName();
    const store = await IdbClientStore.open(name, { keyForm: 'wrapped' });
    await loadOrCreateIdentity(store, 'visitor');
    store.close();
    const others = { 'visitor/signing': generateSigningKeyPair(), 'visitor/agreement': generateAgreementKeyPair() };
    for (const [key, other] of Object.entries(others)) {
      const record = (await rawGet(name, 'keys', key)) as { publicKey: Uint8Array };
      record.publicKey = await exportPublicKey((await other).publicKey);
      await rawPut(name, 'keys', key, record);
    }
    const reopened = await IdbClientStore.open(name);
    await expect(reopened.getKeyPair('visitor/signing')).rejects.toBeInstanceOf(StoredStateError);
    await expect(reopened.getKeyPair('visitor/agreement')).rejects.toBeInstanceOf(StoredStateError);
    reopened.close();
  });

  it('gives StoredStateError for a malformed record, a lost wrapping key, or a foreign value in its place', async () => {
    const name = freshName();
    const store = await IdbClientStore.open(name, { keyForm: 'wrapped' });
    await store.generateKeyPair('a', 'Ed25519');
    store.close();

    await rawPut(name, 'keys', 'b', { form: 'wrapped', algorithm: 'Ed25519', wrappedPrivate: 'not bytes' });
    await rawPut(name, 'keys', 'c', { form: 'sealed' });
    await rawPut(name, 'keys', 'd', 'just a string');
    const reopened = await IdbClientStore.open(name);
    for (const key of ['b', 'c', 'd']) {
      await expect(reopened.getKeyPair(key)).rejects.toBeInstanceOf(StoredStateError);
    }
    reopened.close();

    await rawPut(name, 'meta', 'kek', new Uint8Array(32));
    const foreignKek = await IdbClientStore.open(name);
    await expect(foreignKek.getKeyPair('a')).rejects.toBeInstanceOf(StoredStateError);
    foreignKek.close();
  });

  it('replaces a pair on generate and forgets it on delete', async () => {
    const store = await IdbClientStore.open(freshName(), { keyForm: 'wrapped' });
    const first = await store.generateKeyPair('k', 'X25519');
    const second = await store.generateKeyPair('k', 'X25519');
    const loaded = await store.getKeyPair('k');
    expect(await exportPublicKey(loaded!.publicKey)).toEqual(await exportPublicKey(second.publicKey));
    expect(await exportPublicKey(loaded!.publicKey)).not.toEqual(await exportPublicKey(first.publicKey));
    await store.deleteKeyPair('k');
    expect(await store.getKeyPair('k')).toBeUndefined();
    store.close();
  });
});
