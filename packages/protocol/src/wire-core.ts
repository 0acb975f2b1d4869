import { ByteReader, ByteWriter } from './codec.js';
import { DecodeError } from './errors.js';
import { CONVERSATION_ID_LENGTH } from './envelope.js';
import { DEVICE_ID_LENGTH } from './identity.js';
import { PUBLIC_KEY_LENGTH } from './keys.js';
import { ORG_ID_LENGTH } from './org-key.js';
import { CHALLENGE_LENGTH } from './relay-auth.js';

/**
 * The core of the wire codec: the frames a visitor's client uses — open, resume, post, erasure,
 * roster and presence watch — plus roster publication, and what the relay answers or pushes to them. Every other frame (an
 * organisation's devices', and a few any socket may use that the visitor's client does not) is in
 * wire-agent.ts, so the visitor's bundle does not carry them; wire.ts joins the two into the codec
 * for every frame (the relay's, and `agentWire` for an agent's connection).
 * Frames are binary WebSocket messages, `u8 wire version ‖ u8 kind ‖ fields`; docs/relay-protocol.md
 * describes each one.
 */
export const WIRE_VERSION = 1;
export const CLIENT_MESSAGE_ID_LENGTH = 16;
export const CAPABILITY_LENGTH = 32;
/** Largest envelope a frame may carry; the relay's frame limit adds headroom for the frame fields. */
export const MAX_ENVELOPE_BYTES = 60 * 1024;
/** Largest roster a frame may carry; the relay's frame limit bounds what it accepts far below this. */
export const MAX_ROSTER_BYTES = 1024 * 1024;
/** Largest roster head a frame may carry (one is 165 bytes; docs/protocol.md §4.4). */
export const MAX_ROSTER_HEAD_BYTES = 256;
/**
 * Feature revision this codec speaks, announced in `hello`/`welcome` (docs/relay-protocol.md
 * §Versioning). Revision 1 is the original frame set; revision 2 adds resume with an epoch, history
 * pages, presence and deletion; revision 3 the organisation's settings, audit log and roster history;
 * revision 4 history grants (wire-agent.ts); revision 5 roster heads (`get-roster-head` here,
 * `publish-roster-head` in wire-agent.ts).
 * The relay pushes frames of a revision only to sockets that said `hello` with it, so a revision-1
 * client never sees a kind it cannot decode.
 */
export const WIRE_REVISION = 5;
/** Most devices one `presence` frame may list. */
const MAX_PRESENCE_DEVICES = 10_000;

/** An agent device's availability; visitors learn only whether some device is `online`. */
export type PresenceStatus = 'offline' | 'away' | 'online';
export const PRESENCE_CODES = { offline: 0, away: 1, online: 2 } as const satisfies Record<PresenceStatus, number>;

export interface DevicePresence {
  readonly deviceId: Uint8Array<ArrayBuffer>;
  readonly status: PresenceStatus;
}

/** Core frames a client sends (the visitor's). Each carries a `requestId` the relay echoes in its answer. */
export type CoreClientFrame =
  | { kind: 'open-conversation'; requestId: number; orgId: Uint8Array<ArrayBuffer> }
  | {
      kind: 'post';
      requestId: number;
      conversationId: Uint8Array<ArrayBuffer>;
      clientMessageId: Uint8Array<ArrayBuffer>;
      envelope: Uint8Array<ArrayBuffer>;
    }
  | { kind: 'get-roster'; requestId: number; orgId: Uint8Array<ArrayBuffer> }
  /**
   * Anyone may publish a roster (it is signed by the org key); here rather than with the agent frames
   * because the client's org bootstrap sends it over a plain connection.
   */
  | { kind: 'publish-roster'; requestId: number; orgRootKey: Uint8Array<ArrayBuffer>; roster: Uint8Array<ArrayBuffer> }
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
  /** Revision 2: erases a conversation and all its records. */
  | {
      kind: 'delete-conversation';
      requestId: number;
      conversationId: Uint8Array<ArrayBuffer>;
      capability: Uint8Array<ArrayBuffer>;
    }
  /** Revision 2: asks whether an org has an agent online; `subscribe` keeps the answer coming on change. */
  | { kind: 'watch-presence'; requestId: number; orgId: Uint8Array<ArrayBuffer>; subscribe: boolean }
  /** Revision 5: the org's stored roster head (docs/protocol.md §4.4); anyone may ask. */
  | { kind: 'get-roster-head'; requestId: number; orgId: Uint8Array<ArrayBuffer> };

