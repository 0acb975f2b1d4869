import {
  ReplayError,
  SealchatError,
  toHex,
  verifyRoster,
  type DeviceIdentity,
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
} from './conversation.js';
import { toSealchatError } from './errors.js';
import { Outbox, type OutboxOptions } from './outbox.js';
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
  /** The transcript shows a dropped, late or forked record (the relay lost or reordered something). */
  transcript: CustomEvent<TranscriptNotice>;
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

  protected constructor(
    protected readonly options: ChatSessionOptions,
    readonly identity: DeviceIdentity,
    protected readonly orgRootKey: Uint8Array<ArrayBuffer>,
    readonly orgId: Uint8Array<ArrayBuffer>,
  ) {
    super();
    this.connection = new RelayConnection(options.relayUrl, options);
    this.outbox = new Outbox(
      this.connection,
      {
        sent: (id, conversationId, seq) => this.changeMessage(conversationId, id, { seq, state: 'sent' }),
        failed: (id, conversationId) => this.changeMessage(conversationId, id, { state: 'failed' }),
      },
      options,
    );
    this.connection.addEventListener('frame', (event) => this.onFrame(event.detail));
    this.connection.addEventListener('state', (event) => this.emit('state', event.detail));
  }

  get state(): ConnectionState {
    return this.connection.state;
  }

  /** Every message of a conversation, in order. */
  messagesOf(conversationId: string): readonly ChatMessage[] {
    return this.conversations.get(conversationId)?.messages ?? [];
  }

  /** Sends a failed message (and anything queued behind it) again. */
  retry(): void {
    this.outbox.retry();
  }

  close(): void {
    this.outbox.stop();
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
    try {
      await this.started;
    } catch (error) {
      this.close();
      throw error;
    }
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
    const roster = await verifyRoster(bytes, {
      orgRootKey: this.orgRootKey,
      now: Date.now(),
      minVersion: mark.version,
      knownDigest: mark.digest,
    });
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

  protected async sendText(conversation: Conversation, text: string): Promise<ChatMessage> {
    const messageId = Outbox.newClientMessageId();
    const outgoing = await conversation.seal(text, messageId);
    const message = outgoing.at(-1)!.message!;
    this.emit('message', message);
    this.outbox.enqueue(
      conversation.conversationId,
      outgoing.map((o) => (o.message ? { envelope: o.envelope, messageId: o.message.id } : { envelope: o.envelope })),
    );
    return message;
  }

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
        const { message, notices } = await conversation.accept(frame.seq, frame.envelope);
        for (const notice of notices) this.emit('transcript', notice);
        if (message) this.emit('message', message);
      } catch (error) {
        // A refused record still counts as processed (Conversation.accept moved lastSeq past it).
        // A duplicate is harmless and expected after an epoch reset: it is dropped without a report.
        if (error instanceof ReplayError) return;
        this.emit('problem', { conversationId: conversation.id, seq: frame.seq, error: toSealchatError(error) });
      } finally {
        this.dispatchEvent(new Event('caught-up-check'));
      }
    });
  }

  private changeMessage(
    conversationId: Uint8Array,
    id: string,
    change: Partial<Pick<ChatMessage, 'seq' | 'state'>>,
  ): void {
    const message = this.conversations.get(toHex(conversationId))?.update(id, change);
    if (message) this.emit('message', message);
  }
}
