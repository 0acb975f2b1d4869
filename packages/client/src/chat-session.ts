import {
  ReplayError,
  SealchatError,
  toHex,
  verifyRoster,
  type DeviceIdentity,
  type MessageChainContent,
  type FormContent,
  type MessageContent,
  type RelayFrame,
  type VerifiedRoster,
} from '@sealchat/protocol';
import type { ChatMessage } from './chat-message.js';
import { loadRosterMark, saveRosterMark, type ClientStore } from './client-store.js';
import {
  Conversation,
  type ConversationOptions,
  type ConversationProblem,
  type TranscriptNotice,
  type TypingSignal,
} from './conversation.js';
import { toSealchatError } from './errors.js';
import { Outbox, type OutboxItem, type OutboxOptions, type SealedItem } from './outbox.js';
import { TranscriptKeeper } from './transcript-keeper.js';

/** A typing notice is sent at most this often while typing; receivers show one about twice as long. */
export const TYPING_INTERVAL_MS = 4000;
/** How long after a burst of messages the `delivered` receipt goes out. */
const DELIVERED_DELAY_MS = 300;

/** Whether an outbox item is a message the UI shows (a note too; not a receipt, typing notice or control). */
function shown(item: OutboxItem): boolean {
  const { kind } = item.content;
  return kind === 'text' || kind === 'form' || kind === 'note';
}
import { RelayConnection, type ConnectionState, type RelayConnectionOptions } from './relay-connection.js';

export interface ChatSessionOptions extends RelayConnectionOptions, OutboxOptions, Omit<ConversationOptions, 'mode'> {
  /** ws:// or wss:// URL of the relay. */
  readonly relayUrl: string;
  readonly store: ClientStore;
}

export interface ChatSessionEventMap {
  /** A message was added or changed state. */
  message: CustomEvent<ChatMessage>;
  /** A conversation appeared (agents) or was opened (visitors). */
  conversation: CustomEvent<Conversation>;
  /** A record was rejected: forged, replayed, misplaced or undecryptable. */
  problem: CustomEvent<ConversationProblem>;
  /**
   * The transcript shows a dropped, late, forked or trimmed record (the relay lost or reordered
   * something), or a record was refused (`kind: 'refused'`, after its `problem` event).
   */
  transcript: CustomEvent<TranscriptNotice>;
  /** The other side is typing in a conversation (show it for a few seconds). */
  typing: CustomEvent<TypingSignal>;
  state: CustomEvent<ConnectionState>;
  /** Resuming after a reconnect failed (for example the relay offered a roster that does not verify). */
  error: CustomEvent<SealchatError>;
}

/**
 * What visitor and agent sessions share: one relay connection, the conversations it is attached
 * to, records fed to each conversation strictly in order, and the outbox.
 */
export abstract class ChatSession extends EventTarget {
  readonly connection: RelayConnection;
  protected readonly outbox: Outbox;
  protected readonly conversations = new Map<string, Conversation>();
  /** Records are processed one at a time per session, in arrival (= sequence) order. */
  private processing: Promise<void> = Promise.resolve();
  protected roster: VerifiedRoster | undefined;
  /** Settles with the first (re)connection's setup. */
  protected started: Promise<void> | undefined;
  /** Whether this is the visitor's side (messages of the other side are then the agents'). */
  protected abstract readonly isVisitor: boolean;
  private readonly lastTyping = new Map<string, number>();
  private readonly deliveredTimers = new Map<string, ReturnType<typeof setTimeout>>();
  /** The conversations' transcript marks (made on first use: {@link isVisitor} is a subclass's field). */
  private _keeper: TranscriptKeeper | undefined;

  private device: DeviceIdentity;

