import {
  enrolAgentDevice,
  enrolDevice,
  loadOrCreateOrganisation,
  MemoryClientStore,
  publishRoster,
  revokeDevice,
  type ChatMessage,
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

describe('messages of a device revoked since', () => {
  it('a new supervisor console with the archive key reads the visitor’s message and the revoked agent’s reply, marked former', async () => {
    const running = await startTestRelay(closers);
    const orgStore = new MemoryClientStore();
    const org = await loadOrCreateOrganisation(orgStore, { agentName: 'Robin' });
    const samIdentity = await generateDeviceIdentity();
    await publishRoster(running.url, await enrolAgentDevice(orgStore, org, samIdentity, { displayName: 'Sam' }), {
      WebSocket: WS,
    });
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
    const consoleIdentity = await generateDeviceIdentity();
    await publishRoster(running.url, await enrolDevice(orgStore, org, consoleIdentity, 'supervisor', 'Console'), {
      WebSocket: WS,
    });
    // start() resolves once every conversation's backlog is processed.
    const supervisor = await agentSession(running, org.rootPublic, consoleIdentity, closers, {
      archiveKey: org.archive,
    });

    expect(supervisor.team.map((d) => d.displayName)).not.toContain('Sam');
    expect(
      supervisor.messagesOf(first.conversationId).map((m) => [m.author, m.authorName, m.text, m.former === true]),
    ).toEqual([
      ['visitor', undefined, 'Is my order shipped?', false],
      ['agent', 'Sam', 'Yes, this morning', true],
    ]);
  });
});
