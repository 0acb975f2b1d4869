import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  decodeContent,
  textOf,
  decodeEnvelope,
  encodeContent,
  EnvelopeType,
  generateDeviceIdentity,
  issueRoster,
  openKeyShare,
  RosterError,
  RosterSignerError,
  SealchatError,
  SecureConversation,
  toHex,
  verifyRoster,
  type DeviceIdentity,
  type VerifiedRoster,
} from './index.js';
import { createTestOrganisation, type TestOrganisation } from './testing/index.js';

/**
 * The relay is the adversary. An honest visitor and agent hold a conversation; a model relay then
 * delivers that stream to fresh receivers after any mix of: dropping, duplicating, swapping,
 * replaying, moving envelopes in from another conversation, injecting an outsider's key share
 * and messages (certified by a rogue key, not the org), and flipping an envelope's type.
 *
 * Asserted for every run, from both the agent's and the visitor's side:
 * - the outsider never gets plaintext: it can open none of the honest key shares;
 * - every delivered message is one an honest party sent, from that party, at most once;
 * - the honest conversation is never mixed with the outsider's: a receiver that accepted the
 *   real visitor accepts nothing from the outsider, and the reverse;
 * - every drop is detected: a hole left in a sender's accepted envelopes raised a `gap`;
 * - every reorder is detected: each envelope accepted after a later one of its sender raised
 *   exactly one `reorder`;
 * - nothing the relay can do with honest envelopes looks like a `fork` (that event means two
 *   sessions of one device, or a sender that equivocated).
 */

interface Item {
  readonly bytes: Uint8Array<ArrayBuffer>;
  readonly sender: 'visitor' | 'agent' | 'outsider' | 'foreign';
  /** Position of this envelope in its sender's honest sequence. */
  readonly order: number;
  readonly text: string | undefined;
  readonly honestIndex: number | undefined;
  /** Set on a copy whose type byte the relay changed: the honest item it came from. */
  readonly flippedFrom?: Item;
}

interface Scene {
  org: TestOrganisation;
  roster: VerifiedRoster;
  visitor: DeviceIdentity;
  agent: DeviceIdentity;
  outsider: DeviceIdentity;
  conversationId: Uint8Array<ArrayBuffer>;
  honest: Item[];
  foreign: Item[];
  outsiderItems: Item[];
}

const text = (t: string) => encodeContent({ kind: 'text', text: t, sentAt: 1 });
let scene: Scene;

beforeAll(async () => {
  const org = await createTestOrganisation();
  const visitor = await generateDeviceIdentity();
  const agent = await generateDeviceIdentity();
  const outsider = await generateDeviceIdentity();
  const roster = await org.verifiedRoster(1, [agent]);
  const conversationId = crypto.getRandomValues(new Uint8Array(16));
  const make = (me: DeviceIdentity, iAmVisitor: boolean, conv = conversationId, rotation = { maxMessages: 2 }) =>
    new SecureConversation({ me, orgId: org.orgId, conversationId: conv, roster, iAmVisitor, rotation });

  // The honest conversation, as the relay stores it. Rotation every 2 messages puts several
  // key shares in the stream, so drops of key shares are exercised too.
  const v = make(visitor, true);
  const a = make(agent, false);
  const honest: Item[] = [];
  const counters = { visitor: 0, agent: 0 };
  const say = async (who: 'visitor' | 'agent', t: string) => {
    const from = who === 'visitor' ? v : a;
    const to = who === 'visitor' ? a : v;
    for (const s of await from.seal(EnvelopeType.message, text(t))) {
      await to.receive(s.envelope);
      honest.push({
        bytes: s.envelope,
        sender: who,
        order: counters[who]++,
        text: s.type === EnvelopeType.message ? t : undefined,
        honestIndex: honest.length,
      });
    }
  };
  await say('visitor', 'v1');
  await say('agent', 'a1');
  await say('visitor', 'v2');
  await say('visitor', 'v3');
  await say('agent', 'a2');
  await say('visitor', 'v4');
  await say('agent', 'a3');

  // Another conversation of the same org, for cross-conversation moves.
  const otherVisitor = await generateDeviceIdentity();
  const otherConv = crypto.getRandomValues(new Uint8Array(16));
  const foreign = (await make(otherVisitor, true, otherConv).seal(EnvelopeType.message, text('elsewhere'))).map(
    (s, i) => ({ bytes: s.envelope, sender: 'foreign' as const, order: i, text: undefined, honestIndex: undefined }),
  );

  // An outsider with a certificate from a rogue "org", talking into this conversation.
  const outsiderConv = new SecureConversation({
    me: outsider,
    orgId: org.orgId,
    conversationId,
    roster,
    iAmVisitor: true,
  });
  const outsiderItems = (await outsiderConv.seal(EnvelopeType.message, text('outsider'))).map((s, i) => ({
    bytes: s.envelope,
    sender: 'outsider' as const,
    order: i,
    text: s.type === EnvelopeType.message ? 'outsider' : undefined,
    honestIndex: undefined,
  }));
  scene = { org, roster, visitor, agent, outsider, conversationId, honest, foreign, outsiderItems };
});

