import {
  acceptInvite,
  approveJoinRequest,
  createInvite,
  loadOrCreateOrganisation,
  MemoryClientStore,
  publishRoster,
  RelayRequestError,
  revokeDevice,
  waitForApproval,
  type ChatMessage,
} from '@sealchat/client';
import { decodeEnvelope, EnvelopeType, fromHex, readKeyShareIntro, toHex } from '@sealchat/protocol';
import type { RunningRelay } from '@sealchat/relay';
import { describe, expect, it } from 'vitest';
import { agentSession, startTestRelay, until, useClosers, visitorSession, WS } from './support.js';

/**
 * Issue 6, team: a supervisor invites a person, approves the device request their browser made,
 * and later revokes the device — against a real relay. After the revocation the relay refuses the
 * device, and no key share of a conversation begun afterwards names it, so even a relay that let it
 * in would give it nothing to decrypt.
 */
const closers = useClosers();
const relay = () => startTestRelay(closers);

/** The recipients of every key share the relay stored in a conversation, read from the demo relay's row feed. */
async function keyShareRecipients(running: RunningRelay, conversationId: string): Promise<string[][]> {
  const controller = new AbortController();
  const response = await fetch(`${running.url.replace(/^ws/, 'http')}/demo/rows`, { signal: controller.signal });
  const reader = response.body!.getReader();
  let text = '';
  // The feed replays stored rows at once, then stays open: read until a quiet moment.
  for (;;) {
    const chunk = await Promise.race([reader.read(), new Promise<undefined>((resolve) => setTimeout(resolve, 300))]);
    if (!chunk || chunk.done) break;
    text += new TextDecoder().decode(chunk.value);
  }
  controller.abort();
  const rows = text
    .split('\n\n')
    .filter((line) => line.startsWith('data: '))
    .map((line) => JSON.parse(line.slice(6)) as { conversationId: string; envelopeHex: string });
  return rows
    .filter((row) => row.conversationId === conversationId)
    .map((row) => decodeEnvelope(fromHex(row.envelopeHex)))
    .filter((envelope) => envelope.type === EnvelopeType.keyShare)
    .map((envelope) => readKeyShareIntro(envelope).recipients.map(toHex));
}

describe('a team over a real relay', { timeout: 30_000 }, () => {
  it('invite → request → approve → chat → revoke: the revoked device is refused and left out of new chains', async () => {
    const running = await relay();
    const orgStore = new MemoryClientStore();
    const org = await loadOrCreateOrganisation(orgStore, { agentName: 'Robin' });
    await publishRoster(running.url, org, { WebSocket: WS });
    const robin = await agentSession(running, org.rootPublic, org.agent, closers);

    // Sam's browser accepts the invite and waits; the supervisor approves and publishes.
    const { code } = await createInvite(orgStore, org, { name: 'Sam' });
    const samStore = new MemoryClientStore();
    const membership = await acceptInvite(samStore, code);
    const approved = waitForApproval(running.url, samStore, membership, { WebSocket: WS, intervalMs: 250 });
    const { roster } = await approveJoinRequest(orgStore, org, membership.request);
    await publishRoster(running.url, roster, { WebSocket: WS });
    expect((await approved).joined).toBe(true);
    const sam = await agentSession(running, membership.orgRootKey, membership.identity, closers);
    const samId = toHex(membership.identity.deviceId);

    // Before: a visitor's message reaches Sam, decrypted.
    const ana = await visitorSession(running, org.orgKey, closers);
    const atSam = until<ChatMessage>(sam, 'message', (m) => m.text === 'Hello, anyone?');
    const first = await ana.send('Hello, anyone?');
    expect((await atSam).authorName).toBeUndefined();
    expect((await keyShareRecipients(running, first.conversationId)).flat()).toContain(samId);

    // Revoke: the relay drops Sam's socket and refuses him from then on.
    const refused = until<{ code: string }>(sam, 'error', (e) => e.code === 'SEALCHAT_E_UNAUTHORIZED');
    const revoked = await revokeDevice(orgStore, org, membership.identity.deviceId);
    await publishRoster(running.url, revoked, { WebSocket: WS });
    await refused;
    await expect(agentSession(running, membership.orgRootKey, membership.identity, closers)).rejects.toBeInstanceOf(
      RelayRequestError,
    );

    // After: a new conversation. Robin reads it; Sam's session shows nothing of it, and no key share
    // in it names Sam's device, so there is nothing he could decrypt even with the ciphertext.
    const ben = await visitorSession(running, org.orgKey, closers);
    const atRobin = until<ChatMessage>(robin, 'message', (m) => m.text === 'Sent after the revocation');
    const later = await ben.send('Sent after the revocation');
    await atRobin;
    const shares = await keyShareRecipients(running, later.conversationId);
    expect(shares.length).toBeGreaterThan(0);
    expect(shares.flat()).not.toContain(samId);
    expect(shares.flat()).toContain(toHex(org.agent.deviceId));
    expect(sam.conversationList.find((c) => c.id === later.conversationId)?.messages ?? []).toEqual([]);
    expect(sam.messagesOf(first.conversationId).map((m) => m.text)).toEqual(['Hello, anyone?']);
  });
});

describe('a console with no conversation yet', { timeout: 30_000 }, () => {
  it('hears of a colleague approved meanwhile, and shares its first chain with them', async () => {
    const running = await relay();
    const store = new MemoryClientStore();
    const org = await loadOrCreateOrganisation(store, { agentName: 'Robin' });
    await publishRoster(running.url, org, { WebSocket: WS });
    const robin = await agentSession(running, org.rootPublic, org.agent, closers);
    const teamChanged = new Promise<number>((resolve) =>
      robin.addEventListener('team', (event) => resolve((event as CustomEvent<number>).detail)),
    );

    // Sam is approved while Robin's console has nothing open: no subscription, no presence watch.
    const { code } = await createInvite(store, org, { name: 'Sam' });
    const sam = await acceptInvite(new MemoryClientStore(), code);
    const { roster } = await approveJoinRequest(store, org, sam.request);
    await publishRoster(running.url, roster, { WebSocket: WS });
    expect(await teamChanged).toBe(roster.version);
    expect(robin.team.map((d) => d.displayName)).toContain('Sam');

    // A visitor writes; Robin's first reply is readable by Sam's console.
    const samSession = await agentSession(running, org.rootPublic, sam.identity, closers);
    const ana = await visitorSession(running, org.orgKey, closers);
    await ana.send('Hello?');
    const conversation = await until<ChatMessage>(robin, 'message', (m) => m.text === 'Hello?');
    await robin.reply(conversation.conversationId, 'Robin here');
    await until<ChatMessage>(samSession, 'message', (m) => m.text === 'Robin here');
  });
});
