import {
  agentClientKind,
  agentRelayKind,
  encodeAgentClientFrame,
  encodeAgentRelayFrame,
  isAgentClientFrame,
  isAgentRelayFrame,
  readAgentClientFrame,
  readAgentRelayFrame,
  type AgentClientFrame,
  type AgentRelayFrame,
} from './wire-agent.js';
import {
  encodeCoreClientFrame,
  encodeCoreRelayFrame,
  frameOpen,
  readCoreClientFrame,
  readCoreRelayFrame,
  type CoreClientFrame,
  type CoreRelayFrame,
} from './wire-core.js';

/**
 * Frames between clients and the relay: binary WebSocket messages, `u8 wire version ‖ u8 kind ‖ fields`.
 * The relay reads only these outer fields; envelopes inside are opaque ciphertext to it.
 * docs/relay-protocol.md describes each frame.
 *
 * This is the codec for every frame: the core set the visitor's client uses (wire-core.ts) and the
 * rest, mostly an organisation's devices' (wire-agent.ts). The relay uses it; so does an agent's connection,
 * through {@link agentWire}. A visitor's connection uses the core codec alone, which keeps the agent
 * frames out of the visitor's bundle.
 */
export {
  WIRE_VERSION,
  WIRE_REVISION,
  CLIENT_MESSAGE_ID_LENGTH,
  CAPABILITY_LENGTH,
  MAX_ENVELOPE_BYTES,
} from './wire-core.js';
export type { PresenceStatus, DevicePresence, CoreClientFrame, CoreRelayFrame } from './wire-core.js';
export {
  MAX_HISTORY_PAGE,
  MAX_RETENTION_DAYS,
  MAX_AUDIT_RECORD_BYTES,
  MAX_AUDIT_PAGE,
  MAX_ROSTER_HISTORY_PAGE,
  MAX_HISTORY_GRANT_BYTES,
  MAX_HISTORY_GRANTS_PAGE,
} from './wire-agent.js';
export type {
  ConversationSummary,
  HistoryRecord,
  AuditEntry,
  HistoryGrantEntry,
  AgentClientFrame,
  AgentRelayFrame,
} from './wire-agent.js';

/** Frames a client sends. Each carries a `requestId` the relay echoes in its answer. */
export type ClientFrame = CoreClientFrame | AgentClientFrame;

/** Frames the relay sends. `requestId` 0 marks a frame nobody asked for (live records, pushes). */
export type RelayFrame = CoreRelayFrame | AgentRelayFrame;

/**
 * What a client's connection encodes and decodes with. `RelayConnection` uses the core frames unless
 * given one of these (`options.wire`): an agent's session passes {@link agentWire}.
 */
export interface WireCodec {
  /** @throws TypeError or RangeError for a frame it cannot encode. */
  encodeClientFrame(frame: ClientFrame): Uint8Array<ArrayBuffer>;
  /** @throws DecodeError for anything that is not exactly one well-formed relay frame. */
  decodeRelayFrame(bytes: Uint8Array): RelayFrame;
}

export function encodeClientFrame(frame: ClientFrame): Uint8Array<ArrayBuffer> {
  return isAgentClientFrame(frame) ? encodeAgentClientFrame(frame) : encodeCoreClientFrame(frame);
}

/** @throws DecodeError for anything that is not exactly one well-formed client frame. */
export function decodeClientFrame(bytes: Uint8Array): ClientFrame {
  const { r, code } = frameOpen(bytes);
  const agentKind = agentClientKind(code);
  const frame = agentKind ? readAgentClientFrame(agentKind, r) : readCoreClientFrame(code, r);
  r.end();
  return frame;
}

export function encodeRelayFrame(frame: RelayFrame): Uint8Array<ArrayBuffer> {
  return isAgentRelayFrame(frame) ? encodeAgentRelayFrame(frame) : encodeCoreRelayFrame(frame);
}

/** @throws DecodeError for anything that is not exactly one well-formed relay frame. */
export function decodeRelayFrame(bytes: Uint8Array): RelayFrame {
  const { r, code } = frameOpen(bytes);
  const agentKind = agentRelayKind(code);
  const frame = agentKind ? readAgentRelayFrame(agentKind, r) : readCoreRelayFrame(code, r);
  r.end();
  return frame;
}

/** Every frame: what an agent's or supervisor's `RelayConnection` speaks (`options.wire`). */
export const agentWire: WireCodec = { encodeClientFrame, decodeRelayFrame };
