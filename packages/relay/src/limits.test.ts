import WebSocket from 'ws';
import { afterEach, describe, expect, it } from 'vitest';
import { TokenBucket } from './limits.js';
import { expectKind, random, startHarness, type Harness } from './testing/relay-harness.js';
import { openConversation, registerOrg, sleep } from './testing/scenarios.js';

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.stop();
  harness = undefined;
});

describe('TokenBucket', () => {
  it('allows a burst, refuses, then refills at its rate', () => {
    const bucket = new TokenBucket(10, 3, 0);
    expect([bucket.take(0), bucket.take(0), bucket.take(0), bucket.take(0)]).toEqual([true, true, true, false]);
    expect(bucket.take(50)).toBe(false);
    expect(bucket.take(100)).toBe(true);
    expect(bucket.isFull(1000)).toBe(true);
  });
});

describe('rate limits trip and recover', () => {
  it('per connection: RATE_LIMITED past the burst, served again after the refill', async () => {
    const h = (harness = await startHarness({ demo: true, connectionRate: 20, connectionBurst: 5 }));
    const c = await h.connect();
    const replies = await Promise.all(Array.from({ length: 8 }, () => c.request({ kind: 'hello', revision: 2 })));
    const codes = replies.map((r) => (r.kind === 'error' ? r.code : r.kind));
    expect(codes.filter((k) => k === 'welcome').length).toBe(5);
    expect(codes.filter((k) => k === 'SEALCHAT_E_RATE_LIMITED').length).toBe(3);
    await sleep(250);
    expectKind(await c.request({ kind: 'hello', revision: 2 }), 'welcome');
  });

  it('closes a socket that keeps sending through its limit with 1008', async () => {
    const h = (harness = await startHarness({ demo: true, connectionRate: 1, connectionBurst: 5 }));
    const c = await h.connect();
    for (let i = 0; i < 30; i++) void c.request({ kind: 'hello', revision: 2 }).catch(() => undefined);
    expect((await c.closed).code).toBe(1008);
  });

  it('per capability: posts beyond the burst are refused, then accepted after the refill', async () => {
    const h = (harness = await startHarness({ demo: true, capabilityRate: 10, capabilityBurst: 3 }));
    const org = await registerOrg(h);
    const visitor = await h.connect();
    const { conversationId, capability } = await openConversation(visitor, org);
    // A second socket with the same capability shares the bucket.
    const tab = await h.connect();
    expectKind(await tab.request({ kind: 'attach-conversation', conversationId, capability, afterSeq: 0 }), 'attached');
    const replies = await Promise.all(
      [visitor, tab, visitor, tab, visitor].map((s) =>
        s.request({ kind: 'post', conversationId, clientMessageId: random(16), envelope: random(8) }),
      ),
    );
    expect(replies.filter((r) => r.kind === 'ack').length).toBe(3);
    expect(replies.filter((r) => r.kind === 'error' && r.code === 'SEALCHAT_E_RATE_LIMITED').length).toBe(2);
    await sleep(150);
    expectKind(
      await visitor.request({ kind: 'post', conversationId, clientMessageId: random(16), envelope: random(8) }),
      'ack',
    );
  });

  it('new conversations per address per hour', async () => {
    const h = (harness = await startHarness({ demo: true, maxNewConversationsPerAddressPerHour: 3 }));
    const org = await registerOrg(h);
    const first = await h.connect();
    for (let i = 0; i < 3; i++) await openConversation(first, org);
    const second = await h.connect();
    const refused = expectKind(await second.request({ kind: 'open-conversation', orgId: org.orgId }), 'error');
    expect(refused.code).toBe('SEALCHAT_E_RATE_LIMITED');
  });
});

