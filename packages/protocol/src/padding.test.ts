import { describe, expect, it } from 'vitest';
import { pad, padmeLength, unpad } from './padding.js';

describe('Padmé padding', () => {
  it('matches the lengths in the PURBs paper and never pads more than 12%', () => {
    // Values from Nikitin et al. 2019, Table 2 / Algorithm 1.
    expect(padmeLength(9)).toBe(10);
    expect(padmeLength(100)).toBe(104);
    expect(padmeLength(1000)).toBe(1024);
    for (let n = 2; n < 70_000; n += 37) {
      const padded = padmeLength(n);
      expect(padded).toBeGreaterThanOrEqual(n);
      expect((padded - n) / n).toBeLessThanOrEqual(0.12);
    }
  });

  it('hides small differences in length and round-trips', () => {
    expect(pad(new Uint8Array(1000)).length).toBe(pad(new Uint8Array(1010)).length);
    const text = new TextEncoder().encode('hello\0\0');
    expect(unpad(pad(text))).toEqual(text);
  });
});
