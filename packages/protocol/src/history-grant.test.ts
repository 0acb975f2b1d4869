/**
 * History grants (docs/protocol.md §14): a supervisor's archive-key holder re-seals a past
 * conversation's chain seeds to an agent enrolled later, who then reads it, notes included.
 * Runs in Node and in Chromium.
 */
import { describe, expect, it } from 'vitest';
import {
  AgentSecureConversation,
  decodeContent,
  decodeNote,
  DecodeError,
  encodeContent,
  encodeNote,
  EnvelopeType,
  generateDeviceIdentity,
  MAX_GRANTED_SEEDS,
  NoChainError,
  OpenError,
  openHistoryGrant,
  SecureConversation,
  sealHistoryGrant,
  textOf,
  verifyArchiveKey,
  type DeviceIdentity,
  type GrantedSeed,
  type Sealed,
} from './index.js';
import { createTestOrganisation } from './testing/index.js';

const text = (t: string) => encodeContent({ kind: 'text', text: t, sentAt: 1 });
const note = (t: string) => encodeNote({ kind: 'note', text: t, sentAt: 2 });

/** A conversation (a message each way and a note) written before `late` joined, and its archive-key reader. */
async function pastConversation(mode: 'archive' | 'ephemeral' = 'archive') {
  const org = await createTestOrganisation();
  const agent = await generateDeviceIdentity();
  const roster = await org.verifiedRoster(1, [agent]);
  const visitorDevice = await generateDeviceIdentity();
  const conversationId = crypto.getRandomValues(new Uint8Array(16));
  const visitor = new SecureConversation({
    me: visitorDevice,
    orgId: org.orgId,
    conversationId,
    roster,
    iAmVisitor: true,
    mode,
  });
  const agentSide = new AgentSecureConversation({ me: agent, orgId: org.orgId, conversationId, roster });
  const sealed: Sealed[] = [...(await visitor.seal(EnvelopeType.message, text('Where is my order?')))];
  for (const s of sealed) await agentSide.receive(s.envelope);
  sealed.push(...(await agentSide.seal(EnvelopeType.message, text('Checking'))));
  sealed.push(...(await agentSide.sealNote(note('Courier lost it'))));
  const late = await generateDeviceIdentity();
  const later = await org.verifiedRoster(2, [agent, late]);
  // The supervisor console: enrolled later too, reading through the archive key, keeping seeds.
  const supervisorConsole = await generateDeviceIdentity();
  const archiveHolder = new AgentSecureConversation({
    me: supervisorConsole,
    orgId: org.orgId,
    conversationId,
    roster: later,
    archive: await verifyArchiveKey(org.archive.agreement, later),
    keepSeeds: true,
  });
  const reader = (me: DeviceIdentity, seeds?: readonly GrantedSeed[]) => {
    const c = new AgentSecureConversation({ me, orgId: org.orgId, conversationId, roster: later });
    if (seeds) c.grant(seeds);
    return c;
  };
  return { org, agent, roster, conversationId, sealed, late, archiveHolder, reader };
}

async function read(conversation: AgentSecureConversation, sealed: readonly Sealed[]) {
  const texts: string[] = [];
  const refused: unknown[] = [];
  for (const s of sealed) {
    try {
      const { received } = await conversation.receive(s.envelope);
      if (received.kind === 'payload' && received.type === EnvelopeType.message)
        texts.push(textOf(decodeContent(received.plaintext)));
      if (received.kind === 'payload' && received.type === EnvelopeType.note)
        texts.push(`note: ${decodeNote(received.plaintext).text}`);
    } catch (error) {
      refused.push(error);
    }
  }
  return { texts, refused };
}