type Op =
  | { op: 'drop'; at: number }
  | { op: 'duplicate'; at: number }
  | { op: 'swap'; at: number; with: number }
  | { op: 'replay'; at: number }
  | { op: 'move-in'; at: number; which: number }
  | { op: 'inject-outsider'; at: number }
  | { op: 'flip-type'; at: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ op: fc.constant('drop' as const), at: fc.nat(30) }),
  fc.record({ op: fc.constant('duplicate' as const), at: fc.nat(30) }),
  fc.record({ op: fc.constant('swap' as const), at: fc.nat(30), with: fc.nat(30) }),
  fc.record({ op: fc.constant('replay' as const), at: fc.nat(30) }),
  fc.record({ op: fc.constant('move-in' as const), at: fc.nat(30), which: fc.nat(5) }),
  fc.record({ op: fc.constant('inject-outsider' as const), at: fc.nat(30) }),
  fc.record({ op: fc.constant('flip-type' as const), at: fc.nat(30) }),
);

function applyOps(honest: readonly Item[], ops: readonly Op[]): Item[] {
  const out = [...honest];
  const idx = (n: number) => (out.length === 0 ? 0 : n % out.length);
  for (const o of ops) {
    if (out.length === 0) break;
    switch (o.op) {
      case 'drop':
        out.splice(idx(o.at), 1);
        break;
      case 'duplicate': {
        const i = idx(o.at);
        out.splice(i + 1, 0, out[i]!);
        break;
      }
      case 'swap': {
        const i = idx(o.at);
        const j = idx(o.with);
        [out[i], out[j]] = [out[j]!, out[i]!];
        break;
      }
      case 'replay':
        out.push(out[idx(o.at)]!);
        break;
      case 'move-in':
        out.splice(idx(o.at), 0, scene.foreign[o.which % scene.foreign.length]!);
        break;
      case 'inject-outsider':
        out.splice(idx(o.at), 0, ...scene.outsiderItems);
        break;
      case 'flip-type': {
        // Toggle between the honest bytes and a copy with the type byte changed: flipping twice restores them.
        const i = idx(o.at);
        const item = out[i]!;
        const original = item.flippedFrom ?? item;
        if (item.flippedFrom) {
          out[i] = original;
        } else {
          const bytes = item.bytes.slice();
          bytes[1] = bytes[1] === EnvelopeType.message ? EnvelopeType.typing : EnvelopeType.message;
          out[i] = { ...item, bytes, honestIndex: undefined, text: undefined, flippedFrom: original };
        }
        break;
      }
    }
  }
  return out;
}

interface Outcome {
  readonly delivered: { item: Item; text: string; senderRole: string; events: string[] }[];
  readonly rejectedSenders: Set<string>;
  readonly eventsBySender: Map<string, string[]>;
  readonly acceptedOrders: Map<string, number[]>;
}

async function run(receiver: SecureConversation, stream: readonly Item[]): Promise<Outcome> {
  const outcome: Outcome = {
    delivered: [],
    rejectedSenders: new Set(),
    eventsBySender: new Map(),
    acceptedOrders: new Map(),
  };
  for (const item of stream) {
    try {
      const { received, events } = await receiver.receive(item.bytes);
      const kinds = events.map((e) => e.kind);
      outcome.eventsBySender.set(item.sender, [...(outcome.eventsBySender.get(item.sender) ?? []), ...kinds]);
      outcome.acceptedOrders.set(item.sender, [...(outcome.acceptedOrders.get(item.sender) ?? []), item.order]);
      if (received.kind === 'payload' && received.type === EnvelopeType.message) {
        outcome.delivered.push({
          item,
          text: textOf(decodeContent(received.plaintext)),
          senderRole: received.sender.role,
          events: kinds,
        });
      }
    } catch (error) {
      if (!(error instanceof SealchatError)) throw error;
      outcome.rejectedSenders.add(item.sender);
    }
  }
  return outcome;
}