describe('connection limits', () => {
  it('refuses a connection over maxConnectionsPerAddress with 429 and admits one after a close', async () => {
    const h = (harness = await startHarness({ maxConnectionsPerAddress: 2 }));
    const a = await h.connect();
    await h.connect();
    const status = await new Promise<number>((resolve) => {
      const ws = new WebSocket(h.relay.url);
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.on('open', () => resolve(101));
      ws.on('error', () => undefined);
    });
    expect(status).toBe(429);
    a.close();
    await a.closed;
    await sleep(20);
    await h.connect();
  });

  it('counts sockets per org: the one over maxConnectionsPerOrg gets LIMIT, a freed slot is reused', async () => {
    const h = (harness = await startHarness({ demo: true, maxConnectionsPerOrg: 2 }));
    const org = await registerOrg(h);
    const a = await h.connect();
    await openConversation(a, org);
    const b = await h.connect();
    await openConversation(b, org);
    const c = await h.connect();
    expect(expectKind(await c.request({ kind: 'open-conversation', orgId: org.orgId }), 'error').code).toBe(
      'SEALCHAT_E_LIMIT',
    );
    a.close();
    await a.closed;
    await sleep(20);
    await openConversation(c, org);
  });

  it('limits subscriptions per socket (conversations and presence watches together)', async () => {
    const h = (harness = await startHarness({ demo: true, maxConversationsPerSocket: 2 }));
    const org = await registerOrg(h);
    const c = await h.connect();
    const one = await openConversation(c, org);
    const two = await openConversation(c, org);
    expectKind(await c.request({ kind: 'resume-conversation', ...one, epoch: 0, afterSeq: 0 }), 'resumed');
    expectKind(await c.request({ kind: 'watch-presence', orgId: org.orgId, subscribe: true }), 'presence');
    const refused = expectKind(
      await c.request({ kind: 'resume-conversation', ...two, epoch: 0, afterSeq: 0 }),
      'error',
    );
    expect(refused.code).toBe('SEALCHAT_E_LIMIT');
  });
});

describe('liveness', () => {
  it('closes an idle socket that holds nothing with 4001, and keeps a subscribed one', async () => {
    const h = (harness = await startHarness({ demo: true, idleTimeoutMs: 100, pingIntervalMs: 60_000 }));
    const org = await registerOrg(h);
    const idle = await h.connect();
    const busy = await h.connect();
    const conversation = await openConversation(busy, org);
    expectKind(await busy.request({ kind: 'resume-conversation', ...conversation, epoch: 0, afterSeq: 0 }), 'resumed');
    expect((await idle.closed).code).toBe(4001);
    await sleep(200);
    expect(busy.ws.readyState).toBe(WebSocket.OPEN);
  });

  it('terminates a socket that stops answering pings', async () => {
    const h = (harness = await startHarness({ pingIntervalMs: 50, idleTimeoutMs: 60_000 }));
    const answering = await h.connect();
    const silent = new WebSocket(h.relay.url, { autoPong: false });
    const closed = new Promise<number>((resolve) => silent.on('close', (code) => resolve(code)));
    silent.on('error', () => undefined);
    expect(await closed).toBe(1006);
    expect(answering.ws.readyState).toBe(WebSocket.OPEN);
  });

  it('closes a subscriber that does not read with 1013 (slow consumer)', async () => {
    const h = (harness = await startHarness({
      demo: true,
      maxBufferedBytes: 1024,
      capabilityBurst: 10_000,
      capabilityRate: 10_000,
      maxPendingPostsPerSocket: 10_000,
    }));
    const org = await registerOrg(h);
    const writer = await h.connect();
    const { conversationId, capability } = await openConversation(writer, org);
    const reader = await h.connect();
    expectKind(
      await reader.request({ kind: 'attach-conversation', conversationId, capability, afterSeq: 0 }),
      'attached',
    );
    // Stop reading at the TCP level: the relay's send buffer for this socket grows.
    (reader.ws as unknown as { _socket: { pause(): void } })._socket.pause();
    for (let round = 0; round < 40 && !h.logs.some((l) => l.includes('slow-consumer')); round++) {
      await Promise.all(
        Array.from({ length: 10 }, () =>
          writer.request({ kind: 'post', conversationId, clientMessageId: random(16), envelope: random(60_000) }),
        ),
      );
    }
    expect(h.logs.some((l) => l.includes('"slow-consumer"'))).toBe(true);
  });
});
