import { afterEach, describe, expect, it } from 'vitest';
import {
  decodeClientFrame,
  encodeRelayFrame,
  randomBytes,
  toHex,
  verifyRoster,
  type ClientFrame,
  type RelayFrame,
} from '@sealchat/protocol';
import { createTestOrganisation, type TestOrganisation } from '@sealchat/protocol/testing';
import { Conversation } from './conversation.js';
import { IdbClientStore } from './idb-client-store.js';
import type { WebSocketConstructor, WebSocketLike } from './relay-connection.js';
import { openVisitorChat, type VisitorChat } from './visitor-chat.js';
import { VisitorSession } from './visitor-session.js';

type Listener = (event: { data?: unknown }) => void;

/**
 * A relay inside the page, reached through the `WebSocket` option: one conversation, posts stored
 * in order and deduplicated by client message id (as the real relay does), records fanned out to
 * attached sockets. `up = false` refuses connections and drops the open ones.
 */
function fakeRelay(org: TestOrganisation) {
  const conversationId = randomBytes(16);
  const capability = randomBytes(32);
  const records: { clientMessageId: string; envelope: Uint8Array<ArrayBuffer> }[] = [];
  const posts: string[] = [];
  const sockets = new Set<FakeSocket>();
  const attached = new Set<FakeSocket>();
  const state = { up: true, opened: 0 };
  const rosterBytes = org.roster(1, []);
  // Visitors share keys only under a fresh roster head (docs/protocol.md §4.4): this relay serves one.
  const rosterHead = rosterBytes.then(async (roster) =>
    org.rosterHead(await verifyRoster(roster, { orgRootKey: org.rootPublic, now: Date.now() })),
  );

  class FakeSocket implements WebSocketLike {
    binaryType = 'arraybuffer';
    readyState = 0;
    private readonly listeners = new Map<string, Listener[]>();

    constructor() {
      setTimeout(() => {
        if (!state.up) return this.close();
        sockets.add(this);
        this.readyState = 1;
        this.fire('open');
        this.push({ kind: 'challenge', nonce: randomBytes(32) });
      });
    }

    addEventListener(type: string, listener: Listener): void {
      this.listeners.set(type, [...(this.listeners.get(type) ?? []), listener]);
    }

    send(data: Uint8Array): void {
      void this.handle(decodeClientFrame(data));
    }

    close(): void {
      if (this.readyState === 3) return;
      this.readyState = 3;
      sockets.delete(this);
      attached.delete(this);
      setTimeout(() => this.fire('close'));
    }

    push(frame: RelayFrame): void {
      const bytes = encodeRelayFrame(frame);
      setTimeout(() => {
        if (this.readyState === 1) this.fire('message', bytes.slice().buffer);
      });
    }

    private fire(type: string, data?: unknown): void {
      for (const listener of this.listeners.get(type) ?? []) listener({ data });
    }

    private async handle(frame: ClientFrame): Promise<void> {
      const requestId = frame.requestId;
      switch (frame.kind) {
        case 'get-roster':
          return this.push({ kind: 'roster', requestId, roster: await rosterBytes });
        case 'get-roster-head':
          return this.push({ kind: 'roster-head', requestId, head: await rosterHead });
        case 'watch-presence':
          return this.push({ kind: 'presence', requestId, orgId: org.orgId, anyoneOnline: true, devices: [] });
        case 'open-conversation':
          state.opened++;
          return this.push({ kind: 'conversation-opened', requestId, conversationId, capability });
        case 'resume-conversation': {
          attached.add(this);
          const lastSeq = records.length;
          this.push({ kind: 'resumed', requestId, epoch: 1, lastSeq, firstSeq: 1, reset: false });
          records
            .slice(frame.afterSeq)
            .forEach((r, i) =>
              this.push({ kind: 'record', conversationId, seq: frame.afterSeq + i + 1, envelope: r.envelope }),
            );
          return;
        }
        case 'post': {
          const id = toHex(frame.clientMessageId);
          posts.push(id);
          let seq = records.findIndex((r) => r.clientMessageId === id) + 1;
          if (seq === 0) {
            seq = records.push({ clientMessageId: id, envelope: frame.envelope });
            for (const socket of attached)
              socket.push({ kind: 'record', conversationId, seq, envelope: frame.envelope });
          }
          return this.push({ kind: 'ack', requestId, seq });
        }
        default:
          return this.push({ kind: 'error', requestId, code: 'SEALCHAT_E_BAD_FRAME', message: frame.kind });
      }
    }
  }

  return {
    WebSocket: FakeSocket as unknown as WebSocketConstructor,
    state,
    setUp(up: boolean): void {
      state.up = up;
      if (!up) for (const socket of [...sockets]) socket.close();
    },
    /** How many stored records carry this client message id (the payload of a message). */
    stored: (clientMessageId: string) => records.filter((r) => r.clientMessageId === clientMessageId).length,
    /** How many times a client posted this client message id (the relay drops repeats, but each cost a chain key). */
    posted: (clientMessageId: string) => posts.filter((id) => id === clientMessageId).length,
    /** What the organisation's supervisor reads: every record decrypted in order, and what the transcript showed. */
    async agentView() {
      const roster = await org.verifiedRoster(1, []);
      const reader = new Conversation(conversationId, org.supervisor, org.orgId, roster, false);
      for (const [i, r] of records.entries()) await reader.accept(i + 1, r.envelope);
      return { texts: reader.messages.map((m) => m.text), notices: reader.notices.map((n) => n.kind) };
    },
  };
}

