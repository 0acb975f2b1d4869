/**
 * Ports the e2e suites use: apart from `npm run demo`'s (8787, 5173), so a running demo does not
 * collide with a test run.
 */
export const E2E_RELAY_PORT = 8797;
export const E2E_WEB_PORT = 5183;
export const E2E_RELAY_WS = `ws://localhost:${E2E_RELAY_PORT}`;
export const E2E_WEB_ORIGIN = `http://localhost:${E2E_WEB_PORT}`;
/** A plain static site (no Vite) that embeds the script-tag bundle, started by e2e/embed.spec.ts. */
export const E2E_PLAIN_PORT = 5184;
export const E2E_PLAIN_ORIGIN = `http://localhost:${E2E_PLAIN_PORT}`;
/** Where the e2e relay keeps its database and log, fresh for every run. */
export const E2E_OUTPUT_DIR = 'e2e/.output';
