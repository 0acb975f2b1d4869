import {
  ByteReader,
  ByteWriter,
  KEY_PAIR_USAGES,
  PUBLIC_KEY_LENGTH,
  SealchatError,
  bytesEqual,
  concatBytes,
  formatOrgKey,
  fromBase64Url,
  keyPairMatches,
  parseOrgKey,
  randomBytes,
  sha256,
  toBase64Url,
  utf8Encode,
  type KeyAlgorithm,
} from '@sealchat/protocol';
import { derivePassphraseKeys } from './passphrase-key.js';

/**
 * The organisation backup file: the root and archive private keys and what a supervisor needs
 * besides, encrypted under a passphrase (PBKDF2-SHA-256 → HKDF-SHA-256 → AES-256-GCM), in a
 * versioned JSON envelope. docs/org-setup.md specifies the format and what it protects against.
 */

/** OWASP's 2023 floor for PBKDF2-HMAC-SHA-256. A new backup uses at least this; an older file asking for fewer is refused. */
export const MIN_BACKUP_ITERATIONS = 600_000;
/** Shortest passphrase, in Unicode code points after NFC, that a new backup accepts. */
export const MIN_PASSPHRASE_LENGTH = 12;
/** Longest organisation name, in code points. */
export const MAX_ORG_NAME_LENGTH = 100;

const FORMAT = 'sealchat-org-backup';
const VERSION = 1;
const KDF = 'PBKDF2-SHA-256';
const CIPHER = 'AES-256-GCM';
const INFO_ENCRYPTION = utf8Encode('sealchat/org-backup/v1/encryption');
const INFO_CHECK = utf8Encode('sealchat/org-backup/v1/check');
const DEFAULT_MAX_ITERATIONS = 10_000_000;
const DEFAULT_MAX_BACKUP_CHARS = 64 * 1024;
const MAX_PKCS8_BYTES = 256;

/** The passphrase does not open the backup. Nothing was stored. */
export class BackupPassphraseError extends SealchatError {
  constructor(message = 'Wrong passphrase for this backup') {
    super('SEALCHAT_E_BACKUP_PASSPHRASE', message);
  }
}

/** The backup is damaged, truncated, altered, weakened, or not a Sealchat organisation backup. Nothing was stored. */
export class BackupCorruptError extends SealchatError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('SEALCHAT_E_BACKUP_CORRUPT', message, options);
  }
}

/** The backup is of a format version, key derivation or cipher this version does not read. Nothing was stored. */
export class BackupVersionError extends SealchatError {
  constructor(message: string) {
    super('SEALCHAT_E_BACKUP_VERSION', message);
  }
}

/** A new backup's passphrase is shorter than {@link MIN_PASSPHRASE_LENGTH}. */
export class WeakPassphraseError extends SealchatError {
  constructor(message = `Choose a passphrase of at least ${MIN_PASSPHRASE_LENGTH} characters`) {
    super('SEALCHAT_E_WEAK_PASSPHRASE', message);
  }
}

/** A key pair as bytes, only ever on its way into or out of the encrypted backup. */
export interface OrgKeyBytes {
  /** PKCS#8. Whoever holds these zeroes them as soon as they are sealed or imported. */
  readonly pkcs8: Uint8Array<ArrayBuffer>;
  readonly publicKey: Uint8Array<ArrayBuffer>;
}

/** What the ciphertext holds. */
export interface OrgBackupContents {
  readonly name: string;
  /** ms since the epoch. */
  readonly createdAt: number;
  /** The highest roster version the organisation had issued when the backup was made. */
  readonly rosterVersion: number;
  readonly root: OrgKeyBytes;
  readonly archive: OrgKeyBytes;
}

export interface SealOrgBackupOptions {
  /** PBKDF2 iterations. Default and minimum {@link MIN_BACKUP_ITERATIONS}; at most 10,000,000. */
  readonly iterations?: number;
}

export interface OpenOrgBackupOptions {
  /** A backup asking for more PBKDF2 iterations is refused as corrupt, not left to stall the page. Default 10,000,000. */
  readonly maxIterations?: number;
  /** A longer text is refused as corrupt before it is parsed. Default 65,536 characters; a backup is about 1 KB. */
  readonly maxBackupChars?: number;
}

/**
 * Generates a pair extractable, exports it and drops the CryptoKey objects: the one place where an
 * organisation key is extractable, so that it can go into the backup.
 */
