import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findChromium } from './find-chromium.mjs';

describe('findChromium', () => {
  it('uses $SEALCHAT_CHROMIUM first when it is executable', () => {
    const dir = mkdtempSync(join(tmpdir(), 'chromium-'));
    const fake = join(dir, 'chromium');
    writeFileSync(fake, '#!/bin/sh\n');
    chmodSync(fake, 0o755);
    expect(findChromium({ SEALCHAT_CHROMIUM: fake })).toBe(fake);
  });

  it('names the fix when $SEALCHAT_CHROMIUM points at nothing usable', () => {
    expect(() => findChromium({ SEALCHAT_CHROMIUM: '/nonexistent/chromium' })).toThrow(
      /SEALCHAT_CHROMIUM=\/nonexistent\/chromium is not an executable file/,
    );
  });

  it('otherwise finds a browser on this machine (Debian chromium or Playwright’s own)', () => {
    expect(findChromium({})).toMatch(/chrom/i);
  });
});
