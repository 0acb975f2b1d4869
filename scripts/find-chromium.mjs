// The one place tests learn which Chromium to drive: vitest's browser mode and Playwright both ask here.
// Order: $SEALCHAT_CHROMIUM, then Debian's /usr/bin/chromium, then a browser Playwright downloaded itself.
import { accessSync, constants } from 'node:fs';
import { chromium } from 'playwright';

export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

function executable(path) {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** @returns {string} an executable Chromium path. @throws Error naming the fix. */
export function findChromium(env = process.env) {
  const fromEnv = env.SEALCHAT_CHROMIUM;
  if (fromEnv) {
    if (executable(fromEnv)) return fromEnv;
    throw new Error(
      `SEALCHAT_CHROMIUM=${fromEnv} is not an executable file. Point it at a Chromium binary, or unset it.`,
    );
  }
  if (executable('/usr/bin/chromium')) return '/usr/bin/chromium';
  let bundled;
  try {
    bundled = chromium.executablePath();
  } catch {
    bundled = undefined;
  }
  if (bundled && executable(bundled)) return bundled;
  throw new Error(
    'No Chromium found for the browser tests. Fix it with one of: `sudo apt-get install chromium` (Debian/Ubuntu), ' +
      '`npx playwright install chromium`, or SEALCHAT_CHROMIUM=/path/to/chromium.',
  );
}