/** Core frames the relay sends. `requestId` 0 marks a frame nobody asked for (live records, pushes). */
export type CoreRelayFrame =
  | { kind: 'challenge'; nonce: Uint8Array<ArrayBuffer> }
  | { kind: 'ok'; requestId: number }
  | { kind: 'error'; requestId: number; code: string; message: string }
  | {
      kind: 'conversation-opened';
      requestId: number;
      conversationId: Uint8Array<ArrayBuffer>;
      capability: Uint8Array<ArrayBuffer>;
    }
  | { kind: 'record'; conversationId: Uint8Array<ArrayBuffer>; seq: number; envelope: Uint8Array<ArrayBuffer> }
  | { kind: 'ack'; requestId: number; seq: number }
  | { kind: 'roster'; requestId: number; roster: Uint8Array<ArrayBuffer> }
  /** Revision 5: answer to `get-roster-head`, the signed head as published. */
  | { kind: 'roster-head'; requestId: number; head: Uint8Array<ArrayBuffer> }
  /**
   * Revision 2: answer to `resume-conversation`, sent before the records it announces. `reset` means
   * the client's epoch is not the relay's (a restore) or its seq is ahead: discard local state, the
   * relay sends the whole stored stream. Records below `firstSeq` are gone (retention).
   */
  | { kind: 'resumed'; requestId: number; epoch: number; lastSeq: number; firstSeq: number; reset: boolean }
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
  post: 5,
  'publish-roster': 6,
  'get-roster': 7,
  'resume-conversation': 9,
  'delete-conversation': 11,
  'watch-presence': 13,
  'get-roster-head': 21,
} as const satisfies Record<CoreClientFrame['kind'], number>;

const RELAY_KINDS = {
  challenge: 0x81,
  ok: 0x82,
  error: 0x83,
  'conversation-opened': 0x84,
  record: 0x86,
  ack: 0x87,
  roster: 0x8a,
  resumed: 0x8c,
  'conversation-deleted': 0x8e,
  presence: 0x8f,
  'roster-head': 0x95,
} as const satisfies Record<CoreRelayFrame['kind'], number>;

/** The name `table` gives `code`; undefined when it has none. */
export function kindOf<T extends string>(table: Record<T, number>, code: number): T | undefined {
  for (const name of Object.keys(table) as T[]) if (table[name] === code) return name;
  return undefined;
}

function kindName<T extends string>(table: Record<T, number>, code: number): T {
  const name = kindOf(table, code);
  if (name === undefined) throw new DecodeError(`Unknown frame kind ${code}`);
  return name;
}

