import {
  AgentSession,
  enrolAgentDevice,
  loadOrCreateOrganisation,
  MemoryClientStore,
  OrgAdministration,
  publishRoster,
  RelayRequestError,
  removeDevice,
  type ChatMessage,
} from '@sealchat/client';
import { ArchiveKeyError, generateDeviceIdentity, toHex } from '@sealchat/protocol';
import type { RunningRelay } from '@sealchat/relay';
import { WebSocket } from 'ws';
import { describe, expect, it } from 'vitest';
import { agentSession, startTestRelay, until, useClosers, visitorSession, WS } from './support.js';

/**
 * Issue 6, "agents, by org policy, read past conversations": a supervisor's console (holding the
 * archive key) shares past conversations with an agent enrolled later, through history grants on a
 * real relay (docs/protocol.md §14, docs/agent-console.md).
 */
const closers = useClosers();

/** An org whose agent Robin has a conversation (messages both ways and a note) before Sam joins. */
async function pastConversation(running: RunningRelay, mode: 'archive' | 'ephemeral' = 'archive') {
  const store = new MemoryClientStore();
  const org = await loadOrCreateOrganisation(store, { agentName: 'Robin' });
  await publishRoster(running.url, org, { WebSocket: WS });
  // The supervisor's console: the org's agent device, reading through the archive key.
  const console = await agentSession(running, org.rootPublic, org.agent, closers, { archiveKey: org.archive });
  const visitor = await visitorSession(running, org.orgKey, closers, { mode });
  const first = until<ChatMessage>(console, 'message', (m) => m.text === 'Where is my order?');
  await visitor.send('Where is my order?');
  const { conversationId } = await first;
  await console.reply(conversationId, 'Checking');
  const note = await console.addNote(conversationId, 'Order was never shipped');
  await until<ChatMessage>(console, 'message', (m) => m.id === note.id && m.state === 'sent');

  const sam = await generateDeviceIdentity();
  const issued = await enrolAgentDevice(store, org, sam, { displayName: 'Sam' });
  await publishRoster(running.url, issued, { WebSocket: WS });
  const admin = await OrgAdministration.connect({ relayUrl: running.url, organisation: org, store, WebSocket: WS });
  closers.push(() => admin.close());
  return { store, org, console, visitor, conversationId, sam, admin };
}

const texts = (session: AgentSession, conversationId: string) =>
  session.messagesOf(conversationId).map((m) => [m.text, m.note === true]);

const PAST = [
  ['Where is my order?', false],
  ['Checking', false],
  ['Order was never shipped', true],
];