export async function generateExportablePair(algorithm: KeyAlgorithm): Promise<OrgKeyBytes> {
  const usages = KEY_PAIR_USAGES[algorithm];
  const pair = (await crypto.subtle.generateKey({ name: algorithm }, true, [
    ...usages.privateKey,
    ...usages.publicKey,
  ])) as CryptoKeyPair;
  return {
    pkcs8: new Uint8Array(await crypto.subtle.exportKey('pkcs8', pair.privateKey)),
    publicKey: new Uint8Array(await crypto.subtle.exportKey('raw', pair.publicKey)),
  };
}

/**
 * Encrypts `contents` into backup text. Does not zero the key bytes: the caller still stores them.
 * @returns the JSON text and the org key it is for.
 * @throws WeakPassphraseError for a passphrase under {@link MIN_PASSPHRASE_LENGTH} characters.
 * @throws TypeError for iterations out of range or a name {@link checkOrgName} refuses.
 */
export async function sealOrgBackup(
  contents: OrgBackupContents,
  passphrase: string,
  options: SealOrgBackupOptions = {},
): Promise<{ orgKey: string; text: string }> {
  const iterations = options.iterations ?? MIN_BACKUP_ITERATIONS;
  if (!Number.isSafeInteger(iterations) || iterations < MIN_BACKUP_ITERATIONS || iterations > DEFAULT_MAX_ITERATIONS) {
    throw new TypeError(
      `iterations must be an integer from ${MIN_BACKUP_ITERATIONS} to ${DEFAULT_MAX_ITERATIONS}, got ${iterations}`,
    );
  }
  checkPassphraseStrength(passphrase);
  const name = checkOrgName(contents.name);
  const orgKey = await formatOrgKey(contents.root.publicKey);
  const salt = randomBytes(16);
  const iv = randomBytes(12);
  const { key, check } = await deriveBackupKeys(passphrase, salt, iterations);
  const header = backupHeader({ orgKey, iterations, salt, check, iv });
  const plaintext = new ByteWriter()
    .string(name)
    .u64(contents.createdAt)
    .u64(contents.rosterVersion)
    .bytes(contents.root.pkcs8)
    .fixed(contents.root.publicKey, PUBLIC_KEY_LENGTH)
    .bytes(contents.archive.pkcs8)
    .fixed(contents.archive.publicKey, PUBLIC_KEY_LENGTH)
    .finish();
  let ciphertext: Uint8Array<ArrayBuffer>;
  try {
    ciphertext = new Uint8Array(
      await crypto.subtle.encrypt({ name: 'AES-GCM', iv, additionalData: header }, key, plaintext),
    );
  } finally {
    plaintext.fill(0);
  }
  const checksum = await sha256(concatBytes(header, ciphertext));
  const file = {
    format: FORMAT,
    version: VERSION,
    orgKey,
    kdf: { name: KDF, iterations, salt: toBase64Url(salt) },
    check: toBase64Url(check),
    cipher: { name: CIPHER, iv: toBase64Url(iv) },
    ciphertext: toBase64Url(ciphertext),
    checksum: toBase64Url(checksum),
  };
  return { orgKey, text: `${JSON.stringify(file, null, 2)}\n` };
}

/**
 * Parses, decrypts and checks a backup: every field typed and sized; the checksum first, so a
 * damaged file is reported as damaged rather than as a wrong passphrase; then the passphrase
 * check; then AES-GCM, which authenticates the whole file; then the keys are imported
 * (non-extractable) and must be the org key the file names and match their public halves. The
 * caller zeroes the returned key bytes once it has stored them.
 * @throws BackupCorruptError when the text is too long, not a backup, truncated, damaged, altered,
 *   asks for fewer than 600,000 or more than `maxIterations` iterations, or holds keys that do not
 *   import or match.
 * @throws BackupVersionError for an unknown format version, key derivation or cipher.
 * @throws BackupPassphraseError for a missing or wrong passphrase.
 */