  protected constructor(
    protected readonly options: ChatSessionOptions,
    identity: DeviceIdentity,
    protected readonly orgRootKey: Uint8Array<ArrayBuffer>,
    readonly orgId: Uint8Array<ArrayBuffer>,
  ) {
    super();
    this.device = identity;
    this.connection = new RelayConnection(options.relayUrl, options);
    this.outbox = new Outbox(
      this.connection,
      {
        seal: (item) => this._sealAndMark(item),
        sent: (item, conversationId, seq) => {
          if (shown(item)) this.changeMessage(toHex(conversationId), item.id, { seq, state: 'sent' });
        },
        failed: (item) => {
          // An item without a conversation yet (a visitor's first words, offline) can fail too.
          if (shown(item)) this.changeMessage(item.conversationId ?? '', item.id, { state: 'failed' });
        },
        changed: (items) => this.outboxChanged?.(items),
      },
      options,
    );
    this.connection.addEventListener('frame', (event) => this.onFrame(event.detail));
    this.connection.addEventListener('state', (event) => this.emit('state', event.detail));
  }

  get state(): ConnectionState {
    return this.connection.state;
  }

  /** This device's keys. A visitor's are replaced when it erases its conversation. */
  get identity(): DeviceIdentity {
    return this.device;
  }

  /** The keys conversations opened from now on are written with; those already open keep theirs. */
  protected renewIdentity(identity: DeviceIdentity): void {
    this.device = identity;
  }

  /** Every message of a conversation, in order. */
  messagesOf(conversationId: string): readonly ChatMessage[] {
    return this.conversations.get(conversationId)?.messages ?? [];
  }

  /** Sends a failed message (and anything queued behind it) again. */
  retry(): void {
    for (const item of this.outbox.items) {
      if (shown(item)) this.changeMessage(item.conversationId ?? '', item.id, { state: 'sending' });
    }
    this.outbox.retry();
  }

  /**
   * Tells the other side this device has read everything so far in a conversation (call it while
   * the conversation is on screen). Sends nothing when there is nothing new.
   */
  markRead(conversationId: string): void {
    const receipt = this.conversations.get(conversationId)?.receiptDue('read');
    if (receipt) this.outbox.enqueue({ id: Outbox.newClientMessageId(), conversationId, content: receipt });
  }

  /**
   * Tells the other side this user is typing, at most once per {@link TYPING_INTERVAL_MS}. Call it on
   * every keystroke. Nothing is queued while offline: a stale "typing" is worse than none.
   */
  typing(conversationId: string): void {
    const now = Date.now();
    if (!this.outbox.sending || now - (this.lastTyping.get(conversationId) ?? 0) < TYPING_INTERVAL_MS) return;
    if (!this.conversations.get(conversationId)?.hasVisitor) return;
    this.lastTyping.set(conversationId, now);
    this.outbox.enqueue({ id: Outbox.newClientMessageId(), conversationId, content: { kind: 'typing', sentAt: now } });
  }

  close(): void {
    this.outbox.stop();
    for (const timer of this.deliveredTimers.values()) clearTimeout(timer);
    this.connection.close();
  }

  override addEventListener<K extends keyof ChatSessionEventMap>(
    type: K,
    listener: (event: ChatSessionEventMap[K]) => void,
  ): void;
  override addEventListener(type: string, listener: EventListenerOrEventListenerObject | null): void;
  override addEventListener(type: string, listener: EventListenerOrEventListenerObject | null): void {
    super.addEventListener(type, listener);
  }

  override removeEventListener<K extends keyof ChatSessionEventMap>(
    type: K,
    listener: (event: ChatSessionEventMap[K]) => void,
  ): void;
  override removeEventListener(type: string, listener: EventListenerOrEventListenerObject | null): void;
  override removeEventListener(type: string, listener: EventListenerOrEventListenerObject | null): void {
    super.removeEventListener(type, listener);
  }

  /**
   * Runs on every fresh socket, after the relay's challenge: authenticate, verify the roster,
   * re-attach from the last sequence numbers, resume the outbox.
   */
  protected abstract onConnected(challenge: Uint8Array<ArrayBuffer>): Promise<void>;

  /**
   * Opens the connection and resolves once the first {@link onConnected} completed. If that first
   * setup fails, the connection is closed and the error thrown; later failures are `error` events.
   */
  protected async connect(): Promise<void> {
    try {
      await this.begin();
    } catch (error) {
      this.close();
      throw error;
    }
  }

