import {
  bytesEqual,
  loadOrCreateIdentity,
  orgIdFromRootKey,
  parseOrgKey,
  safetyCode,
  SealchatError,
  toHex,
  type ConversationMode,
  type FormContent,
  type MessageContent,
  type RelayFrame,
} from '@sealchat/protocol';
import type { ChatMessage, MessageState } from './chat-message.js';
import { ChatSession, type ChatSessionEventMap, type ChatSessionOptions } from './chat-session.js';
import {
  deleteConversationPointer,
  loadConversationPointer,
  saveConversationPointer,
  type ConversationPointer,
} from './client-store.js';
import { Conversation, type TranscriptNotice } from './conversation.js';
import { ConnectionLostError, RelayRequestError, toSealchatError } from './errors.js';
import { contentOf, deleteLocalHistory, draftOf, loadLocalHistory, saveLocalHistory } from './local-history.js';
import { Outbox, type OutboxItem, type SealedItem } from './outbox.js';

/** Delivery states in order (as in Conversation); merging never moves a message back. */
const RANK: Record<MessageState, number> = { failed: 0, sending: 0, sent: 1, delivered: 2, read: 3 };

export interface VisitorSessionOptions extends ChatSessionOptions {
  /** The organisation's root key in its text form (`sc1...`), as pinned in the embed tag. */
  readonly orgKey: string;
  /**
   * `archive` (default): supervisors can read the history through the archive key, and this browser
   * keeps an encrypted copy of it (docs/visitor-continuity.md).
   * `ephemeral`: no archive share, no share to this device, no local history; what is sent is not
   * kept for re-reading. Only messages not yet stored by the relay are kept locally, until they are.
   */
  readonly mode?: ConversationMode;
}

/**
 * The visitor's side of a chat: an anonymous device identity kept in the store, one conversation
 * per organisation (opened on the first message, resumed on every later page load), and
 * everything encrypted to the devices on the organisation's verified roster. The messages, and
 * what waits to be sent, are kept encrypted in the store so a reload shows them at once and sends
 * what was typed offline exactly once (docs/visitor-continuity.md).
 */
export class VisitorSession extends ChatSession {
  protected readonly isVisitor = true;
  /** A session always runs itself (see {@link VisitorChat.leader}). */
  readonly leader = true;
  private conversation: Conversation | undefined;
  private pointer: ConversationPointer | undefined;
  private online: boolean | undefined;
  /** What {@link messages} shows: stored messages in seq order, then those waiting to be stored. */
  private list: ChatMessage[] = [];
  /** The relay epoch the seqs in {@link list} belong to. */
  private epoch = 0;
  /** Ids of restored outbox items the first catch-up may show as stored already (their ack was lost). */
  private restored: readonly string[] = [];
  /** A stored-state problem found while loading, reported once listeners can hear it. */
  private loadError: SealchatError | undefined;
  /** Writes to the store, one after another. */
  private writes: Promise<void> = Promise.resolve();
  private dirty = false;
  private closed = false;
  private opening: Promise<void> | undefined;
  /** The epoch each entry's seq counts in; seqs of another epoch are not compared. */
  private readonly epochOf = new WeakMap<ChatMessage, number>();
  /** Stored entries loaded from the store and not yet matched by a record processed again. */
  private readonly fromDisk = new WeakSet<ChatMessage>();
  /** Ids the conversation uses for an entry {@link merge} keeps under another id (`seq:<n>` → client id). */
  private readonly alias = new Map<string, string>();

  /**
   * Loads what the store keeps, connects, and resolves once the first connection is set up (so it
   * waits while the relay is unreachable; {@link open} does not).
   * @throws OrgKeyFormatError when `orgKey` is mistyped; RosterError when the relay's roster does not verify.
   */
  static async start(options: VisitorSessionOptions): Promise<VisitorSession> {
    const session = await VisitorSession.load(options);
    await session.connect();
    session.reportLoadError();
    return session;
  }

