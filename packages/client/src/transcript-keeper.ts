import { loadTranscriptMark, saveTranscriptMark, type ClientStore, type TranscriptMark } from './client-store.js';
import type { Accepted, Conversation, TranscriptNotice } from './conversation.js';

/**
 * What one session keeps of its conversations' transcripts between loads (docs/protocol.md §7-8), in
 * its store: each conversation's transcript mark, given back before the conversation's first read,
 * checked against the relay's history after its first full catch-up, and written as the device
 * seals, pins the visitor and catches up. Headless: ChatSession composes it, and the hostile model
 * (hostile-transcript.test.ts) drives the same code without a socket.
 */
export class TranscriptKeeper {
  /** Conversations whose stored mark was given back to them (once each). */
  private readonly _restored = new WeakSet<Conversation>();
  /**
   * The heads a conversation held on an earlier load, until its first full catch-up checked that
   * the relay's history extends them. Kept as stored until then, so a trim is not written over.
   */
  private readonly _unchecked = new WeakMap<Conversation, TranscriptMark['seen']>();
  /** Conversations that replace one this session read before (a re-read), with the one replaced. */
  private readonly _replacing = new WeakMap<Conversation, Conversation>();

  /** @param isVisitor whether this is the visitor's device (only an agent's keeps the visitor's pin). */
  constructor(
    private readonly _store: ClientStore,
    private readonly _isVisitor: boolean,
  ) {}

  /**
   * Before a conversation's first read: its own head (it numbers past it, whatever the relay serves)
   * and, on an agent's device, the visitor it saw open the conversation (a re-read cannot swap it).
   * Once per conversation object; later calls do nothing.
   * @throws StoredStateError when the stored mark is malformed; UntrustedSenderError when the
   *   conversation has pinned another visitor already.
   */
  async restore(conversation: Conversation): Promise<void> {
    if (this._restored.has(conversation)) return;
    this._restored.add(conversation);
    const mark = await loadTranscriptMark(this._store, conversation.id);
    const seen = new Map(mark.seen);
    const replaced = this._replacing.get(conversation);
    // Not kept past this: a run of re-reads must not hold every conversation it replaced.
    this._replacing.delete(conversation);
    const secure = conversation.secure;
    if (replaced) {
      // What the replaced conversation holds in memory counts as kept: its heads, those it still had
      // to check, its own head and its pin (written or not yet).
      for (const [device, head] of [...(this._unchecked.get(replaced) ?? []), ...replaced.secure.heads])
        if (head.senderSeq >= (seen.get(device)?.senderSeq ?? -1)) seen.set(device, head);
      if (replaced.secure.ownHead) secure.restoreOwnHead(replaced.secure.ownHead);
      if (replaced.secure.visitor && !this._isVisitor) secure.pinVisitor(replaced.secure.visitor);
    }
    if (mark.own) secure.restoreOwnHead(mark.own);
    if (mark.visitor && !this._isVisitor) secure.pinVisitor(mark.visitor);
    this._unchecked.set(conversation, seen);
  }

  /**
   * Says that `fresh` replaces `old`, which this session has read, and reads the conversation again
   * (as after a history grant): when `fresh` is restored, what `old` holds counts as kept, written
   * or not yet, so a relay that forces the re-read cannot cut what is on screen unseen.
   */
  replace(old: Conversation, fresh: Conversation): void {
    this._replacing.set(fresh, old);
  }

  /**
   * Processes one record ({@link Conversation.accept}); on an agent's device the visitor's pin is
   * written as soon as it is made. (The heads are written as this device seals, its "delivered"
   * receipt following what arrives, and after a catch-up.)
   * @throws as {@link Conversation.accept}.
   */
  async accept(conversation: Conversation, seq: number, bytes: Uint8Array): Promise<Accepted> {
    const introduced = !conversation.hasVisitor;
    const accepted = await conversation.accept(seq, bytes);
    if (introduced && conversation.hasVisitor && !this._isVisitor) await this.save(conversation);
    return accepted;
  }

  /**
   * Call once the conversation has read the whole history the relay announced. The first time after
   * {@link restore}: the history must reach every head held on the earlier load; what it reveals
   * (a `trimmed` tail, a `fork`) is recorded in the conversation's notices and returned, and the
   * mark is written. Later calls return nothing.
   */
  async caughtUp(conversation: Conversation): Promise<TranscriptNotice[]> {
    const seen = this._unchecked.get(conversation);
    if (!seen) return [];
    this._unchecked.delete(conversation);
    const notices = conversation.report(conversation.secure.checkExtends(seen));
    await this.save(conversation);
    return notices;
  }

  /**
   * Writes the conversation's mark: this device's own head, the heads it holds of the others (those
   * of the earlier load while still unchecked) and, on an agent's device, the visitor's pin. Call it
   * after sealing and before posting, so a reload numbers past what the relay may withhold.
   */
  save(conversation: Conversation): Promise<void> {
    const seen = this._unchecked.get(conversation) ?? conversation.secure.heads;
    const { ownHead: own, visitor } = conversation.secure;
    return saveTranscriptMark(this._store, conversation.id, {
      own,
      seen,
      visitor: this._isVisitor ? undefined : visitor,
    });
  }
}
