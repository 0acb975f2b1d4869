import { defineConfig } from '@playwright/test';
import { CHROMIUM_ARGS, findChromium } from './scripts/find-chromium.mjs';
import { E2E_OUTPUT_DIR, E2E_PLAIN_ORIGIN, E2E_RELAY_PORT, E2E_WEB_ORIGIN, E2E_WEB_PORT } from './e2e/support/ports.js';

// End-to-end suites in real Chromium. They start their own relay (demo mode, fresh database under
// e2e/.output) and the demo pages, on ports apart from `npm run demo`'s.
export default defineConfig({
  testDir: 'e2e',
  testMatch: '**/*.spec.ts',
  outputDir: 'test-results',
  fullyParallel: false,
  workers: 1,
  retries: 0,
  timeout: 60_000,
  expect: { timeout: 15_000 },
  reporter: process.env['CI'] ? [['list']] : [['list']],
  use: {
    browserName: 'chromium',
    baseURL: E2E_WEB_ORIGIN,
    launchOptions: { executablePath: findChromium(), args: CHROMIUM_ARGS },
    trace: 'retain-on-failure',
  },
  webServer: [
    {
      command: `node e2e/support/start-relay.mjs ${E2E_RELAY_PORT} ${E2E_WEB_ORIGIN},${E2E_PLAIN_ORIGIN} ${E2E_OUTPUT_DIR}`,
      url: `http://localhost:${E2E_RELAY_PORT}/healthz`,
      reuseExistingServer: false,
      timeout: 30_000,
    },
    {
      command: `npx vite --port ${E2E_WEB_PORT} --strictPort --host localhost`,
      url: E2E_WEB_ORIGIN,
      reuseExistingServer: false,
      timeout: 60_000,
    },
  ],
});
