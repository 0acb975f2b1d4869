import { describe, expect, it } from 'vitest';
import { decodeControl, encodeControl } from './control-content.js';
import { DecodeError } from './errors.js';
import { pad } from './padding.js';

describe('control content', () => {
  const device = new Uint8Array(16).fill(7);

  it('round-trips every action; claim and assign name a device, close and reopen none', () => {
    for (const content of [
      { kind: 'control', action: 'claim', deviceId: device, sentAt: 1 },
      { kind: 'control', action: 'assign', deviceId: device, sentAt: 2 },
      { kind: 'control', action: 'close', deviceId: undefined, sentAt: 3 },
      { kind: 'control', action: 'reopen', deviceId: undefined, sentAt: 4 },
    ] as const) {
      expect(decodeControl(encodeControl(content))).toEqual(content);
    }
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
