import {
  concatBytes,
  randomBytes,
  toHex,
  utf8Decode,
  utf8Encode,
  type FormContent,
  type MessageContent,
} from '@sealchat/protocol';
import type { ChatMessage, MessageState } from './chat-message.js';
import type { ClientStore } from './client-store.js';
import { StoredStateError } from './errors.js';

/**
 * What a visitor keeps between page loads besides its keys and conversation pointer, so a reload
 * shows the conversation at once, also offline, and nothing typed is lost (docs/visitor-continuity.md).
 */
export interface LocalHistory {
  /** The conversation the stored messages belong to (hex); undefined before there is one. */
  readonly conversationId: string | undefined;
  /** The relay database's epoch the messages' sequence numbers count in. */
  readonly epoch: number;
  /**
   * Messages the relay stored (with a seq; none in ephemeral mode), then the visitor's messages
   * waiting in the outbox (no seq): each of those is an outbox item, restored as one.
   */
  readonly messages: readonly ChatMessage[];
}

/** How a message about to be sent looks before the relay stored it; mirrors Conversation.draft. */
export function draftOf(id: string, conversationId: string, content: MessageContent | FormContent): ChatMessage {
  return {
    id,
    conversationId,
    seq: undefined,
    author: 'visitor',
    authorName: undefined,
    mine: true,
    text: content.kind === 'text' ? content.text : content.fields.map((f) => `${f.name}: ${f.value}`).join('\n'),
    fields: content.kind === 'form' ? content.fields : undefined,
    sentAt: content.sentAt,
    state: 'sending',
  };
}

/** The content a waiting message was made from (the inverse of {@link draftOf}). */
export function contentOf(message: ChatMessage): MessageContent | FormContent {
  const { fields, sentAt } = message;
  return fields ? { kind: 'form', fields, sentAt } : { kind: 'text', text: message.text, sentAt };
}

const IV_LENGTH = 12;
const recordName = (orgId: Uint8Array): string => `local/${toHex(orgId)}`;
const keyName = (orgId: Uint8Array): string => `local-key/${toHex(orgId)}`;
/** AES-256-GCM with the record's name as associated data: a record moved to another org's slot does not open. */
const gcm = (iv: Uint8Array<ArrayBuffer>, orgId: Uint8Array): AesGcmParams => ({
  name: 'AES-GCM',
  iv,
  additionalData: utf8Encode(recordName(orgId)),
});

/**
 * Reads and decrypts the local history of an organisation's conversation.
 * @throws StoredStateError when the record or its key is malformed, was altered, or does not decrypt.
 */
export async function loadLocalHistory(store: ClientStore, orgId: Uint8Array): Promise<LocalHistory | undefined> {
  const sealed = await store.getRecord(recordName(orgId));
  if (sealed === undefined) return undefined;
  const key = await localKey(store, orgId, false);
  try {
    const bytes = new Uint8Array(sealed as Uint8Array);
    const plain = await crypto.subtle.decrypt(gcm(bytes.slice(0, IV_LENGTH), orgId), key!, bytes.subarray(IV_LENGTH));
    return parseHistory(JSON.parse(utf8Decode(new Uint8Array(plain))));
  } catch {
    throw new StoredStateError('Local history does not decrypt or parse');
  }
}

/**
 * Encrypts and stores the local history under the organisation's local key: a non-extractable
 * AES-256-GCM CryptoKey kept in the same store (created on first use), with a fresh IV per write.
 */
export async function saveLocalHistory(store: ClientStore, orgId: Uint8Array, history: LocalHistory): Promise<void> {
  const key = await localKey(store, orgId, true);
  const iv = randomBytes(IV_LENGTH);
  const sealed = await crypto.subtle.encrypt(gcm(iv, orgId), key!, utf8Encode(JSON.stringify(history)));
  await store.putRecord(recordName(orgId), concatBytes(iv, new Uint8Array(sealed)));
}

/** Erases the local history and its key: copies of the record left anywhere no longer decrypt. */
export async function deleteLocalHistory(store: ClientStore, orgId: Uint8Array): Promise<void> {
  await store.deleteRecord(recordName(orgId));
  await store.deleteRecord(keyName(orgId));
}

async function localKey(store: ClientStore, orgId: Uint8Array, create: boolean): Promise<CryptoKey | undefined> {
  const value = await store.getRecord(keyName(orgId));
  if (value instanceof CryptoKey && value.algorithm.name === 'AES-GCM' && !value.extractable) return value;
  if (value !== undefined) throw new StoredStateError('Stored local history key is malformed');
  if (!create) return undefined;
  const key = await crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt']);
  await store.putRecord(keyName(orgId), key);
  return key;
}

const STATES: readonly unknown[] = ['sending', 'sent', 'delivered', 'read', 'failed'];
const isCount = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;
const isNameValue = (v: unknown): boolean =>
  typeof (v as { name?: unknown } | null)?.name === 'string' && typeof (v as { value: unknown }).value === 'string';

/** Throws (reported by the caller as "does not parse") unless the value is a LocalHistory. */
function parseHistory(value: unknown): LocalHistory {
  const { conversationId, epoch, messages } = value as Record<string, unknown>;
  if (
    (conversationId !== undefined && typeof conversationId !== 'string') ||
    !isCount(epoch) ||
    !Array.isArray(messages)
  )
    throw new TypeError();
  return { conversationId, epoch, messages: messages.map(parseMessage) };
}

function parseMessage(value: unknown): ChatMessage {
  const { id, conversationId, seq, author, authorName, mine, text, fields, sentAt, state } = value as Record<
    string,
    unknown
  >;
  if (
    typeof id !== 'string' ||
    typeof conversationId !== 'string' ||
    (seq !== undefined && !isCount(seq)) ||
    (author !== 'visitor' && author !== 'agent') ||
    (authorName !== undefined && typeof authorName !== 'string') ||
    typeof mine !== 'boolean' ||
    typeof text !== 'string' ||
    (fields !== undefined && !(Array.isArray(fields) && fields.every(isNameValue))) ||
    !isCount(sentAt) ||
    !STATES.includes(state)
  )
    throw new TypeError();
  const shown = fields as ChatMessage['fields'];
  return {
    id,
    conversationId,
    seq,
    author,
    authorName,
    mine,
    text,
    fields: shown,
    sentAt,
    state: state as MessageState,
  };
}
