import type { RelayFrame } from '@sealchat/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildRelayCli,
  LOOSE_LIMITS,
  startRelayProcess,
  startThrowawayRedis,
  type RelayProcess,
  type ThrowawayRedis,
} from './testing/cluster.js';
import { expectKind, generateDeviceIdentity, makeOrg, random, TestClient } from './testing/relay-harness.js';
import { freshSchema, queryTest, type TestSchema } from './testing/services.js';

/**
 * Three relay processes (the built CLI) on one PostgreSQL schema and one Redis: the visitor on A,
 * agents on B and C. A is killed with SIGKILL mid-conversation and the visitor resumes on B; then
 * Redis is killed and restarted. Every client must end with the same gapless stream, each message
 * exactly once. Redis here is a throwaway `redis-server` child, never the machine's own.
 */
let schema: TestSchema;
let redis: ThrowawayRedis;
const relays: RelayProcess[] = [];
const clients: TestClient[] = [];

beforeAll(async () => {
  buildRelayCli();
  schema = await freshSchema('sealchat_e2e');
  redis = await startThrowawayRedis();
}, 70_000);

afterAll(async () => {
  for (const client of clients) client.ws.terminate();
  await Promise.all(relays.map((relay) => relay.kill('SIGKILL')));
  await redis?.kill();
  await schema?.drop();
});

type RecordFrame = Extract<RelayFrame, { kind: 'record' }>;
const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');
const records = (...sockets: TestClient[]): RecordFrame[] =>
  sockets.flatMap((s) => s.frames.filter((f): f is RecordFrame => f.kind === 'record'));

async function connect(url: string): Promise<TestClient> {
  const client = await TestClient.connect(url);
  clients.push(client);
  expectKind(await client.request({ kind: 'hello', revision: 2 }), 'welcome');
  return client;
}

