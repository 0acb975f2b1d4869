/**
 * In `archive` mode every key share lists the roster's archive key (docs/protocol.md §6). A sender
 * that leaves it out (hostile, or buggy) would make its chain unarchivable without anyone noticing:
 * receivers refuse such a share, so it is reported like any other refused envelope (issue 11,
 * finding 9). Runs in Node and in Chromium.
 */
import { describe, expect, it } from 'vitest';
import {
  AgentSecureConversation,
  ArchiveShareError,
  decodeContent,
  encodeContent,
  encodeNote,
  EnvelopeType,
  generateDeviceIdentity,
  SecureConversation,
  textOf,
  toHex,
  type ConversationMode,
  type DeviceIdentity,
  type KeyShareType,
  type Recipient,
  type Sealed,
} from './index.js';
import { createTestOrganisation } from './testing/index.js';

const text = (t: string) => encodeContent({ kind: 'text', text: t, sentAt: 1 });
const refusal = { code: 'SEALCHAT_E_ARCHIVE_SHARE' };

/** A sender whose key shares leave out the archive key, whatever the mode. */
const withoutArchive = (recipients: Recipient[], archiveId: Uint8Array) =>
  recipients.filter((r) => toHex(r.deviceId) !== toHex(archiveId));

async function world(mode: ConversationMode = 'archive') {
  const org = await createTestOrganisation();
  const agent = await generateDeviceIdentity();
  const roster = await org.verifiedRoster(1, [agent]);
  const visitor = await generateDeviceIdentity();
  const conversationId = crypto.getRandomValues(new Uint8Array(16));
  const archiveId = org.archive.deviceId;
  const base = { orgId: org.orgId, conversationId, roster };

  class ArchiveLessVisitor extends SecureConversation {
    protected override recipients(m: ConversationMode, type: KeyShareType): Recipient[] {
      return withoutArchive(super.recipients(m, type), archiveId);
    }
  }
  class ArchiveLessAgent extends AgentSecureConversation {
    protected override recipients(m: ConversationMode, type: KeyShareType): Recipient[] {
      return withoutArchive(super.recipients(m, type), archiveId);
    }
  }
  return {
    org,
    agent,
    honestVisitor: () => new SecureConversation({ ...base, me: visitor, iAmVisitor: true, mode }),
    hostileVisitor: () => new ArchiveLessVisitor({ ...base, me: visitor, iAmVisitor: true, mode }),
    agentSide: (me: DeviceIdentity) => new AgentSecureConversation({ ...base, me }),
    hostileAgent: (me: DeviceIdentity) => new ArchiveLessAgent({ ...base, me }),
    archiveSide: () =>
      new AgentSecureConversation({ ...base, me: org.supervisor, archive: org.archive, keepSeeds: true }),
  };
}

const [share, payload] = [0, 1];
const envelopes = (sealed: readonly Sealed[]) => sealed.map((s) => s.envelope);

describe('an archive-mode key share without the archive key', () => {
  it('is refused by an agent, which then reads nothing of that chain', async () => {
    const w = await world();
    const sealed = envelopes(await w.hostileVisitor().seal(EnvelopeType.message, text('Hello')));
    const agent = w.agentSide(w.agent);
    await expect(agent.receive(sealed[share]!)).rejects.toMatchObject(refusal);
    await expect(agent.receive(sealed[share]!)).rejects.toBeInstanceOf(ArchiveShareError);
    // Refused as if it never arrived: the chain is not open, the visitor not pinned.
    expect(agent.visitor).toBeUndefined();
    await expect(agent.receive(sealed[payload]!)).rejects.toThrow();
  });

  it('is refused by the console holding the archive key too', async () => {
    const w = await world();
    const sealed = envelopes(await w.hostileVisitor().seal(EnvelopeType.message, text('Hello')));
    await expect(w.archiveSide().receive(sealed[share]!)).rejects.toMatchObject(refusal);
  });

  it('is refused from an agent, for a message chain and for a note chain', async () => {
    const w = await world();
    const visitorSealed = envelopes(await w.honestVisitor().seal(EnvelopeType.message, text('Hi')));
    const hostile = w.hostileAgent(w.agent);
    for (const e of visitorSealed) await hostile.receive(e);
    const reply = envelopes(await hostile.seal(EnvelopeType.message, text('Hello, visitor')));
    const note = envelopes(await hostile.sealNote(encodeNote({ kind: 'note', text: 'private', sentAt: 2 })));

    const supervisor = w.archiveSide();
    for (const e of visitorSealed) await supervisor.receive(e);
    await expect(supervisor.receive(reply[share]!)).rejects.toMatchObject(refusal);
    await expect(supervisor.receive(note[share]!)).rejects.toMatchObject(refusal);
    // The visitor reads the reply's share as well, and refuses it the same way.
    const visitor = w.honestVisitor();
    for (const e of visitorSealed) await visitor.receive(e);
    await expect(visitor.receive(reply[share]!)).rejects.toMatchObject(refusal);
  });

  it('is accepted in ephemeral mode, where no share goes to the archive', async () => {
    const w = await world('ephemeral');
    const sealed = envelopes(await w.hostileVisitor().seal(EnvelopeType.message, text('Hello')));
    const agent = w.agentSide(w.agent);
    await agent.receive(sealed[share]!);
    const { received } = await agent.receive(sealed[payload]!);
    expect(received.kind === 'payload' && textOf(decodeContent(received.plaintext))).toBe('Hello');
  });

  it('an honest archive-mode share is accepted and opens with the archive key', async () => {
    const w = await world();
    const sealed = envelopes(await w.honestVisitor().seal(EnvelopeType.message, text('Hello')));
    const supervisor = w.archiveSide();
    await supervisor.receive(sealed[share]!);
    const { received } = await supervisor.receive(sealed[payload]!);
    expect(received.kind === 'payload' && textOf(decodeContent(received.plaintext))).toBe('Hello');
  });
});
