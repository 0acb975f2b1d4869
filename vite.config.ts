import { resolve } from 'node:path';
import { playwright } from '@vitest/browser-playwright';
import { defineConfig } from 'vitest/config';
import { pinOrgPlugin } from './demo/pin-org-plugin.js';
import { CHROMIUM_ARGS, findChromium } from './scripts/find-chromium.mjs';

const here = import.meta.dirname;

// Workspace packages export a "source" condition pointing at src/*.ts: the demo and the tests run
// straight from source, while npm consumers get dist/ (the "default" condition).
const resolveSource = { conditions: ['source', 'module', 'browser', 'development|production'] };

// Project Wycheproof vectors are read in place, never copied into the repository: from the shared/
// checkout beside it, or from SEALCHAT_WYCHEPROOF_DIR (.ci/run sets it for a checkout elsewhere).
// wycheproof.test.ts globs them through this alias in Node and in Chromium.
const wycheproofDir = process.env['SEALCHAT_WYCHEPROOF_DIR'] ?? resolve(here, '../shared/vendor/wycheproof');
const alias = { '@wycheproof': wycheproofDir };

export default defineConfig({
  // `vite` / `vite build` serve and build the demo site.
  root: resolve(here, 'demo'),
  resolve: resolveSource,
  plugins: [pinOrgPlugin()],
  server: { port: 5173, strictPort: true },
  // The chat panel is imported lazily (on the first click), so Vite would discover its dependencies
  // only then and reload the page to re-bundle them, losing the visitor's click. Bundle them up front.
  optimizeDeps: { include: ['lit', 'lit/html.js', 'idb', '@hpke/core'] },
  preview: { port: 5173, strictPort: true },
  build: {
    outDir: resolve(here, 'demo/dist'),
    emptyOutDir: true,
    rolldownOptions: {
      input: {
        shop: resolve(here, 'demo/index.html'),
        agent: resolve(here, 'demo/agent.html'),
        relay: resolve(here, 'demo/relay.html'),
      },
    },
  },
  test: {
    projects: [
      {
        root: here,
        resolve: { conditions: ['source'], alias },
        test: {
          name: 'node',
          environment: 'node',
          include: [
            'packages/*/src/**/*.test.ts',
            'e2e/support/**/*.test.ts',
            'e2e/node/**/*.test.ts',
            'scripts/**/*.test.ts',
          ],
          exclude: ['**/*.browser.test.ts', '**/node_modules/**'],
        },
      },
      {
        root: here,
        resolve: { ...resolveSource, alias },
        server: { fs: { allow: [here, wycheproofDir] } },
        // Pre-bundled up front, so vite does not reload the page mid-run when it discovers them.
        optimizeDeps: { include: ['@hpke/core', 'lit', 'idb', 'fast-check'] },
        test: {
          name: 'chromium',
          // Shared crypto suites run here too, so the protocol is proven in both runtimes; so do the
          // client's hostile models (fewer runs) and the client's trust checks that need no Node
          // server (receipts, transcript marks, controls, the audit log: docs/security.md).
          include: [
            'packages/*/src/**/*.browser.test.ts',
            'packages/protocol/src/**/*.test.ts',
            'packages/client/src/hostile-*.test.ts',
            'packages/client/src/transcript-keeper.test.ts',
            'packages/client/src/conversation.test.ts',
            'packages/client/src/agent-controls.test.ts',
            'packages/client/src/audit-log.test.ts',
            'packages/client/src/audit-floor.test.ts',
          ],
          browser: {
            enabled: true,
            headless: true,
            provider: playwright({ launchOptions: { executablePath: findChromium(), args: CHROMIUM_ARGS } }),
            instances: [{ browser: 'chromium' }],
          },
        },
      },
    ],
  },
});
