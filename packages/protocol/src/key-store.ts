import { generateDeviceIdentity, restoreDeviceIdentity, type DeviceIdentity } from './identity.js';

/**
 * Where a device keeps its long-term key pairs. Implementations store CryptoKeys as they are
 * (structured clone keeps them non-extractable); none ever sees private key bytes.
 * `@sealchat/client` provides the IndexedDB store; {@link MemoryKeyStore} serves tests.
 */
export interface KeyStore {
  getKeyPair(name: string): Promise<CryptoKeyPair | undefined>;
  putKeyPair(name: string, pair: CryptoKeyPair): Promise<void>;
  deleteKeyPair(name: string): Promise<void>;
}

/** Keeps key pairs in memory for the life of the process. */
export class MemoryKeyStore implements KeyStore {
  private readonly pairs = new Map<string, CryptoKeyPair>();

  getKeyPair(name: string): Promise<CryptoKeyPair | undefined> {
    return Promise.resolve(this.pairs.get(name));
  }

  putKeyPair(name: string, pair: CryptoKeyPair): Promise<void> {
    this.pairs.set(name, pair);
    return Promise.resolve();
  }

  deleteKeyPair(name: string): Promise<void> {
    this.pairs.delete(name);
    return Promise.resolve();
  }
}

/** Loads the identity stored under `name`, or creates and stores a new one. */
export async function loadOrCreateIdentity(store: KeyStore, name: string): Promise<DeviceIdentity> {
  const [signing, agreement] = await Promise.all([
    store.getKeyPair(`${name}/signing`),
    store.getKeyPair(`${name}/agreement`),
  ]);
  if (signing && agreement) return restoreDeviceIdentity(signing, agreement);
  const identity = await generateDeviceIdentity();
  await store.putKeyPair(`${name}/signing`, identity.signing);
  await store.putKeyPair(`${name}/agreement`, identity.agreement);
  return identity;
}
