/**
 * Team coordination in control envelopes (docs/protocol.md §7 Content, kind 5) as consoles read
 * them, against a relay that reorders and a device that left the team: a former member's claim,
 * assign or close is refused and reported; every console ends in the same state whatever order the
 * relay delivers the team's controls in.
 */
import {
  AgentSecureConversation,
  encodeContent,
  encodeControl,
  EnvelopeType,
  generateDeviceIdentity,
  SecureConversation,
  toHex,
  verifyArchiveKey,
  verifyPastRoster,
  type ControlAction,
  type DeviceIdentity,
  type VerifiedRoster,
} from '@sealchat/protocol';
import { createTestOrganisation, type TestOrganisation } from '@sealchat/protocol/testing';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { AgentConversation, type Assignment } from './agent-session.js';

const opening = encodeContent({ kind: 'text', text: 'Who can help me?', sentAt: 1 });

/** Control content as a console issues it. */
function control(action: ControlAction, counter: number, assignee?: DeviceIdentity) {
  const assigns = action === 'claim' || action === 'assign';
  return encodeControl({
    kind: 'control',
    action,
    deviceId: assigns ? assignee!.deviceId : undefined,
    sentAt: 1,
    counter,
  });
}

/** Feeds envelopes to a console in the order given, numbering them as its relay would; returns what it refused. */
async function feed(conversation: AgentConversation, envelopes: readonly Uint8Array[]): Promise<unknown[]> {
  const refused: unknown[] = [];
  for (const envelope of envelopes)
    await conversation.accept(conversation.lastSeq + 1, envelope).catch((error: unknown) => refused.push(error));
  return refused;
}

describe('control envelopes of a former member', () => {
  /**
   * Sam (an agent on roster 1, with `colleague`) claims the conversation and closes it; roster 2
   * revokes Sam and lists `late`, enrolled since, who reads history through the archive key.
   */
  async function samLeaves() {
    const org = await createTestOrganisation();
    const [sam, colleague, late] = await Promise.all([1, 2, 3].map(() => generateDeviceIdentity()));
    const roster1 = await org.verifiedRoster(1, [sam!, colleague!]);
    const roster2 = await org.verifiedRoster(2, [colleague!, late!]);
    const conversationId = crypto.getRandomValues(new Uint8Array(16));
    const visitor = await generateDeviceIdentity();
    const visitorSide = new SecureConversation({
      me: visitor,
      orgId: org.orgId,
      conversationId,
      roster: roster1,
      iAmVisitor: true,
      mode: 'archive',
    });
    const samSide = new AgentSecureConversation({ me: sam!, orgId: org.orgId, conversationId, roster: roster1 });
    const envelopes = (await visitorSide.seal(EnvelopeType.message, opening)).map((s) => s.envelope);
    for (const e of envelopes) await samSide.receive(e);
    const samControls = [
      ...(await samSide.seal(EnvelopeType.control, control('claim', 1, sam))),
      ...(await samSide.seal(EnvelopeType.control, control('close', 2))),
    ].map((s) => s.envelope);
    const past = [
      await verifyPastRoster(roster1.encoded, org.rootPublic),
      await verifyPastRoster(roster2.encoded, org.rootPublic),
    ];
    const archive = await verifyArchiveKey(org.archive.agreement, roster2);
    return {
      org,
      sam: sam!,
      colleague: colleague!,
      late: late!,
      roster1,
      roster2,
      conversationId,
      envelopes,
      samControls,
      past,
      archive,
    };
  }

  it('a console set up after Sam left reads Sam’s claim and close, refuses them and names Sam', async () => {
    const s = await samLeaves();
    const reader = new AgentConversation(s.conversationId, s.late, s.org.orgId, s.roster2, {
      archive: s.archive,
      pastRosters: s.past,
    });
    const refusedEvents: unknown[] = [];
    reader.onControlRefused = (c, refused) => refusedEvents.push([c.id, refused.action, refused.senderName]);
    await feed(reader, [...s.envelopes, ...s.samControls]);
    expect(reader.assignment).toEqual({ assignee: undefined, closed: false });
    expect(reader.refusedControls.map((r) => [r.action, r.senderName, r.senderDeviceId])).toEqual([
      ['claim', 'Agent', toHex(s.sam.deviceId)],
      ['close', 'Agent', toHex(s.sam.deviceId)],
    ]);
    expect(refusedEvents).toEqual([
      [reader.id, 'claim', 'Agent'],
      [reader.id, 'close', 'Agent'],
    ]);
  });

  it('a console open while Sam was a member drops Sam’s controls when the roster revokes Sam: both consoles agree', async () => {
    const s = await samLeaves();
    const live = new AgentConversation(s.conversationId, s.colleague, s.org.orgId, s.roster1);
    await feed(live, [...s.envelopes, ...s.samControls]);
    expect(live.assignment).toEqual({ assignee: toHex(s.sam.deviceId), closed: true });
    expect(live.refusedControls).toEqual([]);
    const changes: Assignment[] = [];
    live.onAssignment = (c) => changes.push(c.assignment);
    live.updateRoster(s.roster2);
    expect(live.assignment).toEqual({ assignee: undefined, closed: false });
    expect(changes).toEqual([{ assignee: undefined, closed: false }]);
    expect(live.refusedControls.map((r) => r.action)).toEqual(['claim', 'close']);
  });

  it('a visitor’s control envelope changes nothing', async () => {
    const s = await samLeaves();
    const visitorSide = new SecureConversation({
      me: await generateDeviceIdentity(),
      orgId: s.org.orgId,
      conversationId: crypto.getRandomValues(new Uint8Array(16)),
      roster: s.roster2,
      iAmVisitor: true,
      mode: 'archive',
    });
    const reader = new AgentConversation(visitorSide.conversationId, s.colleague, s.org.orgId, s.roster2);
    await feed(
      reader,
      (await visitorSide.seal(EnvelopeType.message, opening)).map((e) => e.envelope),
    );
    const forged = await visitorSide.seal(EnvelopeType.control, control('close', 9));
    await feed(
      reader,
      forged.map((e) => e.envelope),
    );
    expect(reader.assignment).toEqual({ assignee: undefined, closed: false });
  });
});

