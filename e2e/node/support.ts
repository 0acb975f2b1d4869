import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AgentSession,
  MemoryClientStore,
  VisitorSession,
  type AgentSessionOptions,
  type ChatSession,
  type VisitorSessionOptions,
  type WebSocketConstructor,
} from '@sealchat/client';
import type { DeviceIdentity } from '@sealchat/protocol';
import { startRelay, silentLogger, type RunningRelay } from '@sealchat/relay';
import { afterEach } from 'vitest';
import { WebSocket } from 'ws';

/** What the headless journeys in e2e/node share: Node's WebSocket, a real relay, cleanup, waiting. */
export const WS = WebSocket as unknown as WebSocketConstructor;

/** Things to close after each test, last opened first (see {@link useClosers}). */
export type Closers = (() => Promise<void> | void)[];

/** Things to close after each test, last opened first. Registers the afterEach hook in the calling file. */
export function useClosers(): Closers {
  const closers: Closers = [];
  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close();
  });
  return closers;
}

/** A relay on a fresh SQLite file in demo mode, closed after the test. */
export async function startTestRelay(closers: Closers): Promise<RunningRelay & { readonly dbPath: string }> {
  const dbPath = join(mkdtempSync(join(tmpdir(), 'sealchat-')), 'relay.db');
  const running = await startRelay({ port: 0, dbPath, demo: true }, { logger: silentLogger });
  closers.push(() => running.close());
  return Object.assign(running, { dbPath });
}

/**
 * An agent console's session of `identity` on `running`, over Node's WebSocket with a fresh memory
 * store (`options` add to or override that), closed after the test. Rejects as AgentSession.start.
 */
export async function agentSession(
  running: RunningRelay,
  orgRootKey: Uint8Array<ArrayBuffer>,
  identity: DeviceIdentity,
  closers: Closers,
  options: Partial<AgentSessionOptions> = {},
): Promise<AgentSession> {
  const session = await AgentSession.start({
    relayUrl: running.url,
    orgRootKey,
    identity,
    store: new MemoryClientStore(),
    WebSocket: WS,
    ...options,
  });
  closers.push(() => session.close());
  return session;
}

/**
 * A visitor's session with the org of `orgKey` on `running`, over Node's WebSocket with a fresh
 * memory store (`options` add to or override that), closed after the test.
 */
export async function visitorSession(
  running: RunningRelay,
  orgKey: string,
  closers: Closers,
  options: Partial<VisitorSessionOptions> = {},
): Promise<VisitorSession> {
  const session = await VisitorSession.start({
    relayUrl: running.url,
    orgKey,
    store: new MemoryClientStore(),
    WebSocket: WS,
    ...options,
  });
  closers.push(() => session.close());
  return session;
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
