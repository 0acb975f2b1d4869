import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AgentSession,
  loadOrCreateOrganisation,
  MemoryClientStore,
  publishRoster,
  VisitorSession,
  type ChatMessage,
  type ChatSession,
  type WebSocketConstructor,
} from '@sealchat/client';
import { backupDatabase, restoreDatabase, startRelay, silentLogger, type RunningRelay } from '@sealchat/relay';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';

/**
 * The first conversation, headless: @sealchat/client's visitor and agent sessions in Node, through
 * a real relay process on a real SQLite file. The browser journey is e2e/canary.spec.ts.
 */
const WS = WebSocket as unknown as WebSocketConstructor;
const closers: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

async function relayOn(dbPath: string, port = 0): Promise<RunningRelay> {
  const relay = await startRelay({ port, dbPath, demo: true }, { logger: silentLogger });
  closers.push(() => relay.close());
  return relay;
}

function waitFor(session: ChatSession, predicate: (m: ChatMessage) => boolean): Promise<ChatMessage> {
  return new Promise((resolve) => {
    const listener = (event: CustomEvent<ChatMessage>) => {
      if (predicate(event.detail)) {
        session.removeEventListener('message', listener);
        resolve(event.detail);
      }
    };
    session.addEventListener('message', listener);
  });
}

async function setup(relay: RunningRelay) {
  const agentStore = new MemoryClientStore();
  const org = await loadOrCreateOrganisation(agentStore, { agentName: 'Robin' });
  await publishRoster(relay.url, org, { WebSocket: WS });
  const agent = await AgentSession.start({
    relayUrl: relay.url,
    orgRootKey: org.rootPublic,
    identity: org.agent,
    store: agentStore,
    WebSocket: WS,
  });
  closers.push(() => agent.close());
  const visitorStore = new MemoryClientStore();
  const visitor = await VisitorSession.start({
    relayUrl: relay.url,
    orgKey: org.orgKey,
    store: visitorStore,
    WebSocket: WS,
  });
  closers.push(() => visitor.close());
  return { org, agentStore, agent, visitorStore, visitor };
}

describe('visitor ↔ agent over a real relay', () => {
  it('delivers both ways, decrypted, with the agent named from the roster', async () => {
    const relay = await relayOn(join(mkdtempSync(join(tmpdir(), 'sealchat-')), 'relay.db'));
    const { agent, visitor } = await setup(relay);

    const atAgent = waitFor(agent, (m) => m.text === 'Where is my parcel?');
    const sent = await visitor.send('Where is my parcel?');
    expect(sent.state).toBe('sending');
    const received = await atAgent;
    expect(received).toMatchObject({ author: 'visitor', mine: false, state: 'sent' });
    expect(visitor.messages.find((m) => m.id === sent.id)?.state).toBe('sent');

    const atVisitor = waitFor(visitor, (m) => m.text === 'On its way.');
    await agent.reply(received.conversationId, 'On its way.');
    expect(await atVisitor).toMatchObject({ author: 'agent', authorName: 'Robin', mine: false });
  });

  it('a new session on the same stores (a page reload) gets the whole conversation back', async () => {
    const relay = await relayOn(join(mkdtempSync(join(tmpdir(), 'sealchat-')), 'relay.db'));
    const { org, agent, agentStore, visitor, visitorStore } = await setup(relay);
    const atAgent = waitFor(agent, (m) => m.text === 'one');
    await visitor.send('one');
    const first = await atAgent;
    const atVisitor = waitFor(visitor, (m) => m.text === 'two');
    await agent.reply(first.conversationId, 'two');
    await atVisitor;
    visitor.close();
    agent.close();

    const visitor2 = await VisitorSession.start({
      relayUrl: relay.url,
      orgKey: org.orgKey,
      store: visitorStore,
      WebSocket: WS,
    });
    closers.push(() => visitor2.close());
    expect(visitor2.conversationId).toBe(first.conversationId);
    expect(visitor2.messages.map((m) => [m.text, m.mine])).toEqual([
      ['one', true],
      ['two', false],
    ]);

    const agent2 = await AgentSession.start({
      relayUrl: relay.url,
      orgRootKey: org.rootPublic,
      identity: org.agent,
      store: agentStore,
      WebSocket: WS,
    });
    closers.push(() => agent2.close());
    expect(agent2.messagesOf(first.conversationId).map((m) => [m.text, m.mine])).toEqual([
      ['one', false],
      ['two', true],
    ]);
  });

  it('a message sent while the relay is down shows as failed, then is delivered once when it is back', async () => {
    const dbPath = join(mkdtempSync(join(tmpdir(), 'sealchat-')), 'relay.db');
    const relay = await relayOn(dbPath);
    const port = relay.port;
    const agentStore = new MemoryClientStore();
    const org = await loadOrCreateOrganisation(agentStore);
    await publishRoster(relay.url, org, { WebSocket: WS });
    const visitor = await VisitorSession.start({
      relayUrl: relay.url,
      orgKey: org.orgKey,
      store: new MemoryClientStore(),
      WebSocket: WS,
      sendTimeoutMs: 300,
      reconnectDelayMs: 100,
      maxReconnectDelayMs: 200,
      // An attempt that lands while the relay restarts can be accepted and never answered.
      connectTimeoutMs: 500,
    });
    closers.push(() => visitor.close());
    // send() resolves once the message is queued; the outage starts after the relay has acked it.
    const acked = waitFor(visitor, (m) => m.text === 'before the outage' && m.state === 'sent');
    await visitor.send('before the outage');
    await acked;
    await relay.close();

    const failed = waitFor(visitor, (m) => m.text === 'during the outage' && m.state === 'failed');
    // Sealing is local, so the message is accepted at once and waits in the outbox.
    const message = await visitor.send('during the outage');
    expect(message.state).toBe('sending');
    await failed;
    // Listen before the relay is back: the reconnect may deliver it before the next line runs.
    const delivered = waitFor(visitor, (m) => m.text === 'during the outage' && m.state === 'sent');

    const relay2 = await relayOn(dbPath, port);
    const agent = await AgentSession.start({
      relayUrl: relay2.url,
      orgRootKey: org.rootPublic,
      identity: org.agent,
      store: agentStore,
      WebSocket: WS,
    });
    closers.push(() => agent.close());
    visitor.retry();
    await delivered;
    // Give any duplicate a chance to arrive, then count.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const texts = agent.messagesOf(visitor.conversationId!).map((m) => m.text);
    expect(texts).toEqual(['before the outage', 'during the outage']);
  });
});