  /**
   * Loads identity, conversation pointer, local history and unsent messages, starts connecting in the
   * background, and resolves without waiting for the relay. Connection failures are `error` events;
   * a first setup that fails for a reason other than a lost connection or a relay refusal (a roster
   * that does not verify) also stops connecting (`state` becomes `closed`).
   * @throws OrgKeyFormatError when `orgKey` is mistyped; StoredStateError when the stored pointer is corrupt.
   */
  static async open(options: VisitorSessionOptions): Promise<VisitorSession> {
    const session = await VisitorSession.load(options);
    session.begin().catch((error: unknown) => {
      session.emit('error', toSealchatError(error));
      // Not session.close(): what the visitor types next must still be kept for the next page load.
      if (!(error instanceof ConnectionLostError || error instanceof RelayRequestError)) session.connection.close();
    });
    session.reportLoadError();
    return session;
  }

  private static async load(options: VisitorSessionOptions): Promise<VisitorSession> {
    const orgRootKey = await parseOrgKey(options.orgKey);
    const [identity, orgId] = await Promise.all([
      loadOrCreateIdentity(options.store, 'visitor'),
      orgIdFromRootKey(orgRootKey),
    ]);
    const session = new VisitorSession(options, identity, orgRootKey, orgId);
    session.pointer = await loadConversationPointer(options.store, orgId);
    await session.restore();
    return session;
  }

  /** The messages of this visitor's conversation, in order: stored ones by seq, then those being sent. */
  get messages(): readonly ChatMessage[] {
    return this.list;
  }

  /** What the transcript revealed so far: messages the relay dropped, delivered late, or forked. */
  get notices(): readonly TranscriptNotice[] {
    return this.conversation?.notices ?? [];
  }

  /** The conversation id (hex), once there is one (known offline too, from the store). */
  get conversationId(): string | undefined {
    return this.pointer && toHex(this.pointer.conversationId);
  }

  /**
   * Whether an agent of the organisation is online (the relay tells visitors this one bit);
   * undefined until the relay answered. Show "leave a message" when it is false.
   */
  get agentsOnline(): boolean | undefined {
    return this.online;
  }

  /**
   * Queues a message and shows it as `sending`; it is encrypted when its turn comes, and delivered or
   * shown as failed (with {@link retry}). Online, the first message opens the conversation before it
   * resolves; offline, it resolves at once and the conversation is opened when the relay is back
   * (the message's `conversationId` is `''` until then). Given an `id` this session already
   * holds (another tab's send being run again), it returns that message instead of sending twice.
   */
  send(text: string, id?: string): Promise<ChatMessage> {
    return this.queue({ kind: 'text', text, sentAt: Date.now() }, id);
  }

  /** Sends form answers (the pre-chat form), encrypted like a message. Empty answers are left out. */
  sendForm(fields: readonly { name: string; value: string }[], id?: string): Promise<ChatMessage> {
    const answered = fields.filter((f) => f.value.trim() !== '');
    return this.queue({ kind: 'form', fields: answered, sentAt: Date.now() }, id);
  }

  /** Marks the agents' messages so far as read (call it while the chat is visible). */
  markAllRead(): void {
    if (this.conversation) this.markRead(this.conversation.id);
  }

  /** Signals that the visitor is typing (throttled; see {@link ChatSession.typing}). */
  typingNow(): void {
    if (this.conversation) this.typing(this.conversation.id);
  }

  /**
   * The safety code to compare with the agent's (docs/protocol.md §Safety code); undefined until
   * the conversation exists.
   */
  async safetyCode(): Promise<string | undefined> {
    const pointer = this.pointer;
    if (!pointer) return undefined;
    return safetyCode(this.orgRootKey, this.identity.signingPublic, pointer.conversationId);
  }

