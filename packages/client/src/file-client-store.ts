/// <reference types="node" />
import { chmod, open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import {
  KEY_PAIR_USAGES,
  fromBase64Url,
  keyPairMatches,
  randomBytes,
  toBase64Url,
  toHex,
  utf8Decode,
  utf8Encode,
  type KeyAlgorithm,
} from '@sealchat/protocol';
import type { ClientStore } from './client-store.js';
import { PassphraseError, StoredStateError } from './errors.js';
import { derivePassphraseKeys } from './passphrase-key.js';

/** OWASP's 2023 floor for PBKDF2-HMAC-SHA-256. */
export const MIN_PBKDF2_ITERATIONS = 600_000;
/** A file asking for more than this is treated as corrupt rather than left to stall the process. */
const MAX_PBKDF2_ITERATIONS = 10_000_000;
const FORMAT = 'sealchat-client-store';
const VERSION = 1;
const AAD = utf8Encode(`${FORMAT}/v${VERSION}`);
const INFO_ENCRYPTION = utf8Encode('sealchat/file-store/v1/encryption');
const INFO_CHECK = utf8Encode('sealchat/file-store/v1/check');
const MAX_RECORD_DEPTH = 64;

export interface FileClientStoreOptions {
  /**
   * Encrypts the file at rest (PBKDF2-SHA-256 → HKDF → AES-256-GCM). Without one the file, private
   * keys included, is protected only by its permissions (0600): fine for a bot on a server whose
   * disk is already trusted, and for tests; not for a laptop or a shared host.
   */
  readonly passphrase?: string;
  /** PBKDF2 iterations when creating an encrypted file. Default and minimum {@link MIN_PBKDF2_ITERATIONS}. */
  readonly iterations?: number;
}

interface StoredKey {
  readonly algorithm: KeyAlgorithm;
  readonly privateKey: Uint8Array<ArrayBuffer>;
  readonly publicKey: Uint8Array<ArrayBuffer>;
}

interface Contents {
  readonly keys: Map<string, StoredKey>;
  readonly records: Map<string, unknown>;
}

interface Sealing {
  readonly iterations: number;
  readonly salt: Uint8Array<ArrayBuffer>;
  readonly check: Uint8Array<ArrayBuffer>;
  readonly key: CryptoKey;
}

/**
 * A {@link ClientStore} in one JSON file, for bots and tests on Node. Key pairs are kept as PKCS#8
 * (private) and raw (public) bytes and come back as non-extractable CryptoKeys; records must be
 * JSON values. Every change rewrites the file atomically (temporary file, fsync, rename) with mode
 * 0600. Each operation re-reads the file rather than caching it, so private key bytes are in memory
 * only while a call runs (as far as JavaScript allows: the JSON text cannot be wiped, only dropped). One process per file: concurrent writers would lose each other's changes.
 */
export class FileClientStore implements ClientStore {
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly path: string,
    private readonly sealing: Sealing | undefined,
  ) {}

  /**
   * Opens the store at `path`, creating the file if it does not exist (its directory must).
   * @throws TypeError for an empty passphrase or iterations outside [600,000, 10,000,000].
   * @throws PassphraseError when the file is encrypted and the passphrase is missing or wrong, or
   *   when a passphrase is given for a file that is not encrypted (a swapped-in plain file is refused).
   * @throws StoredStateError when the file is not a store file or is corrupt.
   */
  static async open(path: string, options: FileClientStoreOptions = {}): Promise<FileClientStore> {
    const { passphrase } = options;
    const iterations = options.iterations ?? MIN_PBKDF2_ITERATIONS;
    if (passphrase !== undefined && (typeof passphrase !== 'string' || passphrase.length === 0)) {
      throw new TypeError('passphrase must be a non-empty string');
    }
    if (!Number.isSafeInteger(iterations) || iterations < MIN_PBKDF2_ITERATIONS || iterations > MAX_PBKDF2_ITERATIONS) {
      throw new TypeError(
        `iterations must be an integer from ${MIN_PBKDF2_ITERATIONS} to ${MAX_PBKDF2_ITERATIONS}, got ${iterations}`,
      );
    }
    const text = await readIfExists(path);
    if (text === undefined) {
      const salt = randomBytes(16);
      const sealing = passphrase === undefined ? undefined : await deriveSealing(passphrase, salt, iterations);
      const store = new FileClientStore(path, sealing);
      await store.write({ keys: new Map(), records: new Map() });
      return store;
    }
    const envelope = parseEnvelope(text);
    let sealing: Sealing | undefined;
    if (envelope.encryption) {
      if (passphrase === undefined) throw new PassphraseError(`${path} is encrypted; pass its passphrase`);
      const { salt, iterations: fileIterations, check } = envelope.encryption;
      sealing = await deriveSealing(passphrase, salt, fileIterations);
      if (!constantTimeEqual(sealing.check, check)) throw new PassphraseError(`Wrong passphrase for ${path}`);
    } else if (passphrase !== undefined) {
      throw new PassphraseError(`${path} is not encrypted, but a passphrase was given`);
    }
    const store = new FileClientStore(path, sealing);
    await store.read(); // Fail now, not at the first key load, if the contents are corrupt.
    if (process.platform !== 'win32' && ((await stat(path)).mode & 0o077) !== 0) await chmod(path, 0o600);
    return store;
  }

  /** @throws StoredStateError when the file is corrupt or the stored pair does not import or match. */
  getKeyPair(name: string): Promise<CryptoKeyPair | undefined> {
    return this.serially(async () => {
      const stored = (await this.read()).keys.get(name);
      if (!stored) return undefined;
      const usages = KEY_PAIR_USAGES[stored.algorithm];
      let pair: CryptoKeyPair;
      try {
        pair = {
          privateKey: await crypto.subtle.importKey('pkcs8', stored.privateKey, { name: stored.algorithm }, false, [
            ...usages.privateKey,
          ]),
          publicKey: await crypto.subtle.importKey('raw', stored.publicKey, { name: stored.algorithm }, true, [
            ...usages.publicKey,
          ]),
        };
      } catch {
        throw new StoredStateError(`Stored key pair "${name}" does not import`);
      } finally {
        stored.privateKey.fill(0);
      }
      if (!(await keyPairMatches(pair))) throw new StoredStateError(`Stored key pair "${name}" is mismatched`);
      return pair;
    });
  }

  generateKeyPair(name: string, algorithm: KeyAlgorithm): Promise<CryptoKeyPair> {
    return this.serially(async () => {
      const usages = KEY_PAIR_USAGES[algorithm];
      // Extractable only so its bytes can be written; what this returns is a non-extractable import.
      const extractable = (await crypto.subtle.generateKey({ name: algorithm }, true, [
        ...usages.privateKey,
        ...usages.publicKey,
      ])) as CryptoKeyPair;
      const privateBytes = new Uint8Array(await crypto.subtle.exportKey('pkcs8', extractable.privateKey));
      const publicBytes = new Uint8Array(await crypto.subtle.exportKey('raw', extractable.publicKey));
      try {
        const privateKey = await crypto.subtle.importKey('pkcs8', privateBytes, { name: algorithm }, false, [
          ...usages.privateKey,
        ]);
        const contents = await this.read();
        contents.keys.set(name, { algorithm, privateKey: privateBytes, publicKey: publicBytes });
        await this.write(contents);
        return { privateKey, publicKey: extractable.publicKey };
      } finally {
        privateBytes.fill(0);
      }
    });
  }

  deleteKeyPair(name: string): Promise<void> {
    return this.change((contents) => contents.keys.delete(name));
  }

  /** @throws StoredStateError when the file is corrupt. */
  getRecord(key: string): Promise<unknown> {
    return this.serially(async () => (await this.read()).records.get(key));
  }

  /** @throws TypeError when `value` is not a JSON value (plain objects, arrays, strings, finite numbers, booleans, null). */
  putRecord(key: string, value: unknown): Promise<void> {
    if (!isJsonValue(value, 0)) throw new TypeError(`Record "${key}" is not a JSON value`);
    const copy: unknown = JSON.parse(JSON.stringify(value));
    return this.change((contents) => contents.records.set(key, copy));
  }

  deleteRecord(key: string): Promise<void> {
    return this.change((contents) => contents.records.delete(key));
  }

  /** Runs operations one at a time, so two writes from this process cannot interleave. */
  private serially<T>(operation: () => Promise<T>): Promise<T> {
    const result = this.queue.then(operation);
    this.queue = result.catch(() => undefined);
    return result;
  }

  private change(edit: (contents: Contents) => unknown): Promise<void> {
    return this.serially(async () => {
      const contents = await this.read();
      edit(contents);
      await this.write(contents);
    });
  }

  private async read(): Promise<Contents> {
    const text = await readIfExists(this.path);
    if (text === undefined) throw new StoredStateError(`${this.path} has disappeared`);
    const envelope = parseEnvelope(text);
    if (!this.sealing) {
      if (envelope.encryption) throw new StoredStateError(`${this.path} was replaced by an encrypted file`);
      return parseContents(envelope.contents);
    }
    const { encryption } = envelope;
    if (!encryption || !constantTimeEqual(encryption.salt, this.sealing.salt)) {
      throw new StoredStateError(`${this.path} was replaced by a file under another key`);
    }
    let plaintext: Uint8Array;
    try {
      plaintext = new Uint8Array(
        await crypto.subtle.decrypt(
          { name: 'AES-GCM', iv: encryption.iv, additionalData: AAD },
          this.sealing.key,
          encryption.ciphertext,
        ),
      );
    } catch {
      throw new StoredStateError(`${this.path} fails its integrity check`);
    }
    try {
      return parseContents(JSON.parse(utf8Decode(plaintext)));
    } catch (error) {
      if (error instanceof StoredStateError) throw error;
      throw new StoredStateError(`${this.path} does not parse`);
    } finally {
      plaintext.fill(0);
    }
  }

  private async write(contents: Contents): Promise<void> {
    const inner = {
      keys: Object.fromEntries(
        Array.from(contents.keys, ([name, key]) => [
          name,
          { algorithm: key.algorithm, privateKey: toBase64Url(key.privateKey), publicKey: toBase64Url(key.publicKey) },
        ]),
      ),
      records: Object.fromEntries(contents.records),
    };
    let envelope: object;
    if (!this.sealing) {
      envelope = { format: FORMAT, version: VERSION, contents: inner };
    } else {
      const iv = randomBytes(12);
      const plaintext = utf8Encode(JSON.stringify(inner));
      const ciphertext = new Uint8Array(
        await crypto.subtle.encrypt({ name: 'AES-GCM', iv, additionalData: AAD }, this.sealing.key, plaintext),
      );
      plaintext.fill(0);
      envelope = {
        format: FORMAT,
        version: VERSION,
        encryption: {
          kdf: 'PBKDF2-SHA-256',
          iterations: this.sealing.iterations,
          salt: toBase64Url(this.sealing.salt),
          check: toBase64Url(this.sealing.check),
          cipher: 'AES-256-GCM',
          iv: toBase64Url(iv),
        },
        ciphertext: toBase64Url(ciphertext),
      };
    }
    await writeAtomically(this.path, `${JSON.stringify(envelope, null, 2)}\n`);
  }
}

