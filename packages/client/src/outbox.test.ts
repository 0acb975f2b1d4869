import { describe, expect, it } from 'vitest';
import type { RelayFrame } from '@sealchat/protocol';
import { ConnectionLostError, RelayRequestError } from './errors.js';
import { Outbox, type OutboxItem, type OutboxListener } from './outbox.js';
import type { RelayConnection, RequestFrame } from './relay-connection.js';

/** A connection whose answers the test scripts, one per post. */
function scriptedConnection(answers: (() => RelayFrame)[]) {
  const posts: RequestFrame[] = [];
  const connection = {
    state: 'open',
    addEventListener: () => undefined,
    // async: a scripted answer that throws becomes a rejection, as a relay refusal would.
    async request(frame: RequestFrame): Promise<RelayFrame> {
      await Promise.resolve();
      posts.push(frame);
      const next = answers.shift();
      if (!next) throw new ConnectionLostError();
      return next();
    },
  };
  return { connection: connection as unknown as RelayConnection, posts };
}

const conversationId = new Uint8Array(16);
const envelope = new Uint8Array([1, 2, 3]);

/** Records what the outbox reported; sealing gives `shares` key-share envelopes before the payload. */
function recorder(shares: Record<string, number> = {}) {
  const events: string[] = [];
  const sealed: string[] = [];
  const listener: OutboxListener = {
    seal: (item) => {
      sealed.push(item.id);
      const count = (shares[item.id] ?? 0) + 1;
      return Promise.resolve({ conversationId, envelopes: Array.from({ length: count }, () => envelope) });
    },
    sent: (item, _c, seq) => events.push(`sent ${item.id} ${seq}`),
    failed: (item) => events.push(`failed ${item.id}`),
  };
  return { events, sealed, listener };
}

const item = (id: string): OutboxItem => ({
  id,
  conversationId: '00'.repeat(16),
  content: { kind: 'text', text: id, sentAt: 1 },
});
const tick = () => new Promise((resolve) => setTimeout(resolve, 10));

describe('Outbox', () => {
  it('keeps a message queued when the relay is shutting down, and delivers it on resume under the same id', async () => {
    const { connection, posts } = scriptedConnection([
      () => {
        throw new RelayRequestError('SEALCHAT_E_UNAVAILABLE', 'shutting down');
      },
      () => ({ kind: 'ack', requestId: 1, seq: 7 }),
    ]);
    const { events, listener } = recorder();
    const outbox = new Outbox(connection, listener);
    outbox.resume();
    outbox.enqueue(item('aa'.repeat(16)));
    await tick();
    expect(events).toEqual([]);
    expect(outbox.size).toBe(1);
    outbox.resume();
    await tick();
    expect(events).toEqual([`sent ${'aa'.repeat(16)} 7`]);
    // The retry reuses the client message id, so the relay can dedupe it.
    const ids = posts.map((p) => (p.kind === 'post' ? p.clientMessageId.join() : ''));
    expect(ids).toHaveLength(2);
    expect(ids[1]).toBe(ids[0]);
    outbox.stop();
  });

  it('marks everything queued as failed when the relay refuses for good, and sends it again on retry', async () => {
    const { connection } = scriptedConnection([
      () => {
        throw new RelayRequestError('SEALCHAT_E_UNAUTHORIZED', 'no');
      },
      () => ({ kind: 'ack', requestId: 2, seq: 1 }),
      () => ({ kind: 'ack', requestId: 3, seq: 2 }),
    ]);
    const { events, listener } = recorder({ ['bb'.repeat(16)]: 1 });
    const outbox = new Outbox(connection, listener);
    outbox.resume();
    outbox.enqueue(item('bb'.repeat(16)));
    await tick();
    expect(events).toEqual([`failed ${'bb'.repeat(16)}`]);
    outbox.retry();
    await tick();
    expect(events).toEqual([`failed ${'bb'.repeat(16)}`, `sent ${'bb'.repeat(16)} 2`]);
    expect(outbox.size).toBe(0);
    outbox.stop();
  });

  it('pauses when the relay says it is rate-limited, then sends the same entry again', async () => {
    const { connection, posts } = scriptedConnection([
      () => {
        throw new RelayRequestError('SEALCHAT_E_RATE_LIMITED', 'slow down');
      },
      () => ({ kind: 'ack', requestId: 2, seq: 3 }),
    ]);
    const { events, listener } = recorder();
    const outbox = new Outbox(connection, listener, { rateLimitPauseMs: 30 });
    outbox.resume();
    outbox.enqueue(item('dd'.repeat(16)));
    await tick();
    expect(events).toEqual([]);
    await new Promise((resolve) => setTimeout(resolve, 80));
    expect(events).toEqual([`sent ${'dd'.repeat(16)} 3`]);
    expect(posts).toHaveLength(2);
    outbox.stop();
  });

  it('shows a message as failed when no ack comes within the timeout', async () => {
    const { connection } = scriptedConnection([]);
    (connection as { state: string }).state = 'closed';
    const { events, listener } = recorder();
    const outbox = new Outbox(connection, listener, { sendTimeoutMs: 50 });
    outbox.resume();
    outbox.enqueue(item('cc'.repeat(16)));
    await new Promise((resolve) => setTimeout(resolve, 700));
    expect(events).toEqual([`failed ${'cc'.repeat(16)}`]);
    expect(outbox.size).toBe(1);
    outbox.stop();
  });

  it('seals nothing before the session is caught up, then each item once, in queue order', async () => {
    const { connection, posts } = scriptedConnection([
      () => ({ kind: 'ack', requestId: 1, seq: 1 }),
      () => {
        throw new ConnectionLostError();
      },
      () => ({ kind: 'ack', requestId: 3, seq: 2 }),
      () => ({ kind: 'ack', requestId: 4, seq: 3 }),
    ]);
    const { events, sealed, listener } = recorder({ ['02'.repeat(16)]: 1 });
    const outbox = new Outbox(connection, listener);
    outbox.enqueue(item('01'.repeat(16)), item('02'.repeat(16)));
    await tick();
    // Not resumed yet: sealing now could reuse a sender number a reload has not recovered.
    expect(sealed).toEqual([]);
    outbox.resume();
    await tick();
    // The second item's key share went out, then the socket dropped before its payload.
    expect(events).toEqual([`sent ${'01'.repeat(16)} 1`]);
    outbox.resume();
    await tick();
    expect(events).toEqual([`sent ${'01'.repeat(16)} 1`, `sent ${'02'.repeat(16)} 3`]);
    // Sealed once each, and the interrupted item carried on from its unacked envelope with the same bytes.
    expect(sealed).toEqual(['01'.repeat(16), '02'.repeat(16)]);
    expect(posts).toHaveLength(4);
    const ids = posts.map((p) => (p.kind === 'post' ? Buffer.from(p.clientMessageId).toString('hex') : ''));
    expect(ids[0]).toBe('01'.repeat(16));
    expect(ids[2]).toBe(ids[1]);
    expect(ids[3]).toBe('02'.repeat(16));
    outbox.stop();
  });
});