describe('several relays on PostgreSQL and Redis', () => {
  it('survives a relay SIGKILL and a Redis restart: nothing lost, nothing duplicated, on every relay', async () => {
    const org = await makeOrg();
    const [deviceB, deviceC] = await Promise.all([generateDeviceIdentity(), generateDeviceIdentity()]);
    const args = ['--db', schema.url, '--fanout', redis.url, '--org', org.orgKeyText, ...LOOSE_LIMITS];
    const [a, b, c] = await Promise.all([1, 2, 3].map(() => startRelayProcess(args)));
    relays.push(a!, b!, c!);

    const admin = await connect(a!.url);
    const published = await admin.request({
      kind: 'publish-roster',
      orgRootKey: org.rootPublic,
      roster: await org.roster(1, [deviceB, deviceC]),
    });
    expectKind(published, 'ok');
    const agentB = await connect(b!.url);
    const agentC = await connect(c!.url);
    for (const [agent, device] of [
      [agentB, deviceB],
      [agentC, deviceC],
    ] as const) {
      expectKind(await agent.authAgent(org.orgId, device), 'ok');
      expectKind(await agent.request({ kind: 'watch-org' }), 'conversation-list');
    }

    // The visitor opens on A; the agents on B and C hear of it through Redis, and follow it.
    let visitor = await connect(a!.url);
    const opened = expectKind(
      await visitor.request({ kind: 'open-conversation', orgId: org.orgId }),
      'conversation-opened',
    );
    const { conversationId, capability } = opened;
    for (const agent of [agentB, agentC]) {
      const created = expectKind(await agent.next((f) => f.kind === 'conversation-created'), 'conversation-created');
      expect(created.conversation.conversationId).toEqual(conversationId);
      const capability = new Uint8Array(0);
      const resumed = await agent.request({
        kind: 'resume-conversation',
        conversationId,
        capability,
        epoch: 0,
        afterSeq: 0,
      });
      expectKind(resumed, 'resumed');
    }
    const resumedVisitor = expectKind(
      await visitor.request({ kind: 'resume-conversation', conversationId, capability, epoch: 0, afterSeq: 0 }),
      'resumed',
    );
    const epoch = resumedVisitor.epoch;

    const sent = new Map<string, Uint8Array<ArrayBuffer>>(); // envelope hex → client message id
    const post = (client: TestClient, envelope = random(64), clientMessageId = random(16)) => {
      sent.set(hex(envelope), clientMessageId);
      return client
        .request({ kind: 'post', conversationId, clientMessageId, envelope })
        .then((reply) => ({ envelope, clientMessageId, reply }));
    };
    const agentPosts = (count: number) => Array.from({ length: count }, (_, i) => post(i % 2 ? agentB : agentC));

    // 1. Everyone talks at once, across three relays.
    const phase1 = await Promise.all([...Array.from({ length: 15 }, () => post(visitor)), ...agentPosts(20)]);
    for (const { reply } of phase1) expectKind(reply, 'ack');
    await expect.poll(() => records(agentB).length, { timeout: 10_000 }).toBe(35);

    // 2. Relay A dies under the visitor with posts in flight; the visitor resumes on B and resends
    // whatever was not acknowledged, with the same client message ids.
    const inFlight = Array.from({ length: 30 }, () => post(visitor));
    const agentsMeanwhile = agentPosts(6);
    await Promise.race(inFlight);
    await a!.kill('SIGKILL');
    const outcomes = await Promise.all(inFlight.map((p) => p.catch(() => undefined)));
    await Promise.all(agentsMeanwhile);
    const oldVisitor = visitor;
    const seenBefore = records(oldVisitor).map((r) => r.seq);
    const lastSeen = seenBefore.length > 0 ? Math.max(...seenBefore) : 0;
    visitor = await connect(b!.url);
    const resumedOnB = expectKind(
      await visitor.request({ kind: 'resume-conversation', conversationId, capability, epoch, afterSeq: lastSeen }),
      'resumed',
    );
    expect(resumedOnB.reset).toBe(false);
    let unacked = 0;
    for (const [i, outcome] of outcomes.entries()) {
      if (outcome?.reply.kind === 'ack') continue;
      unacked++;
      const original = [...sent.entries()][35 + i]!;
      const retry = await post(visitor, new Uint8Array(Buffer.from(original[0], 'hex')), original[1]);
      expectKind(retry.reply, 'ack');
    }
    expect(unacked).toBeLessThan(30);

    // 3. Redis dies: posts are still acknowledged (the database has them) but C's cannot reach B.
    // It comes back empty; every relay resubscribes and repairs from PostgreSQL.
    await redis.kill();
    const duringOutage = await Promise.all([...agentPosts(8), post(visitor), post(visitor)]);
    for (const { reply } of duringOutage) expectKind(reply, 'ack');
    await new Promise((r) => setTimeout(r, 300));
    await redis.start();
    await expect.poll(() => c!.logs.some((l) => l.includes('fanout-reconnected')), { timeout: 10_000 }).toBe(true);
    await expect.poll(() => b!.logs.some((l) => l.includes('fanout-reconnected')), { timeout: 10_000 }).toBe(true);
    // Repaired by the resync alone, before anyone posts again: B's sockets get C's outage posts, C's get B's.
    for (const streams of [[agentB], [agentC], [oldVisitor, visitor]]) {
      await expect.poll(() => records(...streams).length, { timeout: 10_000 }).toBeGreaterThanOrEqual(sent.size);
    }
    const afterOutage = await Promise.all([...agentPosts(6), post(visitor), post(visitor)]);
    for (const { reply } of afterOutage) expectKind(reply, 'ack');

    // Every client, on every relay, has every message once, in seq order, with no gap.
    const total = sent.size;
    const expected = Array.from({ length: total }, (_, i) => i + 1);
    for (const streams of [[agentB], [agentC], [oldVisitor, visitor]]) {
      await expect.poll(() => records(...streams).length, { timeout: 10_000 }).toBeGreaterThanOrEqual(total);
      const got = records(...streams);
      expect(got.map((r) => r.seq)).toEqual(expected);
      expect(new Set(got.map((r) => hex(r.envelope)))).toEqual(new Set(sent.keys()));
    }
    const rows = await queryTest<{ seq: string; client_message_id: Buffer }>(
      schema.name,
      'SELECT seq, client_message_id FROM records WHERE conversation_id = $1 ORDER BY seq',
      [Buffer.from(conversationId)],
    );
    expect(rows.map((r) => Number(r.seq))).toEqual(expected);
    expect(new Set(rows.map((r) => r.client_message_id.toString('hex')))).toEqual(new Set([...sent.values()].map(hex)));

    // A roster published on B without C's device revokes C's socket on relay C.
    const closed = agentC.closed;
    expectKind(
      await visitor.request({
        kind: 'publish-roster',
        orgRootKey: org.rootPublic,
        roster: await org.roster(2, [deviceB]),
      }),
      'ok',
    );
    expect((await closed).code).toBe(4003);
  }, 40_000);
});