export function readPresence(r: ByteReader): PresenceStatus {
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

/** A writer holding the frame header. */
export function frameStart(kind: number): ByteWriter {
  return new ByteWriter().u8(WIRE_VERSION).u8(kind);
}

/** Reads the frame header. @throws DecodeError for another wire version. */
export function frameOpen(bytes: Uint8Array): { r: ByteReader; code: number } {
  const r = new ByteReader(bytes);
  const version = r.u8();
  if (version !== WIRE_VERSION) throw new DecodeError(`Unsupported wire version ${version}`);
  return { r, code: r.u8() };
}

/**
 * Encodes a core client frame (what a visitor's connection sends).
 * @throws TypeError for a frame kind outside the core set (use wire.ts `encodeClientFrame`).
 */
export function encodeCoreClientFrame(frame: CoreClientFrame): Uint8Array<ArrayBuffer> {
  const code = CLIENT_KINDS[frame.kind] as number | undefined;
  if (code === undefined) throw new TypeError(`Not a core frame: ${frame.kind}`);
  const w = frameStart(code).u32(frame.requestId);
  switch (frame.kind) {
    case 'open-conversation':
    case 'get-roster':
    case 'get-roster-head':
      return w.fixed(frame.orgId, ORG_ID_LENGTH).finish();
    case 'post':
      return w
        .fixed(frame.conversationId, CONVERSATION_ID_LENGTH)
        .fixed(frame.clientMessageId, CLIENT_MESSAGE_ID_LENGTH)
        .bytes(frame.envelope)
        .finish();
    case 'publish-roster':
      return w.fixed(frame.orgRootKey, PUBLIC_KEY_LENGTH).bytes(frame.roster).finish();
    case 'resume-conversation':
      return w
        .fixed(frame.conversationId, CONVERSATION_ID_LENGTH)
        .bytes(frame.capability)
        .u64(frame.epoch)
        .u64(frame.afterSeq)
        .finish();
    case 'delete-conversation':
      return w.fixed(frame.conversationId, CONVERSATION_ID_LENGTH).bytes(frame.capability).finish();
    case 'watch-presence':
      return w
        .fixed(frame.orgId, ORG_ID_LENGTH)
        .u8(frame.subscribe ? 1 : 0)
        .finish();
  }
}

/**
 * Reads the fields of a core client frame after its header; the caller checks the end.
 * @throws DecodeError for a kind outside the core set or malformed fields.
 */
export function readCoreClientFrame(code: number, r: ByteReader): CoreClientFrame {
  const kind = kindName(CLIENT_KINDS, code);
  const requestId = r.u32();
  switch (kind) {
    case 'open-conversation':
    case 'get-roster':
    case 'get-roster-head':
      return { kind, requestId, orgId: r.fixed(ORG_ID_LENGTH) };
    case 'post':
      return {
        kind,
        requestId,
        conversationId: r.fixed(CONVERSATION_ID_LENGTH),
        clientMessageId: r.fixed(CLIENT_MESSAGE_ID_LENGTH),
        envelope: r.bytes(MAX_ENVELOPE_BYTES),
      };
    case 'publish-roster':
      return { kind, requestId, orgRootKey: r.fixed(PUBLIC_KEY_LENGTH), roster: r.bytes(MAX_ROSTER_BYTES) };
    case 'resume-conversation':
      return {
        kind,
        requestId,
        conversationId: r.fixed(CONVERSATION_ID_LENGTH),
        capability: r.bytes(CAPABILITY_LENGTH),
        epoch: r.u64(),
        afterSeq: r.u64(),
      };
    case 'delete-conversation':
      return {
        kind,
        requestId,
        conversationId: r.fixed(CONVERSATION_ID_LENGTH),
        capability: r.bytes(CAPABILITY_LENGTH),
      };
    case 'watch-presence':
      return { kind, requestId, orgId: r.fixed(ORG_ID_LENGTH), subscribe: flag(r) };
  }
}

/** Encodes a core relay frame (the relay's side). */
export function encodeCoreRelayFrame(frame: CoreRelayFrame): Uint8Array<ArrayBuffer> {
  const w = frameStart(RELAY_KINDS[frame.kind]);
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
    case 'record':
      return w.fixed(frame.conversationId, CONVERSATION_ID_LENGTH).u64(frame.seq).bytes(frame.envelope).finish();
    case 'ack':
      return w.u32(frame.requestId).u64(frame.seq).finish();
    case 'roster':
      return w.u32(frame.requestId).bytes(frame.roster).finish();
    case 'roster-head':
      return w.u32(frame.requestId).bytes(frame.head).finish();
    case 'resumed':
      return w
        .u32(frame.requestId)
        .u64(frame.epoch)
        .u64(frame.lastSeq)
        .u64(frame.firstSeq)
        .u8(frame.reset ? 1 : 0)
        .finish();
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

/**
 * Decodes a core relay frame: what a visitor's connection receives.
 * @throws DecodeError for anything that is not exactly one well-formed core relay frame.
 */
export function decodeCoreRelayFrame(bytes: Uint8Array): CoreRelayFrame {
  const { r, code } = frameOpen(bytes);
  const frame = readCoreRelayFrame(code, r);
  r.end();
  return frame;
}

/**
 * Reads the fields of a core relay frame after its header; the caller checks the end.
 * @throws DecodeError for a kind outside the core set or malformed fields.
 */
export function readCoreRelayFrame(code: number, r: ByteReader): CoreRelayFrame {
  const kind = kindName(RELAY_KINDS, code);
  switch (kind) {
    case 'challenge':
      return { kind, nonce: r.fixed(CHALLENGE_LENGTH) };
    case 'ok':
      return { kind, requestId: r.u32() };
    case 'error':
      return { kind, requestId: r.u32(), code: r.string(64), message: r.string(1024) };
    case 'conversation-opened':
      return {
        kind,
        requestId: r.u32(),
        conversationId: r.fixed(CONVERSATION_ID_LENGTH),
        capability: r.fixed(CAPABILITY_LENGTH),
      };
    case 'record':
      return {
        kind,
        conversationId: r.fixed(CONVERSATION_ID_LENGTH),
        seq: r.u64(),
        envelope: r.bytes(MAX_ENVELOPE_BYTES),
      };
    case 'ack':
      return { kind, requestId: r.u32(), seq: r.u64() };
    case 'roster':
      return { kind, requestId: r.u32(), roster: r.bytes(MAX_ROSTER_BYTES) };
    case 'roster-head':
      return { kind, requestId: r.u32(), head: r.bytes(MAX_ROSTER_HEAD_BYTES) };
    case 'resumed':
      return { kind, requestId: r.u32(), epoch: r.u64(), lastSeq: r.u64(), firstSeq: r.u64(), reset: flag(r) };
    case 'conversation-deleted':
      return { kind, conversationId: r.fixed(CONVERSATION_ID_LENGTH) };
    case 'presence': {
      const requestId = r.u32();
      const orgId = r.fixed(ORG_ID_LENGTH);
      const anyoneOnline = flag(r);
      const count = r.u32();
      if (count > MAX_PRESENCE_DEVICES) throw new DecodeError(`Presence list of ${count} is over the limit`);
      const devices: DevicePresence[] = [];
      for (let i = 0; i < count; i++) devices.push({ deviceId: r.fixed(DEVICE_ID_LENGTH), status: readPresence(r) });
      return { kind, requestId, orgId, anyoneOnline, devices };
    }
  }
}
