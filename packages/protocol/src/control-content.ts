import { ByteReader, ByteWriter } from './codec.js';
import { DEVICE_ID_LENGTH } from './identity.js';
import { DecodeError } from './errors.js';
import { pad, unpad } from './padding.js';

/**
 * How agents coordinate a conversation, in control envelopes (type 5): claim it, assign or transfer
 * it to a device, close or reopen it. Only agent clients act on these; a visitor's client ignores
 * them (it can decrypt them, as it can every payload of its conversation: they carry no text).
 */
export type ControlAction = 'claim' | 'assign' | 'close' | 'reopen';

export interface ControlContent {
  readonly kind: 'control';
  readonly action: ControlAction;
  /** The assignee for `claim` and `assign`; undefined for `close` and `reopen`. */
  readonly deviceId: Uint8Array<ArrayBuffer> | undefined;
  readonly sentAt: number;
  /**
   * A Lamport clock: one more than the highest counter of the team's controls the issuing console
   * had seen. Consoles fold a conversation's controls in (counter, sender device id, envelope
   * digest) order, so every console ends in the same state whatever order the relay delivers them
   * in (docs/protocol.md §7). 0 in control content written before the counter existed.
   */
  readonly counter: number;
}

const KIND_CONTROL = 5;
const ACTIONS: readonly ControlAction[] = ['claim', 'assign', 'close', 'reopen'];
/** Kind, sentAt, action and device: control content as written before the counter (docs/protocol.md §7). */
const LENGTH_BEFORE_COUNTER = 1 + 8 + 1 + DEVICE_ID_LENGTH;

/**
 * `u8 5 ‖ u64 sentAt ‖ u8 action ‖ deviceId[16] ‖ u64 counter` (device zeros when none),
 * Padmé-padded like all content.
 * @throws RangeError for a counter or time that is not a safe non-negative integer.
 */
export function encodeControl(content: ControlContent): Uint8Array<ArrayBuffer> {
  const deviceId = content.deviceId ?? new Uint8Array(DEVICE_ID_LENGTH);
  return pad(
    new ByteWriter()
      .u8(KIND_CONTROL)
      .u64(content.sentAt)
      .u8(ACTIONS.indexOf(content.action) + 1)
      .fixed(deviceId, DEVICE_ID_LENGTH)
      .u64(content.counter)
      .finish(),
  );
}

/**
 * Reads control content, with or without the trailing counter (content written before it reads as
 * counter 0, so any control issued since orders after it).
 * @throws DecodeError when the bytes are not control content.
 */
export function decodeControl(padded: Uint8Array): ControlContent {
  const bytes = unpad(padded);
  const r = new ByteReader(bytes);
  if (r.u8() !== KIND_CONTROL) throw new DecodeError('Not control content');
  const sentAt = r.u64();
  const action = ACTIONS[r.u8() - 1];
  if (!action) throw new DecodeError('Unknown control action');
  const deviceId = r.fixed(DEVICE_ID_LENGTH);
  const counter = bytes.length === LENGTH_BEFORE_COUNTER ? 0 : r.u64();
  r.end();
  const assigns = action === 'claim' || action === 'assign';
  if (assigns !== deviceId.some((b) => b !== 0))
    throw new DecodeError(`A ${action} names ${assigns ? 'a' : 'no'} device`);
  return { kind: 'control', action, deviceId: assigns ? deviceId : undefined, sentAt, counter };
}