describe('history grants over a real relay', { timeout: 30_000 }, () => {
  it('by policy, an agent enrolled later reads the past conversation (notes too) live, after a reload, and keeps only that once revoked', async () => {
    const running = await startTestRelay(closers);
    const { store, org, console, visitor, conversationId, sam, admin } = await pastConversation(running);
    expect(await admin.historyPolicy()).toBe(false);
    await admin.setHistoryPolicy(true);
    expect(await admin.historyPolicy()).toBe(true);

    // Sam's console is open before anything is shared: it lists the conversation, reads none of it.
    const samLive = await agentSession(running, org.rootPublic, sam, closers);
    expect(samLive.conversationList.map((c) => c.id)).toEqual([conversationId]);
    expect(samLive.messagesOf(conversationId)).toEqual([]);

    // The grant reaches the open console, which reads the conversation again from the start.
    const shown = until(samLive, 'message', (m: ChatMessage) => m.note === true);
    expect(await admin.shareHistory(console, { deviceId: sam.deviceId, name: 'Sam' })).toEqual({
      shared: 1,
      skipped: 0,
    });
    await shown;
    expect(texts(samLive, conversationId)).toEqual(PAST);

    // A reload fetches the grants before the conversations.
    const samReloaded = await agentSession(running, org.rootPublic, sam, closers);
    expect(texts(samReloaded, conversationId)).toEqual(PAST);

    // The conversation goes on: Sam is on the roster now, so new chains include Sam anyway.
    const later = until<ChatMessage>(samReloaded, 'message', (m) => m.text === 'Any news?');
    await visitor.send('Any news?');
    await later;

    // The audit log says who got what.
    const entries = (await admin.readAuditLog()).map((e) => e.event);
    expect(entries).toContainEqual({ action: 'history-policy-set', enabled: 1 });
    expect(entries).toContainEqual({ action: 'history-shared', deviceId: sam.deviceId, name: 'Sam', conversations: 1 });

    // Revoked: the relay drops Sam's grants with Sam (a revoked device is refused anyway).
    samLive.close();
    samReloaded.close();
    await publishRoster(running.url, await removeDevice(store, org, sam.deviceId), { WebSocket: WS });
    const refused = await agentSession(running, org.rootPublic, sam, closers).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(RelayRequestError);
  });

  it('a grant given while the agent’s console was offline (its push missed) is read when it reconnects', async () => {
    const running = await startTestRelay(closers);
    const { org, console, conversationId, sam, admin } = await pastConversation(running);
    // Sam's network: while it is down, open sockets drop and new ones go nowhere.
    let online = true;
    const sockets = new Set<InstanceType<typeof WebSocket>>();
    const SamWebSocket = class extends WebSocket {
      constructor(url: string | URL, protocols?: string | string[]) {
        super(online ? url : 'ws://127.0.0.1:9', protocols);
        sockets.add(this);
      }
    };
    const samLive = await agentSession(running, org.rootPublic, sam, closers, {
      WebSocket: SamWebSocket as unknown as typeof WS,
      reconnectDelayMs: 50,
      maxReconnectDelayMs: 100,
    });
    expect(samLive.messagesOf(conversationId)).toEqual([]);
    online = false;
    const down = until(samLive, 'state', (state: string) => state !== 'open');
    for (const socket of sockets) socket.close();
    await down;

    await admin.shareHistory(console, { deviceId: sam.deviceId, name: 'Sam' });
    const shown = until(samLive, 'message', (m: ChatMessage) => m.note === true);
    online = true;
    await shown;
    expect(texts(samLive, conversationId)).toEqual(PAST);
    expect(samLive.conversationList.map((c) => c.id)).toEqual([conversationId]);
  });

  it('a console that read a conversation through a grant does not read it again on every reconnect', async () => {
    const running = await startTestRelay(closers);
    const { org, console, visitor, conversationId, sam, admin } = await pastConversation(running);
    const sockets = new Set<InstanceType<typeof WebSocket>>();
    const SamWebSocket = class extends WebSocket {
      constructor(url: string | URL, protocols?: string | string[]) {
        super(url, protocols);
        sockets.add(this);
      }
    };
    const samLive = await agentSession(running, org.rootPublic, sam, closers, {
      WebSocket: SamWebSocket as unknown as typeof WS,
      reconnectDelayMs: 50,
      maxReconnectDelayMs: 100,
    });
    const shown = until(samLive, 'message', (m: ChatMessage) => m.note === true);
    await admin.shareHistory(console, { deviceId: sam.deviceId, name: 'Sam' });
    await shown;

    // The network drops; the console reconnects, fetches its grants again, and attaches.
    const reread: string[] = [];
    samLive.addEventListener('conversation', (event) => reread.push((event as CustomEvent<{ id: string }>).detail.id));
    for (const socket of sockets) socket.close();
    const after = until<ChatMessage>(samLive, 'message', (m) => m.text === 'Still there?');
    await until(samLive, 'state', (state: string) => state === 'open');
    await visitor.send('Still there?');
    await after;
    // The grant it holds is the grant it fetched again: nothing to read anew.
    expect(reread).toEqual([]);
    expect(texts(samLive, conversationId)).toEqual([...PAST, ['Still there?', false]]);
  });

  it('without a grant an agent enrolled later reads nothing of the past; an ephemeral conversation has nothing to share', async () => {
    const running = await startTestRelay(closers);
    const { org, console, conversationId, sam, admin } = await pastConversation(running, 'ephemeral');
    expect(await admin.shareHistory(console, { deviceId: sam.deviceId, name: 'Sam' })).toEqual({
      shared: 0,
      skipped: 0,
    });
    const samSession = await agentSession(running, org.rootPublic, sam, closers);
    expect(samSession.conversationList.map((c) => c.id)).toEqual([conversationId]);
    expect(samSession.messagesOf(conversationId)).toEqual([]);
  });

  it('only a console holding the archive key can share, only with a device on the roster, and only a supervisor device may hand grants to the relay', async () => {
    const running = await startTestRelay(closers);
    const { org, console, conversationId, sam, admin } = await pastConversation(running);
    const samSession = await agentSession(running, org.rootPublic, sam, closers);
    await expect(admin.shareHistory(samSession, { deviceId: org.agent.deviceId, name: 'Robin' })).rejects.toThrow(
      ArchiveKeyError,
    );
    const stranger = await generateDeviceIdentity();
    await expect(admin.shareHistory(console, { deviceId: stranger.deviceId, name: 'Nobody' })).rejects.toThrow(
      TypeError,
    );
    // An agent device (the console's own) cannot store grants, even well-formed ones.
    const { grants } = await console.historyGrantsFor(sam.deviceId);
    expect(grants.map((g) => toHex(g.conversationId))).toEqual([conversationId]);
    const refused = await console
      .request({ kind: 'put-history-grant', deviceId: sam.deviceId, ...grants[0]! })
      .catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(RelayRequestError);
    expect(samSession.messagesOf(conversationId)).toEqual([]);
  });
});
