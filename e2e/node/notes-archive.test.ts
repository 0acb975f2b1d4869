import {
  AgentSession,
  enrolAgentDevice,
  enrolDevice,
  loadOrCreateOrganisation,
  MemoryClientStore,
  publishRoster,
  VisitorSession,
  type ChatMessage,
  type ConversationProblem,
  type TranscriptNotice,
} from '@sealchat/client';
import { ArchiveKeyError, generateAgreementKeyPair, generateDeviceIdentity } from '@sealchat/protocol';
import type { RunningRelay } from '@sealchat/relay';
import { describe, expect, it } from 'vitest';
import { agentSession, startTestRelay, until, useClosers, visitorSession, WS } from './support.js';

/**
 * Private notes (AgentSession.addNote) and supervisors reading history through the archive key
 * (AgentSessionOptions.archiveKey), headless against a real relay. docs/protocol.md §6–§8.
 */
const closers = useClosers();

async function setup(running: RunningRelay, mode: 'archive' | 'ephemeral' = 'archive') {
  const orgStore = new MemoryClientStore();
  const org = await loadOrCreateOrganisation(orgStore, { agentName: 'Robin' });
  // A colleague is on the roster from the start.
  const colleagueIdentity = await generateDeviceIdentity();
  const issued = await enrolAgentDevice(orgStore, org, colleagueIdentity, { displayName: 'Sam' });
  await publishRoster(running.url, issued, { WebSocket: WS });
  const agent = await agentSession(running, org.rootPublic, org.agent, closers);
  const colleague = await agentSession(running, org.rootPublic, colleagueIdentity, closers);
  const visitor = await visitorSession(running, org.orgKey, closers, { mode });
  return { org, orgStore, issued, agent, colleague, visitor };
}

function watch(session: AgentSession | VisitorSession) {
  const problems: ConversationProblem[] = [];
  const notices: TranscriptNotice[] = [];
  session.addEventListener('problem', (e) => problems.push(e.detail));
  session.addEventListener('transcript', (e) => notices.push(e.detail));
  return { problems, notices };
}

describe('private notes', () => {
  it('message, note, message: the visitor reads both messages with no gap and never the note; the colleague sees it as a note', async () => {
    const running = await startTestRelay(closers);
    const { agent, colleague, visitor } = await setup(running);
    const atVisitor = watch(visitor);
    const atColleague = watch(colleague);
    // Listening before sending: each session may receive it before the other's wait begins.
    const atAgent = until<ChatMessage>(agent, 'message', (m) => m.text === 'My parcel never came');
    const atColleagueFirst = until<ChatMessage>(colleague, 'message', (m) => m.text === 'My parcel never came');
    await visitor.send('My parcel never came');
    const first = await atAgent;
    await atColleagueFirst;

    await agent.reply(first.conversationId, 'Let me check');
    const note = await agent.addNote(first.conversationId, 'Courier confirmed it was lost; refund approved');
    expect(note).toMatchObject({ note: true, state: 'sending', author: 'agent', mine: true });
    const noteSent = until<ChatMessage>(agent, 'message', (m) => m.id === note.id && m.state === 'sent');
    const noteAtColleague = until<ChatMessage>(colleague, 'message', (m) => m.note === true);
    const last = until<ChatMessage>(visitor, 'message', (m) => m.text === 'Your refund is on its way');
    const lastAtColleague = until<ChatMessage>(colleague, 'message', (m) => m.text === 'Your refund is on its way');
    await agent.reply(first.conversationId, 'Your refund is on its way');

    await noteSent;
    expect(await noteAtColleague).toMatchObject({
      text: 'Courier confirmed it was lost; refund approved',
      note: true,
      author: 'agent',
      authorName: 'Robin',
      mine: false,
    });
    await last;
    await lastAtColleague;
    expect(visitor.messages.map((m) => m.text)).toEqual([
      'My parcel never came',
      'Let me check',
      'Your refund is on its way',
    ]);
    expect(visitor.messages.some((m) => m.note)).toBe(false);
    expect(atVisitor.notices).toEqual([]);
    expect(atVisitor.problems).toEqual([]);
    // In order, in the agents' lists; notes marked.
    for (const session of [agent, colleague])
      expect(session.messagesOf(first.conversationId).map((m) => [m.text, m.note === true])).toEqual([
        ['My parcel never came', false],
        ['Let me check', false],
        ['Courier confirmed it was lost; refund approved', true],
        ['Your refund is on its way', false],
      ]);
    expect(atColleague.problems).toEqual([]);
    expect(atColleague.notices).toEqual([]);
  });

  it('a note can only be written once the visitor has, in a known conversation', async () => {
    const running = await startTestRelay(closers);
    const { agent } = await setup(running);
    await expect(agent.addNote('00'.repeat(16), 'x')).rejects.toMatchObject({ code: 'SEALCHAT_E_NOT_FOUND' });
  });
});

describe('supervisors read history through the archive key', () => {
  /** A conversation with messages both ways and a note, then a supervisor device enrolled after it. */
  async function history(running: RunningRelay, mode: 'archive' | 'ephemeral') {
    const s = await setup(running, mode);
    await s.visitor.send('Where is my order?');
    const first = await until<ChatMessage>(s.agent, 'message', (m) => m.text === 'Where is my order?');
    await s.agent.reply(first.conversationId, 'Checking');
    const note = await s.agent.addNote(first.conversationId, 'Order was never shipped');
    await until<ChatMessage>(s.agent, 'message', (m) => m.id === note.id && m.state === 'sent');
    const console = await generateDeviceIdentity();
    const issued = await enrolDevice(s.orgStore, s.org, console, 'supervisor', 'Console');
    await publishRoster(running.url, issued, { WebSocket: WS });
    /** The console's session, closed after the test. */
    const start = (archiveKey?: CryptoKeyPair) =>
      agentSession(running, s.org.rootPublic, console, closers, archiveKey ? { archiveKey } : {});
    return { ...s, conversationId: first.conversationId, start };
  }

  it('without the archive key a device enrolled later reads nothing of an earlier conversation; with it, everything, notes included', async () => {
    const running = await startTestRelay(closers);
    const { org, conversationId, start } = await history(running, 'archive');

    // start() resolves once the backlog of every conversation of the org is processed.
    const without = await start();
    expect(without.conversationList.map((c) => c.id)).toEqual([conversationId]);
    expect(without.messagesOf(conversationId)).toEqual([]);

    const withKey = await start(org.archive);
    expect(withKey.messagesOf(conversationId).map((m) => [m.text, m.note === true])).toEqual([
      ['Where is my order?', false],
      ['Checking', false],
      ['Order was never shipped', true],
    ]);
  });

  it('an ephemeral conversation stays unreadable to it, archive key or not', async () => {
    const running = await startTestRelay(closers);
    const { org, conversationId, start } = await history(running, 'ephemeral');
    const withKey = await start(org.archive);
    expect(withKey.conversationList.map((c) => c.id)).toEqual([conversationId]);
    expect(withKey.messagesOf(conversationId)).toEqual([]);
  });

  it('a wrong archive key is refused at start', async () => {
    const running = await startTestRelay(closers);
    const { start } = await history(running, 'archive');
    await expect(start(await generateAgreementKeyPair())).rejects.toThrow(ArchiveKeyError);
  });
});
