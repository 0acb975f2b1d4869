import { DecodeError } from './errors.js';
import { restoreDeviceIdentity, type DeviceIdentity } from './identity.js';
import { generateAgreementKeyPair, generateSigningKeyPair } from './keys.js';

/** The key types a {@link KeyStore} holds: Ed25519 to sign, X25519 for HPKE key agreement. */
export type KeyAlgorithm = 'Ed25519' | 'X25519';

/**
 * The usages every stored pair carries. A store that re-imports a key (from wrapped or file bytes)
 * must give it exactly these, so a restored key behaves like a freshly generated one.
 */
export const KEY_PAIR_USAGES: Readonly<
  Record<KeyAlgorithm, { readonly privateKey: readonly KeyUsage[]; readonly publicKey: readonly KeyUsage[] }>
> = Object.freeze({
  Ed25519: Object.freeze({
    privateKey: Object.freeze(['sign'] as const),
    publicKey: Object.freeze(['verify'] as const),
  }),
  X25519: Object.freeze({ privateKey: Object.freeze(['deriveBits'] as const), publicKey: Object.freeze([] as const) }),
});

/**
 * Where a device keeps its long-term key pairs. There is no `put`: the store generates each pair
 * itself, so no caller can hand it an extractable private key, and a store that must hold key bytes
 * (a wrapped IndexedDB record, a file) sees them only while it writes them.
 *
 * Contract for implementations: every private key returned is non-extractable, has the usages in
 * {@link KEY_PAIR_USAGES}, and matches its public key; a stored pair that cannot be read back
 * whole is an error, never `undefined` and never half a pair.
 *
 * `@sealchat/client` provides the IndexedDB store and (on `@sealchat/client/node`) a file store;
 * {@link MemoryKeyStore} serves tests. docs/key-storage.md describes what each keeps where.
 */
export interface KeyStore {
  /**
   * The pair stored under `name`, or `undefined` if there is none.
   * @throws an implementation's stored-state error when a pair is stored but cannot be read back.
   */
  getKeyPair(name: string): Promise<CryptoKeyPair | undefined>;
  /**
   * Generates a new `algorithm` pair, stores it under `name` (replacing any pair there) and returns
   * it as it will be loaded again: private key non-extractable.
   */
  generateKeyPair(name: string, algorithm: KeyAlgorithm): Promise<CryptoKeyPair>;
  deleteKeyPair(name: string): Promise<void>;
}

/** Keeps key pairs in memory for the life of the process. Keys are generated non-extractable. */
export class MemoryKeyStore implements KeyStore {
  private readonly pairs = new Map<string, CryptoKeyPair>();

  getKeyPair(name: string): Promise<CryptoKeyPair | undefined> {
    return Promise.resolve(this.pairs.get(name));
  }

  async generateKeyPair(name: string, algorithm: KeyAlgorithm): Promise<CryptoKeyPair> {
    const pair = algorithm === 'Ed25519' ? await generateSigningKeyPair() : await generateAgreementKeyPair();
    this.pairs.set(name, pair);
    return pair;
  }

  deleteKeyPair(name: string): Promise<void> {
    this.pairs.delete(name);
    return Promise.resolve();
  }
}

/**
 * Loads the `algorithm` pair stored under `name`, or generates and stores one.
 * @throws DecodeError when the pair stored under `name` is of another algorithm.
 */
export async function loadOrCreateKeyPair(
  store: KeyStore,
  name: string,
  algorithm: KeyAlgorithm,
): Promise<CryptoKeyPair> {
  const existing = await store.getKeyPair(name);
  return existing ? ofAlgorithm(existing, name, algorithm) : store.generateKeyPair(name, algorithm);
}

function ofAlgorithm(pair: CryptoKeyPair, name: string, algorithm: KeyAlgorithm): CryptoKeyPair {
  const found = pair.privateKey.algorithm.name;
  if (found !== algorithm || pair.publicKey.algorithm.name !== algorithm) {
    throw new DecodeError(`Key pair "${name}" is ${found}, expected ${algorithm}`);
  }
  return pair;
}

/**
 * Loads the identity stored under `name`, or creates and stores a new one. Half an identity (one
 * pair missing) is replaced whole: a certificate binds both keys, so keeping one would not help.
 * @throws DecodeError when a stored pair is of the wrong algorithm.
 */
export async function loadOrCreateIdentity(store: KeyStore, name: string): Promise<DeviceIdentity> {
  const [signing, agreement] = await Promise.all([
    store.getKeyPair(`${name}/signing`),
    store.getKeyPair(`${name}/agreement`),
  ]);
  if (signing && agreement) {
    return restoreDeviceIdentity(
      ofAlgorithm(signing, `${name}/signing`, 'Ed25519'),
      ofAlgorithm(agreement, `${name}/agreement`, 'X25519'),
    );
  }
  const [newSigning, newAgreement] = await Promise.all([
    store.generateKeyPair(`${name}/signing`, 'Ed25519'),
    store.generateKeyPair(`${name}/agreement`, 'X25519'),
  ]);
  return restoreDeviceIdentity(newSigning, newAgreement);
}

/**
 * Whether `pair`'s private key belongs to its public key, tested by use (the private key cannot be
 * exported): an Ed25519 signature must verify; an X25519 key must agree with a throwaway key.
 * Stores that rebuild a pair from separately stored halves call it before returning the pair.
 */
export async function keyPairMatches(pair: CryptoKeyPair): Promise<boolean> {
  try {
    if (pair.privateKey.algorithm.name === 'Ed25519') {
      const message = new Uint8Array(32);
      const signature = await crypto.subtle.sign({ name: 'Ed25519' }, pair.privateKey, message);
      return await crypto.subtle.verify({ name: 'Ed25519' }, pair.publicKey, signature, message);
    }
    if (pair.privateKey.algorithm.name === 'X25519') {
      const other = await generateAgreementKeyPair();
      const [mine, theirs] = await Promise.all([
        crypto.subtle.deriveBits({ name: 'X25519', public: other.publicKey }, pair.privateKey, 256),
        crypto.subtle.deriveBits({ name: 'X25519', public: pair.publicKey }, other.privateKey, 256),
      ]);
      // Secrets, so compared without an early exit (bytesEqual is for public values).
      const a = new Uint8Array(mine);
      const b = new Uint8Array(theirs);
      let difference = a.length ^ b.length;
      for (let i = 0; i < a.length; i++) difference |= a[i]! ^ (b[i] ?? 0);
      return difference === 0;
    }
    return false;
  } catch {
    return false;
  }
}
