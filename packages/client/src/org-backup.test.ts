import { describe, expect, it } from 'vitest';
import {
  exportPublicKey,
  fromBase64Url,
  hpkeOpen,
  hpkeSeal,
  parseOrgKey,
  sha256,
  concatBytes,
  toBase64Url,
  utf8Encode,
  verifyRoster,
  ByteWriter,
  generateSigningKeyPair,
  formatOrgKey,
  type KeyAlgorithm,
} from '@sealchat/protocol';
import { MemoryClientStore } from './client-store.js';
import {
  BackupCorruptError,
  BackupPassphraseError,
  BackupVersionError,
  MIN_BACKUP_ITERATIONS,
  WeakPassphraseError,
  openOrgBackup,
} from './org-backup.js';
import {
  OrganisationExistsError,
  createOrganisation,
  loadBackupFile,
  loadOrganisation,
  restoreOrganisation,
} from './org-setup.js';
import { loadOrCreateOrganisation } from './organisation-bootstrap.js';
import { StoredStateError } from './errors.js';

const PASSPHRASE = 'correct horse battery staple';

/** A MemoryClientStore that counts every write, to show that a failed restore stored nothing. */
class WatchedStore extends MemoryClientStore {
  writes = 0;
  override putRecord(key: string, value: unknown): Promise<void> {
    this.writes++;
    return super.putRecord(key, value);
  }
  override deleteRecord(key: string): Promise<void> {
    this.writes++;
    return super.deleteRecord(key);
  }
  override generateKeyPair(name: string, algorithm: KeyAlgorithm): Promise<CryptoKeyPair> {
    this.writes++;
    return super.generateKeyPair(name, algorithm);
  }
  override deleteKeyPair(name: string): Promise<void> {
    this.writes++;
    return super.deleteKeyPair(name);
  }
}

type BackupJson = {
  format: string;
  version: number;
  orgKey: string;
  kdf: { name: string; iterations: number; salt: string };
  check: string;
  cipher: { name: string; iv: string };
  ciphertext: string;
  checksum: string;
};

/** The header encoding from org-backup.ts, rebuilt here as an attacker who edits the file would. */
async function withFixedChecksum(file: BackupJson): Promise<string> {
  const header = new ByteWriter()
    .string(file.format)
    .u32(file.version)
    .string(file.orgKey)
    .string(file.kdf.name)
    .u32(file.kdf.iterations)
    .bytes(fromBase64Url(file.kdf.salt))
    .bytes(fromBase64Url(file.check))
    .string(file.cipher.name)
    .bytes(fromBase64Url(file.cipher.iv))
    .finish();
  const checksum = await sha256(concatBytes(header, fromBase64Url(file.ciphertext)));
  return JSON.stringify({ ...file, checksum: toBase64Url(checksum) });
}

// One organisation and backup for the whole file: each PBKDF2 run at 600,000 iterations costs ~0.2-0.3 s.
const source = new MemoryClientStore();
const created = await createOrganisation(source, { name: 'Acme Support', passphrase: PASSPHRASE });
const backup = created.backup.text;
const parsed = JSON.parse(backup) as BackupJson;

async function expectNothingStored(
  attempt: (store: WatchedStore) => Promise<unknown>,
  error: new (...args: never[]) => Error,
  message?: RegExp,
) {
  const store = new WatchedStore();
  const failure = attempt(store);
  await expect(failure).rejects.toBeInstanceOf(error);
  if (message) await expect(failure).rejects.toThrow(message);
  expect(store.writes).toBe(0);
  expect(await loadOrganisation(store)).toBeUndefined();
}

