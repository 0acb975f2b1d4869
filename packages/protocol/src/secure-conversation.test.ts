import { describe, expect, it } from 'vitest';
import {
  ConversationModeError,
  decodeContent,
  textOf,
  decodeEnvelope,
  encodeContent,
  EnvelopeType,
  generateDeviceIdentity,
  NoChainError,
  openKeyShare,
  readKeyShareIntro,
  ReplayError,
  SecureConversation,
  UntrustedSenderError,
  WrongConversationError,
  type DeviceIdentity,
  type Sealed,
  type VerifiedRoster,
} from './index.js';
import { createTestOrganisation } from './testing/index.js';

const text = (t: string) => encodeContent({ kind: 'text', text: t, sentAt: 1 });

async function world(options: { mode?: 'archive' | 'ephemeral'; agents?: number } = {}) {
  const org = await createTestOrganisation();
  const agents = await Promise.all(Array.from({ length: options.agents ?? 1 }, () => generateDeviceIdentity()));
  const roster = await org.verifiedRoster(1, agents);
  const visitor = await generateDeviceIdentity();
  const conversationId = crypto.getRandomValues(new Uint8Array(16));
  const side = (me: DeviceIdentity, iAmVisitor: boolean, r: VerifiedRoster = roster, extra = {}) =>
    new SecureConversation({
      me,
      orgId: org.orgId,
      conversationId,
      roster: r,
      iAmVisitor,
      mode: options.mode ?? 'archive',
      ...extra,
    });
  return { org, agents, roster, visitor, conversationId, side };
}

async function deliver(to: SecureConversation, sealed: readonly Sealed[]) {
  const out = [];
  for (const s of sealed) out.push(await to.receive(s.envelope));
  return out;
}

function texts(results: Awaited<ReturnType<SecureConversation['receive']>>[]): string[] {
  return results.flatMap(({ received }) =>
    received.kind === 'payload' && received.type === EnvelopeType.message
      ? [textOf(decodeContent(received.plaintext))]
      : [],
  );
}

