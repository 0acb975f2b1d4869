import { ByteReader, ByteWriter } from './codec.js';
import { DecodeError } from './errors.js';
import { CONVERSATION_ID_LENGTH } from './envelope.js';
import { DEVICE_ID_LENGTH } from './identity.js';
import { PUBLIC_KEY_LENGTH, SIGNATURE_LENGTH } from './keys.js';
import { ORG_ID_LENGTH } from './org-key.js';
import { CHALLENGE_LENGTH } from './relay-auth.js';

/**
 * Frames between clients and the relay: binary WebSocket messages, `u8 wire version ‖ u8 kind ‖ fields`.
 * The relay reads only these outer fields; envelopes inside are opaque ciphertext to it.
 * docs/relay-protocol.md describes each frame.
 */
export const WIRE_VERSION = 1;
export const CLIENT_MESSAGE_ID_LENGTH = 16;
export const CAPABILITY_LENGTH = 32;
/** Largest envelope a frame may carry; the relay's frame limit adds headroom for the frame fields. */
export const MAX_ENVELOPE_BYTES = 60 * 1024;
const MAX_ROSTER_BYTES = 1024 * 1024;
const MAX_LIST = 10_000;

export interface ConversationSummary {
  readonly conversationId: Uint8Array<ArrayBuffer>;
  readonly lastSeq: number;
  readonly createdAt: number;
}

/** Frames a client sends. Each carries a `requestId` the relay echoes in its answer. */
export type ClientFrame =
  | { kind: 'open-conversation'; requestId: number; orgId: Uint8Array<ArrayBuffer> }
  | {
      kind: 'attach-conversation';
      requestId: number;
      conversationId: Uint8Array<ArrayBuffer>;
      /** The visitor's capability; empty for an authenticated agent. */
      capability: Uint8Array<ArrayBuffer>;
      afterSeq: number;
    }
  | {
      kind: 'auth-agent';
      requestId: number;
      orgId: Uint8Array<ArrayBuffer>;
      deviceId: Uint8Array<ArrayBuffer>;
      signature: Uint8Array<ArrayBuffer>;
    }
  | { kind: 'watch-org'; requestId: number }
  | {
      kind: 'post';
      requestId: number;
      conversationId: Uint8Array<ArrayBuffer>;
      clientMessageId: Uint8Array<ArrayBuffer>;
      envelope: Uint8Array<ArrayBuffer>;
    }
  | { kind: 'publish-roster'; requestId: number; orgRootKey: Uint8Array<ArrayBuffer>; roster: Uint8Array<ArrayBuffer> }
  | { kind: 'get-roster'; requestId: number; orgId: Uint8Array<ArrayBuffer> };

/** Frames the relay sends. `requestId` 0 marks a frame nobody asked for (live records, pushes). */
export type RelayFrame =
  | { kind: 'challenge'; nonce: Uint8Array<ArrayBuffer> }
  | { kind: 'ok'; requestId: number }
  | { kind: 'error'; requestId: number; code: string; message: string }
  | {
      kind: 'conversation-opened';
      requestId: number;
      conversationId: Uint8Array<ArrayBuffer>;
      capability: Uint8Array<ArrayBuffer>;
    }
  | { kind: 'attached'; requestId: number; lastSeq: number }
  | { kind: 'record'; conversationId: Uint8Array<ArrayBuffer>; seq: number; envelope: Uint8Array<ArrayBuffer> }
  | { kind: 'ack'; requestId: number; seq: number }
  | { kind: 'conversation-list'; requestId: number; conversations: readonly ConversationSummary[] }
  | { kind: 'conversation-created'; conversation: ConversationSummary }
  | { kind: 'roster'; requestId: number; roster: Uint8Array<ArrayBuffer> };

const CLIENT_KINDS = {
  'open-conversation': 1,
  'attach-conversation': 2,
  'auth-agent': 3,
  'watch-org': 4,
  post: 5,
  'publish-roster': 6,
  'get-roster': 7,
} as const satisfies Record<ClientFrame['kind'], number>;

