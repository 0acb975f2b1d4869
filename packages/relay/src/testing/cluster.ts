/**
 * Child processes for the multi-relay test and the scale benchmark: the built `sealchat-relay` CLI,
 * and a throwaway `redis-server` (never the machine's own Redis, which other work may be using).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const packageDir = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const RELAY_CLI = join(packageDir, 'dist', 'cli.js');

/** Builds the CLI if it is missing or stale (incremental, fast when current). */
export function buildRelayCli(): void {
  try {
    execFileSync('npx', ['tsc', '-b', packageDir], {
      cwd: resolve(packageDir, '../..'),
      stdio: 'pipe',
      timeout: 60_000,
    });
  } catch (error) {
    if (!existsSync(RELAY_CLI)) throw error;
  }
}

/** Limits for the open internet, raised: the test is one address posting fast. */
export const LOOSE_LIMITS = [
  '--connection-rate',
  '1000000',
  '--connection-burst',
  '1000000',
  '--capability-rate',
  '1000000',
  '--capability-burst',
  '1000000',
  '--max-pending-posts-per-socket',
  '1000000',
  '--max-new-conversations-per-address-per-hour',
  '100000',
];

export interface RelayProcess {
  readonly child: ChildProcess;
  readonly url: string;
  /** JSON log lines so far. */
  readonly logs: string[];
  kill(signal: NodeJS.Signals): Promise<void>;
}

/** Starts the CLI with these arguments and resolves once it logs `listening`. */
export function startRelayProcess(args: readonly string[]): Promise<RelayProcess> {
  const child = spawn(process.execPath, [RELAY_CLI, '--port', '0', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const logs: string[] = [];
  let stderr = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  return new Promise((resolvePromise, reject) => {
    let buffer = '';
    const timer = setTimeout(() => reject(new Error(`The relay did not start: ${stderr}`)), 15_000);
    child.stdout?.setEncoding('utf8');
    child.stdout?.on('data', (chunk: string) => {
      buffer += chunk;
      const lines = buffer.split('\n');
      buffer = lines.pop() ?? '';
      for (const line of lines) {
        logs.push(line);
        if (!line.includes('"listening"')) continue;
        clearTimeout(timer);
        resolvePromise({
          child,
          url: (JSON.parse(line) as { url: string }).url,
          logs,
          kill: async (signal) => {
            if (child.exitCode === null && child.signalCode === null) child.kill(signal);
            await exited;
          },
        });
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`The relay exited with ${code}: ${stderr}${logs.join('\n')}`));
    });
  });
}

/** A TCP port free right now on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolvePromise(port));
    });
  });
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolvePromise) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolvePromise(true);
    });
    socket.once('error', () => resolvePromise(false));
  });
}

export interface ThrowawayRedis {
  readonly port: number;
  readonly url: string;
  /** SIGKILL, as a crash would. */
  kill(): Promise<void>;
  /** Starts it again on the same port (empty: it keeps nothing, as pub/sub needs nothing). */
  start(): Promise<void>;
}

/**
 * A `redis-server` child on a free port with persistence off.
 * @throws Error if redis-server is not installed or does not start.
 */
export async function startThrowawayRedis(): Promise<ThrowawayRedis> {
  const port = await freePort();
  let child: ChildProcess | undefined;
  const start = async (): Promise<void> => {
    const started = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      {
        stdio: 'ignore',
      },
    );
    child = started;
    const failed = new Promise<never>((_, reject) => {
      started.once('error', (error) => reject(new Error(`redis-server did not start: ${error.message}`)));
    });
    for (let i = 0; i < 100; i++) {
      if (await Promise.race([accepts(port), failed])) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`redis-server did not listen on ${port}`);
  };
  await start();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    start,
    kill: async () => {
      const running = child;
      if (!running || running.exitCode !== null || running.signalCode !== null) return;
      const exited = new Promise((r) => running.once('exit', r));
      running.kill('SIGKILL');
      await exited;
    },
  };
}
