/**
 * The little of IndexedDB the stores need, as promises: open with an upgrade, get, put, delete, and
 * an atomic get-or-put. (It replaces the idb library in the visitor's bundle, which the 32 KB budget
 * could not afford; idb stays a test dependency for reading raw records.) Writes resolve when their
 * transaction has committed, not merely when the request succeeded.
 */
export type StoreName = 'keys' | 'records' | 'meta';

function done<T>(request: IDBRequest<T>, transaction: IDBTransaction): Promise<T> {
  return new Promise((resolve, reject) => {
    transaction.oncomplete = () => resolve(request.result);
    transaction.onerror = transaction.onabort = () =>
      reject(transaction.error ?? request.error ?? new Error('IndexedDB aborted'));
  });
}

export class LiteDb {
  private constructor(private readonly _db: IDBDatabase) {}

  /** Opens `name` at `version`, running `upgrade` when the stored version is older. */
  static open(name: string, version: number, upgrade: (db: IDBDatabase, oldVersion: number) => void): Promise<LiteDb> {
    return new Promise((resolve, reject) => {
      const request = indexedDB.open(name, version);
      request.onupgradeneeded = (event) => upgrade(request.result, event.oldVersion);
      request.onsuccess = () => resolve(new LiteDb(request.result));
      request.onerror = () => reject(request.error ?? new Error(`IndexedDB ${name} did not open`));
      request.onblocked = () => reject(new Error(`IndexedDB ${name} is blocked by an older tab`));
    });
  }

  get(store: StoreName, key: string): Promise<unknown> {
    const transaction = this._db.transaction(store, 'readonly');
    return done(transaction.objectStore(store).get(key), transaction);
  }

  async put(store: StoreName, value: unknown, key: string): Promise<void> {
    const transaction = this._db.transaction(store, 'readwrite');
    await done(transaction.objectStore(store).put(value, key), transaction);
  }

  async delete(store: StoreName, key: string): Promise<void> {
    const transaction = this._db.transaction(store, 'readwrite');
    await done(transaction.objectStore(store).delete(key), transaction);
  }

  /** In one transaction: the value stored under `key`, or else `value`, stored there now. */
  getOrPut(store: StoreName, key: string, value: unknown): Promise<unknown> {
    const transaction = this._db.transaction(store, 'readwrite');
    const objects = transaction.objectStore(store);
    const request = objects.get(key);
    let result: unknown;
    request.onsuccess = () => {
      result = request.result ?? value;
      if (request.result === undefined) objects.put(value, key);
    };
    return done(request, transaction).then(() => result);
  }

  close(): void {
    this._db.close();
  }
}
