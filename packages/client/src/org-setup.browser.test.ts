import { describe, expect, it } from 'vitest';
import { openDB } from 'idb';
import { parseOrgKey, verifyRoster } from '@sealchat/protocol';
import { IdbClientStore } from './idb-client-store.js';
import { BackupPassphraseError } from './org-backup.js';
import { createOrganisation, loadOrganisation, restoreOrganisation } from './org-setup.js';

const PASSPHRASE = 'correct horse battery staple';
const freshName = (): string => `sealchat-test-${crypto.randomUUID()}`;

/** Everything in a database, read straight out of IndexedDB. */
async function dump(name: string): Promise<Record<string, unknown[]>> {
  const db = await openDB(name);
  try {
    const out: Record<string, unknown[]> = {};
    for (const store of db.objectStoreNames) out[store] = await db.getAllKeys(store);
    return out;
  } finally {
    db.close();
  }
}

describe('organisation setup in IndexedDB', () => {
  for (const keyForm of ['auto', 'wrapped'] as const) {
    it(`creates, reloads and restores elsewhere (${keyForm} key form)`, async () => {
      const first = freshName();
      const store = await IdbClientStore.open(first, { keyForm });
      const { organisation, backup } = await createOrganisation(store, { name: 'Acme', passphrase: PASSPHRASE });
      store.close();

      // A page reload: a new store instance finds the same organisation, its keys non-extractable.
      const reopened = await IdbClientStore.open(first, { keyForm });
      const loaded = await loadOrganisation(reopened);
      reopened.close();
      expect(loaded?.orgKey).toBe(organisation.orgKey);
      expect(loaded?.rootKey.privateKey.extractable).toBe(false);
      expect(loaded?.archive.privateKey.extractable).toBe(false);

      // Another browser: restore into an empty database.
      const second = await IdbClientStore.open(freshName(), { keyForm });
      const restored = await restoreOrganisation(second, backup.text, PASSPHRASE);
      second.close();
      expect(restored.orgKey).toBe(organisation.orgKey);
      await expect(crypto.subtle.exportKey('pkcs8', restored.rootKey.privateKey)).rejects.toThrow();
      const roster = await verifyRoster(restored.roster, {
        orgRootKey: await parseOrgKey(organisation.orgKey),
        now: Date.now(),
      });
      expect(roster.version).toBe(2);
    });
  }

  it('a wrong passphrase leaves the database empty', async () => {
    const source = await IdbClientStore.open(freshName());
    const { backup } = await createOrganisation(source, { name: 'Acme', passphrase: PASSPHRASE });
    source.close();
    const name = freshName();
    const target = await IdbClientStore.open(name);
    await expect(restoreOrganisation(target, backup.text, 'not the passphrase')).rejects.toBeInstanceOf(
      BackupPassphraseError,
    );
    target.close();
    expect(await dump(name)).toEqual({ keys: [], meta: [], records: [] });
  });
});