const RELAY_KINDS = {
  challenge: 0x81,
  ok: 0x82,
  error: 0x83,
  'conversation-opened': 0x84,
  attached: 0x85,
  record: 0x86,
  ack: 0x87,
  'conversation-list': 0x88,
  'conversation-created': 0x89,
  roster: 0x8a,
} as const satisfies Record<RelayFrame['kind'], number>;

function kindName<T extends string>(table: Record<T, number>, code: number): T {
  for (const name of Object.keys(table) as T[]) if (table[name] === code) return name;
  throw new DecodeError(`Unknown frame kind ${code}`);
}

function start(kind: number): ByteWriter {
  return new ByteWriter().u8(WIRE_VERSION).u8(kind);
}

function open(bytes: Uint8Array): { r: ByteReader; code: number } {
  const r = new ByteReader(bytes);
  const version = r.u8();
  if (version !== WIRE_VERSION) throw new DecodeError(`Unsupported wire version ${version}`);
  return { r, code: r.u8() };
}

export function encodeClientFrame(frame: ClientFrame): Uint8Array<ArrayBuffer> {
  const w = start(CLIENT_KINDS[frame.kind]).u32(frame.requestId);
  switch (frame.kind) {
    case 'open-conversation':
      return w.fixed(frame.orgId, ORG_ID_LENGTH).finish();
    case 'attach-conversation':
      return w.fixed(frame.conversationId, CONVERSATION_ID_LENGTH).bytes(frame.capability).u64(frame.afterSeq).finish();
    case 'auth-agent':
      return w
        .fixed(frame.orgId, ORG_ID_LENGTH)
        .fixed(frame.deviceId, DEVICE_ID_LENGTH)
        .fixed(frame.signature, SIGNATURE_LENGTH)
        .finish();
    case 'watch-org':
      return w.finish();
    case 'post':
      return w
        .fixed(frame.conversationId, CONVERSATION_ID_LENGTH)
        .fixed(frame.clientMessageId, CLIENT_MESSAGE_ID_LENGTH)
        .bytes(frame.envelope)
        .finish();
    case 'publish-roster':
      return w.fixed(frame.orgRootKey, PUBLIC_KEY_LENGTH).bytes(frame.roster).finish();
    case 'get-roster':
      return w.fixed(frame.orgId, ORG_ID_LENGTH).finish();
  }
}

/** @throws DecodeError for anything that is not exactly one well-formed client frame. */
export function decodeClientFrame(bytes: Uint8Array): ClientFrame {
  const { r, code } = open(bytes);
  const kind = kindName(CLIENT_KINDS, code);
  const requestId = r.u32();
  let frame: ClientFrame;
  switch (kind) {
    case 'open-conversation':
      frame = { kind, requestId, orgId: r.fixed(ORG_ID_LENGTH) };
      break;
    case 'attach-conversation':
      frame = {
        kind,
        requestId,
        conversationId: r.fixed(CONVERSATION_ID_LENGTH),
        capability: r.bytes(CAPABILITY_LENGTH),
        afterSeq: r.u64(),
      };
      break;
    case 'auth-agent':
      frame = {
        kind,
        requestId,
        orgId: r.fixed(ORG_ID_LENGTH),
        deviceId: r.fixed(DEVICE_ID_LENGTH),
        signature: r.fixed(SIGNATURE_LENGTH),
      };
      break;
    case 'watch-org':
      frame = { kind, requestId };
      break;
    case 'post':
      frame = {
        kind,
        requestId,
        conversationId: r.fixed(CONVERSATION_ID_LENGTH),
        clientMessageId: r.fixed(CLIENT_MESSAGE_ID_LENGTH),
        envelope: r.bytes(MAX_ENVELOPE_BYTES),
      };
      break;
    case 'publish-roster':
      frame = { kind, requestId, orgRootKey: r.fixed(PUBLIC_KEY_LENGTH), roster: r.bytes(MAX_ROSTER_BYTES) };
      break;
    case 'get-roster':
      frame = { kind, requestId, orgId: r.fixed(ORG_ID_LENGTH) };
      break;
  }
  r.end();
  return frame;
}

