#!/usr/bin/env node
// Starts the demo: the relay in demo mode on an SQLite file under data/ (git-ignored), and the demo
// pages on Vite's dev server. `npm run demo` runs the install and build first; this only starts.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { createServer } from 'vite';

const root = resolve(import.meta.dirname, '..');
const relayPort = Number(process.env.SEALCHAT_DEMO_RELAY_PORT ?? 8787);
const webPort = Number(process.env.SEALCHAT_DEMO_WEB_PORT ?? 5173);
const dataDir = resolve(root, 'data');
const cli = resolve(root, 'packages/relay/dist/cli.js');

if (!existsSync(cli)) {
  console.error('The relay is not built yet. Run `npm run demo` (installs and builds first), or `npm run build`.');
  process.exit(1);
}
mkdirSync(dataDir, { recursive: true });

const webOrigin = `http://localhost:${webPort}`;
const relay = spawn(
  process.execPath,
  [
    cli,
    '--demo',
    '--port',
    String(relayPort),
    '--db',
    resolve(dataDir, 'relay.db'),
    '--allow-origin',
    webOrigin,
    '--allow-origin',
    `http://127.0.0.1:${webPort}`,
  ],
  { stdio: ['ignore', 'inherit', 'inherit'] },
);
relay.on('exit', (code) => {
  if (!stopping) {
    console.error(`The relay exited (code ${code}).`);
    process.exit(1);
  }
});

const web = await createServer({
  configFile: resolve(root, 'vite.config.ts'),
  server: { port: webPort, strictPort: true, host: 'localhost' },
});
await web.listen();

console.log(`
  Sealchat demo is running.

    Agent console (open this first)  ${webOrigin}/agent.html
    Shop with the widget             ${webOrigin}/
    What the relay sees              ${webOrigin}/relay.html

  Relay: ws://localhost:${relayPort} (demo mode), data in ${dataDir}
  Press Ctrl+C to stop.
`);

let stopping = false;
async function stop() {
  if (stopping) return;
  stopping = true;
  relay.kill('SIGTERM');
  await web.close();
  process.exit(0);
}
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
