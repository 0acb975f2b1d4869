import {
  KEY_PAIR_USAGES,
  PUBLIC_KEY_LENGTH,
  fromBase64Url,
  keyPairMatches,
  loadOrCreateKeyPair,
  randomBytes,
  toBase64Url,
  utf8Encode,
  type KeyAlgorithm,
} from '@sealchat/protocol';
import type { ClientStore } from './client-store.js';
import { StoredStateError } from './errors.js';
import type { OrgBackupContents, OrgKeyBytes } from './org-backup.js';

/**
 * How this device keeps organisation keys it did not generate through its store.
 *
 * KeyStore has no put (docs/key-storage.md): a store keeps only pairs it generated itself. The root
 * and archive pairs of a recoverable organisation were generated outside it (extractable, for the
 * backup) or come from a backup file, so they are kept as a record instead, each private key
 * AES-256-GCM encrypted under a key derived from a store-generated X25519 "vault" pair (that pair's
 * agreement with itself, through HKDF-SHA-256). The store keeps the vault pair as it keeps any pair
 * (natively, wrapped, in a file), so this protects exactly as much as the store does. Loading uses
 * unwrapKey, which imports straight into non-extractable keys: the private key bytes do not pass
 * through JavaScript again after they were stored.
 */

/** Record and key names in the store. The keys record is written last and marks the store as holding an organisation. */
const KEYS_RECORD = 'org/keys';
const BACKUP_RECORD = 'org/backup';
const VAULT_PAIR = 'org-vault/agreement';
const FORMAT = 'sealchat-org-keys';
const VAULT_INFO = utf8Encode('sealchat/org-vault/v1');

/** The organisation's keys as this device loads them: non-extractable private keys. */
export interface StoredOrgKeys {
  readonly name: string;
  readonly createdAt: number;
  readonly root: CryptoKeyPair;
  readonly archive: CryptoKeyPair;
}

interface VaultEntry {
  readonly iv: Uint8Array<ArrayBuffer>;
  readonly wrapped: Uint8Array<ArrayBuffer>;
  readonly publicKey: Uint8Array<ArrayBuffer>;
}

interface KeysRecord {
  readonly name: string;
  readonly createdAt: number;
  readonly root: VaultEntry;
  readonly archive: VaultEntry;
}

/**
 * Any trace of an organisation in `store`: a recoverable one, or one `loadOrCreateOrganisation`
 * made (whose roster record would otherwise be read as the new organisation's).
 */
export async function holdsOrganisation(store: ClientStore): Promise<boolean> {
  const [keys, roster, root] = await Promise.all([
    store.getRecord(KEYS_RECORD),
    store.getRecord('org/roster'),
    store.getKeyPair('org-root/signing'),
  ]);
  return keys !== undefined || roster !== undefined || root !== undefined;
}

/**
 * Stores the pairs and the backup text. The vault pair first, then the backup, the keys record
 * last: an interrupted write leaves at most an unused vault pair and backup, and no organisation.
 * Does not zero the key bytes; the caller does.
 */
export async function storeOrgKeys(store: ClientStore, contents: OrgBackupContents, backupText: string): Promise<void> {
  const kek = await vaultKey(store, true);
  const seal = async (pair: OrgKeyBytes, slot: string) => {
    const iv = randomBytes(12);
    const wrapped = new Uint8Array(
      await crypto.subtle.encrypt({ name: 'AES-GCM', iv, additionalData: slotLabel(slot) }, kek, pair.pkcs8),
    );
    return { iv: toBase64Url(iv), wrapped: toBase64Url(wrapped), publicKey: toBase64Url(pair.publicKey) };
  };
  const record = {
    format: FORMAT,
    version: 1,
    name: contents.name,
    createdAt: contents.createdAt,
    root: await seal(contents.root, 'root'),
    archive: await seal(contents.archive, 'archive'),
  };
  await store.putRecord(BACKUP_RECORD, backupText);
  await store.putRecord(KEYS_RECORD, record);
}

/**
 * The stored pairs, private keys non-extractable; `undefined` when the store holds none.
 * @throws StoredStateError when the record is malformed, the vault pair is gone, or a key does not
 *   unwrap or match its public key.
 */
export async function loadOrgKeys(store: ClientStore): Promise<StoredOrgKeys | undefined> {
  const value = await store.getRecord(KEYS_RECORD);
  if (value === undefined) return undefined;
  const record = parseKeysRecord(value);
  const kek = await vaultKey(store, false);
  return {
    name: record.name,
    createdAt: record.createdAt,
    root: await unwrap(kek, record.root, 'root', 'Ed25519'),
    archive: await unwrap(kek, record.archive, 'archive', 'X25519'),
  };
}