interface Envelope {
  readonly contents?: unknown;
  readonly encryption?: {
    readonly iterations: number;
    readonly salt: Uint8Array<ArrayBuffer>;
    readonly check: Uint8Array<ArrayBuffer>;
    readonly iv: Uint8Array<ArrayBuffer>;
    readonly ciphertext: Uint8Array<ArrayBuffer>;
  };
}

function parseEnvelope(text: string): Envelope {
  const corrupt = (): StoredStateError => new StoredStateError('Store file is corrupt or not a Sealchat store');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw corrupt();
  }
  if (!isObject(value) || value['format'] !== FORMAT) throw corrupt();
  if (value['version'] !== VERSION)
    throw new StoredStateError(`Store file version ${String(value['version'])} is unknown`);
  const encryption = value['encryption'];
  if (encryption === undefined) {
    if (!isObject(value['contents'])) throw corrupt();
    return { contents: value['contents'] };
  }
  if (
    !isObject(encryption) ||
    encryption['kdf'] !== 'PBKDF2-SHA-256' ||
    encryption['cipher'] !== 'AES-256-GCM' ||
    typeof encryption['iterations'] !== 'number' ||
    !Number.isSafeInteger(encryption['iterations']) ||
    encryption['iterations'] < MIN_PBKDF2_ITERATIONS ||
    encryption['iterations'] > MAX_PBKDF2_ITERATIONS
  ) {
    throw corrupt();
  }
  try {
    const parsed = {
      iterations: encryption['iterations'],
      salt: fromBase64Url(String(encryption['salt'])),
      check: fromBase64Url(String(encryption['check'])),
      iv: fromBase64Url(String(encryption['iv'])),
      ciphertext: fromBase64Url(String(value['ciphertext'])),
    };
    if (parsed.salt.length < 16 || parsed.check.length !== 32 || parsed.iv.length !== 12) throw corrupt();
    return { encryption: parsed };
  } catch {
    throw corrupt();
  }
}

