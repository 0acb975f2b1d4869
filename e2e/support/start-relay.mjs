// Starts the e2e relay (demo mode, fresh SQLite file) with its log going to a file, so the canary
// test can scan exactly what the relay wrote. Playwright's webServer runs this and stops it.
import { spawn } from 'node:child_process';
import { createWriteStream, mkdirSync, rmSync } from 'node:fs';
import { resolve } from 'node:path';

const [port, webOrigins, outDir] = process.argv.slice(2);
if (!port || !webOrigins || !outDir) {
  console.error('usage: start-relay.mjs <port> <allowed origins, comma-separated> <output dir>');
  process.exit(2);
}
const root = resolve(import.meta.dirname, '../..');
const out = resolve(root, outDir);
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
const log = createWriteStream(resolve(out, 'relay.log'));
const relay = spawn(
  process.execPath,
  [
    resolve(root, 'packages/relay/dist/cli.js'),
    '--demo',
    '--port',
    port,
    '--db',
    resolve(out, 'relay.db'),
    ...webOrigins.split(',').flatMap((origin) => ['--allow-origin', origin]),
  ],
  { stdio: ['ignore', 'pipe', 'pipe'] },
);
relay.stdout.pipe(log);
relay.stderr.pipe(log);
relay.on('exit', (code) => process.exit(code ?? 0));
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => relay.kill('SIGTERM'));