describe('organisation backup: creation', () => {
  it('writes a versioned file: PBKDF2-SHA-256 at 600,000 iterations, AES-256-GCM, the org key in clear', () => {
    expect(parsed).toMatchObject({
      format: 'sealchat-org-backup',
      version: 1,
      orgKey: created.organisation.orgKey,
      kdf: { name: 'PBKDF2-SHA-256', iterations: MIN_BACKUP_ITERATIONS },
      cipher: { name: 'AES-256-GCM' },
    });
    expect(fromBase64Url(parsed.kdf.salt)).toHaveLength(16);
    expect(fromBase64Url(parsed.cipher.iv)).toHaveLength(12);
    expect(created.backup.fileName).toMatch(/^sealchat-org-acme-support-\d{4}-\d{2}-\d{2}\.json$/);
    // The name is inside the ciphertext only.
    expect(backup).not.toContain('Acme');
  });

  it('keeps only non-extractable private keys on the creating device', async () => {
    const org = created.organisation;
    for (const key of [org.rootKey.privateKey, org.archive.privateKey]) {
      expect(key.extractable).toBe(false);
      await expect(crypto.subtle.exportKey('pkcs8', key)).rejects.toThrow();
    }
  });

  it('loads the same organisation again, and keeps the backup to save again', async () => {
    const again = await loadOrganisation(source);
    expect(again?.orgKey).toBe(created.organisation.orgKey);
    expect(again?.rosterVersion).toBe(1);
    expect(again?.name).toBe('Acme Support');
    expect(await loadBackupFile(source)).toEqual(created.backup);
  });

  it('refuses a short passphrase, a bad name and fewer iterations, storing nothing', async () => {
    await expectNothingStored(
      (store) => createOrganisation(store, { name: 'Acme', passphrase: 'short-11chr' }),
      WeakPassphraseError,
    );
    await expectNothingStored((store) => createOrganisation(store, { name: ' ', passphrase: PASSPHRASE }), TypeError);
    await expectNothingStored(
      (store) => createOrganisation(store, { name: 'Acme', passphrase: PASSPHRASE, iterations: 599_999 }),
      TypeError,
    );
  });

  it('refuses to create a second organisation in a store that holds one', async () => {
    await expect(createOrganisation(source, { name: 'Other', passphrase: PASSPHRASE })).rejects.toBeInstanceOf(
      OrganisationExistsError,
    );
    const legacy = new MemoryClientStore();
    await loadOrCreateOrganisation(legacy);
    await expect(createOrganisation(legacy, { name: 'Other', passphrase: PASSPHRASE })).rejects.toBeInstanceOf(
      OrganisationExistsError,
    );
  });
});

