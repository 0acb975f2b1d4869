import { MemoryKeyStore, fromHex, toHex, type KeyStore } from '@sealchat/protocol';
import { StoredStateError } from './errors.js';

/**
 * Everything a client keeps between page loads: its key pairs (as non-extractable CryptoKeys) and
 * small records. Records are parsed when read, so a corrupt or foreign value fails loudly here and
 * nowhere else.
 */
export interface ClientStore extends KeyStore {
  getRecord(key: string): Promise<unknown>;
  putRecord(key: string, value: unknown): Promise<void>;
  deleteRecord(key: string): Promise<void>;
}

/** In-memory store for tests and short-lived bots. */
export class MemoryClientStore extends MemoryKeyStore implements ClientStore {
  private readonly records = new Map<string, unknown>();

  getRecord(key: string): Promise<unknown> {
    return Promise.resolve(structuredClone(this.records.get(key)));
  }

  putRecord(key: string, value: unknown): Promise<void> {
    this.records.set(key, structuredClone(value));
    return Promise.resolve();
  }

  deleteRecord(key: string): Promise<void> {
    this.records.delete(key);
    return Promise.resolve();
  }
}

/** The visitor's handle on its conversation: the id and the capability the relay issued for it. */
export interface ConversationPointer {
  readonly conversationId: Uint8Array<ArrayBuffer>;
  readonly capability: Uint8Array<ArrayBuffer>;
}

export async function loadConversationPointer(
  store: ClientStore,
  orgId: Uint8Array,
): Promise<ConversationPointer | undefined> {
  const value = await store.getRecord(`conversation/${toHex(orgId)}`);
  if (value === undefined) return undefined;
  if (
    typeof value !== 'object' ||
    value === null ||
    typeof (value as Record<string, unknown>)['conversationId'] !== 'string' ||
    typeof (value as Record<string, unknown>)['capability'] !== 'string'
  ) {
    throw new StoredStateError('Stored conversation pointer is malformed');
  }
  const record = value as { conversationId: string; capability: string };
  try {
    return { conversationId: fromHex(record.conversationId), capability: fromHex(record.capability) };
  } catch {
    throw new StoredStateError('Stored conversation pointer is not hex');
  }
}

export function saveConversationPointer(
  store: ClientStore,
  orgId: Uint8Array,
  pointer: ConversationPointer,
): Promise<void> {
  return store.putRecord(`conversation/${toHex(orgId)}`, {
    conversationId: toHex(pointer.conversationId),
    capability: toHex(pointer.capability),
  });
}

/** The highest roster version accepted for an org; a relay offering a lower one is rolling back. */
export async function loadRosterVersion(store: ClientStore, orgId: Uint8Array): Promise<number> {
  const value = await store.getRecord(`roster-version/${toHex(orgId)}`);
  if (value === undefined) return 0;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new StoredStateError('Stored roster version is malformed');
  }
  return value;
}

export function saveRosterVersion(store: ClientStore, orgId: Uint8Array, version: number): Promise<void> {
  return store.putRecord(`roster-version/${toHex(orgId)}`, version);
}
