import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AgentSession,
  enrolAgentDevice,
  loadOrCreateOrganisation,
  MemoryClientStore,
  publishRoster,
  RelayRequestError,
  type WebSocketConstructor,
} from '@sealchat/client';
import { generateDeviceIdentity } from '@sealchat/protocol';
import { silentLogger, startRelay } from '@sealchat/relay';
import { describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { useClosers, WS } from './support.js';

/**
 * An agent's login names the relay it dialled (docs/protocol.md §9), so a hostile relay cannot hand
 * another relay's challenge to the agents connected to it and log in as them there.
 */
const closers = useClosers();

/**
 * A socket that reaches `target` whatever URL the session dials, sending `host` as its Host header:
 * a reverse proxy in front of the relay, or a hostile relay forwarding every frame to it.
 */
function via(target: string, host?: string): WebSocketConstructor {
  return class extends WebSocket {
    constructor() {
      super(target, host === undefined ? {} : { headers: { host } });
    }
  } as unknown as WebSocketConstructor;
}

/** Relay "chat.example" (behind a proxy, so it is told its public origin) with Robin's org and agent Sam on it. */
async function setUp() {
  const dbPath = join(mkdtempSync(join(tmpdir(), 'sealchat-')), 'relay.db');
  const running = await startRelay(
    { port: 0, dbPath, demo: true, publicOrigins: ['wss://chat.example'] },
    { logger: silentLogger },
  );
  closers.push(() => running.close());
  const store = new MemoryClientStore();
  const org = await loadOrCreateOrganisation(store, { agentName: 'Robin' });
  const sam = await generateDeviceIdentity();
  await publishRoster(running.url, await enrolAgentDevice(store, org, sam, { displayName: 'Sam' }), { WebSocket: WS });
  const start = (relayUrl: string, WebSocket: WebSocketConstructor) =>
    AgentSession.start({
      relayUrl,
      orgRootKey: org.rootPublic,
      identity: sam,
      store: new MemoryClientStore(),
      WebSocket,
    });
  return { running, start };
}

describe('agent login bound to the relay dialled (issue 11, finding 9)', () => {
  it('an agent dialling the relay’s public origin through a proxy logs in', async () => {
    const { running, start } = await setUp();
    const session = await start('wss://chat.example/sealchat', via(running.url, 'chat.example'));
    closers.push(() => session.close());
    expect(session.state).toBe('open');
  });

  it('an agent connected to a hostile relay cannot be logged in at another relay through it', async () => {
    const { running, start } = await setUp();
    // Sam dials evil.example, which forwards everything to chat.example, Host header included.
    const attempt = start('wss://evil.example', via(running.url, 'evil.example'));
    const error = await attempt.then(
      (session) => {
        closers.push(() => session.close());
        return undefined;
      },
      (cause: unknown) => cause,
    );
    expect(error).toBeInstanceOf(RelayRequestError);
    expect((error as RelayRequestError).code).toBe('SEALCHAT_E_UNAUTHORIZED');
  });
});