  /**
   * Erases the conversation: on the relay (every record, for everyone) and in this browser (pointer,
   * local history and its key, unsent messages). The next message starts a new conversation.
   * @throws RelayRequestError when the relay refuses, ConnectionLostError when it is unreachable;
   * nothing is erased locally then.
   */
  async deleteConversation(): Promise<void> {
    const pointer = this.pointer;
    if (pointer) {
      await this.connection.request({
        kind: 'delete-conversation',
        conversationId: pointer.conversationId,
        capability: pointer.capability,
      });
    }
    await this.forget(this.conversationId);
  }

  /** Resolves once every change so far is written to the store (call it after {@link close} to hand over). */
  flush(): Promise<void> {
    return this.writes;
  }

  /** Stops connecting and writing; changes already made are still written (see {@link flush}). */
  override close(): void {
    this.closed = true;
    super.close();
  }

  protected override async onConnected(): Promise<void> {
    const roster = await this.refreshRoster();
    const presence = await this.connection.request({ kind: 'watch-presence', orgId: this.orgId, subscribe: true });
    if (presence.kind === 'presence') this.setOnline(presence.anyoneOnline);
    if (this.pointer) {
      this.conversation ??= this.addConversation(this.pointer, roster);
      await this.attach(this.conversation, this.pointer.capability);
      if (this.connection.state === 'open') this.settleRestored(this.conversation);
    }
    this.outbox.resume();
  }

  protected override onFrame(frame: RelayFrame): void {
    if (frame.kind === 'presence' && frame.requestId === 0 && bytesEqual(frame.orgId, this.orgId)) {
      this.setOnline(frame.anyoneOnline);
      return;
    }
    if (frame.kind === 'conversation-deleted' && this.conversationId === toHex(frame.conversationId)) {
      // Erased from elsewhere (another device, or the organisation's retention): forget it here too.
      void this.forget(this.conversationId).catch((error: unknown) => this.emit('error', toSealchatError(error)));
      return;
    }
    super.onFrame(frame);
  }

  /** Every message event goes through {@link merge}, so what listeners get is what {@link messages} shows. */
  protected override emit<K extends keyof ChatSessionEventMap>(
    type: K,
    detail: ChatSessionEventMap[K]['detail'],
  ): void {
    super.emit(type, type === 'message' ? (this.merge(detail as ChatMessage) as typeof detail) : detail);
  }

  /** A message the conversation does not hold (typed before it was opened, or restored) changes here. */
  protected override changeMessage(
    conversationId: string,
    id: string,
    change: Partial<Pick<ChatMessage, 'seq' | 'state'>>,
  ): void {
    const conversation = this.conversation;
    if (conversation?.messages.some((m) => m.id === id)) return super.changeMessage(conversation.id, id, change);
    const message = this.list.find((m) => m.id === id);
    if (message) this.emit('message', { ...message, ...change });
  }

  /** Opens the conversation when the first item that needs one has its turn (so never before the catch-up). */
  protected override async sealItem(item: OutboxItem): Promise<SealedItem> {
    if (item.conversationId === undefined && !this.conversation) await this.ensureConversation();
    const conversation = this.conversation;
    const { content, id } = item;
    // The conversation tracks the echo and the receipts of what it holds; a restored or early item joins it now.
    if (
      conversation &&
      (content.kind === 'text' || content.kind === 'form') &&
      !conversation.messages.some((m) => m.id === id)
    )
      conversation.draft(content, id);
    return super.sealItem({ ...item, conversationId: item.conversationId ?? conversation?.id });
  }

  private async queue(content: MessageContent | FormContent, id = Outbox.newClientMessageId()): Promise<ChatMessage> {
    const known = this.list.find((m) => m.id === id);
    if (known) return known;
    // A failure here leaves the message to open the conversation in its turn (and fail visibly there).
    if (!this.conversation && this.outbox.sending) await this.ensureConversation().catch(() => undefined);
    const conversation = this.conversation;
    if (conversation) return this.sendContent(conversation, content, id);
    const item = { id, conversationId: this.conversationId, content };
    this.emit('message', draftOf(item.id, item.conversationId ?? '', content));
    this.outbox.enqueue(item);
    return this.list.find((m) => m.id === item.id)!;
  }

