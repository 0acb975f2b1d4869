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

/**
 * In-memory store for tests and short-lived bots. Key pairs are generated non-extractable (see
 * {@link MemoryKeyStore}); records are structured-cloned in and out, so callers cannot alias them.
 */
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

export function deleteConversationPointer(store: ClientStore, orgId: Uint8Array): Promise<void> {
  return store.deleteRecord(`conversation/${toHex(orgId)}`);
}

/** The highest roster accepted for an org: its version and digest. A lower version is a rollback; the same version with another digest is a fork. */
export interface RosterMark {
  readonly version: number;
  readonly digest: Uint8Array<ArrayBuffer> | undefined;
}

export async function loadRosterMark(store: ClientStore, orgId: Uint8Array): Promise<RosterMark> {
  const value = await store.getRecord(`roster/${toHex(orgId)}`);
  if (value === undefined) return { version: 0, digest: undefined };
  const v = value as Record<string, unknown>;
  if (
    typeof value !== 'object' ||
    value === null ||
    typeof v['version'] !== 'number' ||
    !Number.isSafeInteger(v['version']) ||
    v['version'] < 0 ||
    typeof v['digest'] !== 'string'
  ) {
    throw new StoredStateError('Stored roster mark is malformed');
  }
  try {
    return { version: v['version'], digest: fromHex(v['digest']) };
  } catch {
    throw new StoredStateError('Stored roster digest is not hex');
  }
}

export function saveRosterMark(
  store: ClientStore,
  orgId: Uint8Array,
  mark: { version: number; digest: Uint8Array },
): Promise<void> {
  return store.putRecord(`roster/${toHex(orgId)}`, { version: mark.version, digest: toHex(mark.digest) });
}

/** One sender's place in a conversation's transcript: the senderSeq and digest (hex) of an envelope. */
export interface TranscriptHead {
  readonly senderSeq: number;
  readonly digest: string;
}

/**
 * What a device keeps of one conversation's transcript between loads (docs/protocol.md §7-8): its
 * own head, so it never reuses a number when the relay withholds its last envelopes; and how far
 * it held every other sender's envelopes, so a relay that trims the tail between loads is caught.
 */
export interface TranscriptMark {
  readonly own: TranscriptHead | undefined;
  /** By sender device id (hex). */
  readonly seen: ReadonlyMap<string, TranscriptHead>;
  /** An agent's pin of the conversation's visitor, from its opening record (hex keys). */
  readonly visitor?: PinnedVisitor | undefined;
}

/** The visitor a conversation opened with, as an agent device pinned it (docs/protocol.md §8 step 4). */
export interface PinnedVisitor {
  readonly deviceId: string;
  readonly signingPublic: string;
  readonly agreementPublic: string;
}

function parseVisitor(value: unknown): PinnedVisitor {
  const v = value as Record<string, unknown>;
  const hex = (field: string, length: number) =>
    typeof v[field] === 'string' && new RegExp(`^[0-9a-f]{${length * 2}}$`).test(v[field]);
  if (
    typeof value !== 'object' ||
    value === null ||
    !hex('deviceId', 16) ||
    !hex('signingPublic', 32) ||
    !hex('agreementPublic', 32)
  )
    throw new StoredStateError('Stored visitor pin is malformed');
  return {
    deviceId: v['deviceId'] as string,
    signingPublic: v['signingPublic'] as string,
    agreementPublic: v['agreementPublic'] as string,
  };
}

function parseHead(value: unknown): TranscriptHead {
  const v = value as Record<string, unknown>;
  if (
    typeof value !== 'object' ||
    value === null ||
    typeof v['senderSeq'] !== 'number' ||
    !Number.isInteger(v['senderSeq']) ||
    v['senderSeq'] < 0 ||
    v['senderSeq'] > 0xffffffff ||
    typeof v['digest'] !== 'string' ||
    !/^[0-9a-f]{64}$/.test(v['digest'])
  ) {
    throw new StoredStateError('Stored transcript head is malformed');
  }
  return { senderSeq: v['senderSeq'], digest: v['digest'] };
}

/** @throws StoredStateError when the stored mark is malformed. */
export async function loadTranscriptMark(store: ClientStore, conversationId: string): Promise<TranscriptMark> {
  const value = await store.getRecord(`transcript/${conversationId}`);
  if (value === undefined) return { own: undefined, seen: new Map() };
  const v = value as Record<string, unknown>;
  if (typeof value !== 'object' || value === null || (v['seen'] !== undefined && typeof v['seen'] !== 'object'))
    throw new StoredStateError('Stored transcript mark is malformed');
  const seen = new Map<string, TranscriptHead>();
  for (const [device, head] of Object.entries((v['seen'] ?? {}) as Record<string, unknown>)) {
    if (!/^[0-9a-f]{32}$/.test(device)) throw new StoredStateError('Stored transcript mark is malformed');
    seen.set(device, parseHead(head));
  }
  return {
    own: v['own'] === undefined ? undefined : parseHead(v['own']),
    seen,
    visitor: v['visitor'] === undefined ? undefined : parseVisitor(v['visitor']),
  };
}

export function saveTranscriptMark(store: ClientStore, conversationId: string, mark: TranscriptMark): Promise<void> {
  const seen = Object.fromEntries([...mark.seen].map(([device, head]) => [device, { ...head }]));
  return store.putRecord(`transcript/${conversationId}`, {
    ...(mark.own ? { own: { ...mark.own } } : {}),
    seen,
    ...(mark.visitor ? { visitor: { ...mark.visitor } } : {}),
  });
}

export function deleteTranscriptMark(store: ClientStore, conversationId: string): Promise<void> {
  return store.deleteRecord(`transcript/${conversationId}`);
}
