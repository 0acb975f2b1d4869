import { afterEach, describe, expect, it } from 'vitest';
import type { Fanout, FanoutEvent, FanoutSink } from './fanout.js';
import { silentLogger } from './logger.js';
import { startRelay, type RunningRelay } from './relay-server.js';
import { expectKind, makeOrg, random, TestClient } from './testing/relay-harness.js';
import { freshSchema, type TestSchema } from './testing/services.js';

/**
 * Gap repair and the audit, without Redis: two relays in this process on one PostgreSQL schema,
 * joined by a test bus that can lose events, as Redis pub/sub may.
 */
class LossyBus {
  readonly sinks = new Set<FanoutSink>();
  drop: (event: FanoutEvent) => boolean = () => false;

  fanout(): Fanout {
    let mine: FanoutSink | undefined;
    return {
      kind: 'test-bus',
      start: (sink) => {
        mine = sink;
        this.sinks.add(sink);
        return Promise.resolve();
      },
      publish: (event) => {
        if (this.drop(event)) return;
        for (const sink of this.sinks) if (sink !== mine) queueMicrotask(() => sink.deliver(event));
      },
      connected: () => true,
      close: () => {
        if (mine) this.sinks.delete(mine);
        return Promise.resolve();
      },
    };
  }
}

let schema: TestSchema | undefined;
const running: RunningRelay[] = [];
const clients: TestClient[] = [];
afterEach(async () => {
  for (const client of clients.splice(0)) client.ws.terminate();
  for (const relay of running.splice(0)) await relay.close();
  await schema?.drop();
  schema = undefined;
});

async function pair(bus: LossyBus, auditMs: number) {
  schema = await freshSchema();
  const org = await makeOrg();
  const options = {
    port: 0,
    dbPath: schema.url,
    orgKeys: [org.orgKeyText],
    fanoutAuditIntervalMs: auditMs,
    capabilityRate: 1000,
    capabilityBurst: 1000,
  };
  const a = await startRelay(options, { logger: silentLogger, fanout: bus.fanout() });
  const b = await startRelay(options, { logger: silentLogger, fanout: bus.fanout() });
  running.push(a, b);
  const poster = await TestClient.connect(a.url);
  const reader = await TestClient.connect(b.url);
  clients.push(poster, reader);
  const opened = expectKind(
    await poster.request({ kind: 'open-conversation', orgId: org.orgId }),
    'conversation-opened',
  );
  const { conversationId, capability } = opened;
  const resume = { kind: 'resume-conversation', conversationId, capability, epoch: 0, afterSeq: 0 } as const;
  expectKind(await reader.request(resume), 'resumed');
  const post = async () => {
    const reply = await poster.request({
      kind: 'post',
      conversationId,
      clientMessageId: random(16),
      envelope: random(32),
    });
    return expectKind(reply, 'ack').seq;
  };
  const seqs = () => reader.frames.flatMap((f) => (f.kind === 'record' ? [f.seq] : []));
  return { post, seqs };
}

describe('cross-relay delivery over a lossy fan-out', () => {
  it('repairs a lost record from the database when the next one arrives, in order', async () => {
    const bus = new LossyBus();
    const { post, seqs } = await pair(bus, 60_000);
    await post();
    await expect.poll(seqs).toEqual([1]);
    bus.drop = (event) => event.kind === 'record' && event.record.seq === 2;
    await post();
    await new Promise((r) => setTimeout(r, 50));
    expect(seqs()).toEqual([1]);
    await post();
    await expect.poll(seqs).toEqual([1, 2, 3]);
  });

  it('the audit repairs a subscription whose record was never announced (relay died before publishing)', async () => {
    const bus = new LossyBus();
    bus.drop = (event) => event.kind === 'record';
    const { post, seqs } = await pair(bus, 50);
    await post();
    await post();
    await expect.poll(seqs, { timeout: 3000 }).toEqual([1, 2]);
  });
});