const chats: VisitorChat[] = [];
afterEach(() => {
  for (const chat of chats.splice(0)) chat.close();
});

/** What a tab opens its chat with: its own store connection to the shared database. */
const tabOptions = async (org: TestOrganisation, relay: ReturnType<typeof fakeRelay>, db: string) => ({
  relayUrl: 'ws://relay.invalid',
  orgKey: org.orgKey,
  store: await IdbClientStore.open(db),
  WebSocket: relay.WebSocket,
  reconnectDelayMs: 20,
  maxReconnectDelayMs: 50,
});

/** A tab and its chat. */
async function tab(org: TestOrganisation, relay: ReturnType<typeof fakeRelay>, db: string): Promise<VisitorChat> {
  const chat = await openVisitorChat(await tabOptions(org, relay, db));
  chats.push(chat);
  return chat;
}

/**
 * A leading tab whose page goes away without a word (closed, crashed): it holds the lock and hears
 * the channel, and `vanish()` lets the lock go. It never answers a forwarded call; `ran` says
 * whether it ran the call first (what a tab killed just after queueing the message leaves behind).
 */
async function vanishingLeader(org: TestOrganisation, relay: ReturnType<typeof fakeRelay>, db: string, ran: boolean) {
  const name = `sealchat-visitor ${org.orgKey}`;
  let vanish!: () => void;
  await new Promise<void>((held) => {
    void navigator.locks.request(name, () => {
      held();
      return new Promise<void>((resolve) => (vanish = resolve));
    });
  });
  const channel = new BroadcastChannel(name);
  const called = new Promise<string>((resolve) => {
    channel.onmessage = async ({ data }: MessageEvent<{ call?: string; action?: string; args?: [string, string] }>) => {
      if (data.action !== 'send') return;
      const [text, id] = data.args!;
      if (ran) {
        const session = await VisitorSession.open(await tabOptions(org, relay, db));
        const sent = await session.send(text, id);
        await expect.poll(() => session.messages.find((m) => m.id === sent.id)?.state, { timeout: 5000 }).toBe('sent');
        session.close();
        await session.flush();
      }
      resolve(id);
    };
  });
  return {
    called,
    vanish(): void {
      channel.close();
      vanish();
    },
  };
}

const view = (chat: VisitorChat) => chat.messages.map((m) => [m.id, m.text, m.state]);

