import { describe, expect, it } from 'vitest';
import { decodeControl, encodeControl } from './control-content.js';
import { DecodeError } from './errors.js';
import { toHex } from './bytes.js';
import { pad, unpad } from './padding.js';

describe('control content', () => {
  const device = new Uint8Array(16).fill(7);

  it('round-trips every action; claim and assign name a device, close and reopen none', () => {
    for (const content of [
      { kind: 'control', action: 'claim', deviceId: device, sentAt: 1, counter: 1 },
      { kind: 'control', action: 'assign', deviceId: device, sentAt: 2, counter: 2 },
      { kind: 'control', action: 'close', deviceId: undefined, sentAt: 3, counter: 3 },
      { kind: 'control', action: 'reopen', deviceId: undefined, sentAt: 4, counter: Number.MAX_SAFE_INTEGER },
    ] as const) {
      expect(decodeControl(encodeControl(content))).toEqual(content);
    }
  });

  it('writes the Lamport counter after the device, as a u64 (known answer)', () => {
    const bytes = encodeControl({ kind: 'control', action: 'claim', deviceId: device, sentAt: 1, counter: 258 });
    expect(toHex(unpad(bytes))).toBe(`05000000000000000101${'07'.repeat(16)}0000000000000102`);
  });

  it('reads control content written before the counter as counter 0', () => {
    const before = pad(Uint8Array.of(5, 0, 0, 0, 0, 0, 0, 0, 9, 3, ...new Uint8Array(16)));
    expect(decodeControl(before)).toEqual({
      kind: 'control',
      action: 'close',
      deviceId: undefined,
      sentAt: 9,
      counter: 0,
    });
  });

  it('refuses a truncated counter, trailing bytes, and a counter past 2^53 − 1', () => {
    const head = [5, 0, 0, 0, 0, 0, 0, 0, 9, 3, ...new Uint8Array(16)];
    expect(() => decodeControl(pad(Uint8Array.of(...head, 0, 0, 1)))).toThrow(DecodeError);
    expect(() => decodeControl(pad(Uint8Array.of(...head, ...new Uint8Array(7), 1, 0)))).toThrow(DecodeError);
    expect(() => decodeControl(pad(Uint8Array.of(...head, ...new Uint8Array(8).fill(0xff))))).toThrow(DecodeError);
  });

  it('refuses other content, unknown actions, and an assignment without a device', () => {
    expect(() => decodeControl(pad(Uint8Array.of(1, 0, 0, 0, 0, 0, 0, 0, 1)))).toThrow(DecodeError);
    const unknown = pad(Uint8Array.of(5, 0, 0, 0, 0, 0, 0, 0, 1, 9, ...new Uint8Array(16)));
    expect(() => decodeControl(unknown)).toThrow(DecodeError);
    const noDevice = pad(Uint8Array.of(5, 0, 0, 0, 0, 0, 0, 0, 1, 2, ...new Uint8Array(16)));
    expect(() => decodeControl(noDevice)).toThrow(/names a device/);
    const closeWithDevice = pad(Uint8Array.of(5, 0, 0, 0, 0, 0, 0, 0, 1, 3, ...device));
    expect(() => decodeControl(closeWithDevice)).toThrow(/names no device/);
  });
});
