import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import {
  decodeClientFrame,
  encodeRelayFrame,
  exportPublicKey,
  formatOrgKey,
  generateSigningKeyPair,
  issueRoster,
  orgIdFromRootKey,
  parseOrgKey,
  randomBytes,
  RosterError,
} from '@sealchat/protocol';
import { WebSocket } from 'ws';
import { loadRosterMark, MemoryClientStore } from './client-store.js';
import type { WebSocketConstructor } from './relay-connection.js';
import { VisitorSession } from './visitor-session.js';

/**
 * A hostile relay: it answers the visitor's roster request with a roster for the right org id,
 * signed by a key of its own. The visitor must refuse it, say why, and stop connecting.
 */
async function forgingRelay() {
  const pinned = await generateSigningKeyPair();
  const pinnedPublic = await exportPublicKey(pinned.publicKey);
  const orgId = await orgIdFromRootKey(pinnedPublic);
  const forger = await generateSigningKeyPair();
  const now = Date.now();
  const forged = await issueRoster(
    {
      orgId,
      version: 99,
      previousDigest: new Uint8Array(32).fill(1),
      issuedAt: now,
      expiresAt: now + 3_600_000,
      archivePublic: undefined,
      supervisors: [],
      agents: [],
    },
    { privateKey: forger.privateKey, publicKey: await exportPublicKey(forger.publicKey) },
  );
  let connections = 0;
  const server = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  server.on('connection', (socket) => {
    connections++;
    socket.send(encodeRelayFrame({ kind: 'challenge', nonce: randomBytes(32) }));
    socket.on('message', (data: Buffer) => {
      const frame = decodeClientFrame(new Uint8Array(data));
      if (frame.kind === 'get-roster') {
        socket.send(encodeRelayFrame({ kind: 'roster', requestId: frame.requestId, roster: forged }));
      }
    });
  });
  await new Promise<void>((resolve) => server.once('listening', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `ws://127.0.0.1:${port}`,
    orgKey: await formatOrgKey(pinnedPublic),
    connections: () => connections,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

describe('VisitorSession against a hostile relay', () => {
  it('refuses a roster not signed by the pinned org key, and stops reconnecting', async () => {
    const relay = await forgingRelay();
    closers.push(relay.close);
    const store = new MemoryClientStore();
    const start = VisitorSession.start({
      relayUrl: relay.url,
      orgKey: relay.orgKey,
      store,
      WebSocket: WebSocket as unknown as WebSocketConstructor,
      reconnectDelayMs: 20,
    });
    await expect(start).rejects.toBeInstanceOf(RosterError);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(relay.connections()).toBe(1);
    // Nothing was accepted: the forged version 99 was not remembered.
    const orgId = await orgIdFromRootKey(await parseOrgKey(relay.orgKey));
    expect((await loadRosterMark(store, orgId)).version).toBe(0);
  });

  it('open() resolves at once, then reports the forged roster as an error event and stops connecting', async () => {
    const relay = await forgingRelay();
    closers.push(relay.close);
    const session = await VisitorSession.open({
      relayUrl: relay.url,
      orgKey: relay.orgKey,
      store: new MemoryClientStore(),
      WebSocket: WebSocket as unknown as WebSocketConstructor,
      reconnectDelayMs: 20,
    });
    closers.push(() => Promise.resolve(session.close()));
    expect(session.state).not.toBe('open');
    const error = await new Promise((resolve) => session.addEventListener('error', (event) => resolve(event.detail)));
    expect(error).toBeInstanceOf(RosterError);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(session.state).toBe('closed');
    expect(relay.connections()).toBe(1);
  });
});