/**
 * The backup text stored with the keys, and the name and date to label it with; `undefined` when
 * the store holds no organisation.
 * @throws StoredStateError when the records are malformed.
 */
export async function loadStoredBackup(
  store: ClientStore,
): Promise<{ name: string; createdAt: number; text: string } | undefined> {
  const [text, value] = await Promise.all([store.getRecord(BACKUP_RECORD), store.getRecord(KEYS_RECORD)]);
  if (text === undefined || value === undefined) return undefined;
  if (typeof text !== 'string') throw new StoredStateError('Stored organisation backup is malformed');
  const { name, createdAt } = parseKeysRecord(value);
  return { name, createdAt, text };
}

/** Binds each wrapped key to its slot, so the root and archive entries cannot be swapped. */
function slotLabel(slot: string): Uint8Array<ArrayBuffer> {
  return utf8Encode(`${FORMAT}/v1/${slot}`);
}

/** @throws StoredStateError when reading and the vault pair is gone. */
async function vaultKey(store: ClientStore, create: boolean): Promise<CryptoKey> {
  const pair = create ? await loadOrCreateKeyPair(store, VAULT_PAIR, 'X25519') : await store.getKeyPair(VAULT_PAIR);
  if (!pair) throw new StoredStateError('The organisation keys are stored, but the key that unlocks them is gone');
  const secret = new Uint8Array(
    await crypto.subtle.deriveBits({ name: 'X25519', public: pair.publicKey }, pair.privateKey, 256),
  );
  try {
    // The vault's private key may only deriveBits (KEY_PAIR_USAGES), so the secret passes through here.
    const master = await crypto.subtle.importKey('raw', secret, 'HKDF', false, ['deriveKey']);
    return await crypto.subtle.deriveKey(
      { name: 'HKDF', hash: 'SHA-256', salt: new Uint8Array(0), info: VAULT_INFO },
      master,
      { name: 'AES-GCM', length: 256 },
      false,
      ['encrypt', 'unwrapKey'],
    );
  } finally {
    secret.fill(0);
  }
}

/** @throws StoredStateError when the entry does not unwrap, import or match. */
async function unwrap(
  kek: CryptoKey,
  entry: VaultEntry,
  slot: string,
  algorithm: KeyAlgorithm,
): Promise<CryptoKeyPair> {
  const usages = KEY_PAIR_USAGES[algorithm];
  let pair: CryptoKeyPair;
  try {
    pair = {
      privateKey: await crypto.subtle.unwrapKey(
        'pkcs8',
        entry.wrapped,
        kek,
        { name: 'AES-GCM', iv: entry.iv, additionalData: slotLabel(slot) },
        { name: algorithm },
        false,
        [...usages.privateKey],
      ),
      publicKey: await crypto.subtle.importKey('raw', entry.publicKey, { name: algorithm }, true, [
        ...usages.publicKey,
      ]),
    };
  } catch {
    throw new StoredStateError(`Stored organisation ${slot} key does not unwrap`);
  }
  // GCM covers the private key only; the public key must still belong to it.
  if (!(await keyPairMatches(pair))) throw new StoredStateError(`Stored organisation ${slot} key is mismatched`);
  return pair;
}

function parseKeysRecord(value: unknown): KeysRecord {
  const malformed = (): StoredStateError => new StoredStateError('Stored organisation keys are malformed');
  if (typeof value !== 'object' || value === null) throw malformed();
  const v = value as Record<string, unknown>;
  const { name, createdAt } = v;
  if (v['format'] !== FORMAT || v['version'] !== 1 || typeof name !== 'string') throw malformed();
  if (typeof createdAt !== 'number' || !Number.isSafeInteger(createdAt)) throw malformed();
  const entry = (field: unknown): VaultEntry => {
    if (typeof field !== 'object' || field === null) throw malformed();
    const f = field as Record<string, unknown>;
    if (typeof f['iv'] !== 'string' || typeof f['wrapped'] !== 'string' || typeof f['publicKey'] !== 'string') {
      throw malformed();
    }
    let parsed: VaultEntry;
    try {
      parsed = {
        iv: fromBase64Url(f['iv']),
        wrapped: fromBase64Url(f['wrapped']),
        publicKey: fromBase64Url(f['publicKey']),
      };
    } catch {
      throw malformed();
    }
    if (parsed.iv.length !== 12 || parsed.publicKey.length !== PUBLIC_KEY_LENGTH) throw malformed();
    return parsed;
  };
  return { name, createdAt, root: entry(v['root']), archive: entry(v['archive']) };
}
