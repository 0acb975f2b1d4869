import { generateDeviceIdentity, type DeviceIdentity } from '@sealchat/protocol';
import { createTestOrganisation } from '@sealchat/protocol/testing';
import { describe, expect, it } from 'vitest';
import { Conversation } from './conversation.js';

/**
 * Receipts against a relay that renumbers (issue 11, finding 4): here the test is the relay, and
 * hands each side whatever records, under whatever sequence numbers, it likes.
 */
async function scene() {
  const org = await createTestOrganisation();
  const agentId = await generateDeviceIdentity();
  const visitorId = await generateDeviceIdentity();
  const roster = await org.verifiedRoster(1, [agentId]);
  const conversationId = crypto.getRandomValues(new Uint8Array(16));
  const side = (me: DeviceIdentity, iAmVisitor: boolean) =>
    new Conversation(conversationId, me, org.orgId, roster, iAmVisitor, { mode: 'archive' });
  return { visitor: side(visitorId, true), agent: side(agentId, false) };
}

/** Seals a text as `from`, returning the envelopes (a key share first when the chain starts). */
async function say(from: Conversation, text: string, id: string) {
  from.draft({ kind: 'text', text, sentAt: 1 }, id);
  return from.seal({ kind: 'text', text, sentAt: 1 }, id);
}

describe('receipts name places in the sender’s chain, not relay seqs', () => {
  it('a relay that drops the last message and renumbers an earlier one into its slot cannot make it "read"', async () => {
    const { visitor, agent } = await scene();
    const [share, one] = await say(visitor, 'one', 'c1');
    const [two] = await say(visitor, 'two', 'c2');
    // The relay stores share, one, two at seqs 1, 2, 3 and echoes them to the visitor ...
    await visitor.accept(1, share!);
    await visitor.accept(2, one!);
    await visitor.accept(3, two!);
    // ... but gives the agent the key share, then `one` under two's seq, and never `two`.
    await agent.accept(1, share!);
    await agent.accept(3, one!);
    expect(agent.messages.map((m) => m.text)).toEqual(['one']);

    const receipt = agent.receiptDue('read');
    expect(receipt).toBeDefined();
    // The agent's first envelopes: its key share, then the receipt; the relay passes both on.
    const sealed = await agent.seal(receipt!);
    for (const [i, bytes] of sealed.entries()) await visitor.accept(4 + i, bytes);
    const states = Object.fromEntries(visitor.messages.map((m) => [m.text, m.state]));
    expect(states).toEqual({ one: 'read', two: 'sent' });
    // Nothing new arrived: no second receipt.
    expect(agent.receiptDue('read')).toBeUndefined();
    expect(agent.unread).toBe(0);
  });

  it('a receipt naming a place this device never wrote marks nothing', async () => {
    const { visitor, agent } = await scene();
    const [share, one] = await say(visitor, 'one', 'c1');
    await visitor.accept(1, share!);
    await visitor.accept(2, one!);
    await agent.accept(1, share!);
    await agent.accept(2, one!);
    const receipt = agent.receiptDue('delivered')!;
    const forged = { ...receipt, heads: receipt.heads.map((h) => ({ ...h, digest: new Uint8Array(32) })) };
    const sealed = await agent.seal(forged);
    for (const [i, bytes] of sealed.entries()) await visitor.accept(3 + i, bytes);
    expect(visitor.messages.map((m) => m.state)).toEqual(['sent']);
  });
});
