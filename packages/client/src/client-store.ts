import { MemoryKeyStore, fromHex, toHex, type KeyStore, type OwnHead, type PublicDevice } from '@sealchat/protocol';
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

/**
 * What a device keeps of one conversation's transcript between loads (docs/protocol.md §7-8): its
 * own head, so it never reuses a number when the relay withholds its last envelopes; the furthest
 * envelope it accepted of every other sender, so a relay that trims the tail between loads is caught; and,
 * on an agent device, the visitor it saw open the conversation (§8 step 4).
 */
export interface TranscriptMark {
  readonly own: OwnHead | undefined;
  /** By sender device id (hex). */
  readonly seen: ReadonlyMap<string, OwnHead>;
  readonly visitor?: PublicDevice | undefined;
}

const HEX = (length: number) => new RegExp(`^[0-9a-f]{${length * 2}}$`);

// Stored compactly (the visitor's bundle carries this code): `own` as [senderSeq, digest], `seen`
// as [device, senderSeq, digest] triples, `visitor` as one hex string of id ‖ signing ‖ agreement key.
function storedHead(senderSeq: unknown, digest: unknown): OwnHead {
  if (
    !Number.isInteger(senderSeq) ||
    !(Number(senderSeq) >= 0 && Number(senderSeq) <= 0xffffffff) ||
    !HEX(32).test(digest as string)
  )
    throw new TypeError();
  return { senderSeq: senderSeq as number, digest: digest as string };
}

/** @throws StoredStateError when the stored mark is malformed. */
export async function loadTranscriptMark(store: ClientStore, conversationId: string): Promise<TranscriptMark> {
  const value = (await store.getRecord(`transcript/${conversationId}`)) as
    { own?: unknown[]; seen?: unknown[][]; visitor?: string } | undefined;
  try {
    if (value !== undefined && !(value instanceof Object)) throw new TypeError();
    const seen = new Map<string, OwnHead>();
    for (const [device, senderSeq, digest] of value?.seen ?? []) {
      if (!HEX(16).test(device as string)) throw new TypeError();
      seen.set(device as string, storedHead(senderSeq, digest));
    }
    const own = value?.own && storedHead(value.own[0], value.own[1]);
    let visitor: PublicDevice | undefined;
    if (value?.visitor !== undefined) {
      if (!HEX(80).test(value.visitor)) throw new TypeError();
      const bytes = fromHex(value.visitor);
      visitor = { deviceId: bytes.slice(0, 16), signingPublic: bytes.slice(16, 48), agreementPublic: bytes.slice(48) };
    }
    return { own, seen, visitor };
  } catch {
    throw new StoredStateError('Stored transcript mark is malformed');
  }
}

export function saveTranscriptMark(store: ClientStore, conversationId: string, mark: TranscriptMark): Promise<void> {
  const { own, visitor } = mark;
  // Fields left out rather than undefined: a file store keeps JSON values only.
  const record: Record<string, unknown> = {
    seen: [...mark.seen].map(([device, head]) => [device, head.senderSeq, head.digest]),
  };
  if (own) record['own'] = [own.senderSeq, own.digest];
  if (visitor)
    record['visitor'] = toHex(visitor.deviceId) + toHex(visitor.signingPublic) + toHex(visitor.agreementPublic);
  return store.putRecord(`transcript/${conversationId}`, record);
}

export function deleteTranscriptMark(store: ClientStore, conversationId: string): Promise<void> {
  return store.deleteRecord(`transcript/${conversationId}`);
}
