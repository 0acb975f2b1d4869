import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/**
 * WAL checkpoints off the event loop. SQLite's automatic checkpoint runs inside the commit that
 * crosses 1000 WAL pages, copying pages into the database file and fsyncing it while every socket
 * waits; that was the relay's largest latency spike. The relay turns auto-checkpoint off and a
 * worker thread (worker/checkpoint-worker.mjs), on its own connection, runs a PASSIVE checkpoint
 * (it never blocks the writer) every `intervalMs`.
 */
// src/ and dist/ both sit one level below the package root, so one relative URL serves both.
const WORKER_URL = new URL('../worker/checkpoint-worker.mjs', import.meta.url);

export class Checkpointer {
  private readonly worker: Worker;

  constructor(path: string, intervalMs: number) {
    const driver = createRequire(import.meta.url).resolve('better-sqlite3');
    this.worker = new Worker(WORKER_URL, { workerData: { driver, path, intervalMs } });
    this.worker.unref();
    this.worker.on('error', () => undefined);
  }

  /** Stops the worker and closes its connection. */
  async stop(): Promise<void> {
    const exited = new Promise<void>((resolve) => this.worker.once('exit', () => resolve()));
    this.worker.postMessage('stop');
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 2000))]);
  }
}