  /**
   * Shows the local history and re-queues what was not sent, before anything new. A history that
   * does not decrypt or parse is reported and replaced by a clean start (the relay still has the
   * conversation; only unsent messages are lost then, and the error says so).
   */
  private async restore(): Promise<void> {
    const { store, mode } = this.options as VisitorSessionOptions;
    let local;
    try {
      local = await loadLocalHistory(store, this.orgId);
    } catch (error) {
      this.loadError = toSealchatError(error);
      await deleteLocalHistory(store, this.orgId);
    }
    if (!local) return;
    const id = this.conversationId;
    this.epoch = local.epoch;
    for (const m of local.messages) {
      if (m.seq !== undefined) {
        // Stored messages of another conversation (deleted meanwhile) are not this one's.
        if (local.conversationId !== id || mode === 'ephemeral') continue;
        this.epochOf.set(m, local.epoch);
        this.fromDisk.add(m);
        this.list.push(m);
      } else if (m.conversationId === '' || m.conversationId === id) {
        // Waiting to be sent: back in the outbox, first in line. (Those of a deleted conversation go, as Outbox.discard does.)
        this.list.push({ ...m, state: 'sending' });
        this.outbox.enqueue({ id: m.id, conversationId: m.conversationId || undefined, content: contentOf(m) });
      }
    }
    this.restored = this.outbox.items.map((i) => i.id);
  }

  private reportLoadError(): void {
    const error = this.loadError;
    // After the caller had a chance to listen.
    if (error) setTimeout(() => this.emit('error', error));
  }

  /**
   * After the first catch-up: an unsent item the backlog shows as stored (same text and time, signed
   * by this device) had its ack lost before the reload. It is dropped instead of sealed again, so it
   * is neither stored twice nor leaves a hole in this device's numbered chain. (Ephemeral mode cannot
   * read its own records back, so there the relay's dedupe by client message id does this.)
   */
  private settleRestored(conversation: Conversation): void {
    for (const id of this.restored) {
      const shown = this.list.find((m) => m.id === id);
      const stored =
        shown &&
        conversation.messages.find(
          (m) => m.mine && m.seq !== undefined && m.sentAt === shown.sentAt && m.text === shown.text,
        );
      if (stored && this.outbox.drop(id)) this.emit('message', { ...shown, seq: stored.seq, state: stored.state });
    }
    this.restored = [];
  }

  /**
   * Folds a message into {@link list}: the same id, or the same seq in the same relay epoch (a
   * restored message and its record processed again; an item sent again and acked with a seq already
   * shown), is one message. It keeps a client id over `seq:<n>`, and the furthest delivery state.
   */
  private merge(message: ChatMessage): ChatMessage {
    const conversation = this.conversation;
    if (conversation && conversation.epoch !== this.epoch) {
      // The relay's seqs now count in another database (restored from backup): what the store had
      // under the old numbering comes back, renumbered, as the relay sends everything again.
      this.epoch = conversation.epoch;
      this.list = this.list.filter((m) => !this.fromDisk.has(m));
    }
    const id = this.alias.get(message.id) ?? message.id;
    const same = (m: ChatMessage): boolean =>
      m.id === id || (message.seq !== undefined && m.seq === message.seq && this.epochOf.get(m) === this.epoch);
    const old = this.list.filter(same);
    const at = this.list.findIndex(same);
    const merged: ChatMessage = {
      ...message,
      id: [...old, message].find((m) => !m.id.startsWith('seq:'))?.id ?? id,
      seq: message.seq ?? old.find((m) => m.seq !== undefined)?.seq,
      state: old.reduce((s, m) => (RANK[m.state] > RANK[s] ? m.state : s), message.state),
    };
    if (merged.id !== message.id) this.alias.set(message.id, merged.id);
    this.epochOf.set(merged, this.epoch);
    this.list = this.list.filter((m) => !same(m));
    const seq = merged.seq;
    let index = seq === undefined ? at : this.list.findIndex((m) => m.seq === undefined || m.seq > seq);
    if (index < 0) index = this.list.length;
    this.list.splice(index, 0, merged);
    this.save();
    return merged;
  }