function writeSummary(w: ByteWriter, c: ConversationSummary): ByteWriter {
  return w.fixed(c.conversationId, CONVERSATION_ID_LENGTH).u64(c.lastSeq).u64(c.createdAt);
}

function readSummary(r: ByteReader): ConversationSummary {
  return { conversationId: r.fixed(CONVERSATION_ID_LENGTH), lastSeq: r.u64(), createdAt: r.u64() };
}

export function encodeRelayFrame(frame: RelayFrame): Uint8Array<ArrayBuffer> {
  const w = start(RELAY_KINDS[frame.kind]);
  switch (frame.kind) {
    case 'challenge':
      return w.fixed(frame.nonce, CHALLENGE_LENGTH).finish();
    case 'ok':
      return w.u32(frame.requestId).finish();
    case 'error':
      return w.u32(frame.requestId).string(frame.code).string(frame.message).finish();
    case 'conversation-opened':
      return w
        .u32(frame.requestId)
        .fixed(frame.conversationId, CONVERSATION_ID_LENGTH)
        .fixed(frame.capability, CAPABILITY_LENGTH)
        .finish();
    case 'attached':
      return w.u32(frame.requestId).u64(frame.lastSeq).finish();
    case 'record':
      return w.fixed(frame.conversationId, CONVERSATION_ID_LENGTH).u64(frame.seq).bytes(frame.envelope).finish();
    case 'ack':
      return w.u32(frame.requestId).u64(frame.seq).finish();
    case 'conversation-list': {
      w.u32(frame.requestId).u32(frame.conversations.length);
      for (const c of frame.conversations) writeSummary(w, c);
      return w.finish();
    }
    case 'conversation-created':
      return writeSummary(w, frame.conversation).finish();
    case 'roster':
      return w.u32(frame.requestId).bytes(frame.roster).finish();
  }
}

/** @throws DecodeError for anything that is not exactly one well-formed relay frame. */
export function decodeRelayFrame(bytes: Uint8Array): RelayFrame {
  const { r, code } = open(bytes);
  const kind = kindName(RELAY_KINDS, code);
  let frame: RelayFrame;
  switch (kind) {
    case 'challenge':
      frame = { kind, nonce: r.fixed(CHALLENGE_LENGTH) };
      break;
    case 'ok':
      frame = { kind, requestId: r.u32() };
      break;
    case 'error':
      frame = { kind, requestId: r.u32(), code: r.string(64), message: r.string(1024) };
      break;
    case 'conversation-opened':
      frame = {
        kind,
        requestId: r.u32(),
        conversationId: r.fixed(CONVERSATION_ID_LENGTH),
        capability: r.fixed(CAPABILITY_LENGTH),
      };
      break;
    case 'attached':
      frame = { kind, requestId: r.u32(), lastSeq: r.u64() };
      break;
    case 'record':
      frame = {
        kind,
        conversationId: r.fixed(CONVERSATION_ID_LENGTH),
        seq: r.u64(),
        envelope: r.bytes(MAX_ENVELOPE_BYTES),
      };
      break;
    case 'ack':
      frame = { kind, requestId: r.u32(), seq: r.u64() };
      break;
    case 'conversation-list': {
      const requestId = r.u32();
      const count = r.u32();
      if (count > MAX_LIST) throw new DecodeError(`Conversation list of ${count} is over the limit`);
      const conversations: ConversationSummary[] = [];
      for (let i = 0; i < count; i++) conversations.push(readSummary(r));
      frame = { kind, requestId, conversations };
      break;
    }
    case 'conversation-created':
      frame = { kind, conversation: readSummary(r) };
      break;
    case 'roster':
      frame = { kind, requestId: r.u32(), roster: r.bytes(MAX_ROSTER_BYTES) };
      break;
  }
  r.end();
  return frame;
}