  /**
   * Opens the connection (it keeps reconnecting) and returns {@link started}: it settles with the
   * first {@link onConnected}, and stays pending while the relay is unreachable.
   */
  protected begin(): Promise<void> {
    this.started = new Promise<void>((resolve, reject) => {
      let first = true;
      this.connection.addEventListener('connected', (event) => {
        this.onConnected(event.detail.challenge).then(
          () => {
            if (first) resolve();
            first = false;
          },
          (error: unknown) => {
            if (first) reject(toSealchatError(error));
            else this.emit('error', toSealchatError(error));
            first = false;
          },
        );
      });
    });
    this.connection.open();
    return this.started;
  }

  protected emit<K extends keyof ChatSessionEventMap>(type: K, detail: ChatSessionEventMap[K]['detail']): void {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }

  /** Fetches and verifies the org's roster, refusing a version lower than any seen before. */
  protected async refreshRoster(): Promise<VerifiedRoster> {
    const answer = await this.connection.request({ kind: 'get-roster', orgId: this.orgId });
    if (answer.kind !== 'roster')
      throw new SealchatError('SEALCHAT_E_BAD_ANSWER', `Expected a roster, got ${answer.kind}`);
    return this.acceptRoster(answer.roster);
  }

  protected async acceptRoster(bytes: Uint8Array<ArrayBuffer>): Promise<VerifiedRoster> {
    const mark = await loadRosterMark(this.options.store, this.orgId);
    // The roster in hand, when it is the newest seen, lets an administrator's successor be checked
    // (docs/protocol.md §4.3); otherwise the stored mark still refuses a rollback and a fork.
    const held = this.roster && this.roster.version >= mark.version ? this.roster : undefined;
    const previous = held ?? (mark.digest ? { version: mark.version, digest: mark.digest } : undefined);
    const roster = await verifyRoster(bytes, { orgRootKey: this.orgRootKey, now: Date.now(), previous });
    if (roster.version > mark.version || !mark.digest) await saveRosterMark(this.options.store, this.orgId, roster);
    this.roster = roster;
    for (const conversation of this.conversations.values()) conversation.updateRoster(roster);
    return roster;
  }

  /**
   * Resumes a conversation from `(epoch, lastSeq)`: the relay announces how far its stream goes, then
   * sends what we missed. If its epoch is not ours (a restore from backup, another database), it says
   * `reset` and sends everything again; sequence numbers start over, and the digests in
   * SecureConversation drop what we already had. Resolves once the announced backlog is processed.
   */
  protected async attach(conversation: Conversation, capability: Uint8Array<ArrayBuffer>): Promise<void> {
    await this.marks.restore(conversation);
    const answer = await this.connection.request({
      kind: 'resume-conversation',
      conversationId: conversation.conversationId,
      capability,
      epoch: conversation.epoch,
      afterSeq: conversation.lastSeq,
    });
    if (answer.kind !== 'resumed')
      throw new SealchatError('SEALCHAT_E_BAD_ANSWER', `Expected resumed, got ${answer.kind}`);
    if (answer.reset) conversation.lastSeq = 0;
    conversation.epoch = answer.epoch;
    await this.caughtUp(conversation, answer.lastSeq);
    // The whole history as the relay serves it now: it must reach every head held before.
    if (conversation.lastSeq >= answer.lastSeq && this.connection.state === 'open')
      for (const notice of await this.marks.caughtUp(conversation)) this.emit('transcript', notice);
  }

