import { KEY_PAIR_USAGES, keyPairMatches, type KeyAlgorithm } from '@sealchat/protocol';
import type { ClientStore } from './client-store.js';
import { StoredStateError } from './errors.js';
import { LiteDb } from './idb-lite.js';

/**
 * How a key pair sits in the `keys` object store. `native`: both CryptoKeys by structured clone.
 * `wrapped`: for engines that cannot store the key type, the private key as PKCS#8 wrapped under the
 * database's AES-KW key, and the public key as raw bytes. Version 1 databases hold a bare
 * `{ privateKey, publicKey }`, read as `native`.
 */
type KeyRecord =
  | { readonly form: 'native'; readonly privateKey: CryptoKey; readonly publicKey: CryptoKey }
  | {
      readonly form: 'wrapped';
      readonly algorithm: KeyAlgorithm;
      readonly wrappedPrivate: Uint8Array<ArrayBuffer>;
      readonly publicKey: Uint8Array<ArrayBuffer>;
    };

const DB_VERSION = 2;
const KEK = 'kek';

export interface IdbClientStoreOptions {
  /**
   * `'auto'` (default): before the first key of each type is stored, probe whether this browser can
   * store and read back that CryptoKey type, and wrap it under an AES-KW key only if it cannot.
   * `'wrapped'`: always wrap, for tests of the fallback in engines that store both types natively.
   * Reading does not depend on this option: each record says its own form.
   */
  readonly keyForm?: 'auto' | 'wrapped';
}

/**
 * The browser's {@link ClientStore}: IndexedDB (through idb-lite.ts). Private keys never exist as bytes in
 * the database: they are non-extractable CryptoKeys stored by structured clone, or, where the engine
 * cannot store a key type (Safari's X25519, Firefox before 136's Ed25519), PKCS#8 wrapped under a
 * non-extractable AES-KW key that is itself stored as a CryptoKey. docs/key-storage.md has the detail.
 */
export class IdbClientStore implements ClientStore {
  /** Per algorithm, whether this engine stores the CryptoKey type natively; probed once per instance. */
  private readonly _nativeSupport = new Map<KeyAlgorithm, Promise<boolean>>();

  private constructor(
    private readonly _db: LiteDb,
    private readonly _keyForm: 'auto' | 'wrapped',
  ) {}

  /**
   * Opens (or creates) the database `name`. One per origin and role is the intended use.
   * @throws TypeError when `options.keyForm` is not `'auto'` or `'wrapped'`.
   */
  static async open(name = 'sealchat', options: IdbClientStoreOptions = {}): Promise<IdbClientStore> {
    const keyForm = options.keyForm ?? 'auto';
    if (keyForm !== 'auto' && keyForm !== 'wrapped') {
      throw new TypeError(`keyForm must be 'auto' or 'wrapped', got ${String(keyForm)}`);
    }
    const db = await LiteDb.open(name, DB_VERSION, (database, oldVersion) => {
      if (oldVersion < 1) {
        database.createObjectStore('keys');
        database.createObjectStore('records');
      }
      if (oldVersion < 2) database.createObjectStore('meta');
    });
    return new IdbClientStore(db, keyForm);
  }

  /** @throws StoredStateError when the record is malformed, does not unwrap, or holds a mismatched pair. */
  async getKeyPair(name: string): Promise<CryptoKeyPair | undefined> {
    const value = await this._db.get('keys', name);
    if (value === undefined) return undefined;
    const record = parseKeyRecord(value, name);
    if (record.form === 'native') return { privateKey: record.privateKey, publicKey: record.publicKey };
    return this._unwrap(record, name);
  }

  async generateKeyPair(name: string, algorithm: KeyAlgorithm): Promise<CryptoKeyPair> {
    const usages = KEY_PAIR_USAGES[algorithm];
    if (this._keyForm === 'auto' && (await this._storesNatively(algorithm))) {
      const pair = await generate(algorithm, false);
      await this._db.put('keys', { form: 'native', privateKey: pair.privateKey, publicKey: pair.publicKey }, name);
      return pair;
    }
    const kek = await this._wrappingKey();
    // Extractable only so that wrapKey accepts it; the reference is dropped once wrapped, and what
    // this returns is the unwrapped, non-extractable copy (the same thing a later load gets).
    const extractable = await generate(algorithm, true);
    const record: KeyRecord = {
      form: 'wrapped',
      algorithm,
      wrappedPrivate: new Uint8Array(await crypto.subtle.wrapKey('pkcs8', extractable.privateKey, kek, 'AES-KW')),
      publicKey: new Uint8Array(await crypto.subtle.exportKey('raw', extractable.publicKey)),
    };
    const privateKey = await crypto.subtle.unwrapKey(
      'pkcs8',
      record.wrappedPrivate,
      kek,
      'AES-KW',
      { name: algorithm },
      false,
      [...usages.privateKey],
    );
    await this._db.put('keys', record, name);
    return { privateKey, publicKey: extractable.publicKey };
  }

  async deleteKeyPair(name: string): Promise<void> {
    await this._db.delete('keys', name);
  }

  async getRecord(key: string): Promise<unknown> {
    return this._db.get('records', key);
  }

  async putRecord(key: string, value: unknown): Promise<void> {
    await this._db.put('records', value, key);
  }

  async deleteRecord(key: string): Promise<void> {
    await this._db.delete('records', key);
  }

  close(): void {
    this._db.close();
  }

