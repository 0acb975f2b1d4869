import { createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { RelayConnection, type WebSocketConstructor } from './relay-connection.js';

/** A server that accepts TCP connections and never says a word: a relay mid-restart, a stuck proxy. */
async function blackHole(): Promise<{ port: number; accepted: () => number; close: () => Promise<void> }> {
  const sockets: Socket[] = [];
  const server: Server = createServer((socket) => sockets.push(socket));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as { port: number }).port,
    accepted: () => sockets.length,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

describe('RelayConnection', () => {
  it('abandons a connection attempt that is accepted but never answered, and tries again', async () => {
    const hole = await blackHole();
    cleanups.push(hole.close);
    const connection = new RelayConnection(`ws://127.0.0.1:${hole.port}`, {
      WebSocket: WebSocket as unknown as WebSocketConstructor,
      connectTimeoutMs: 150,
      reconnectDelayMs: 20,
      maxReconnectDelayMs: 40,
    });
    cleanups.push(() => connection.close());
    const states: string[] = [];
    connection.addEventListener('state', (event) => states.push(event.detail));
    connection.open();
    await expect.poll(() => hole.accepted(), { timeout: 3000 }).toBeGreaterThanOrEqual(3);
    expect(states.filter((s) => s === 'closed').length).toBeGreaterThanOrEqual(2);
    expect(connection.state).not.toBe('open');
  });

  it('rejects a relay URL that is not ws:// or wss://', () => {
    expect(
      () => new RelayConnection('http://example.org', { WebSocket: WebSocket as unknown as WebSocketConstructor }),
    ).toThrow(/ws:\/\/ or wss:\/\//);
  });
});
