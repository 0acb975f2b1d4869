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
/**
 * Feature revision this codec speaks, announced in `hello`/`welcome` (docs/relay-protocol.md
 * §Versioning). Revision 1 is the original frame set; revision 2 adds resume with an epoch, history
 * pages, presence and deletion. The relay pushes frames of a revision only to sockets that said
 * `hello` with it, so a revision-1 client never sees a kind it cannot decode.
 */
export const WIRE_REVISION = 2;
/** Most records one `history` page may carry. */
export const MAX_HISTORY_PAGE = 1000;
/** Most devices one `presence` frame may list. */
const MAX_PRESENCE_DEVICES = 10_000;

/** An agent device's availability; visitors learn only whether some device is `online`. */
export type PresenceStatus = 'offline' | 'away' | 'online';
const PRESENCE_CODES = { offline: 0, away: 1, online: 2 } as const satisfies Record<PresenceStatus, number>;

export interface DevicePresence {
  readonly deviceId: Uint8Array<ArrayBuffer>;
  readonly status: PresenceStatus;
}

/** One stored record in a `history` page. */
export interface HistoryRecord {
  readonly seq: number;
  readonly envelope: Uint8Array<ArrayBuffer>;
}

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
  | { kind: 'get-roster'; requestId: number; orgId: Uint8Array<ArrayBuffer> }
  /** Revision 2: announces the feature revision the client speaks; answered by `welcome`. */
  | { kind: 'hello'; requestId: number; revision: number }
  /**
   * Revision 2: attach with the resume key `(epoch, afterSeq)`. `epoch` 0 means "none known". Answered
   * by `resumed` first, then the missed records, then live ones.
   */
  | {
      kind: 'resume-conversation';
      requestId: number;
      conversationId: Uint8Array<ArrayBuffer>;
      capability: Uint8Array<ArrayBuffer>;
      epoch: number;
      afterSeq: number;
    }
  /** Revision 2: one bounded page of records with seq below `beforeSeq` (0: from the newest). */
  | {
      kind: 'get-history';
      requestId: number;
      conversationId: Uint8Array<ArrayBuffer>;
      capability: Uint8Array<ArrayBuffer>;
      beforeSeq: number;
      limit: number;
    }
  /** Revision 2: erases a conversation and all its records. */
  | {
      kind: 'delete-conversation';
      requestId: number;
      conversationId: Uint8Array<ArrayBuffer>;
      capability: Uint8Array<ArrayBuffer>;
    }
  /** Revision 2: an authenticated agent sets its device's availability. */
  | { kind: 'set-presence'; requestId: number; status: PresenceStatus }
  /** Revision 2: asks whether an org has an agent online; `subscribe` keeps the answer coming on change. */
  | { kind: 'watch-presence'; requestId: number; orgId: Uint8Array<ArrayBuffer>; subscribe: boolean };

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
  | { kind: 'roster'; requestId: number; roster: Uint8Array<ArrayBuffer> }
  /** Revision 2: answer to `hello`; `revision` is the one both sides speak, `epoch` the database's. */
  | { kind: 'welcome'; requestId: number; revision: number; epoch: number }
  /**
   * Revision 2: answer to `resume-conversation`, sent before the records it announces. `reset` means
   * the client's epoch is not the relay's (a restore) or its seq is ahead: discard local state, the
   * relay sends the whole stored stream. Records below `firstSeq` are gone (retention).
   */
  | { kind: 'resumed'; requestId: number; epoch: number; lastSeq: number; firstSeq: number; reset: boolean }
  /** Revision 2: answer to `get-history`, records in ascending seq order. */
  | {
      kind: 'history';
      requestId: number;
      conversationId: Uint8Array<ArrayBuffer>;
      firstSeq: number;
      records: readonly HistoryRecord[];
    }
  /** Revision 2: pushed to revision-2 subscribers and watchers when a conversation is erased. */
  | { kind: 'conversation-deleted'; conversationId: Uint8Array<ArrayBuffer> }
  /**
   * Revision 2: answer to `watch-presence` (and pushed with `requestId` 0 on change). `devices` is
   * filled only for an authenticated agent of that org; everyone else learns `anyoneOnline` only.
   */
  | {
      kind: 'presence';
      requestId: number;
      orgId: Uint8Array<ArrayBuffer>;
      anyoneOnline: boolean;
      devices: readonly DevicePresence[];
    };

const CLIENT_KINDS = {
  'open-conversation': 1,
  'attach-conversation': 2,
  'auth-agent': 3,
  'watch-org': 4,
  post: 5,
  'publish-roster': 6,
  'get-roster': 7,
  hello: 8,
  'resume-conversation': 9,
  'get-history': 10,
  'delete-conversation': 11,
  'set-presence': 12,
  'watch-presence': 13,
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
  welcome: 0x8b,
  resumed: 0x8c,
  history: 0x8d,
  'conversation-deleted': 0x8e,
  presence: 0x8f,
} as const satisfies Record<RelayFrame['kind'], number>;

function kindName<T extends string>(table: Record<T, number>, code: number): T {
  for (const name of Object.keys(table) as T[]) if (table[name] === code) return name;
  throw new DecodeError(`Unknown frame kind ${code}`);
}

function presenceCode(r: ByteReader): PresenceStatus {
  const code = r.u8();
  for (const name of Object.keys(PRESENCE_CODES) as PresenceStatus[]) if (PRESENCE_CODES[name] === code) return name;
  throw new DecodeError(`Unknown presence status ${code}`);
}

