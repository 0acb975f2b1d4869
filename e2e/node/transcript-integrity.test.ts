import {
  loadOrCreateOrganisation,
  MemoryClientStore,
  publishRoster,
  VisitorSession,
  type ChatMessage,
  type Conversation,
  type TranscriptNotice,
} from '@sealchat/client';
import {
  decodeEnvelope,
  encodeContent,
  EnvelopeType,
  fromHex,
  generateDeviceIdentity,
  sealHistoryGrant,
  SecureConversation,
  toHex,
  verifyRoster,
} from '@sealchat/protocol';
import type { RunningRelay } from '@sealchat/relay';
import { describe, expect, it } from 'vitest';
import { hostileSocket, type RelayFilter } from './hostile-socket.js';
import { agentSession, startTestRelay, until, useClosers, visitorSession, WS } from './support.js';

/**
 * Transcript integrity against a relay that is hostile towards one client (docs/protocol.md §7-8,
 * issue 11 findings 4-6): it withholds a tail, renumbers records, forges pushes.
 */
const closers = useClosers();

async function setup(running: RunningRelay) {
  const agentStore = new MemoryClientStore();
  const org = await loadOrCreateOrganisation(agentStore, { agentName: 'Robin' });
  await publishRoster(running.url, org, { WebSocket: WS });
  const agent = await agentSession(running, org.rootPublic, org.agent, closers, { store: agentStore });
  const notices: TranscriptNotice[] = [];
  agent.addEventListener('transcript', (e) => notices.push(e.detail));
  return { org, agent, agentStore, notices };
}

/** A relay that withholds the records at `seqs` of one conversation and says its stream ends before them. */
function withholding(conversationId: string, seqs: readonly number[]): RelayFilter {
  return (frame) => {
    if (frame.kind === 'record' && toHex(frame.conversationId) === conversationId && seqs.includes(frame.seq))
      return undefined;
    if (frame.kind === 'resumed' && seqs.includes(frame.lastSeq)) return { ...frame, lastSeq: Math.min(...seqs) - 1 };
    return frame;
  };
}