  private _storesNatively(algorithm: KeyAlgorithm): Promise<boolean> {
    let answer = this._nativeSupport.get(algorithm);
    if (!answer) {
      answer = this._probe(algorithm);
      this._nativeSupport.set(algorithm, answer);
    }
    return answer;
  }

  /**
   * Stores a throwaway non-extractable pair, reads it back in a separate transaction (so it really
   * is deserialised) and uses it. Engines fail in different places: Firefox before 136 throws
   * DataCloneError on put; Safari stores X25519 but reads back null; any of them could hand back
   * something that is no longer a working key. Each of those counts as "cannot store".
   */
  private async _probe(algorithm: KeyAlgorithm): Promise<boolean> {
    const pair = await generate(algorithm, false);
    const scratch = `probe/${algorithm}`;
    try {
      await this._db.put('meta', { privateKey: pair.privateKey, publicKey: pair.publicKey }, scratch);
      const back = (await this._db.get('meta', scratch)) as Partial<CryptoKeyPair> | null | undefined;
      if (!(back?.privateKey instanceof CryptoKey) || !(back.publicKey instanceof CryptoKey)) return false;
      if (back.privateKey.extractable || back.privateKey.algorithm.name !== algorithm) return false;
      return await keyPairMatches({ privateKey: back.privateKey, publicKey: pair.publicKey });
    } catch {
      return false;
    } finally {
      await this._db.delete('meta', scratch).catch(() => undefined);
    }
  }

  /** The database's AES-KW key, created on first need. Two tabs racing to create it keep the first. */
  private async _wrappingKey(): Promise<CryptoKey> {
    const existing = await this._db.get('meta', KEK);
    if (existing !== undefined) return parseWrappingKey(existing);
    const fresh = await crypto.subtle.generateKey({ name: 'AES-KW', length: 256 }, false, ['wrapKey', 'unwrapKey']);
    // generateKey is not an IndexedDB request, so it finishes before the one transaction that
    // stores the key unless another tab stored one first.
    const stored = await this._db.getOrPut('meta', KEK, fresh);
    return stored === fresh ? fresh : parseWrappingKey(stored);
  }

  private async _unwrap(record: Extract<KeyRecord, { form: 'wrapped' }>, name: string): Promise<CryptoKeyPair> {
    const kekValue = await this._db.get('meta', KEK);
    if (kekValue === undefined)
      throw new StoredStateError(`Key pair "${name}" is wrapped but the wrapping key is gone`);
    const kek = parseWrappingKey(kekValue);
    const usages = KEY_PAIR_USAGES[record.algorithm];
    let pair: CryptoKeyPair;
    try {
      pair = {
        // AES-KW's integrity check rejects a wrapped key altered by even one bit.
        privateKey: await crypto.subtle.unwrapKey(
          'pkcs8',
          record.wrappedPrivate,
          kek,
          'AES-KW',
          { name: record.algorithm },
          false,
          [...usages.privateKey],
        ),
        publicKey: await crypto.subtle.importKey('raw', record.publicKey, { name: record.algorithm }, true, [
          ...usages.publicKey,
        ]),
      };
    } catch {
      throw new StoredStateError(`Key pair "${name}" does not unwrap`);
    }
    // The public half is not covered by AES-KW, so check that the two halves still belong together.
    if (!(await keyPairMatches(pair))) throw new StoredStateError(`Key pair "${name}" has a mismatched public key`);
    return pair;
  }
}

function generate(algorithm: KeyAlgorithm, extractable: boolean): Promise<CryptoKeyPair> {
  const usages = KEY_PAIR_USAGES[algorithm];
  return crypto.subtle.generateKey({ name: algorithm }, extractable, [
    ...usages.privateKey,
    ...usages.publicKey,
  ]) as Promise<CryptoKeyPair>;
}

function isAlgorithm(value: unknown): value is KeyAlgorithm {
  return value === 'Ed25519' || value === 'X25519';
}

function parseKeyRecord(value: unknown, name: string): KeyRecord {
  const malformed = (): StoredStateError => new StoredStateError(`Stored key pair "${name}" is malformed`);
  if (typeof value !== 'object' || value === null) throw malformed();
  const v = value as Record<string, unknown>;
  const form = v['form'] ?? 'native';
  if (form === 'native') {
    const { privateKey, publicKey } = v;
    if (
      !(privateKey instanceof CryptoKey) ||
      !(publicKey instanceof CryptoKey) ||
      privateKey.type !== 'private' ||
      privateKey.extractable ||
      !isAlgorithm(privateKey.algorithm.name) ||
      publicKey.algorithm.name !== privateKey.algorithm.name
    ) {
      throw malformed();
    }
    return { form, privateKey, publicKey };
  }
  if (form === 'wrapped') {
    const { algorithm, wrappedPrivate, publicKey } = v;
    if (
      !isAlgorithm(algorithm) ||
      !(wrappedPrivate instanceof Uint8Array) ||
      !(publicKey instanceof Uint8Array) ||
      !(wrappedPrivate.buffer instanceof ArrayBuffer) ||
      !(publicKey.buffer instanceof ArrayBuffer)
    ) {
      throw malformed();
    }
    return {
      form,
      algorithm,
      wrappedPrivate: wrappedPrivate as Uint8Array<ArrayBuffer>,
      publicKey: publicKey as Uint8Array<ArrayBuffer>,
    };
  }
  throw malformed();
}

function parseWrappingKey(value: unknown): CryptoKey {
  if (!(value instanceof CryptoKey) || value.algorithm.name !== 'AES-KW' || value.extractable) {
    throw new StoredStateError('Stored wrapping key is malformed');
  }
  return value;
}