describe('SecureConversation', () => {
  it('visitor → agent → visitor, authenticated, the agent named from its certificate', async () => {
    const w = await world();
    const visitor = w.side(w.visitor, true);
    const agent = w.side(w.agents[0]!, false);
    const hello = await visitor.seal(EnvelopeType.message, text('hello'));
    expect(hello.map((s) => s.type)).toEqual([EnvelopeType.keyShare, EnvelopeType.message]);
    expect(texts(await deliver(agent, hello))).toEqual(['hello']);
    expect(agent.visitor?.deviceId).toEqual(w.visitor.deviceId);
    const reply = await agent.seal(EnvelopeType.message, text('hi, how can I help?'));
    const results = await deliver(visitor, reply);
    expect(texts(results)).toEqual(['hi, how can I help?']);
    const last = results.at(-1)!.received;
    expect(last.kind === 'payload' && last.sender).toMatchObject({ role: 'agent', displayName: 'Agent', mine: false });
  });

  it('an agent cannot write before the visitor introduced itself', async () => {
    const w = await world();
    await expect(w.side(w.agents[0]!, false).seal(EnvelopeType.message, text('x'))).rejects.toBeInstanceOf(
      UntrustedSenderError,
    );
  });

  it('archive mode: every chain is also shared to the archive key and to the sender itself', async () => {
    const w = await world({ mode: 'archive' });
    const sealed = await w.side(w.visitor, true).seal(EnvelopeType.message, text('kept'));
    const share = decodeEnvelope(sealed[0]!.envelope);
    const intro = readKeyShareIntro(share);
    expect(intro.mode).toBe('archive');
    expect(intro.recipients).toContainEqual(w.org.archive.deviceId);
    expect(intro.recipients).toContainEqual(w.visitor.deviceId);
    await expect(openKeyShare(share, w.org.archive, w.org.orgId)).resolves.toHaveLength(32);
  });

  it('ephemeral mode: no archive share, no self share; a later session of the visitor cannot re-read what it sent', async () => {
    const w = await world({ mode: 'ephemeral' });
    const sealed = await w.side(w.visitor, true).seal(EnvelopeType.message, text('gone'));
    const share = decodeEnvelope(sealed[0]!.envelope);
    const intro = readKeyShareIntro(share);
    expect(intro.mode).toBe('ephemeral');
    expect(intro.recipients).not.toContainEqual(w.org.archive.deviceId);
    expect(intro.recipients).not.toContainEqual(w.visitor.deviceId);
    await expect(openKeyShare(share, w.org.archive, w.org.orgId)).rejects.toThrow();
    const later = w.side(w.visitor, true);
    const results = await deliver(later, sealed);
    expect(results.map((r) => r.received.kind)).toEqual(['key-share', 'own-unreadable']);
    // The agent still reads it: ephemeral hides history, not the live conversation.
    expect(texts(await deliver(w.side(w.agents[0]!, false), sealed))).toEqual(['gone']);
  });

  it('the first key share pins the mode: a share in the other mode is refused', async () => {
    const archive = await world({ mode: 'archive' });
    const agentView = archive.side(archive.agents[0]!, false);
    await deliver(agentView, await archive.side(archive.visitor, true).seal(EnvelopeType.message, text('a')));
    const downgrade = new SecureConversation({
      me: archive.visitor,
      orgId: archive.org.orgId,
      conversationId: archive.conversationId,
      roster: archive.roster,
      iAmVisitor: true,
      mode: 'ephemeral',
    });
    const sealed = await downgrade.seal(EnvelopeType.message, text('b'));
    await expect(agentView.receive(sealed[0]!.envelope)).rejects.toBeInstanceOf(ConversationModeError);
  });

  it('rotates the chain every N messages and every T minutes', async () => {
    const w = await world();
    let now = 0;
    const visitor = w.side(w.visitor, true, w.roster, { rotation: { maxMessages: 3, maxAgeMs: 1000 }, now: () => now });
    const types: number[] = [];
    for (let i = 0; i < 7; i++)
      types.push(...(await visitor.seal(EnvelopeType.message, text(`m${i}`))).map((s) => s.type));
    // key share + 3 messages, key share + 3 messages, key share + 1
    expect(types.filter((t) => t === EnvelopeType.keyShare)).toHaveLength(3);
    now += 1000;
    expect((await visitor.seal(EnvelopeType.message, text('late')))[0]!.type).toBe(EnvelopeType.keyShare);
  });

  it('rotates on a roster change: a newly enrolled agent reads what comes after, not what came before', async () => {
    const w = await world();
    const visitor = w.side(w.visitor, true);
    const before = await visitor.seal(EnvelopeType.message, text('before'));
    const newcomer = await generateDeviceIdentity();
    const v2 = await w.org.verifiedRoster(2, [w.agents[0]!, newcomer]);
    visitor.updateRoster(v2);
    const after = await visitor.seal(EnvelopeType.message, text('after'));
    expect(after[0]!.type).toBe(EnvelopeType.keyShare);
    const newcomerView = w.side(newcomer, false, v2);
    await newcomerView.receive(before[0]!.envelope);
    await expect(newcomerView.receive(before[1]!.envelope)).rejects.toBeInstanceOf(NoChainError);
    expect(texts(await deliver(newcomerView, after))).toEqual(['after']);
  });

  it('a revoked agent is refused as a sender and gets no share of later chains', async () => {
    const w = await world({ agents: 2 });
    const [kept, revoked] = w.agents as [DeviceIdentity, DeviceIdentity];
    const visitor = w.side(w.visitor, true);
    const revokedView = w.side(revoked, false);
    await deliver(revokedView, await visitor.seal(EnvelopeType.message, text('first')));
    const fromRevoked = await revokedView.seal(EnvelopeType.message, text('still here'));
    const v2 = await w.org.verifiedRoster(2, [kept]);
    visitor.updateRoster(v2);
    await expect(visitor.receive(fromRevoked[0]!.envelope)).rejects.toBeInstanceOf(UntrustedSenderError);
    const later = await visitor.seal(EnvelopeType.message, text('after revocation'));
    expect(readKeyShareIntro(decodeEnvelope(later[0]!.envelope)).recipients).not.toContainEqual(revoked.deviceId);
    await revokedView.receive(later[0]!.envelope);
    await expect(revokedView.receive(later[1]!.envelope)).rejects.toBeInstanceOf(NoChainError);
  });

  it('refuses a duplicate, and a key share replayed into another conversation', async () => {
    const w = await world();
    const agent = w.side(w.agents[0]!, false);
    const sealed = await w.side(w.visitor, true).seal(EnvelopeType.message, text('once'));
    await deliver(agent, sealed);
    await expect(agent.receive(sealed[1]!.envelope)).rejects.toBeInstanceOf(ReplayError);
    const elsewhere = new SecureConversation({
      me: w.agents[0]!,
      orgId: w.org.orgId,
      conversationId: crypto.getRandomValues(new Uint8Array(16)),
      roster: w.roster,
      iAmVisitor: false,
    });
    await expect(elsewhere.receive(sealed[0]!.envelope)).rejects.toBeInstanceOf(WrongConversationError);
  });

  it('refuses a second "visitor" once one is pinned, and any non-roster sender at the visitor', async () => {
    const w = await world();
    const agent = w.side(w.agents[0]!, false);
    await deliver(agent, await w.side(w.visitor, true).seal(EnvelopeType.message, text('me')));
    const impostor = await generateDeviceIdentity();
    const impostorSide = new SecureConversation({
      me: impostor,
      orgId: w.org.orgId,
      conversationId: w.conversationId,
      roster: w.roster,
      iAmVisitor: true,
    });
    const fake = await impostorSide.seal(EnvelopeType.message, text('also me'));
    await expect(agent.receive(fake[0]!.envelope)).rejects.toBeInstanceOf(UntrustedSenderError);
    await expect(w.side(w.visitor, true).receive(fake[0]!.envelope)).rejects.toBeInstanceOf(UntrustedSenderError);
  });

  it('the transcript exposes a dropped message (gap) and a reordered one (gap, then reorder)', async () => {
    const w = await world();
    const visitor = w.side(w.visitor, true);
    const stream = [];
    for (const t of ['a', 'b', 'c', 'd']) stream.push(...(await visitor.seal(EnvelopeType.message, text(t))));
    // stream: share, a, b, c, d
    const dropped = w.side(w.agents[0]!, false);
    const dropResults = await deliver(dropped, [stream[0]!, stream[1]!, stream[3]!, stream[4]!]);
    expect(dropResults.map((r) => r.events.map((e) => e.kind))).toEqual([[], [], ['gap'], []]);

    const swapped = w.side(w.agents[0]!, false);
    const swapResults = await deliver(swapped, [stream[0]!, stream[2]!, stream[1]!, stream[3]!, stream[4]!]);
    expect(swapResults.map((r) => r.events.map((e) => e.kind))).toEqual([[], ['gap'], ['reorder'], [], []]);
    expect(texts(swapResults)).toEqual(['b', 'a', 'c', 'd']);
  });

  it('a reloaded sender given back its head numbers past it: a withheld tail is a gap to others, never a fork', async () => {
    const w = await world();
    const agent = w.side(w.agents[0]!, false);
    const before = w.side(w.visitor, true);
    const first = await before.seal(EnvelopeType.message, text('one'));
    const second = await before.seal(EnvelopeType.message, text('two'));
    await deliver(agent, [...first, ...second]);
    const head = before.ownHead!;
    expect(head).toEqual({ senderSeq: 2, digest: second.at(-1)!.digest });

    // Reloaded; the relay serves only the first message back.
    const after = w.side(w.visitor, true);
    after.restoreOwnHead(head);
    await deliver(after, first);
    const third = await after.seal(EnvelopeType.message, text('three'));
    const events = (await deliver(agent, third)).flatMap((r) => r.events);
    expect(events).toEqual([]);
    expect(texts(await deliver(w.side(w.agents[0]!, false), [...first, ...second, ...third]))).toEqual([
      'one',
      'two',
      'three',
    ]);
    // The withheld envelope served late to the reloaded sender is its own, late: no fork against itself.
    const late = await after.receive(second.at(-1)!.envelope);
    expect(late.events.map((e) => e.kind)).toEqual(['reorder']);
  });

  it('without its head, a reloaded sender reuses the withheld number and looks like a fork', async () => {
    const w = await world();
    const agent = w.side(w.agents[0]!, false);
    const before = w.side(w.visitor, true);
    const first = await before.seal(EnvelopeType.message, text('one'));
    await deliver(agent, [...first, ...(await before.seal(EnvelopeType.message, text('two')))]);
    const after = w.side(w.visitor, true);
    await deliver(after, first);
    const events = (await deliver(agent, await after.seal(EnvelopeType.message, text('three')))).flatMap(
      (r) => r.events,
    );
    expect(events.map((e) => e.kind)).toContain('fork');
  });

  it('a history that stops short of the heads held on an earlier load is reported trimmed', async () => {
    const w = await world();
    const visitor = w.side(w.visitor, true);
    const first = await visitor.seal(EnvelopeType.message, text('one'));
    const second = await visitor.seal(EnvelopeType.message, text('two'));
    const before = w.side(w.agents[0]!, false);
    await deliver(before, [...first, ...second]);
    const heads = before.heads;
    expect([...heads.values()]).toEqual([{ senderSeq: 2, digest: second.at(-1)!.digest }]);

    const whole = w.side(w.agents[0]!, false);
    await deliver(whole, [...first, ...second]);
    expect(whole.checkExtends(heads)).toEqual([]);
    const trimmed = w.side(w.agents[0]!, false);
    await deliver(trimmed, first);
    expect(trimmed.checkExtends(heads).map((e) => [e.kind, e.senderDeviceId])).toEqual([
      ['trimmed', w.visitor.deviceId],
    ]);
    // A head whose digest is not the envelope now served at that number: two histories.
    const other = new Map([[[...heads.keys()][0]!, { senderSeq: 1, digest: '00'.repeat(32) }]]);
    expect(whole.checkExtends(other).map((e) => e.kind)).toEqual(['fork']);
  });

  it('a tail held above a hole is reported trimmed when a later history stops below it', async () => {
    // Found by the hostile model (client hostile-transcript.test.ts): heads named how far a sender
    // was held without a hole, so what was held above one could be cut silently.
    const w = await world();
    const visitor = w.side(w.visitor, true);
    const [share, one] = await visitor.seal(EnvelopeType.message, text('one'));
    const [two] = await visitor.seal(EnvelopeType.message, text('two'));
    const before = w.side(w.agents[0]!, false);
    await deliver(before, [share!, two!]);
    expect([...before.heads.values()]).toEqual([{ senderSeq: 2, digest: two!.digest }]);
    const after = w.side(w.agents[0]!, false);
    await deliver(after, [share!, one!]);
    expect(after.checkExtends(before.heads).map((e) => e.kind)).toEqual(['trimmed']);
    // Receipts still name only what is held without a hole.
    expect(before.heldThrough(w.visitor.deviceId)).toEqual({ senderSeq: 0, digest: share!.digest });
  });

  it('agents pin the visitor from its opening record, or from the pin kept by an earlier load', async () => {
    const w = await world();
    const visitor = w.side(w.visitor, true);
    const opening = await visitor.seal(EnvelopeType.message, text('hello'));
    const impostor = w.side(await generateDeviceIdentity(), true);
    await impostor.seal(EnvelopeType.message, text('first'));
    // A later key share of the impostor (not its opening record: senderSeq 2) introduces nobody.
    const rotated = w.side(await generateDeviceIdentity(), true, w.roster, { rotation: { maxMessages: 1 } });
    await rotated.seal(EnvelopeType.message, text('a'));
    const [laterShare] = await rotated.seal(EnvelopeType.message, text('b'));
    expect(decodeEnvelope(laterShare!.envelope).senderSeq).toBe(2);
    const fresh = w.side(w.agents[0]!, false);
    await expect(fresh.receive(laterShare!.envelope)).rejects.toThrow(UntrustedSenderError);
    expect(fresh.visitor).toBeUndefined();

    // A reloaded agent given its pin refuses a forged opening record served before the real one.
    const forgedOpening = await w.side(await generateDeviceIdentity(), true).seal(EnvelopeType.message, text('x'));
    const reloaded = w.side(w.agents[0]!, false);
    reloaded.pinVisitor(w.visitor);
    await expect(reloaded.receive(forgedOpening[0]!.envelope)).rejects.toThrow(UntrustedSenderError);
    expect(texts(await deliver(reloaded, opening))).toEqual(['hello']);
    expect(() => reloaded.pinVisitor(impostor.visitor!)).toThrow(UntrustedSenderError);
  });
});