describe('organisation backup: restore', () => {
  it('restores on a fresh store: same org key, non-extractable keys, a roster above the backup that verifies', async () => {
    const store = new MemoryClientStore();
    const restored = await restoreOrganisation(store, backup, PASSPHRASE);
    expect(restored.orgKey).toBe(created.organisation.orgKey);
    expect(restored.name).toBe('Acme Support');
    expect(restored.rootKey.privateKey.extractable).toBe(false);
    expect(restored.archive.privateKey.extractable).toBe(false);
    await expect(crypto.subtle.exportKey('pkcs8', restored.rootKey.privateKey)).rejects.toThrow();
    await expect(crypto.subtle.exportKey('pkcs8', restored.archive.privateKey)).rejects.toThrow();

    // The restored root certified a new supervisor and signed a roster above the backup's: it verifies
    // under the pinned key, and is no rollback from the backup's version.
    const roster = await verifyRoster(restored.roster, {
      orgRootKey: await parseOrgKey(created.organisation.orgKey),
      now: Date.now(),
    });
    expect(roster.version).toBeGreaterThan(created.organisation.rosterVersion);
    expect(roster.signedByRoot).toBe(true);
    expect(roster.version).toBe(2);
    expect(roster.archive?.agreementPublic).toEqual(await exportPublicKey(created.organisation.archive.publicKey));

    // The restored archive key opens what was shared to the original one.
    const info = utf8Encode('test');
    const sealed = await hpkeSeal(roster.archive!.agreementPublic, utf8Encode('history'), info, info);
    expect(await hpkeOpen(restored.archive, sealed, info, info)).toEqual(utf8Encode('history'));

    // And it loads again from the store alone, without the passphrase.
    expect((await loadOrganisation(store))?.orgKey).toBe(restored.orgKey);
  });

  it('a wrong passphrase is BackupPassphraseError, and nothing is stored', async () => {
    await expectNothingStored(
      (store) => restoreOrganisation(store, backup, 'correct horse battery stapler'),
      BackupPassphraseError,
      /Wrong passphrase/,
    );
    await expectNothingStored((store) => restoreOrganisation(store, backup, ''), BackupPassphraseError);
  });

  it('any flipped byte of the ciphertext, salt, iv, check or checksum is BackupCorruptError, and nothing is stored', async () => {
    const fields: [string, (f: BackupJson) => string, (f: BackupJson, v: string) => BackupJson][] = [
      ['ciphertext', (f) => f.ciphertext, (f, v) => ({ ...f, ciphertext: v })],
      ['salt', (f) => f.kdf.salt, (f, v) => ({ ...f, kdf: { ...f.kdf, salt: v } })],
      ['iv', (f) => f.cipher.iv, (f, v) => ({ ...f, cipher: { ...f.cipher, iv: v } })],
      ['check', (f) => f.check, (f, v) => ({ ...f, check: v })],
      ['checksum', (f) => f.checksum, (f, v) => ({ ...f, checksum: v })],
    ];
    const store = new WatchedStore();
    let flips = 0;
    for (const [, get, set] of fields) {
      const bytes = fromBase64Url(get(parsed));
      for (let i = 0; i < bytes.length; i++) {
        const flipped = bytes.slice();
        flipped[i]! ^= 1 << (i % 8);
        const text = JSON.stringify(set(parsed, toBase64Url(flipped)));
        await expect(restoreOrganisation(store, text, PASSPHRASE)).rejects.toThrow(/checksum does not match/);
        flips++;
      }
    }
    expect(flips).toBeGreaterThan(200);
    expect(store.writes).toBe(0);
  });

  it('a tampered ciphertext or header with a recomputed checksum fails AES-GCM: BackupCorruptError', async () => {
    const ciphertext = fromBase64Url(parsed.ciphertext);
    for (const i of [0, Math.floor(ciphertext.length / 2), ciphertext.length - 1]) {
      const flipped = ciphertext.slice();
      flipped[i]! ^= 0x80;
      const text = await withFixedChecksum({ ...parsed, ciphertext: toBase64Url(flipped) });
      await expectNothingStored(
        (store) => restoreOrganisation(store, text, PASSPHRASE),
        BackupCorruptError,
        /integrity check/,
      );
    }
    // The org key in clear is authenticated too: pointing the file at another organisation fails.
    const other = await formatOrgKey(await exportPublicKey((await generateSigningKeyPair()).publicKey));
    const text = await withFixedChecksum({ ...parsed, orgKey: other });
    await expectNothingStored(
      (store) => restoreOrganisation(store, text, PASSPHRASE),
      BackupCorruptError,
      /integrity check/,
    );
  });

  it('truncated or non-backup text is BackupCorruptError, and nothing is stored', async () => {
    for (const length of [0, 1, 40, Math.floor(backup.length / 2), backup.length - 3]) {
      await expectNothingStored(
        (store) => restoreOrganisation(store, backup.slice(0, length), PASSPHRASE),
        BackupCorruptError,
      );
    }
    for (const text of ['null', '[]', '{}', '{"format":"sealchat-client-store","version":1}', 'x'.repeat(70_000)]) {
      await expectNothingStored((store) => restoreOrganisation(store, text, PASSPHRASE), BackupCorruptError);
    }
    const withoutCiphertext: Partial<BackupJson> = { ...parsed };
    delete withoutCiphertext.ciphertext;
    await expectNothingStored(
      (store) => restoreOrganisation(store, JSON.stringify(withoutCiphertext), PASSPHRASE),
      BackupCorruptError,
    );
  });

  it('refuses fewer than 600,000 iterations (before any key derivation), and more than the maximum', async () => {
    const weakened = await withFixedChecksum({ ...parsed, kdf: { ...parsed.kdf, iterations: 599_999 } });
    const started = performance.now();
    await expect(openOrgBackup(weakened, PASSPHRASE)).rejects.toThrow(/refuses fewer than 600000/);
    expect(performance.now() - started).toBeLessThan(100);
    await expectNothingStored((store) => restoreOrganisation(store, weakened, PASSPHRASE), BackupCorruptError);
    const stalling = await withFixedChecksum({ ...parsed, kdf: { ...parsed.kdf, iterations: 2_000_000_000 } });
    await expectNothingStored((store) => restoreOrganisation(store, stalling, PASSPHRASE), BackupCorruptError);
  });

  it('an unknown version or algorithm is BackupVersionError, and nothing is stored', async () => {
    for (const file of [
      { ...parsed, version: 2 },
      { ...parsed, version: '1' },
      { ...parsed, kdf: { ...parsed.kdf, name: 'scrypt' } },
      { ...parsed, cipher: { ...parsed.cipher, name: 'AES-128-CBC' } },
    ]) {
      await expectNothingStored(
        (store) => restoreOrganisation(store, JSON.stringify(file), PASSPHRASE),
        BackupVersionError,
      );
    }
  });

  it('refuses to restore into a store that already holds an organisation', async () => {
    await expect(restoreOrganisation(source, backup, PASSPHRASE)).rejects.toBeInstanceOf(OrganisationExistsError);
  });
});

describe('organisation keys at rest', () => {
  it('a tampered keys record or a lost vault key is StoredStateError, never a half-loaded organisation', async () => {
    const store = new MemoryClientStore();
    await restoreOrganisation(store, backup, PASSPHRASE);
    const record = (await store.getRecord('org/keys')) as { root: { wrapped: string } };
    const wrapped = fromBase64Url(record.root.wrapped);
    wrapped[0]! ^= 1;
    await store.putRecord('org/keys', { ...record, root: { ...record.root, wrapped: toBase64Url(wrapped) } });
    await expect(loadOrganisation(store)).rejects.toBeInstanceOf(StoredStateError);
    await store.putRecord('org/keys', { ...record, archive: record.root });
    await expect(loadOrganisation(store)).rejects.toBeInstanceOf(StoredStateError);
    await store.putRecord('org/keys', record);
    await store.deleteKeyPair('org-vault/agreement');
    await expect(loadOrganisation(store)).rejects.toBeInstanceOf(StoredStateError);
  });
});