  /** Waits until `conversation` has processed records up to `target`, or the socket drops. */
  private caughtUp(conversation: Conversation, target: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const check = () => {
        if (conversation.lastSeq >= target || this.connection.state !== 'open') {
          this.removeEventListener('caught-up-check', check);
          this.connection.removeEventListener('state', check);
          resolve();
        }
      };
      this.addEventListener('caught-up-check', check);
      this.connection.addEventListener('state', check);
      void this.processing.then(check);
    });
  }

  /** Shows `content` as a message being sent, and queues it; it is sealed when its turn comes. */
  protected sendContent(
    conversation: Conversation,
    content: MessageContent | FormContent,
    id = Outbox.newClientMessageId(),
  ): ChatMessage {
    const item = { id, conversationId: conversation.id, content };
    const message = conversation.draft(content, item.id);
    this.emit('message', message);
    this.outbox.enqueue(item);
    return message;
  }

  /** Seals an outbox item in its turn (see {@link Outbox}); subclasses may open the conversation first. */
  protected async sealItem(item: OutboxItem): Promise<SealedItem> {
    const conversation = item.conversationId ? this.conversations.get(item.conversationId) : undefined;
    if (!conversation) throw new SealchatError('SEALCHAT_E_NOT_FOUND', 'The conversation is gone');
    // Control items and notes never reach here: AgentSession seals them itself.
    const envelopes = await conversation.seal(item.content as MessageChainContent, shown(item) ? item.id : undefined);
    return { conversationId: conversation.conversationId, envelopes };
  }

  /**
   * Seals an item, then keeps this device's new head in the store before the outbox posts it: after
   * a reload the device numbers past it even if the relay withholds what it posted (docs/protocol.md §7).
   */
  private async _sealAndMark(item: OutboxItem): Promise<SealedItem> {
    const sealed = await this.sealItem(item);
    const conversation = this.conversations.get(toHex(sealed.conversationId));
    if (conversation) await this.marks.save(conversation);
    return sealed;
  }

  /** What this session keeps of its conversations' transcripts between loads. */
  protected get marks(): TranscriptKeeper {
    return (this._keeper ??= new TranscriptKeeper(this.options.store, this.isVisitor));
  }

  /** Called whenever the outbox's waiting items change; a store-backed session persists them. */
  protected outboxChanged: ((items: readonly OutboxItem[]) => void) | undefined;

  protected onFrame(frame: RelayFrame): void {
    if (frame.kind === 'roster') {
      // A pushed roster: verified like any other, so the next message rotates to its readers.
      // One that does not verify (or rolls back) is refused and the session keeps its current one.
      void this.acceptRoster(frame.roster).catch((error: unknown) => this.emit('error', toSealchatError(error)));
      return;
    }
    if (frame.kind !== 'record') return;
    const conversation = this.conversations.get(toHex(frame.conversationId));
    if (!conversation) return;
    this.processing = this.processing.then(async () => {
      try {
        const { messages, notices, typing } = await this.marks.accept(conversation, frame.seq, frame.envelope);
        for (const notice of notices) this.emit('transcript', notice);
        for (const message of messages) this.emit('message', message);
        if (typing && Date.now() - typing.sentAt < TYPING_INTERVAL_MS * 2) this.emit('typing', typing);
        const ours = this.isVisitor ? 'visitor' : 'agent';
        if (messages.some((m) => m.author !== ours)) this.scheduleDelivered(conversation);
      } catch (error) {
        // A refused record still counts as processed (Conversation.accept moved lastSeq past it).
        // A duplicate is harmless and expected after an epoch reset: it is dropped without a report.
        if (error instanceof ReplayError) return;
        this.emit('problem', { conversationId: conversation.id, seq: frame.seq, error: toSealchatError(error) });
        // Said in words by the widget and the console, which show the transcript's notices.
        this.emit('transcript', conversation.refused(frame.seq));
      } finally {
        this.dispatchEvent(new Event('caught-up-check'));
      }
    });
  }

  /** Says `delivered` for what just arrived, once things settle (one receipt for a burst). */
  private scheduleDelivered(conversation: Conversation): void {
    if (this.deliveredTimers.has(conversation.id)) return;
    this.deliveredTimers.set(
      conversation.id,
      setTimeout(() => {
        this.deliveredTimers.delete(conversation.id);
        const receipt = conversation.receiptDue('delivered');
        if (receipt)
          this.outbox.enqueue({ id: Outbox.newClientMessageId(), conversationId: conversation.id, content: receipt });
      }, DELIVERED_DELAY_MS),
    );
  }

  protected changeMessage(
    conversationId: string,
    id: string,
    change: Partial<Pick<ChatMessage, 'seq' | 'state'>>,
  ): void {
    const message = this.conversations.get(conversationId)?.update(id, change);
    if (message) this.emit('message', message);
  }
}
