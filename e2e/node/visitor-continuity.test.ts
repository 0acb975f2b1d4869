import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AgentSession,
  loadConversationPointer,
  loadOrCreateOrganisation,
  MemoryClientStore,
  saveConversationPointer,
  publishRoster,
  VisitorSession,
  type ChatMessage,
  type ChatSession,
  type Organisation,
} from '@sealchat/client';
import { orgIdFromRootKey, toHex } from '@sealchat/protocol';
import { startRelay, silentLogger, type RunningRelay } from '@sealchat/relay';
import { describe, expect, it } from 'vitest';
import { until, useClosers, WS } from './support.js';

/**
 * Continuity for the visitor, headless against a real relay: a session that opens without the
 * relay, shows what the store kept, and delivers what was typed offline exactly once, across
 * "reloads" (a new VisitorSession on the same store). docs/visitor-continuity.md.
 */
const closers = useClosers();

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const waitFor = (session: ChatSession, predicate: (m: ChatMessage) => boolean) =>
  until<ChatMessage>(session, 'message', predicate);

/** A relay on a fixed port that can be stopped and started again on the same database. */
async function restartableRelay() {
  const dbPath = join(mkdtempSync(join(tmpdir(), 'sealchat-')), 'relay.db');
  let running: RunningRelay | undefined = await startRelay({ port: 0, dbPath, demo: true }, { logger: silentLogger });
  const port = running.port;
  const url = running.url;
  closers.push(() => running?.close());
  return {
    url,
    async stop() {
      await running?.close();
      running = undefined;
    },
    async start() {
      running = await startRelay({ port, dbPath, demo: true }, { logger: silentLogger });
    },
  };
}

async function agentFor(url: string, org: Organisation, store: MemoryClientStore): Promise<AgentSession> {
  const agent = await AgentSession.start({
    relayUrl: url,
    orgRootKey: org.rootPublic,
    identity: org.agent,
    store,
    WebSocket: WS,
  });
  closers.push(() => agent.close());
  return agent;
}

/** What a page load does: a session on the browser's store, not waiting for the relay. */
async function reload(url: string, org: Organisation, store: MemoryClientStore): Promise<VisitorSession> {
  const visitor = await VisitorSession.open({
    relayUrl: url,
    orgKey: org.orgKey,
    store,
    WebSocket: WS,
    reconnectDelayMs: 50,
    maxReconnectDelayMs: 200,
    connectTimeoutMs: 500,
    sendTimeoutMs: 400,
  });
  closers.push(() => visitor.close());
  return visitor;
}

async function setup() {
  const relay = await restartableRelay();
  const agentStore = new MemoryClientStore();
  const org = await loadOrCreateOrganisation(agentStore, { agentName: 'Robin' });
  await publishRoster(relay.url, org, { WebSocket: WS });
  return { relay, agentStore, org, visitorStore: new MemoryClientStore() };
}

