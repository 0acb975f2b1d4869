import { generateDeviceIdentity, SealchatError, toHex } from '@sealchat/protocol';
import { createTestOrganisation } from '@sealchat/protocol/testing';
import { describe, expect, it } from 'vitest';
import { MemoryClientStore } from './client-store.js';
import { Conversation } from './conversation.js';
import { TranscriptKeeper } from './transcript-keeper.js';

/** A visitor and a console; the test is the relay, serving each load what it likes. */
async function scene() {
  const org = await createTestOrganisation();
  const agent = await generateDeviceIdentity();
  const visitor = await generateDeviceIdentity();
  const roster = await org.verifiedRoster(1, [agent]);
  const conversationId = crypto.getRandomValues(new Uint8Array(16));
  const conversation = (iAmVisitor: boolean) =>
    new Conversation(conversationId, iAmVisitor ? visitor : agent, org.orgId, roster, iAmVisitor, { mode: 'archive' });
  return { visitor, conversation };
}

/** One load of the console: restore from the store, read `records` in order (a refused one counts), check. */
async function load(keeper: TranscriptKeeper, conversation: Conversation, records: readonly Uint8Array[]) {
  await keeper.restore(conversation);
  for (const [i, bytes] of records.entries()) {
    try {
      await keeper.accept(conversation, i + 1, bytes);
    } catch (error) {
      if (!(error instanceof SealchatError)) throw error;
      conversation.refused(i + 1);
    }
  }
  await keeper.caughtUp(conversation);
  return conversation.notices.map((n) => [n.kind, n.senderDeviceId]);
}

describe('TranscriptKeeper', () => {
  // Found by the hostile model (hostile-transcript.test.ts, seed 37637527): the mark kept how far
  // the console held the visitor's envelopes without a hole, so a tail above a hole went unseen.
  it('a tail the console saw above a hole, cut by the relay before the next load, is reported trimmed', async () => {
    const { visitor, conversation } = await scene();
    const visitorSide = conversation(true);
    const content = (text: string) => ({ kind: 'text' as const, text, sentAt: 1 });
    const [share, one] = await visitorSide.seal(content('one'));
    const [two] = await visitorSide.seal(content('two'));
    const store = new MemoryClientStore();

    // First load: `one` before its key share (refused: no chain yet), then the share and `two`.
    const first = conversation(false);
    expect(await load(new TranscriptKeeper(store, false), first, [one!, share!, two!])).toEqual([
      ['refused', ''],
      ['gap', toHex(visitor.deviceId)],
    ]);
    expect(first.messages.map((m) => m.text)).toEqual(['two']);

    // Reloaded: the relay serves the share and `one`, and withholds `two`, which the console showed.
    const second = conversation(false);
    expect(await load(new TranscriptKeeper(store, false), second, [share!, one!])).toEqual([
      ['trimmed', toHex(visitor.deviceId)],
    ]);
  });
  // Found by the hostile model (hostile-transcript.test.ts, seed 91084346): a re-read in the same
  // session (a pushed history grant) was checked only against the stored mark, which a live record
  // moves only when the console next seals.
  it('a re-read replacing a conversation reports what the replaced one showed and the relay now withholds', async () => {
    const { visitor, conversation } = await scene();
    const visitorSide = conversation(true);
    const [share, hello] = await visitorSide.seal({ kind: 'text', text: 'hello', sentAt: 1 });
    const keeper = new TranscriptKeeper(new MemoryClientStore(), false);
    const shown = conversation(false);
    await load(keeper, shown, []);
    // Live: the share (the pin is written at once) and `hello`, not written before the re-read.
    await keeper.accept(shown, 1, share!);
    await keeper.accept(shown, 2, hello!);
    expect(shown.messages.map((m) => m.text)).toEqual(['hello']);

    const reread = conversation(false);
    keeper.replace(shown, reread);
    expect(await load(keeper, reread, [share!])).toEqual([['trimmed', toHex(visitor.deviceId)]]);
    expect(reread.secure.visitor?.deviceId).toEqual(visitor.deviceId);
  });
});