describe('history grants', () => {
  it('an agent enrolled later reads a past conversation, notes included, through a grant sealed to it; without one, nothing', async () => {
    const w = await pastConversation();
    await read(w.archiveHolder, w.sealed);
    const seeds = await w.archiveHolder.grantableSeeds();
    expect(seeds.map((s) => s.type).sort()).toEqual([
      EnvelopeType.keyShare,
      EnvelopeType.keyShare,
      EnvelopeType.noteKeyShare,
    ]);

    const grant = await sealHistoryGrant({
      orgId: w.org.orgId,
      conversationId: w.conversationId,
      recipient: w.late,
      seeds,
    });
    const opened = await openHistoryGrant({ orgId: w.org.orgId, conversationId: w.conversationId, me: w.late, grant });
    expect(await read(w.reader(w.late, opened), w.sealed)).toEqual({
      texts: ['Where is my order?', 'Checking', 'note: Courier lost it'],
      refused: [],
    });

    const without = await read(w.reader(w.late), w.sealed);
    expect(without.texts).toEqual([]);
    expect(without.refused.every((e) => e instanceof NoChainError)).toBe(true);
  });

  // The caller (AgentSession) keeps what it granted, to read the conversation again on a later
  // load and to see whether a grant fetched again changed anything (issue 11, finding 9).
  it('reading with granted seeds leaves the seeds it was given intact, so a second reader reads too', async () => {
    const w = await pastConversation();
    await read(w.archiveHolder, w.sealed);
    const seeds = await w.archiveHolder.grantableSeeds();
    const given = seeds.map((s) => s.seed.slice());
    expect((await read(w.reader(w.late, seeds), w.sealed)).texts).toHaveLength(3);
    expect(seeds.map((s) => s.seed)).toEqual(given);
    expect((await read(w.reader(w.late, seeds), w.sealed)).texts).toEqual([
      'Where is my order?',
      'Checking',
      'note: Courier lost it',
    ]);
    // The archive holder's own seeds stay grantable after it read with them, too.
    expect((await w.archiveHolder.grantableSeeds()).map((s) => s.seed)).toEqual(given);
  });

  it('a grant opens only for its device, organisation and conversation, and not once altered', async () => {
    const w = await pastConversation();
    await read(w.archiveHolder, w.sealed);
    const seeds = await w.archiveHolder.grantableSeeds();
    const grant = await sealHistoryGrant({
      orgId: w.org.orgId,
      conversationId: w.conversationId,
      recipient: w.late,
      seeds,
    });
    const other = await generateDeviceIdentity();
    const base = { orgId: w.org.orgId, conversationId: w.conversationId, me: w.late, grant };
    await expect(openHistoryGrant({ ...base, me: other })).rejects.toThrow(OpenError);
    await expect(openHistoryGrant({ ...base, conversationId: new Uint8Array(16) })).rejects.toThrow(OpenError);
    await expect(openHistoryGrant({ ...base, orgId: new Uint8Array(w.org.orgId.length) })).rejects.toThrow(OpenError);
    const flipped = grant.slice();
    flipped[flipped.length - 1]! ^= 1;
    await expect(openHistoryGrant({ ...base, grant: flipped })).rejects.toThrow(OpenError);
    await expect(openHistoryGrant({ ...base, grant: grant.subarray(0, 20) })).rejects.toThrow(DecodeError);
    const version = grant.slice();
    version[0] = 2;
    await expect(openHistoryGrant({ ...base, grant: version })).rejects.toThrow(DecodeError);
  });

  it('a seed that does not belong opens nothing, and a seed never lets an unsigned envelope in', async () => {
    const w = await pastConversation();
    await read(w.archiveHolder, w.sealed);
    const wrong = (await w.archiveHolder.grantableSeeds()).map((s) => ({
      ...s,
      seed: crypto.getRandomValues(new Uint8Array(32)),
    }));
    const result = await read(w.reader(w.late, wrong), w.sealed);
    expect(result.texts).toEqual([]);
    expect(result.refused.length).toBe(3);
    expect(result.refused.every((e) => e instanceof OpenError)).toBe(true);
  });

  it('an ephemeral conversation has nothing to grant, even from a device that read it live', async () => {
    const w = await pastConversation('ephemeral');
    await read(w.archiveHolder, w.sealed);
    expect(await w.archiveHolder.grantableSeeds()).toEqual([]);
    // The agent who answered it held its chains; it still grants none of them.
    const live = new AgentSecureConversation({
      me: w.agent,
      orgId: w.org.orgId,
      conversationId: w.conversationId,
      roster: w.roster,
      keepSeeds: true,
    });
    const { texts } = await read(live, w.sealed);
    expect(texts).toContain('Where is my order?');
    expect(await live.grantableSeeds()).toEqual([]);
  });

  it('bounds: too many seeds, or a seed of another type, is refused when sealing', async () => {
    const w = await pastConversation();
    const one: GrantedSeed = {
      type: EnvelopeType.keyShare,
      senderDeviceId: new Uint8Array(16),
      chainId: new Uint8Array(16),
      seed: new Uint8Array(32),
    };
    const base = { orgId: w.org.orgId, conversationId: w.conversationId, recipient: w.late };
    await expect(sealHistoryGrant({ ...base, seeds: Array(MAX_GRANTED_SEEDS + 1).fill(one) })).rejects.toThrow(
      RangeError,
    );
    await expect(
      sealHistoryGrant({ ...base, seeds: [{ ...one, type: EnvelopeType.message as unknown as 1 }] }),
    ).rejects.toThrow(TypeError);
    const full = await sealHistoryGrant({ ...base, seeds: Array(MAX_GRANTED_SEEDS).fill(one) });
    expect(full.length).toBeLessThanOrEqual(65_536);
  });
});