describe('a hostile relay and transcript integrity', () => {
  it('a reloaded visitor whose last envelope the relay withholds never reuses a number: no fork at the agent', async () => {
    const running = await startTestRelay(closers);
    const { org, agent, notices } = await setup(running);
    const store = new MemoryClientStore();
    const first = await visitorSession(running, org.orgKey, closers, { store });
    await first.send('one');
    const two = await first.send('two');
    const stored = await until<ChatMessage>(first, 'message', (m) => m.id === two.id && m.seq !== undefined);
    await expect.poll(() => agent.messagesOf(two.conversationId).map((m) => m.text)).toEqual(['one', 'two']);
    first.close();
    await first.flush();

    const second = await VisitorSession.start({
      relayUrl: running.url,
      orgKey: org.orgKey,
      store,
      WebSocket: hostileSocket(withholding(two.conversationId, [stored.seq!])),
    });
    closers.push(() => second.close());
    await second.send('three');
    await expect.poll(() => agent.messagesOf(two.conversationId).map((m) => m.text)).toEqual(['one', 'two', 'three']);
    expect(notices.filter((n) => n.kind === 'fork')).toEqual([]);
  });

  it('a console reloaded against a relay that trimmed the tail reports it; and its receipts mark only what it got', async () => {
    const running = await startTestRelay(closers);
    const { org, agent, agentStore } = await setup(running);
    const visitor = await visitorSession(running, org.orgKey, closers);
    const one = await visitor.send('one');
    const two = await visitor.send('two');
    const stored = await until<ChatMessage>(visitor, 'message', (m) => m.id === two.id && m.seq !== undefined);
    await expect.poll(() => agent.messagesOf(two.conversationId).map((m) => m.text)).toEqual(['one', 'two']);
    await expect.poll(() => visitor.messages.map((m) => m.state)).toEqual(['delivered', 'delivered']);
    agent.close();

    const reloaded = await agentSession(running, org.rootPublic, org.agent, closers, {
      store: agentStore,
      WebSocket: hostileSocket(withholding(two.conversationId, [stored.seq!])),
    });
    const notices = reloaded.conversationList[0]!.notices;
    expect(notices.map((n) => [n.kind, n.senderDeviceId])).toEqual([['trimmed', toHex(visitor.identity.deviceId)]]);
    expect(reloaded.messagesOf(two.conversationId).map((m) => m.text)).toEqual(['one']);
    reloaded.markRead(two.conversationId);
    await expect.poll(() => visitor.messages.find((m) => m.id === one.id)?.state).toBe('read');
    expect(visitor.messages.find((m) => m.id === two.id)?.state).toBe('delivered');
  });

  it('a relay cannot swap the visitor of a conversation a console has seen: the pin outlives a reload', async () => {
    const running = await startTestRelay(closers);
    const { org, agent, agentStore } = await setup(running);
    const visitor = await visitorSession(running, org.orgKey, closers);
    const hello = await visitor.send('hello');
    const id = hello.conversationId;
    await expect.poll(() => agent.messagesOf(id).map((m) => m.text)).toEqual(['hello']);
    agent.close();

    // The relay's own "visitor": a device of its making, opening the same conversation first.
    const roster = await verifyRoster(org.roster, { orgRootKey: org.rootPublic, now: Date.now() });
    const impostor = new SecureConversation({
      me: await generateDeviceIdentity(),
      orgId: roster.orgId,
      conversationId: fromHex(id),
      roster,
      iAmVisitor: true,
    });
    const forged = await impostor.seal(
      EnvelopeType.message,
      encodeContent({ kind: 'text', text: 'forged', sentAt: 1 }),
    );
    const shift = forged.length;
    const swapping: RelayFilter = (frame) => {
      if (frame.kind === 'resumed') return { ...frame, lastSeq: frame.lastSeq + shift };
      if (frame.kind !== 'record' || toHex(frame.conversationId) !== id) return frame;
      const real = { ...frame, seq: frame.seq + shift };
      if (frame.seq !== 1) return real;
      return [...forged.map((s, i) => ({ ...frame, seq: i + 1, envelope: s.envelope })), real];
    };
    const problems: string[] = [];
    const reloaded = await agentSession(running, org.rootPublic, org.agent, closers, {
      store: agentStore,
      WebSocket: hostileSocket(swapping),
    });
    reloaded.addEventListener('problem', (e) => problems.push(e.detail.error.code));
    await expect.poll(() => reloaded.messagesOf(id).map((m) => m.text)).toEqual(['hello']);
    expect(await reloaded.safetyCode(id)).toBe(await visitor.safetyCode());
  });
  it('a forged history-grant push cannot make a console lose what it shows unseen: the re-read reports the cut', async () => {
    // Found by the hostile model (packages/client/src/hostile-transcript.test.ts): the re-read a
    // pushed grant forces was checked against the stored mark only, which a live record moves
    // only when the console next seals (its "delivered" receipt, some 300 ms later).
    const running = await startTestRelay(closers);
    const agentStore = new MemoryClientStore();
    const org = await loadOrCreateOrganisation(agentStore, { agentName: 'Robin' });
    await publishRoster(running.url, org, { WebSocket: WS });
    const attack = { conversationId: '', visitor: '', grant: undefined as Uint8Array<ArrayBuffer> | undefined };
    let cut: number | undefined;
    const forging: RelayFilter = (frame) => {
      if (!attack.grant) return frame;
      if (frame.kind === 'record' && toHex(frame.conversationId) === attack.conversationId) {
        // The visitor's next record, then at once a grant the relay sealed itself; on the re-read
        // that grant forces, that record is withheld.
        if (cut === undefined && toHex(decodeEnvelope(frame.envelope).senderDeviceId) === attack.visitor) {
          cut = frame.seq;
          return [frame, { kind: 'history-granted', conversationId: frame.conversationId, grant: attack.grant }];
        }
        if (frame.seq === cut) return undefined;
      }
      if (frame.kind === 'resumed' && cut !== undefined && frame.lastSeq >= cut) return { ...frame, lastSeq: cut - 1 };
      return frame;
    };
    const agent = await agentSession(running, org.rootPublic, org.agent, closers, {
      store: agentStore,
      WebSocket: hostileSocket(forging),
    });
    const visitor = await visitorSession(running, org.orgKey, closers);
    const one = await visitor.send('one');
    const id = one.conversationId;
    await expect.poll(() => agent.messagesOf(id).map((m) => m.text)).toEqual(['one']);
    await expect.poll(() => visitor.messages.map((m) => m.state)).toEqual(['delivered']);
    attack.conversationId = id;
    attack.visitor = toHex(visitor.identity.deviceId);
    attack.grant = await sealHistoryGrant({
      orgId: org.orgId,
      conversationId: fromHex(id),
      recipient: org.agent,
      seeds: [],
    });
    await visitor.send('two');
    const reread = await until<Conversation>(agent, 'conversation', (c) => c.id === id);
    await expect
      .poll(() => reread.notices.map((n) => [n.kind, n.senderDeviceId]))
      .toEqual([['trimmed', toHex(visitor.identity.deviceId)]]);
    expect(reread.messages.map((m) => m.text)).toEqual(['one']);
  });
});
