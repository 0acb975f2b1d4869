import {
  enrolAgentDevice,
  loadOrCreateOrganisation,
  MemoryClientStore,
  publishRoster,
  type ChatMessage,
  type TypingSignal,
} from '@sealchat/client';
import { generateDeviceIdentity } from '@sealchat/protocol';
import type { RunningRelay } from '@sealchat/relay';
import { describe, expect, it } from 'vitest';
import { agentSession, startTestRelay, until, useClosers, visitorSession, WS } from './support.js';

/**
 * What the widget and the console build on, headless against a real relay: delivery states from
 * encrypted receipts, typing notices, presence, pre-chat answers, the safety code, and erasure.
 */
const closers = useClosers();
const relay = () => startTestRelay(closers);

async function setup(running: RunningRelay, presence: 'online' | 'away' = 'online') {
  const agentStore = new MemoryClientStore();
  const org = await loadOrCreateOrganisation(agentStore, { agentName: 'Robin' });
  await publishRoster(running.url, org, { WebSocket: WS });
  const agent = await agentSession(running, org.rootPublic, org.agent, closers, { store: agentStore, presence });
  const visitor = await visitorSession(running, org.orgKey, closers);
  return { org, agent, visitor, agentStore };
}

describe('chat features over a real relay', () => {
  it("a visitor's message goes sent → delivered → read as the agent's receipts arrive; and back", async () => {
    const { agent, visitor } = await setup(await relay());
    const atAgent = until<ChatMessage>(agent, 'message', (m) => m.text === 'Hello?');
    const sent = await visitor.send('Hello?');
    const delivered = until<ChatMessage>(visitor, 'message', (m) => m.id === sent.id && m.state === 'delivered');
    const received = await atAgent;
    await delivered; // the agent's device said "delivered" by itself
    const read = until<ChatMessage>(visitor, 'message', (m) => m.id === sent.id && m.state === 'read');
    agent.markRead(received.conversationId);
    expect((await read).state).toBe('read');
    // Nothing new to acknowledge: a second markRead sends nothing.
    expect(agent.conversationList[0]!.receiptDue('read')).toBeUndefined();

    const reply = await agent.reply(received.conversationId, 'Hi, Robin here');
    const replyRead = until<ChatMessage>(agent, 'message', (m) => m.id === reply.id && m.state === 'read');
    await until<ChatMessage>(visitor, 'message', (m) => m.text === 'Hi, Robin here');
    visitor.markAllRead();
    await replyRead;
    // Receipts are not messages: neither side shows one.
    expect(visitor.messages.map((m) => m.text)).toEqual(['Hello?', 'Hi, Robin here']);
    expect(agent.messagesOf(received.conversationId).map((m) => m.text)).toEqual(['Hello?', 'Hi, Robin here']);
  });

  it('typing notices reach the other side, named for agents, and are throttled', async () => {
    const { agent, visitor } = await setup(await relay());
    const first = await visitor.send('hi');
    await until<ChatMessage>(agent, 'message', (m) => m.text === 'hi');
    const visitorTyping = until<TypingSignal>(agent, 'typing', () => true);
    visitor.typingNow();
    expect((await visitorTyping).authorName).toBeUndefined();
    const agentTyping = until<TypingSignal>(visitor, 'typing', () => true);
    agent.typing(first.conversationId);
    expect((await agentTyping).authorName).toBe('Robin');
    // Within the interval, more keystrokes send nothing more.
    let extra = 0;
    agent.addEventListener('typing', () => extra++);
    for (let i = 0; i < 5; i++) visitor.typingNow();
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(extra).toBe(0);
  });

  it('the visitor learns whether an agent is online, live', async () => {
    const { agent, visitor } = await setup(await relay(), 'away');
    expect(visitor.agentsOnline).toBe(false);
    const online = new Promise<boolean>((resolve) =>
      visitor.addEventListener('presence', (e) => resolve((e as CustomEvent<boolean>).detail)),
    );
    await agent.setPresence('online');
    expect(await online).toBe(true);
    expect(visitor.agentsOnline).toBe(true);
  });

  it('pre-chat answers arrive as fields; empty ones are left out', async () => {
    const { agent, visitor } = await setup(await relay());
    const atAgent = until<ChatMessage>(agent, 'message', (m) => m.fields !== undefined);
    await visitor.sendForm([
      { name: 'Name', value: 'Ana' },
      { name: 'Email', value: '' },
      { name: 'Topic', value: 'Billing' },
    ]);
    const form = await atAgent;
    expect(form.fields).toEqual([
      { name: 'Name', value: 'Ana' },
      { name: 'Topic', value: 'Billing' },
    ]);
    expect(form.text).toBe('Name: Ana\nTopic: Billing');
  });

  it('both sides compute the same safety code', async () => {
    const { agent, visitor } = await setup(await relay());
    const sent = await visitor.send('code?');
    await until<ChatMessage>(agent, 'message', (m) => m.text === 'code?');
    const code = await visitor.safetyCode();
    expect(code).toMatch(/^\d{5} \d{5} \d{5} \d{5}$/);
    expect(await agent.safetyCode(sent.conversationId)).toBe(code);
  });

  it('deleting erases the conversation on the relay and locally; the next message starts a new one', async () => {
    const running = await relay();
    const { agent, visitor } = await setup(running);
    const first = await visitor.send('forget me');
    await until<ChatMessage>(agent, 'message', (m) => m.text === 'forget me');
    const deleted = new Promise((resolve) => visitor.addEventListener('deleted', resolve));
    const goneAtAgent = new Promise((resolve) => agent.addEventListener('deleted', resolve));
    await visitor.deleteConversation();
    await deleted;
    // The agent's inbox drops it too (the relay pushed conversation-deleted).
    await goneAtAgent;
    expect(agent.conversationList.map((c) => c.id)).not.toContain(first.conversationId);
    expect(visitor.messages).toEqual([]);
    expect(visitor.conversationId).toBeUndefined();
    const again = await visitor.send('new start');
    expect(again.conversationId).not.toBe(first.conversationId);
    expect(visitor.messages.map((m) => m.text)).toEqual(['new start']);
  });
});