  /**
   * Writes the history soon (changes made meanwhile join the same write): the stored messages of
   * the current epoch (archive mode), and the messages waiting to be sent, which are exactly the
   * entries without a seq, so the outbox is kept with them.
   */
  private save(): void {
    if (this.dirty || this.closed) return;
    this.dirty = true;
    this.write(() => {
      this.dirty = false;
      const { store, mode } = this.options as VisitorSessionOptions;
      const messages = this.list.filter((m) =>
        m.seq === undefined ? true : mode !== 'ephemeral' && this.epochOf.get(m) === this.epoch,
      );
      return messages.length
        ? saveLocalHistory(store, this.orgId, { conversationId: this.conversationId, epoch: this.epoch, messages })
        : deleteLocalHistory(store, this.orgId);
    });
  }

  private write(task: () => Promise<void>): void {
    this.writes = this.writes.then(task).catch((error: unknown) => this.emit('error', toSealchatError(error)));
  }

  private setOnline(online: boolean): void {
    if (this.online === online) return;
    this.online = online;
    this.dispatchEvent(new CustomEvent('presence', { detail: online }));
  }

  private async forget(conversationId: string | undefined): Promise<void> {
    if (this.conversationId !== conversationId) return;
    // Everything goes: what was typed for it too, even before it was opened.
    this.write(() => deleteLocalHistory(this.options.store, this.orgId));
    this.outbox.discard(conversationId);
    this.outbox.discard(undefined);
    if (conversationId) this.conversations.delete(conversationId);
    this.conversation = undefined;
    this.pointer = undefined;
    this.epoch = 0;
    this.list = [];
    this.alias.clear();
    await deleteConversationPointer(this.options.store, this.orgId);
    this.dispatchEvent(new CustomEvent('deleted', { detail: conversationId }));
  }

  /** Opens the conversation once, however many messages wait for it. */
  private ensureConversation(): Promise<void> {
    return (this.opening ??= this.openConversation().finally(() => (this.opening = undefined)));
  }

  private async openConversation(): Promise<void> {
    const answer = await this.connection.request({ kind: 'open-conversation', orgId: this.orgId });
    if (answer.kind !== 'conversation-opened') {
      throw new SealchatError('SEALCHAT_E_BAD_ANSWER', `Expected conversation-opened, got ${answer.kind}`);
    }
    this.pointer = { conversationId: answer.conversationId, capability: answer.capability };
    await saveConversationPointer(this.options.store, this.orgId, this.pointer);
    this.conversation = this.addConversation(this.pointer, this.roster!);
    await this.attach(this.conversation, this.pointer.capability);
  }

  private addConversation(pointer: ConversationPointer, roster: NonNullable<typeof this.roster>): Conversation {
    const options = this.options as VisitorSessionOptions;
    const conversation = new Conversation(pointer.conversationId, this.identity, this.orgId, roster, true, {
      mode: options.mode ?? 'archive',
      ...(options.rotation ? { rotation: options.rotation } : {}),
      ...(options.maxSkip !== undefined ? { maxSkip: options.maxSkip } : {}),
    });
    // Resume from the epoch the local history counts in: a relay restored from backup says `reset`.
    conversation.epoch = this.epoch;
    this.conversations.set(conversation.id, conversation);
    this.emit('conversation', conversation);
    return conversation;
  }
}
