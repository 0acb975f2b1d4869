import { describe, expect, it } from 'vitest';
import { ByteReader, ByteWriter } from './codec.js';

describe('ByteWriter integer ranges', () => {
  it('writes every u8 and reads it back', () => {
    for (const value of [0, 1, 127, 255]) {
      expect(new ByteReader(new ByteWriter().u8(value).finish()).u8()).toBe(value);
    }
  });

  // Uint8Array.of(256) silently stores 0: a wrong tag or flag would be signed as another value.
  it.each([256, -1, 1.5, Number.NaN, 2 ** 32])('refuses u8(%s) with a RangeError', (value) => {
    expect(() => new ByteWriter().u8(value)).toThrow(RangeError);
  });

  it.each([2 ** 32, -1, 0.5])('refuses u32(%s) with a RangeError', (value) => {
    expect(() => new ByteWriter().u32(value)).toThrow(RangeError);
  });

  it.each([2 ** 53, -1, 0.5])('refuses u64(%s) with a RangeError', (value) => {
    expect(() => new ByteWriter().u64(value)).toThrow(RangeError);
  });
});