describe('resume across a restore from backup (new epoch)', () => {
  it('live clients reload from the restored relay: nothing doubled, and the lost message is reported as a gap', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sealchat-'));
    const dbPath = join(dir, 'relay.db');
    const relay = await relayOn(dbPath);
    const { org, agentStore, agent, visitor } = await setup(relay);
    const first = waitFor(agent, (m) => m.text === 'before the backup');
    await visitor.send('before the backup');
    const conversationId = (await first).conversationId;
    await backupDatabase(dbPath, join(dir, 'backup.db'));
    // Stored after the backup: the restore loses it.
    const lost = waitFor(agent, (m) => m.text === 'after the backup');
    await visitor.send('after the backup');
    await lost;

    await relay.close();
    await restoreDatabase(join(dir, 'backup.db'), dbPath);
    const restored = await relayOn(dbPath, relay.port);

    // The visitor's session reconnects by itself, learns the new epoch, and carries on.
    await visitor.send('after the restore');
    // Stored by the restored relay (and, with the agent online, maybe already delivered). Found by its text:
    // across an epoch reset the relay's stream replaces the local list, and the message may come back
    // under its relay id.
    await expect
      .poll(() => visitor.messages.find((m) => m.mine && m.text === 'after the restore')?.state, { timeout: 15_000 })
      .toMatch(/^(sent|delivered|read)$/);
    expect(visitor.messages.map((m) => m.text)).toEqual(['before the backup', 'after the backup', 'after the restore']);

    // An agent loading the restored history sees exactly what the relay still has, and is told one is missing.
    const fresh = await AgentSession.start({
      relayUrl: restored.url,
      orgRootKey: org.rootPublic,
      identity: org.agent,
      store: agentStore,
      WebSocket: WS,
    });
    closers.push(() => fresh.close());
    await expect
      .poll(() => fresh.messagesOf(conversationId).map((m) => m.text), { timeout: 10_000 })
      .toEqual(['before the backup', 'after the restore']);
    const view = fresh.conversationList.find((c) => c.id === conversationId)!;
    expect(view.notices.map((n) => n.kind)).toEqual(['gap']);
  }, 30_000);
});
