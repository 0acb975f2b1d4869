import { describe, expect, it } from 'vitest';
import { randomBytes } from './bytes.js';
import { safetyCode } from './safety-code.js';

describe('safetyCode', () => {
  it('is four groups of five digits, the same on both sides', async () => {
    const [org, visitor, conversation] = [randomBytes(32), randomBytes(32), randomBytes(16)];
    const code = await safetyCode(org, visitor, conversation);
    expect(code).toMatch(/^\d{5} \d{5} \d{5} \d{5}$/);
    expect(await safetyCode(org, visitor, conversation)).toBe(code);
  });

  it('differs when the page pinned another org key, or the relay swapped the visitor key', async () => {
    const [org, visitor, conversation] = [randomBytes(32), randomBytes(32), randomBytes(16)];
    const code = await safetyCode(org, visitor, conversation);
    expect(await safetyCode(randomBytes(32), visitor, conversation)).not.toBe(code);
    expect(await safetyCode(org, randomBytes(32), conversation)).not.toBe(code);
    expect(await safetyCode(org, visitor, randomBytes(16))).not.toBe(code);
  });

  it('matches an independent derivation from docs/protocol.md (plain SHA-256, BigInt arithmetic)', async () => {
    const [org, visitor, conversation] = [new Uint8Array(32), new Uint8Array(32).fill(1), new Uint8Array(16).fill(2)];
    const input = new Uint8Array([
      ...new TextEncoder().encode('sealchat/v1 safety-code\0'),
      ...org,
      ...visitor,
      ...conversation,
    ]);
    const hash = new Uint8Array(await crypto.subtle.digest('SHA-256', input));
    const hex = (bytes: Uint8Array) => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
    const groups = [0, 5, 10, 15].map((at) =>
      (BigInt(`0x${hex(hash.subarray(at, at + 5))}`) % 100000n).toString().padStart(5, '0'),
    );
    expect(await safetyCode(org, visitor, conversation)).toBe(groups.join(' '));
    expect(await safetyCode(org, visitor, conversation)).toBe('25189 03228 96150 56014');
  });
});
