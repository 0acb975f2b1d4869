import type { Page } from '@playwright/test';
import { E2E_RELAY_WS } from './ports.js';

/**
 * The strict Content-Security-Policy the e2e suites serve the widget and the console under: files
 * of the page's own origin only (no inline script or style), the e2e relay, and Trusted Types
 * required for every DOM sink that takes script.
 */
export const STRICT_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  `connect-src 'self' ${E2E_RELAY_WS}`,
  "require-trusted-types-for 'script'",
].join('; ');

/** Records every CSP violation `page` reports from its first script on; read them with {@link cspViolations}. */
export async function recordCspViolations(page: Page): Promise<void> {
  await page.addInitScript(() => {
    const seen: string[] = [];
    (window as unknown as { __violations: string[] }).__violations = seen;
    document.addEventListener('securitypolicyviolation', (e) => seen.push(`${e.violatedDirective} ${e.blockedURI}`));
  });
}

/** The violations {@link recordCspViolations} has seen on `page`'s current document, as `directive blocked-uri`. */
export function cspViolations(page: Page): Promise<string[]> {
  return page.evaluate(() => (window as unknown as { __violations: string[] }).__violations);
}