export async function openOrgBackup(
  text: string,
  passphrase: string,
  options: OpenOrgBackupOptions = {},
): Promise<{ orgKey: string; contents: OrgBackupContents }> {
  const maxChars = options.maxBackupChars ?? DEFAULT_MAX_BACKUP_CHARS;
  if (typeof text !== 'string' || text.length > maxChars) {
    throw new BackupCorruptError(`A backup is a text file of at most ${maxChars} characters`);
  }
  const file = parseBackupFile(text, options.maxIterations ?? DEFAULT_MAX_ITERATIONS);
  const header = backupHeader(file);
  if (!bytesEqual(await sha256(concatBytes(header, file.ciphertext)), file.checksum)) {
    throw new BackupCorruptError('This backup is damaged: its checksum does not match its contents');
  }
  let orgRoot: Uint8Array<ArrayBuffer>;
  try {
    orgRoot = await parseOrgKey(file.orgKey);
  } catch (cause) {
    throw new BackupCorruptError('The org key in this backup is malformed', { cause });
  }
  if (typeof passphrase !== 'string' || passphrase.length === 0) {
    throw new BackupPassphraseError('Enter the passphrase for this backup');
  }
  const { key, check } = await deriveBackupKeys(passphrase, file.salt, file.iterations);
  if (!constantTimeEqual(check, file.check)) throw new BackupPassphraseError();
  let plaintext: Uint8Array<ArrayBuffer>;
  try {
    plaintext = new Uint8Array(
      await crypto.subtle.decrypt({ name: 'AES-GCM', iv: file.iv, additionalData: header }, key, file.ciphertext),
    );
  } catch {
    throw new BackupCorruptError('This backup fails its integrity check: it was damaged or altered');
  }
  let contents: OrgBackupContents;
  try {
    const r = new ByteReader(plaintext);
    const name = r.string(4 * MAX_ORG_NAME_LENGTH);
    const createdAt = r.u64();
    const rosterVersion = r.u64();
    const root = { pkcs8: r.bytes(MAX_PKCS8_BYTES), publicKey: r.fixed(PUBLIC_KEY_LENGTH) };
    const archive = { pkcs8: r.bytes(MAX_PKCS8_BYTES), publicKey: r.fixed(PUBLIC_KEY_LENGTH) };
    r.end();
    contents = { name: checkOrgName(name), createdAt, rosterVersion, root, archive };
  } catch (cause) {
    throw new BackupCorruptError('The contents of this backup do not parse', { cause });
  } finally {
    plaintext.fill(0);
  }
  try {
    await checkKeys(contents, orgRoot);
  } catch (error) {
    contents.root.pkcs8.fill(0);
    contents.archive.pkcs8.fill(0);
    throw error;
  }
  return { orgKey: file.orgKey, contents };
}

/**
 * Trims and NFC-normalises an organisation name.
 * @throws TypeError when it is empty, longer than {@link MAX_ORG_NAME_LENGTH} or holds control characters.
 */
export function checkOrgName(name: unknown): string {
  if (typeof name !== 'string') throw new TypeError('name must be a string');
  const trimmed = name.trim().normalize('NFC');
  const length = codePoints(trimmed);
  if (length === 0 || length > MAX_ORG_NAME_LENGTH || /\p{Cc}/u.test(trimmed)) {
    throw new TypeError(`name must be 1 to ${MAX_ORG_NAME_LENGTH} characters without control characters`);
  }
  return trimmed;
}

/**
 * The floor is length only: it stops the empty and the trivially short. Length is what raises the
 * cost of each guess for an attacker holding the file; docs/org-setup.md says what to choose.
 * @throws WeakPassphraseError
 */
export function checkPassphraseStrength(passphrase: unknown): void {
  if (typeof passphrase !== 'string' || codePoints(passphrase.normalize('NFC')) < MIN_PASSPHRASE_LENGTH) {
    throw new WeakPassphraseError();
  }
}

interface ParsedBackupFile {
  readonly orgKey: string;
  readonly iterations: number;
  readonly salt: Uint8Array<ArrayBuffer>;
  readonly check: Uint8Array<ArrayBuffer>;
  readonly iv: Uint8Array<ArrayBuffer>;
  readonly ciphertext: Uint8Array<ArrayBuffer>;
  readonly checksum: Uint8Array<ArrayBuffer>;
}

/**
 * Everything outside the ciphertext, in one canonical encoding: the AES-GCM additional data (so no
 * field can be changed without decryption failing) and, followed by the ciphertext, what the
 * checksum covers.
 */
function backupHeader(file: Omit<ParsedBackupFile, 'ciphertext' | 'checksum'>): Uint8Array<ArrayBuffer> {
  return new ByteWriter()
    .string(FORMAT)
    .u32(VERSION)
    .string(file.orgKey)
    .string(KDF)
    .u32(file.iterations)
    .bytes(file.salt)
    .bytes(file.check)
    .string(CIPHER)
    .bytes(file.iv)
    .finish();
}