function parseContents(value: unknown): Contents {
  const corrupt = (what: string): StoredStateError => new StoredStateError(`Store file ${what} is malformed`);
  if (!isObject(value) || !isObject(value['keys']) || !isObject(value['records'])) throw corrupt('contents');
  const keys = new Map<string, StoredKey>();
  for (const [name, entry] of Object.entries(value['keys'])) {
    if (
      !isObject(entry) ||
      (entry['algorithm'] !== 'Ed25519' && entry['algorithm'] !== 'X25519') ||
      typeof entry['privateKey'] !== 'string' ||
      typeof entry['publicKey'] !== 'string'
    ) {
      throw corrupt(`key pair "${name}"`);
    }
    try {
      keys.set(name, {
        algorithm: entry['algorithm'],
        privateKey: fromBase64Url(entry['privateKey']),
        publicKey: fromBase64Url(entry['publicKey']),
      });
    } catch {
      throw corrupt(`key pair "${name}"`);
    }
  }
  return { keys, records: new Map(Object.entries(value['records'])) };
}

/**
 * PBKDF2 stretches the passphrase once; HKDF splits the result into the file key and a check value,
 * so a wrong passphrase (check differs) is told apart from a damaged file (check matches, GCM fails).
 * The check lets an attacker test a guess no faster than trying to decrypt would.
 */
