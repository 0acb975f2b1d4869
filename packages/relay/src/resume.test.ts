import { afterEach, describe, expect, it } from 'vitest';
import { expectKind, random, startHarness, type Harness, type TestClient } from './testing/relay-harness.js';
import { openConversation, registerOrg } from './testing/scenarios.js';

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.stop();
  harness = undefined;
});

const bigLimits = { capabilityBurst: 10_000, capabilityRate: 10_000, connectionBurst: 10_000, connectionRate: 10_000 };

async function post(client: TestClient, conversationId: Uint8Array<ArrayBuffer>, n: number): Promise<number[]> {
  const acks = await Promise.all(
    Array.from({ length: n }, () =>
      client.request({ kind: 'post', conversationId, clientMessageId: random(16), envelope: random(40) }),
    ),
  );
  return acks.map((a) => expectKind(a, 'ack').seq);
}

function seqs(client: TestClient): number[] {
  return client.takeRecords().map((r) => r.seq);
}

describe('resume by (epoch, lastSeq)', () => {
  it('delivers each record exactly once, in order, across a disconnect while posts continue', async () => {
    const h = (harness = await startHarness({ demo: true, historyPageSize: 7, ...bigLimits }));
    const org = await registerOrg(h);
    const writer = await h.connect();
    const { conversationId, capability } = await openConversation(writer, org);
    await post(writer, conversationId, 40);

    const reader = await h.connect();
    const welcome = expectKind(await reader.request({ kind: 'hello', revision: 2 }), 'welcome');
    expect(welcome.revision).toBe(2);
    expect(welcome.epoch).toBeGreaterThan(0);
    const resumed = expectKind(
      await reader.request({ kind: 'resume-conversation', conversationId, capability, epoch: 0, afterSeq: 0 }),
      'resumed',
    );
    expect(resumed).toMatchObject({ epoch: welcome.epoch, lastSeq: 40, firstSeq: 1, reset: false });
    // Posts keep coming while the reader pages through its history.
    const during = post(writer, conversationId, 25);
    await expect.poll(() => reader.frames.filter((f) => f.kind === 'record').length).toBe(65);
    await during;
    const first = seqs(reader);
    expect(first).toEqual(Array.from({ length: 65 }, (_, i) => i + 1));
    reader.close();
    await reader.closed;

    await post(writer, conversationId, 30);
    const again = await h.connect();
    const resumedAgain = expectKind(
      await again.request({
        kind: 'resume-conversation',
        conversationId,
        capability,
        epoch: welcome.epoch,
        afterSeq: 65,
      }),
      'resumed',
    );
    expect(resumedAgain).toMatchObject({ lastSeq: 95, reset: false });
    const late = post(writer, conversationId, 10);
    await expect.poll(() => again.frames.filter((f) => f.kind === 'record').length).toBe(40);
    await late;
    expect(seqs(again)).toEqual(Array.from({ length: 40 }, (_, i) => i + 66));
  });

  it('tells a client with another epoch, or a seq ahead of the store, to reset, then sends everything', async () => {
    const h = (harness = await startHarness({ demo: true }));
    const org = await registerOrg(h);
    const writer = await h.connect();
    const { conversationId, capability } = await openConversation(writer, org);
    await post(writer, conversationId, 5);
    const reader = await h.connect();
    const { epoch } = expectKind(await reader.request({ kind: 'hello', revision: 2 }), 'welcome');
    const foreign = expectKind(
      await reader.request({ kind: 'resume-conversation', conversationId, capability, epoch: epoch + 1, afterSeq: 3 }),
      'resumed',
    );
    expect(foreign.reset).toBe(true);
    await expect.poll(() => reader.frames.filter((f) => f.kind === 'record').length).toBe(5);
    expect(seqs(reader)).toEqual([1, 2, 3, 4, 5]);
    const ahead = expectKind(
      await reader.request({ kind: 'resume-conversation', conversationId, capability, epoch, afterSeq: 9 }),
      'resumed',
    );
    expect(ahead).toMatchObject({ reset: true, lastSeq: 5 });
  });

  it('revision-1 attach still sends history (paged) then attached, then live records once each', async () => {
    const h = (harness = await startHarness({ demo: true, historyPageSize: 5, ...bigLimits }));
    const org = await registerOrg(h);
    const writer = await h.connect();
    const { conversationId, capability } = await openConversation(writer, org);
    await post(writer, conversationId, 23);
    const reader = await h.connect();
    const attached = expectKind(
      await reader.request({ kind: 'attach-conversation', conversationId, capability, afterSeq: 2 }),
      'attached',
    );
    expect(attached.lastSeq).toBe(23);
    expect(seqs(reader)).toEqual(Array.from({ length: 21 }, (_, i) => i + 3));
    await post(writer, conversationId, 3);
    await expect.poll(() => reader.frames.filter((f) => f.kind === 'record').length).toBe(3);
    expect(seqs(reader)).toEqual([24, 25, 26]);
  });
});

describe('history pages', () => {
  it('pages backwards with a bounded limit and reports the first stored seq', async () => {
    const h = (harness = await startHarness({ demo: true, historyPageSize: 10, ...bigLimits }));
    const org = await registerOrg(h);
    const writer = await h.connect();
    const { conversationId, capability } = await openConversation(writer, org);
    await post(writer, conversationId, 25);
    const reader = await h.connect();
    const pages: number[][] = [];
    let before = 0;
    for (;;) {
      const page = expectKind(
        await reader.request({ kind: 'get-history', conversationId, capability, beforeSeq: before, limit: 1000 }),
        'history',
      );
      expect(page.firstSeq).toBe(1);
      if (page.records.length === 0) break;
      pages.push(page.records.map((r) => r.seq));
      before = page.records[0]!.seq;
      if (before === page.firstSeq) break;
    }
    expect(pages).toEqual([
      Array.from({ length: 10 }, (_, i) => i + 16),
      Array.from({ length: 10 }, (_, i) => i + 6),
      [1, 2, 3, 4, 5],
    ]);
    // get-history does not subscribe.
    await post(writer, conversationId, 1);
    expect(reader.frames.filter((f) => f.kind === 'record')).toEqual([]);
  });
});
