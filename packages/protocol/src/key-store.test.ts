import { describe, expect, it } from 'vitest';
import { DecodeError } from './errors.js';
import { generateAgreementKeyPair, generateSigningKeyPair } from './keys.js';
import { keyPairMatches, loadOrCreateIdentity, loadOrCreateKeyPair, MemoryKeyStore } from './key-store.js';

describe('MemoryKeyStore and the KeyStore helpers', () => {
  it('generates pairs with non-extractable private keys and the documented usages', async () => {
    const store = new MemoryKeyStore();
    const signing = await store.generateKeyPair('s', 'Ed25519');
    const agreement = await store.generateKeyPair('a', 'X25519');
    expect(signing.privateKey.extractable).toBe(false);
    expect(agreement.privateKey.extractable).toBe(false);
    expect(signing.privateKey.usages).toEqual(['sign']);
    expect(agreement.privateKey.usages).toEqual(['deriveBits']);
    await expect(crypto.subtle.exportKey('pkcs8', signing.privateKey)).rejects.toThrow();
    expect(await store.getKeyPair('s')).toBe(signing);
    await store.deleteKeyPair('s');
    expect(await store.getKeyPair('s')).toBeUndefined();
  });

  it('loadOrCreateKeyPair creates once, then loads the same pair', async () => {
    const store = new MemoryKeyStore();
    const first = await loadOrCreateKeyPair(store, 'root', 'Ed25519');
    expect(await loadOrCreateKeyPair(store, 'root', 'Ed25519')).toBe(first);
  });

  it('loadOrCreateKeyPair refuses a stored pair of the other algorithm', async () => {
    const store = new MemoryKeyStore();
    await store.generateKeyPair('root', 'X25519');
    await expect(loadOrCreateKeyPair(store, 'root', 'Ed25519')).rejects.toBeInstanceOf(DecodeError);
    await store.generateKeyPair('id/signing', 'X25519');
    await store.generateKeyPair('id/agreement', 'X25519');
    await expect(loadOrCreateIdentity(store, 'id')).rejects.toBeInstanceOf(DecodeError);
  });

  it('loadOrCreateIdentity keeps an identity, and replaces half of one whole', async () => {
    const store = new MemoryKeyStore();
    const created = await loadOrCreateIdentity(store, 'bot');
    expect((await loadOrCreateIdentity(store, 'bot')).deviceId).toEqual(created.deviceId);
    await store.deleteKeyPair('bot/agreement');
    const replaced = await loadOrCreateIdentity(store, 'bot');
    expect(replaced.deviceId).not.toEqual(created.deviceId);
    expect(replaced.agreementPublic).not.toEqual(created.agreementPublic);
  });

  it('keyPairMatches tells matching halves from mismatched ones, for both algorithms', async () => {
    const [s1, s2, a1, a2] = await Promise.all([
      generateSigningKeyPair(),
      generateSigningKeyPair(),
      generateAgreementKeyPair(),
      generateAgreementKeyPair(),
    ]);
    expect(await keyPairMatches(s1)).toBe(true);
    expect(await keyPairMatches(a1)).toBe(true);
    expect(await keyPairMatches({ privateKey: s1.privateKey, publicKey: s2.publicKey })).toBe(false);
    expect(await keyPairMatches({ privateKey: a1.privateKey, publicKey: a2.publicKey })).toBe(false);
    expect(await keyPairMatches({ privateKey: s1.privateKey, publicKey: a1.publicKey })).toBe(false);
  });
});
