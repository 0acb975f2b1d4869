import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChatSession, WebSocketConstructor } from '@sealchat/client';
import { startRelay, silentLogger, type RunningRelay } from '@sealchat/relay';
import { afterEach } from 'vitest';
import { WebSocket } from 'ws';

/** What the headless journeys in e2e/node share: Node's WebSocket, a real relay, cleanup, waiting. */
export const WS = WebSocket as unknown as WebSocketConstructor;

/** Things to close after each test, last opened first. Registers the afterEach hook in the calling file. */
export function useClosers(): (() => Promise<void> | void)[] {
  const closers: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close();
  });
  return closers;
}

/** A relay on a fresh SQLite file in demo mode, closed after the test. */
export async function startTestRelay(
  closers: (() => Promise<void> | void)[],
): Promise<RunningRelay & { readonly dbPath: string }> {
  const dbPath = join(mkdtempSync(join(tmpdir(), 'sealchat-')), 'relay.db');
  const running = await startRelay({ port: 0, dbPath, demo: true }, { logger: silentLogger });
  closers.push(() => running.close());
  return Object.assign(running, { dbPath });
}

/** Resolves with the first `type` event of `session` whose detail matches. */
export function until<T>(session: ChatSession, type: string, predicate: (detail: T) => boolean): Promise<T> {
  return new Promise((resolve) => {
    const listener = (event: Event) => {
      const detail = (event as CustomEvent<T>).detail;
      if (predicate(detail)) {
        session.removeEventListener(type, listener);
        resolve(detail);
      }
    };
    session.addEventListener(type, listener);
  });
}