async function deriveSealing(passphrase: string, salt: Uint8Array<ArrayBuffer>, iterations: number): Promise<Sealing> {
  const { key, check } = await derivePassphraseKeys(passphrase, salt, iterations, {
    encryption: INFO_ENCRYPTION,
    check: INFO_CHECK,
  });
  return { iterations, salt, check, key };
}

async function readIfExists(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** Readers see the old file or the new one, never half of either; the new file is 0600 from birth. */
async function writeAtomically(path: string, text: string): Promise<void> {
  const temporary = join(dirname(path), `.${basename(path)}.${toHex(randomBytes(6))}.tmp`);
  try {
    const handle = await open(temporary, 'wx', 0o600);
    try {
      await handle.chmod(0o600); // The umask cannot loosen it, whatever it is.
      await handle.writeFile(text, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporary, path);
  } catch (error) {
    await unlink(temporary).catch(() => undefined);
    throw error;
  }
  await syncDirectory(dirname(path));
}

/** Makes the rename durable on Linux; other platforms do not allow opening a directory, and need not. */
async function syncDirectory(directory: string): Promise<void> {
  try {
    const handle = await open(directory, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // Best effort: the data itself was synced before the rename.
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isJsonValue(value: unknown, depth: number): boolean {
  if (depth > MAX_RECORD_DEPTH) return false;
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return true;
  if (typeof value === 'number') return Number.isFinite(value);
  if (Array.isArray(value)) return value.every((item) => isJsonValue(item, depth + 1));
  if (typeof value !== 'object') return false;
  const prototype: unknown = Object.getPrototypeOf(value);
  if (prototype !== Object.prototype && prototype !== null) return false;
  return Object.values(value).every((item) => isJsonValue(item, depth + 1));
}

function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  let difference = a.length ^ b.length;
  for (let i = 0; i < a.length; i++) difference |= a[i]! ^ (b[i] ?? 0);
  return difference === 0;
}