describe('control envelopes reordered by the relay', () => {
  let org: TestOrganisation;
  let senders: DeviceIdentity[];
  let readers: DeviceIdentity[];
  let roster: VerifiedRoster;
  beforeAll(async () => {
    org = await createTestOrganisation();
    senders = await Promise.all([1, 2, 3].map(() => generateDeviceIdentity()));
    readers = await Promise.all([1, 2].map(() => generateDeviceIdentity()));
    roster = await org.verifiedRoster(1, [...senders, ...readers]);
  });

  interface Step {
    readonly sender: number;
    readonly action: ControlAction;
    readonly assignee: number;
    readonly counter: number;
  }
  const step: fc.Arbitrary<Step> = fc.record({
    sender: fc.nat(2),
    action: fc.constantFrom<ControlAction>('claim', 'assign', 'close', 'reopen'),
    assignee: fc.nat(4),
    // Few values, so that ties (concurrent controls) are common.
    counter: fc.integer({ min: 1, max: 3 }),
  });
  /** The senders' controls, and two delivery orders: each a list of sender picks (the relay keeps each sender's own order). */
  const scenario = fc.array(step, { minLength: 1, maxLength: 6 }).chain((steps) =>
    fc.tuple(
      fc.constant(steps),
      fc.shuffledSubarray(
        steps.map((_, i) => i),
        { minLength: steps.length },
      ),
      fc.shuffledSubarray(
        steps.map((_, i) => i),
        { minLength: steps.length },
      ),
    ),
  );

  async function run([steps, orderA, orderB]: [Step[], number[], number[]]) {
    const conversationId = crypto.getRandomValues(new Uint8Array(16));
    const visitorSide = new SecureConversation({
      me: await generateDeviceIdentity(),
      orgId: org.orgId,
      conversationId,
      roster,
      iAmVisitor: true,
      mode: 'archive',
    });
    const intro = (await visitorSide.seal(EnvelopeType.message, opening)).map((s) => s.envelope);
    const sides = senders.map((me) => new AgentSecureConversation({ me, orgId: org.orgId, conversationId, roster }));
    for (const side of sides) for (const e of intro) await side.receive(e);
    // Each sender's envelopes in its own order (a key share before its first control).
    const queues: Uint8Array[][][] = senders.map(() => []);
    const everyone = [...senders, ...readers];
    for (const s of steps) {
      const sealed = await sides[s.sender]!.seal(
        EnvelopeType.control,
        control(s.action, s.counter, everyone[s.assignee]),
      );
      queues[s.sender]!.push(sealed.map((e) => e.envelope));
    }
    /** Delivery in the senders' order of `order`'s steps, each sender's own envelopes kept in order. */
    const delivered = (order: number[]) => {
      const next = senders.map(() => 0);
      return order.flatMap((i) => {
        const sender = steps[i]!.sender;
        return queues[sender]![next[sender]!++]!;
      });
    };
    const states: Assignment[] = [];
    for (const [reader, order] of [
      [readers[0]!, orderA],
      [readers[1]!, orderB],
    ] as const) {
      const conversation = new AgentConversation(conversationId, reader, org.orgId, roster);
      const refused = await feed(conversation, [...intro, ...delivered(order)]);
      expect(refused).toEqual([]);
      states.push(conversation.assignment);
    }
    expect(states[1]).toEqual(states[0]);
  }

  it('two consoles given the same controls in different orders agree (fixed seed)', async () => {
    await fc.assert(fc.asyncProperty(scenario, run), { seed: 11_007, numRuns: 40 });
  }, 60_000);

  it('two consoles given the same controls in different orders agree (random seed)', async () => {
    await fc.assert(fc.asyncProperty(scenario, run), { numRuns: 40 });
  }, 60_000);
});