describe('visitor continuity over a real relay', () => {
  it('opens at once while the relay is down, and a first message typed then survives a reload and arrives once', async () => {
    const { relay, agentStore, org, visitorStore } = await setup();
    await relay.stop();

    const started = Date.now();
    const first = await reload(relay.url, org, visitorStore);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(first.state).not.toBe('open');
    const typed = await first.send('typed offline');
    expect(typed).toMatchObject({ state: 'sending', conversationId: '' });
    await expect.poll(() => first.messages.find((m) => m.id === typed.id)?.state, { timeout: 5000 }).toBe('failed');
    first.close();
    await first.flush();

    // The reload, still offline: the message is there, under the same id, and will be retried.
    const second = await reload(relay.url, org, visitorStore);
    expect(second.messages.map((m) => [m.id, m.text, m.state])).toEqual([[typed.id, 'typed offline', 'sending']]);

    const sent = waitFor(second, (m) => m.id === typed.id && m.state === 'sent');
    await relay.start();
    const agent = await agentFor(relay.url, org, agentStore);
    const conversationId = (await sent).conversationId;
    expect(conversationId).toBe(second.conversationId);
    await expect
      .poll(() => agent.messagesOf(conversationId).map((m) => m.text), { timeout: 5000 })
      .toEqual(['typed offline']);
    await sleep(300); // any duplicate would have arrived by now
    expect(agent.messagesOf(conversationId).map((m) => m.text)).toEqual(['typed offline']);
    expect(second.messages.map((m) => [m.id, m.text])).toEqual([[typed.id, 'typed offline']]);
  });

  it('shows the history at once after a reload while the relay is down, then merges the relay records without doubles', async () => {
    const { relay, agentStore, org, visitorStore } = await setup();
    const agent = await agentFor(relay.url, org, agentStore);
    const visitor = await reload(relay.url, org, visitorStore);
    await expect.poll(() => visitor.state, { timeout: 5000 }).toBe('open');
    const atAgent = waitFor(agent, (m) => m.text === 'Where is my parcel?');
    const question = await visitor.send('Where is my parcel?');
    const received = await atAgent;
    const answered = waitFor(visitor, (m) => m.text === 'On its way.');
    await agent.reply(received.conversationId, 'On its way.');
    await answered;
    await expect
      .poll(() => visitor.messages.find((m) => m.id === question.id)?.state, { timeout: 5000 })
      .not.toBe('sending');
    const before = visitor.messages;
    visitor.close();
    await visitor.flush();
    await relay.stop();

    const offline = await reload(relay.url, org, visitorStore);
    expect(offline.conversationId).toBe(received.conversationId);
    expect(offline.messages).toEqual(before);
    expect(offline.messages.map((m) => [m.id, m.text, m.mine])).toEqual([
      [question.id, 'Where is my parcel?', true],
      [before[1]!.id, 'On its way.', false],
    ]);

    // Back online: every record is processed again (the chain state is not stored), and merges by seq.
    await relay.start();
    await expect.poll(() => offline.state, { timeout: 5000 }).toBe('open');
    const reply = waitFor(offline, (m) => m.text === 'and one more');
    const agent2 = await agentFor(relay.url, org, agentStore);
    await agent2.reply(received.conversationId, 'and one more');
    await reply;
    expect(offline.messages.map((m) => [m.id, m.text])).toEqual([
      [question.id, 'Where is my parcel?'],
      [before[1]!.id, 'On its way.'],
      [expect.stringMatching(/^seq:/), 'and one more'],
    ]);
  });

  it('a message stored by the relay whose ack was lost before the reload is not sent again', async () => {
    const { relay, agentStore, org, visitorStore } = await setup();
    const agent = await agentFor(relay.url, org, agentStore);
    const first = await reload(relay.url, org, visitorStore);
    await expect.poll(() => first.state, { timeout: 5000 }).toBe('open');
    const atAgent = waitFor(agent, (m) => m.text === 'hello');
    await first.send('hello');
    const conversationId = (await atAgent).conversationId;

    // Offline, a second message waits in the outbox; the store records it as unsent.
    await relay.stop();
    const typed = await first.send('are you there?');
    await first.flush();
    const local = `local/${toHex(await orgIdFromRootKey(org.rootPublic))}`;
    const unsent = await visitorStore.getRecord(local);
    expect(unsent).toBeInstanceOf(Uint8Array);

    // The relay stores it, but the page goes away before the ack is written down: the store still
    // says unsent (put the record of that moment back).
    await relay.start();
    await expect.poll(() => first.messages.find((m) => m.id === typed.id)?.state, { timeout: 5000 }).toBe('sent');
    first.close();
    await first.flush();
    await visitorStore.putRecord(local, unsent);

    const second = await reload(relay.url, org, visitorStore);
    expect(second.messages.find((m) => m.id === typed.id)?.state).toBe('sending');
    await expect.poll(() => second.messages.find((m) => m.id === typed.id)?.state, { timeout: 5000 }).toBe('sent');
    expect(second.messages.map((m) => [m.id === typed.id, m.text])).toEqual([
      [false, 'hello'],
      [true, 'are you there?'],
    ]);
    const later = waitFor(agent, (m) => m.text === 'still one each');
    await second.send('still one each');
    await later;
    // Had it been sealed again, the relay would have deduped it, and its number in this device's
    // chain would be missing: the agent would see a gap.
    expect(agent.messagesOf(conversationId).map((m) => m.text)).toEqual(['hello', 'are you there?', 'still one each']);
    expect(agent.conversationList.find((c) => c.id === conversationId)!.notices).toEqual([]);
  });

  it('deleting the conversation erases the local history and its key', async () => {
    const { relay, agentStore, org, visitorStore } = await setup();
    const agent = await agentFor(relay.url, org, agentStore);
    const visitor = await reload(relay.url, org, visitorStore);
    await expect.poll(() => visitor.state, { timeout: 5000 }).toBe('open');
    const atAgent = waitFor(agent, (m) => m.text === 'forget me');
    await visitor.send('forget me');
    await atAgent;
    await visitor.flush();
    const org16 = toHex(await orgIdFromRootKey(org.rootPublic));
    const stored = () => Promise.all([`local/${org16}`, `local-key/${org16}`].map((k) => visitorStore.getRecord(k)));
    expect((await stored()).map((v) => v !== undefined)).toEqual([true, true]);
    await visitor.deleteConversation();
    await visitor.flush();
    expect(await stored()).toEqual([undefined, undefined]);

    visitor.close();
    const after = await reload(relay.url, org, visitorStore);
    expect(after.messages).toEqual([]);
    expect(after.conversationId).toBeUndefined();
  });

  it('a deletion pushed by the relay (done elsewhere) erases the local history too', async () => {
    const { relay, agentStore, org, visitorStore } = await setup();
    const agent = await agentFor(relay.url, org, agentStore);
    const visitor = await reload(relay.url, org, visitorStore);
    await expect.poll(() => visitor.state, { timeout: 5000 }).toBe('open');
    const atAgent = waitFor(agent, (m) => m.text === 'erase from elsewhere');
    await visitor.send('erase from elsewhere');
    await atAgent;
    await visitor.flush();
    const org16 = toHex(await orgIdFromRootKey(org.rootPublic));
    expect(await visitorStore.getRecord(`local/${org16}`)).toBeDefined();

    // Another holder of the conversation's capability erases it on the relay.
    const elsewhere = new MemoryClientStore();
    const pointer = await loadConversationPointer(visitorStore, await orgIdFromRootKey(org.rootPublic));
    await saveConversationPointer(elsewhere, await orgIdFromRootKey(org.rootPublic), pointer!);
    const other = await VisitorSession.start({
      relayUrl: relay.url,
      orgKey: org.orgKey,
      store: elsewhere,
      WebSocket: WS,
    });
    closers.push(() => other.close());
    const deleted = new Promise((resolve) => visitor.addEventListener('deleted', resolve));
    await other.deleteConversation();
    await deleted;
    await visitor.flush();
    expect(visitor.messages).toEqual([]);
    expect(await visitorStore.getRecord(`local/${org16}`)).toBeUndefined();
    expect(await visitorStore.getRecord(`local-key/${org16}`)).toBeUndefined();
  });
});