describe('erasure on the visitor’s request', () => {
  it('an agent erases a conversation for everyone: the relay, the visitor and the inbox drop it', async () => {
    const { agent, visitor } = await setup(await relay());
    const sent = await visitor.send('please erase my data');
    await until<ChatMessage>(agent, 'message', (m) => m.text === 'please erase my data');
    const visitorDropped = new Promise((resolve) => visitor.addEventListener('deleted', resolve));
    const inboxDropped = new Promise((resolve) => agent.addEventListener('deleted', resolve));
    await agent.deleteConversation(sent.conversationId);
    await Promise.all([visitorDropped, inboxDropped]);
    expect(visitor.messages).toEqual([]);
    expect(agent.conversationList.map((c) => c.id)).not.toContain(sent.conversationId);
  });
});

describe('team coordination in control envelopes', () => {
  it('claim, close and reopen travel encrypted in the conversation; a reloaded console rebuilds them; the visitor ignores them', async () => {
    const running = await relay();
    const { org, agent, visitor } = await setup(running);
    const problems: unknown[] = [];
    visitor.addEventListener('problem', (e) => problems.push(e));
    const sent = await visitor.send('who will help me?');
    await until<ChatMessage>(agent, 'message', (m) => m.text === 'who will help me?');
    const id = sent.conversationId;
    const assignments: { assignee?: string; closed: boolean }[] = [];
    agent.addEventListener('assignment', (e) =>
      assignments.push((e as CustomEvent<{ assignee?: string; closed: boolean }>).detail),
    );
    await agent.claim(id);
    await agent.closeConversation(id);
    await agent.reopenConversation(id);
    await expect.poll(() => assignments.length).toBe(3);
    expect(assignments.map((a) => [a.assignee, a.closed])).toEqual([
      [agent.deviceId, false],
      [agent.deviceId, true],
      [agent.deviceId, false],
    ]);
    await expect(agent.assign(id, '00'.repeat(16))).rejects.toThrow(/roster/);

    // The same device reloads its console: the state comes back from the conversation itself.
    agent.close();
    const again = await agentSession(running, org.rootPublic, org.agent, closers);
    expect(again.conversationList.find((c) => c.id === id)?.assignment).toEqual({
      assignee: agent.deviceId,
      closed: false,
    });
    // The visitor saw three control envelopes: no message, no problem.
    expect(visitor.messages.map((m) => m.text)).toEqual(['who will help me?']);
    expect(problems).toEqual([]);
  });
});

describe('a new roster reaches open sessions', () => {
  it('an agent enrolled mid-conversation reads the visitor’s next message without the visitor reloading', async () => {
    const running = await relay();
    const { org, agent, visitor, agentStore } = await setup(running);
    await visitor.send('first, before the new colleague');
    await until<ChatMessage>(agent, 'message', (m) => m.text === 'first, before the new colleague');

    // A second agent device joins the roster while the visitor's page stays open.
    const colleague = await generateDeviceIdentity();
    const issued = await enrolAgentDevice(agentStore, org, colleague, { displayName: 'Sam' });
    const rosterSeen = new Promise((resolve) =>
      visitor.connection.addEventListener('frame', (e) => {
        if ((e as CustomEvent<{ kind: string }>).detail.kind === 'roster') resolve(undefined);
      }),
    );
    await publishRoster(running.url, issued, { WebSocket: WS });
    await rosterSeen; // pushed by the relay, no reconnect
    const sam = await agentSession(running, org.rootPublic, colleague, closers);
    const atSam = until<ChatMessage>(sam, 'message', (m) => m.text === 'second, after the roster changed');
    await visitor.send('second, after the roster changed');
    // The visitor's chain rotated to the new roster: Sam's device got a key share for it.
    expect((await atSam).author).toBe('visitor');
  });
});