/** @throws BackupCorruptError, BackupVersionError */
function parseBackupFile(text: string, maxIterations: number): ParsedBackupFile {
  const notABackup = (): BackupCorruptError =>
    new BackupCorruptError('This file is not a Sealchat organisation backup, or it is truncated');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw notABackup();
  }
  if (!isObject(value) || value['format'] !== FORMAT) throw notABackup();
  const version = value['version'];
  if (version !== VERSION) {
    throw new BackupVersionError(
      typeof version === 'number' && version > VERSION
        ? `This backup was made by a newer version of Sealchat (format version ${version}); update Sealchat to restore it`
        : `Backup format version ${String(version)} is not one this version of Sealchat reads`,
    );
  }
  const { kdf, cipher } = value;
  if (!isObject(kdf) || !isObject(cipher)) throw notABackup();
  if (kdf['name'] !== KDF || cipher['name'] !== CIPHER) {
    throw new BackupVersionError(
      `This backup uses ${String(kdf['name'])} with ${String(cipher['name'])}; Sealchat reads ${KDF} with ${CIPHER}`,
    );
  }
  const iterations = kdf['iterations'];
  if (typeof iterations !== 'number' || !Number.isSafeInteger(iterations)) throw notABackup();
  if (iterations < MIN_BACKUP_ITERATIONS) {
    throw new BackupCorruptError(
      `This backup asks for ${iterations} PBKDF2 iterations; Sealchat refuses fewer than ${MIN_BACKUP_ITERATIONS} (the file was weakened, or not made by Sealchat)`,
    );
  }
  if (iterations > maxIterations) {
    throw new BackupCorruptError(`This backup asks for ${iterations} PBKDF2 iterations, more than ${maxIterations}`);
  }
  const bytes = (field: unknown, length?: number): Uint8Array<ArrayBuffer> => {
    if (typeof field !== 'string') throw notABackup();
    let decoded: Uint8Array<ArrayBuffer>;
    try {
      decoded = fromBase64Url(field);
    } catch {
      throw notABackup();
    }
    if (length !== undefined && decoded.length !== length) throw notABackup();
    return decoded;
  };
  if (typeof value['orgKey'] !== 'string') throw notABackup();
  return {
    orgKey: value['orgKey'],
    iterations,
    salt: bytes(kdf['salt'], 16),
    check: bytes(value['check'], 32),
    iv: bytes(cipher['iv'], 12),
    ciphertext: bytes(value['ciphertext']),
    checksum: bytes(value['checksum'], 32),
  };
}

/** @throws BackupCorruptError unless both pairs import and match, and the root is `orgRoot`. */
async function checkKeys(contents: OrgBackupContents, orgRoot: Uint8Array<ArrayBuffer>): Promise<void> {
  const root = await importPair(contents.root, 'Ed25519');
  const archive = await importPair(contents.archive, 'X25519');
  if (!root || !archive) throw new BackupCorruptError('The keys in this backup do not import');
  if (!bytesEqual(contents.root.publicKey, orgRoot)) {
    throw new BackupCorruptError('The root key in this backup is not the organisation key it names');
  }
  if (!(await keyPairMatches(root)) || !(await keyPairMatches(archive))) {
    throw new BackupCorruptError('A private key in this backup does not match its public key');
  }
}

async function importPair(pair: OrgKeyBytes, algorithm: KeyAlgorithm): Promise<CryptoKeyPair | undefined> {
  const usages = KEY_PAIR_USAGES[algorithm];
  try {
    return {
      privateKey: await crypto.subtle.importKey('pkcs8', pair.pkcs8, { name: algorithm }, false, [
        ...usages.privateKey,
      ]),
      publicKey: await crypto.subtle.importKey('raw', pair.publicKey, { name: algorithm }, true, [...usages.publicKey]),
    };
  } catch {
    return undefined;
  }
}

/**
 * PBKDF2 stretches the passphrase once; HKDF splits the result into the AES-256-GCM key and a
 * check value, so a wrong passphrase (check differs) is told apart from a damaged file. The check
 * lets an attacker test a guess no faster than a trial decryption would. The Node key file uses
 * the same construction under other labels (docs/key-storage.md).
 */
function deriveBackupKeys(
  passphrase: string,
  salt: Uint8Array<ArrayBuffer>,
  iterations: number,
): Promise<{ key: CryptoKey; check: Uint8Array<ArrayBuffer> }> {
  return derivePassphraseKeys(passphrase, salt, iterations, { encryption: INFO_ENCRYPTION, check: INFO_CHECK });
}

/** Length in code points: what a person counts as characters, near enough for a floor (an emoji sequence counts as several). */
function codePoints(text: string): number {
  return Array.from(text).length;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** For secrets: no early exit. */
function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  let difference = a.length ^ b.length;
  for (let i = 0; i < a.length; i++) difference |= a[i]! ^ (b[i] ?? 0);
  return difference === 0;
}
