import {
  enrolAgentDevice,
  enrolDevice,
  loadOrCreateOrganisation,
  MemoryClientStore,
  publishRoster,
  revokeDevice,
  type AgentSession,
  type ChatMessage,
  type ConversationProblem,
} from '@sealchat/client';
import { generateDeviceIdentity } from '@sealchat/protocol';
import { describe, expect, it } from 'vitest';
import { agentSession, startTestRelay, until, useClosers, visitorSession, WS } from './support.js';

/**
 * A supervisor console set up after an agent was revoked reads the agent's old replies under the
 * roster of their time (the relay's roster history), marked as a former member's. docs/protocol.md
 * §8 step 4, §13.
 */
const closers = useClosers();

/** A relay, and an organisation whose roster lists Sam, an agent. */
async function teamWithSam() {
  const running = await startTestRelay(closers);
  const orgStore = new MemoryClientStore();
  const org = await loadOrCreateOrganisation(orgStore, { agentName: 'Robin' });
  const samIdentity = await generateDeviceIdentity();
  await publishRoster(running.url, await enrolAgentDevice(orgStore, org, samIdentity, { displayName: 'Sam' }), {
    WebSocket: WS,
  });
  return { running, orgStore, org, samIdentity };
}

/** A supervisor console enrolled now, in a fresh browser, that holds the archive key. */
async function newConsole({ running, orgStore, org }: Awaited<ReturnType<typeof teamWithSam>>) {
  const consoleIdentity = await generateDeviceIdentity();
  await publishRoster(running.url, await enrolDevice(orgStore, org, consoleIdentity, 'supervisor', 'Console'), {
    WebSocket: WS,
  });
  // start() resolves once every conversation's backlog is processed.
  return agentSession(running, org.rootPublic, consoleIdentity, closers, { archiveKey: org.archive });
}

describe('messages of a device revoked since', () => {
  it('a new supervisor console with the archive key reads the visitor’s message and the revoked agent’s reply, marked former', async () => {
    const team = await teamWithSam();
    const { running, orgStore, org, samIdentity } = team;
    const sam = await agentSession(running, org.rootPublic, samIdentity, closers);
    const visitor = await visitorSession(running, org.orgKey, closers);

    await visitor.send('Is my order shipped?');
    const first = await until<ChatMessage>(sam, 'message', (m) => m.text === 'Is my order shipped?');
    // Listening before replying: the visitor may receive it before Sam's ack comes back.
    const atVisitor = until<ChatMessage>(visitor, 'message', (m) => m.text === 'Yes, this morning');
    const reply = await sam.reply(first.conversationId, 'Yes, this morning');
    await until<ChatMessage>(sam, 'message', (m) => m.id === reply.id && m.state === 'sent');
    await atVisitor;
    sam.close();

    // Sam leaves the team; then a supervisor console is enrolled, in a fresh browser.
    await publishRoster(running.url, await revokeDevice(orgStore, org, samIdentity.deviceId), { WebSocket: WS });
    const supervisor = await newConsole(team);

    expect(supervisor.team.map((d) => d.displayName)).not.toContain('Sam');
    expect(
      supervisor.messagesOf(first.conversationId).map((m) => [m.author, m.authorName, m.text, m.former === true]),
    ).toEqual([
      ['visitor', undefined, 'Is my order shipped?', false],
      ['agent', 'Sam', 'Yes, this morning', true],
    ]);
  });
});

describe('control envelopes of a device revoked since', () => {
  it('Sam’s claim and close stop counting when Sam is revoked: the open console and a new one agree, and say so', async () => {
    const team = await teamWithSam();
    const { running, orgStore, org, samIdentity } = team;
    const robin = await agentSession(running, org.rootPublic, org.agent, closers);
    const sam = await agentSession(running, org.rootPublic, samIdentity, closers);
    const visitor = await visitorSession(running, org.orgKey, closers);
    const { conversationId: id } = await visitor.send('Is my order shipped?');
    await until<ChatMessage>(sam, 'message', (m) => m.text === 'Is my order shipped?');
    const assignmentOf = (session: AgentSession) => session.conversationList.find((c) => c.id === id)?.assignment;

    await sam.claim(id);
    await sam.closeConversation(id);
    await expect.poll(() => assignmentOf(robin)).toEqual({ assignee: sam.deviceId, closed: true });
    sam.close();

    const problems: ConversationProblem[] = [];
    robin.addEventListener('problem', (e) => problems.push(e.detail));
    await publishRoster(running.url, await revokeDevice(orgStore, org, samIdentity.deviceId), { WebSocket: WS });
    await expect.poll(() => assignmentOf(robin)).toEqual({ assignee: undefined, closed: false });
    expect(problems.map((p) => [p.conversationId, p.error.code, p.error.message])).toEqual([
      [id, 'SEALCHAT_E_UNTRUSTED_SENDER', 'A claim by Sam, who is no longer on the team'],
      [id, 'SEALCHAT_E_UNTRUSTED_SENDER', 'A close by Sam, who is no longer on the team'],
    ]);

    const supervisor = await newConsole(team);
    const conversation = supervisor.conversationList.find((c) => c.id === id)!;
    expect(conversation.assignment).toEqual(assignmentOf(robin));
    expect(conversation.refusedControls.map((r) => [r.action, r.senderName])).toEqual([
      ['claim', 'Sam'],
      ['close', 'Sam'],
    ]);
  });
});