describe('openVisitorChat in several tabs (Web Locks + BroadcastChannel, real Chromium)', () => {
  it('one tab leads, the other mirrors it; a message sent from the follower shows in both under one id, stored once', async () => {
    const org = await createTestOrganisation();
    const relay = fakeRelay(org);
    const db = `sealchat-test-${crypto.randomUUID()}`;
    const first = await tab(org, relay, db);
    const second = await tab(org, relay, db);
    expect([first.leader, second.leader]).toEqual([true, false]);
    await expect.poll(() => second.state, { timeout: 5000 }).toBe('open');
    await expect.poll(() => second.agentsOnline, { timeout: 5000 }).toBe(true);

    const events: string[] = [];
    second.addEventListener('message', (event) => events.push((event as CustomEvent<{ id: string }>).detail.id));
    const sent = await second.send('from the second tab');
    expect(sent).toMatchObject({ text: 'from the second tab', mine: true });
    const expected = [[sent.id, 'from the second tab', 'sent']];
    await expect.poll(() => view(first), { timeout: 5000 }).toEqual(expected);
    await expect.poll(() => view(second), { timeout: 5000 }).toEqual(expected);
    expect(events).toContain(sent.id);
    expect(second.conversationId).toBe(first.conversationId);
    expect(await second.safetyCode()).toBe(await first.safetyCode());
    expect(relay.stored(sent.id)).toBe(1);
    expect(await relay.agentView()).toEqual({ texts: ['from the second tab'], notices: [] });
  });

  it('when the leader closes, the follower takes over from the store, with what was typed offline, and sends it once', async () => {
    const org = await createTestOrganisation();
    const relay = fakeRelay(org);
    relay.setUp(false);
    const db = `sealchat-test-${crypto.randomUUID()}`;
    const first = await tab(org, relay, db);
    const second = await tab(org, relay, db);
    expect([first.leader, second.leader]).toEqual([true, false]);
    expect(first.state).not.toBe('open');

    const typed = await second.send('typed while offline');
    await expect.poll(() => view(first), { timeout: 5000 }).toEqual([[typed.id, 'typed while offline', 'sending']]);
    await expect.poll(() => view(second), { timeout: 5000 }).toEqual([[typed.id, 'typed while offline', 'sending']]);

    const promoted = new Promise((resolve) => second.addEventListener('state', resolve));
    first.close();
    await promoted;
    await expect.poll(() => second.leader, { timeout: 5000 }).toBe(true);
    expect(view(second)).toEqual([[typed.id, 'typed while offline', 'sending']]);

    relay.setUp(true);
    await expect.poll(() => view(second), { timeout: 5000 }).toEqual([[typed.id, 'typed while offline', 'sent']]);
    const later = await second.send('and after the handover');
    await expect.poll(() => second.messages.find((m) => m.id === later.id)?.state, { timeout: 5000 }).toBe('sent');
    expect(relay.state.opened).toBe(1);
    expect(relay.stored(typed.id)).toBe(1);
    expect(await relay.agentView()).toEqual({ texts: ['typed while offline', 'and after the handover'], notices: [] });
  });

  for (const ran of [false, true])
    it(`a send forwarded to a leader that vanishes unanswered is run by the tab that takes over, once (the leader ${ran ? 'had' : 'had not'} run it)`, async () => {
      const org = await createTestOrganisation();
      const relay = fakeRelay(org);
      const db = `sealchat-test-${crypto.randomUUID()}`;
      const leader = await vanishingLeader(org, relay, db, ran);
      const follower = await tab(org, relay, db);
      expect(follower.leader).toBe(false);

      const sending = follower.send('typed as the other tab closed');
      const id = await leader.called;
      leader.vanish();
      const sent = await sending;
      expect(sent).toMatchObject({ id, text: 'typed as the other tab closed', mine: true });
      expect(follower.leader).toBe(true);
      await expect
        .poll(() => view(follower), { timeout: 5000 })
        .toEqual([[id, 'typed as the other tab closed', 'sent']]);
      // The outbox sends in order: once the next message is delivered, nothing else is on its way.
      const next = await follower.send('and the next one');
      await expect.poll(() => follower.messages.find((m) => m.id === next.id)?.state, { timeout: 5000 }).toBe('sent');
      expect(relay.stored(id)).toBe(1);
      expect(relay.posted(id)).toBe(1);
      expect(relay.state.opened).toBe(1);
      expect(await relay.agentView()).toEqual({
        texts: ['typed as the other tab closed', 'and the next one'],
        notices: [],
      });
    });
});