/** Booleans are one byte, exactly 0 or 1, so each value has one encoding. */
function flag(r: ByteReader): boolean {
  const value = r.u8();
  if (value > 1) throw new DecodeError(`A flag must be 0 or 1, got ${value}`);
  return value === 1;
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
    case 'hello':
      return w.u32(frame.revision).finish();
    case 'resume-conversation':
      return w
        .fixed(frame.conversationId, CONVERSATION_ID_LENGTH)
        .bytes(frame.capability)
        .u64(frame.epoch)
        .u64(frame.afterSeq)
        .finish();
    case 'get-history':
      return w
        .fixed(frame.conversationId, CONVERSATION_ID_LENGTH)
        .bytes(frame.capability)
        .u64(frame.beforeSeq)
        .u32(frame.limit)
        .finish();
    case 'delete-conversation':
      return w.fixed(frame.conversationId, CONVERSATION_ID_LENGTH).bytes(frame.capability).finish();
    case 'set-presence':
      return w.u8(PRESENCE_CODES[frame.status]).finish();
    case 'watch-presence':
      return w
        .fixed(frame.orgId, ORG_ID_LENGTH)
        .u8(frame.subscribe ? 1 : 0)
        .finish();
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
    case 'hello':
      frame = { kind, requestId, revision: r.u32() };
      break;
    case 'resume-conversation':
      frame = {
        kind,
        requestId,
        conversationId: r.fixed(CONVERSATION_ID_LENGTH),
        capability: r.bytes(CAPABILITY_LENGTH),
        epoch: r.u64(),
        afterSeq: r.u64(),
      };
      break;
    case 'get-history':
      frame = {
        kind,
        requestId,
        conversationId: r.fixed(CONVERSATION_ID_LENGTH),
        capability: r.bytes(CAPABILITY_LENGTH),
        beforeSeq: r.u64(),
        limit: r.u32(),
      };
      break;
    case 'delete-conversation':
      frame = {
        kind,
        requestId,
        conversationId: r.fixed(CONVERSATION_ID_LENGTH),
        capability: r.bytes(CAPABILITY_LENGTH),
      };
      break;
    case 'set-presence':
      frame = { kind, requestId, status: presenceCode(r) };
      break;
    case 'watch-presence':
      frame = { kind, requestId, orgId: r.fixed(ORG_ID_LENGTH), subscribe: flag(r) };
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
    case 'welcome':
      return w.u32(frame.requestId).u32(frame.revision).u64(frame.epoch).finish();
    case 'resumed':
      return w
        .u32(frame.requestId)
        .u64(frame.epoch)
        .u64(frame.lastSeq)
        .u64(frame.firstSeq)
        .u8(frame.reset ? 1 : 0)
        .finish();
    case 'history': {
      if (frame.records.length > MAX_HISTORY_PAGE) throw new RangeError('History page over MAX_HISTORY_PAGE');
      w.u32(frame.requestId)
        .fixed(frame.conversationId, CONVERSATION_ID_LENGTH)
        .u64(frame.firstSeq)
        .u32(frame.records.length);
      for (const record of frame.records) w.u64(record.seq).bytes(record.envelope);
      return w.finish();
    }
    case 'conversation-deleted':
      return w.fixed(frame.conversationId, CONVERSATION_ID_LENGTH).finish();
    case 'presence': {
      w.u32(frame.requestId)
        .fixed(frame.orgId, ORG_ID_LENGTH)
        .u8(frame.anyoneOnline ? 1 : 0)
        .u32(frame.devices.length);
      for (const device of frame.devices) {
        w.fixed(device.deviceId, DEVICE_ID_LENGTH).u8(PRESENCE_CODES[device.status]);
      }
      return w.finish();
    }
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
    case 'welcome':
      frame = { kind, requestId: r.u32(), revision: r.u32(), epoch: r.u64() };
      break;
    case 'resumed':
      frame = { kind, requestId: r.u32(), epoch: r.u64(), lastSeq: r.u64(), firstSeq: r.u64(), reset: flag(r) };
      break;
    case 'history': {
      const requestId = r.u32();
      const conversationId = r.fixed(CONVERSATION_ID_LENGTH);
      const firstSeq = r.u64();
      const count = r.u32();
      if (count > MAX_HISTORY_PAGE) throw new DecodeError(`History page of ${count} is over the limit`);
      const records: HistoryRecord[] = [];
      for (let i = 0; i < count; i++) records.push({ seq: r.u64(), envelope: r.bytes(MAX_ENVELOPE_BYTES) });
      frame = { kind, requestId, conversationId, firstSeq, records };
      break;
    }
    case 'conversation-deleted':
      frame = { kind, conversationId: r.fixed(CONVERSATION_ID_LENGTH) };
      break;
    case 'presence': {
      const requestId = r.u32();
      const orgId = r.fixed(ORG_ID_LENGTH);
      const anyoneOnline = flag(r);
      const count = r.u32();
      if (count > MAX_PRESENCE_DEVICES) throw new DecodeError(`Presence list of ${count} is over the limit`);
      const devices: DevicePresence[] = [];
      for (let i = 0; i < count; i++) devices.push({ deviceId: r.fixed(DEVICE_ID_LENGTH), status: presenceCode(r) });
      frame = { kind, requestId, orgId, anyoneOnline, devices };
      break;
    }
  }
  r.end();
  return frame;
}
