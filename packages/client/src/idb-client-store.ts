import { openDB, type DBSchema, type IDBPDatabase } from 'idb';
import type { ClientStore } from './client-store.js';

interface SealchatDb extends DBSchema {
  keys: { key: string; value: CryptoKeyPair };
  records: { key: string; value: unknown };
}

/**
 * The browser's {@link ClientStore}: IndexedDB through idb. CryptoKeys are stored by structured
 * clone, so private keys stay non-extractable on disk and in memory.
 */
export class IdbClientStore implements ClientStore {
  private constructor(private readonly db: IDBPDatabase<SealchatDb>) {}

  /** Opens (or creates) the database `name`. One per origin and role is the intended use. */
  static async open(name = 'sealchat'): Promise<IdbClientStore> {
    const db = await openDB<SealchatDb>(name, 1, {
      upgrade(database) {
        database.createObjectStore('keys');
        database.createObjectStore('records');
      },
    });
    return new IdbClientStore(db);
  }

  async getKeyPair(name: string): Promise<CryptoKeyPair | undefined> {
    return this.db.get('keys', name);
  }

  async putKeyPair(name: string, pair: CryptoKeyPair): Promise<void> {
    await this.db.put('keys', pair, name);
  }

  async deleteKeyPair(name: string): Promise<void> {
    await this.db.delete('keys', name);
  }

  async getRecord(key: string): Promise<unknown> {
    return this.db.get('records', key);
  }

  async putRecord(key: string, value: unknown): Promise<void> {
    await this.db.put('records', value, key);
  }

  async deleteRecord(key: string): Promise<void> {
    await this.db.delete('records', key);
  }

  close(): void {
    this.db.close();
  }
}