function checkOutcome(outcome: Outcome): void {
  // Authentic, from the right party, at most once.
  const seen = new Set<number>();
  for (const d of outcome.delivered) {
    if (d.item.sender === 'outsider') {
      expect(d.text).toBe('outsider');
      continue;
    }
    expect(d.item.honestIndex).toBeDefined();
    expect(d.text).toBe(d.item.text);
    expect(d.senderRole).toBe(d.item.sender === 'visitor' ? 'visitor' : 'agent');
    expect(seen.has(d.item.honestIndex!)).toBe(false);
    seen.add(d.item.honestIndex!);
  }
  // Never a mix of the real visitor and the outsider.
  const fromVisitor = outcome.delivered.some((d) => d.item.sender === 'visitor');
  const fromOutsider = outcome.delivered.some((d) => d.item.sender === 'outsider');
  expect(fromVisitor && fromOutsider).toBe(false);

  for (const sender of ['visitor', 'agent'] as const) {
    const accepted = outcome.acceptedOrders.get(sender) ?? [];
    const events = outcome.eventsBySender.get(sender) ?? [];
    // Every late arrival is reported as one.
    let highest = -1;
    let late = 0;
    for (const order of accepted) {
      if (order < highest) late++;
      highest = Math.max(highest, order);
    }
    expect(events.filter((e) => e === 'reorder').length).toBe(late);
    // Every hole left below the highest accepted envelope was reported as a gap.
    const got = new Set(accepted);
    const holes = [...Array(highest + 1).keys()].filter((order) => !got.has(order));
    if (holes.length > 0) expect(events).toContain('gap');
    // An honest stream (no forged branch) never looks forked.
    expect(events).not.toContain('fork');
  }
}

describe('hostile relay (property)', () => {
  it('the outsider can open none of the honest key shares', async () => {
    for (const item of scene.honest) {
      const envelope = decodeEnvelope(item.bytes);
      if (envelope.type !== EnvelopeType.keyShare) continue;
      await expect(openKeyShare(envelope, scene.outsider, scene.org.orgId)).rejects.toBeInstanceOf(SealchatError);
    }
  });

  it('whatever the relay does, receivers get only authentic messages, once, and see every drop and reorder', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { maxLength: 6 }), async (ops) => {
        const stream = applyOps(scene.honest, ops);
        for (const [me, iAmVisitor] of [
          [scene.agent, false],
          [scene.visitor, true],
        ] as const) {
          const receiver = new SecureConversation({
            me,
            orgId: scene.org.orgId,
            conversationId: scene.conversationId,
            roster: scene.roster,
            iAmVisitor,
          });
          checkOutcome(await run(receiver, stream));
        }
      }),
      { numRuns: 60 },
    );
  }, 60_000);

  it('an unmodified stream delivers everything in order with no events', async () => {
    const receiver = new SecureConversation({
      me: scene.agent,
      orgId: scene.org.orgId,
      conversationId: scene.conversationId,
      roster: scene.roster,
      iAmVisitor: false,
    });
    const outcome = await run(receiver, scene.honest);
    expect(outcome.delivered.map((d) => d.text)).toEqual(['v1', 'a1', 'v2', 'v3', 'a2', 'v4', 'a3']);
    expect([...outcome.eventsBySender.values()].flat()).toEqual([]);
    expect(outcome.rejectedSenders.size).toBe(0);
  });

  it('a roster rolled back to an older version, or forged by the relay, is refused', async () => {
    const { org } = scene;
    const v1 = await org.roster(1, [scene.agent]);
    const v2 = await org.roster(2, []);
    const seen = await verifyRoster(v2, { orgRootKey: org.rootPublic, now: Date.now() });
    const rollback = verifyRoster(v1, { orgRootKey: org.rootPublic, now: Date.now(), previous: seen });
    await expect(rollback).rejects.toBeInstanceOf(RosterError);
    await expect(rollback).rejects.toThrow(/older/);
    // The relay signs a roster adding the outsider with a key of its own, in the right place in the chain.
    const now = Date.now();
    const forged = await issueRoster(
      {
        orgId: org.orgId,
        version: 3,
        previousDigest: seen.digest,
        issuedAt: now,
        expiresAt: now + 3_600_000,
        archivePublic: undefined,
        supervisors: [org.supervisorCertificate],
        agents: [await org.certify(scene.agent)],
      },
      { privateKey: scene.outsider.signing.privateKey, publicKey: scene.outsider.signingPublic },
    );
    await expect(verifyRoster(forged, { orgRootKey: org.rootPublic, now })).rejects.toBeInstanceOf(RosterSignerError);
    await expect(verifyRoster(forged, { orgRootKey: org.rootPublic, now, previous: seen })).rejects.toBeInstanceOf(
      RosterSignerError,
    );
    expect(toHex(seen.orgId)).toBe(toHex(org.orgId));
  });
});
