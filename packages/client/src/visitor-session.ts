import {
  bytesEqual,
  DEFAULT_MAX_HEAD_AGE_MS,
  loadOrCreateIdentity,
  orgIdFromRootKey,
  parseOrgKey,
  RosterError,
  RosterHeadError,
  safetyCode,
  SealchatError,
  toHex,
  verifyRosterHead,
  type ConversationMode,
  type FormContent,
  type MessageContent,
  type RelayFrame,
  type VerifiedRoster,
} from '@sealchat/protocol';
import type { ChatMessage, MessageState } from './chat-message.js';
import { ChatSession, type ChatSessionEventMap, type ChatSessionOptions } from './chat-session.js';
import {
  deleteConversationPointer,
  deleteTranscriptMark,
  loadConversationPointer,
  saveConversationPointer,
  type ConversationPointer,
} from './client-store.js';
import { Conversation, type TranscriptNotice } from './conversation.js';
import { ConnectionLostError, RelayRequestError, toSealchatError } from './errors.js';
import { contentOf, deleteLocalHistory, draftOf, loadLocalHistory, saveLocalHistory } from './local-history.js';
import { Outbox, type OutboxItem, type SealedItem } from './outbox.js';

/**
 * Key-store name of the visitor's device for one organisation: each organisation on a site sees
 * another device, and an erasure replaces it, so no key links two conversations (docs/key-storage.md).
 */
const deviceName = (orgId: Uint8Array): string => `visitor/${toHex(orgId)}`;

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
  /**
   * The oldest roster head (docs/protocol.md §4.4) under which this visitor shares keys, in ms.
   * Default 4 days (`DEFAULT_MAX_HEAD_AGE_MS`), which a team away for a long weekend still meets;
   * a relay hiding a revocation reaches new visitors for at most this long.
   */
  readonly maxRosterHeadAgeMs?: number | undefined;
  /** Refuse a roster below this version (the embed snippet's `min-roster-version`). Default 0. */
  readonly minRosterVersion?: number | undefined;
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
  private _conversation: Conversation | undefined;
  private _pointer: ConversationPointer | undefined;
  private _online: boolean | undefined;
  /** What {@link messages} shows: stored messages in seq order, then those waiting to be stored. */
  private _list: ChatMessage[] = [];
  /** The relay epoch the seqs in {@link _list} belong to. */
  private _epoch = 0;
  /** Ids of restored outbox items the first catch-up may show as stored already (their ack was lost). */
  private _restored: readonly string[] = [];
  /** A stored-state problem found while loading, reported once listeners can hear it. */
  private _loadError: SealchatError | undefined;
  /** Writes to the store, one after another. */
  private _writes: Promise<void> = Promise.resolve();
  /** The device key being replaced after an erasure; a new conversation waits for it. */
  private _renewal: Promise<void> | undefined;
  private _dirty = false;
  private _closed = false;
  private _opening: Promise<void> | undefined;
  /** The epoch each entry's seq counts in; seqs of another epoch are not compared. */
  private readonly _epochOf = new WeakMap<ChatMessage, number>();
  /** Stored entries loaded from the store and not yet matched by a record processed again. */
  private readonly _fromDisk = new WeakSet<ChatMessage>();
  /** Ids the conversation uses for an entry {@link _merge} keeps under another id (`seq:<n>` → client id). */
  private readonly _alias = new Map<string, string>();
  /** When the newest roster head this session verified was signed; nothing is sealed under a stale one. */
  private _vouchedAt = -Infinity;

  /**
   * Loads what the store keeps, connects, and resolves once the first connection is set up (so it
   * waits while the relay is unreachable; {@link open} does not).
   * @throws OrgKeyFormatError when `orgKey` is mistyped; RosterError when the relay's roster does not verify.
   */
  static async start(options: VisitorSessionOptions): Promise<VisitorSession> {
    const session = await VisitorSession._load(options);
    await session.connect();
    session._reportLoadError();
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
    const session = await VisitorSession._load(options);
    session.begin().catch((error: unknown) => {
      session.emit('error', toSealchatError(error));
      // Not session.close(): what the visitor types next must still be kept for the next page load.
      if (!(error instanceof ConnectionLostError || error instanceof RelayRequestError)) session.connection.close();
    });
    session._reportLoadError();
    return session;
  }

  private static async _load(options: VisitorSessionOptions): Promise<VisitorSession> {
    const { store, maxRosterHeadAgeMs: age, minRosterVersion: min } = options;
    if (!((age ?? 1) > 0)) throw new TypeError(`maxRosterHeadAgeMs must be above 0, not ${age}`);
    if (!Number.isSafeInteger(min ?? 0) || min! < 0)
      throw new TypeError(`minRosterVersion must be a whole number, not ${min}`);
    const orgRootKey = await parseOrgKey(options.orgKey);
    const orgId = await orgIdFromRootKey(orgRootKey);
    const pointer = await loadConversationPointer(store, orgId);
    const name = deviceName(orgId);
    // A conversation opened while one key served every organisation of the site goes on with it
    // until erased: its readers know the visitor by that key.
    const legacy =
      pointer && !(await store.getKeyPair(`${name}/signing`)) && (await store.getKeyPair('visitor/signing'));
    const identity = await loadOrCreateIdentity(store, legacy ? 'visitor' : name);
    const session = new VisitorSession(options, identity, orgRootKey, orgId);
    session._pointer = pointer;
    await session._restore();
    return session;
  }

  /** The messages of this visitor's conversation, in order: stored ones by seq, then those being sent. */
  get messages(): readonly ChatMessage[] {
    return this._list;
  }

  /** What the transcript revealed so far: messages the relay dropped, delivered late, or forked. */
  get notices(): readonly TranscriptNotice[] {
    return this._conversation?.notices ?? [];
  }

  /** The conversation id (hex), once there is one (known offline too, from the store). */
  get conversationId(): string | undefined {
    return this._pointer && toHex(this._pointer.conversationId);
  }

  /**
   * Whether an agent of the organisation is online (the relay tells visitors this one bit);
   * undefined until the relay answered. Show "leave a message" when it is false.
   */
  get agentsOnline(): boolean | undefined {
    return this._online;
  }

  /**
   * Queues a message and shows it as `sending`; it is encrypted when its turn comes, and delivered or
   * shown as failed (with {@link retry}). Online, the first message opens the conversation before it
   * resolves; offline, it resolves at once and the conversation is opened when the relay is back
   * (the message's `conversationId` is `''` until then). Given an `id` this session already
   * holds (another tab's send being run again), it returns that message instead of sending twice.
   */
  send(text: string, id?: string): Promise<ChatMessage> {
    return this._queue({ kind: 'text', text, sentAt: Date.now() }, id);
  }

  /** Sends form answers (the pre-chat form), encrypted like a message. Empty answers are left out. */
  sendForm(fields: readonly { name: string; value: string }[], id?: string): Promise<ChatMessage> {
    const answered = fields.filter((f) => f.value.trim() !== '');
    return this._queue({ kind: 'form', fields: answered, sentAt: Date.now() }, id);
  }

  /** Marks the agents' messages so far as read (call it while the chat is visible). */
  markAllRead(): void {
    if (this._conversation) this.markRead(this._conversation.id);
  }

  /** Signals that the visitor is typing (throttled; see {@link ChatSession.typing}). */
  typingNow(): void {
    if (this._conversation) this.typing(this._conversation.id);
  }

  /**
   * The safety code to compare with the agent's (docs/protocol.md §Safety code); undefined until
   * the conversation exists.
   */
  async safetyCode(): Promise<string | undefined> {
    const pointer = this._pointer;
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
    const pointer = this._pointer;
    // Named now: the relay's `conversation-deleted` push may forget it before the answer arrives,
    // and forgetting twice would renew the device twice, at once.
    const conversationId = this.conversationId;
    if (pointer) {
      await this.connection.request({
        kind: 'delete-conversation',
        conversationId: pointer.conversationId,
        capability: pointer.capability,
      });
    }
    await this._forget(conversationId);
  }

  /** Resolves once every change so far is written to the store (call it after {@link close} to hand over). */
  flush(): Promise<void> {
    return this._writes;
  }

  /** Stops connecting and writing; changes already made are still written (see {@link flush}). */
  override close(): void {
    this._closed = true;
    super.close();
  }

  protected override async onConnected(): Promise<void> {
    const roster = await this.refreshRoster();
    await this._confirm(roster);
    const presence = await this.connection.request({ kind: 'watch-presence', orgId: this.orgId, subscribe: true });
    if (presence.kind === 'presence') this._setOnline(presence.anyoneOnline);
    if (this._pointer) {
      this._conversation ??= this._addConversation(this._pointer, roster);
      await this.attach(this._conversation, this._pointer.capability);
      if (this.connection.state === 'open') this._settleRestored(this._conversation);
    }
    this.outbox.resume();
  }

  protected override onFrame(frame: RelayFrame): void {
    if (frame.kind === 'presence' && frame.requestId === 0 && bytesEqual(frame.orgId, this.orgId)) {
      this._setOnline(frame.anyoneOnline);
      return;
    }
    if (frame.kind === 'conversation-deleted' && this.conversationId === toHex(frame.conversationId)) {
      // Erased from elsewhere (another device, or the organisation's retention): forget it here too.
      void this._forget(this.conversationId).catch((error: unknown) => this.emit('error', toSealchatError(error)));
      return;
    }
    super.onFrame(frame);
  }

  /** Every message event goes through {@link _merge}, so what listeners get is what {@link messages} shows. */
  protected override emit<K extends keyof ChatSessionEventMap>(
    type: K,
    detail: ChatSessionEventMap[K]['detail'],
  ): void {
    super.emit(type, type === 'message' ? (this._merge(detail as ChatMessage) as typeof detail) : detail);
  }

  /** A message the conversation does not hold (typed before it was opened, or restored) changes here. */
  protected override changeMessage(
    conversationId: string,
    id: string,
    change: Partial<Pick<ChatMessage, 'seq' | 'state'>>,
  ): void {
    const conversation = this._conversation;
    if (conversation?.messages.some((m) => m.id === id)) return super.changeMessage(conversation.id, id, change);
    const message = this._list.find((m) => m.id === id);
    if (message) this.emit('message', { ...message, ...change });
  }

  /** Opens the conversation when the first item that needs one has its turn (so never before the catch-up). */
  protected override async sealItem(item: OutboxItem): Promise<SealedItem> {
    // A page open for days: the head checked at connect time has aged, so ask again before sharing keys.
    const { maxRosterHeadAgeMs = DEFAULT_MAX_HEAD_AGE_MS } = this.options as VisitorSessionOptions;
    if (Date.now() - this._vouchedAt > maxRosterHeadAgeMs)
      await this._confirm(this.roster!).catch((error: unknown) => {
        this.emit('error', toSealchatError(error));
        throw error;
      });
    if (item.conversationId === undefined && !this._conversation) await this._ensureConversation();
    const conversation = this._conversation;
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

  /**
   * Shares keys only under a roster someone who administers the organisation recently called current
   * (docs/protocol.md §4.4): a relay may still hold a roster from before a revocation.
   * @throws RosterHeadError (or StaleRosterHeadError) when the relay has no such head; RosterError
   *   for a roster below `minRosterVersion`.
   */
  private async _confirm(roster: VerifiedRoster): Promise<void> {
    const { maxRosterHeadAgeMs, minRosterVersion = 0 } = this.options as VisitorSessionOptions;
    if (roster.version < minRosterVersion)
      throw new RosterError(`Roster version ${roster.version} is below ${minRosterVersion}`);
    const answer = await this.connection
      .request({ kind: 'get-roster-head', orgId: this.orgId })
      .catch((error: unknown) => {
        // None published, or a relay too old to keep one: nothing vouches for the roster.
        throw error instanceof RelayRequestError ? new RosterHeadError(error.message, { cause: error }) : error;
      });
    if (answer.kind !== 'roster-head') throw new RosterHeadError(`Expected a roster head, got ${answer.kind}`);
    const head = await verifyRosterHead(answer.head, {
      orgRootKey: this.orgRootKey,
      roster,
      now: Date.now(),
      maxAgeMs: maxRosterHeadAgeMs,
    });
    this._vouchedAt = head.signedAt;
  }

  private async _queue(content: MessageContent | FormContent, id = Outbox.newClientMessageId()): Promise<ChatMessage> {
    const known = this._list.find((m) => m.id === id);
    if (known) return known;
    // A failure here leaves the message to open the conversation in its turn (and fail visibly there).
    if (!this._conversation && this.outbox.sending) await this._ensureConversation().catch(() => undefined);
    const conversation = this._conversation;
    if (conversation) return this.sendContent(conversation, content, id);
    const item = { id, conversationId: this.conversationId, content };
    this.emit('message', draftOf(item.id, item.conversationId ?? '', content));
    this.outbox.enqueue(item);
    return this._list.find((m) => m.id === item.id)!;
  }

  /**
   * Shows the local history and re-queues what was not sent, before anything new. A history that
   * does not decrypt or parse is reported and replaced by a clean start (the relay still has the
   * conversation; only unsent messages are lost then, and the error says so).
   */
  private async _restore(): Promise<void> {
    const { store, mode } = this.options as VisitorSessionOptions;
    let local;
    try {
      local = await loadLocalHistory(store, this.orgId);
    } catch (error) {
      this._loadError = toSealchatError(error);
      await deleteLocalHistory(store, this.orgId);
    }
    if (!local) return;
    const id = this.conversationId;
    this._epoch = local.epoch;
    for (const m of local.messages) {
      if (m.seq !== undefined) {
        // Stored messages of another conversation (deleted meanwhile) are not this one's.
        if (local.conversationId !== id || mode === 'ephemeral') continue;
        this._epochOf.set(m, local.epoch);
        this._fromDisk.add(m);
        this._list.push(m);
      } else if (m.conversationId === '' || m.conversationId === id) {
        // Waiting to be sent: back in the outbox, first in line. (Those of a deleted conversation go, as Outbox.discard does.)
        this._list.push({ ...m, state: 'sending' });
        this.outbox.enqueue({ id: m.id, conversationId: m.conversationId || undefined, content: contentOf(m) });
      }
    }
    this._restored = this.outbox.items.map((i) => i.id);
  }

  private _reportLoadError(): void {
    const error = this._loadError;
    // After the caller had a chance to listen.
    if (error) setTimeout(() => this.emit('error', error));
  }

  /**
   * After the first catch-up: an unsent item the backlog shows as stored (same text and time, signed
   * by this device) had its ack lost before the reload. It is dropped instead of sealed again, so it
   * is neither stored twice nor leaves a hole in this device's numbered chain. (Ephemeral mode cannot
   * read its own records back, so there the relay's dedupe by client message id does this.)
   */
  private _settleRestored(conversation: Conversation): void {
    for (const id of this._restored) {
      const shown = this._list.find((m) => m.id === id);
      const stored =
        shown &&
        conversation.messages.find(
          (m) => m.mine && m.seq !== undefined && m.sentAt === shown.sentAt && m.text === shown.text,
        );
      if (stored && this.outbox.drop(id)) this.emit('message', { ...shown, seq: stored.seq, state: stored.state });
    }
    this._restored = [];
  }

  /**
   * Folds a message into {@link _list}: the same id, or the same seq in the same relay epoch (a
   * restored message and its record processed again; an item sent again and acked with a seq already
   * shown), is one message. It keeps a client id over `seq:<n>`, and the furthest delivery state.
   */
  private _merge(message: ChatMessage): ChatMessage {
    const conversation = this._conversation;
    if (conversation && conversation.epoch !== this._epoch) {
      // The relay's seqs now count in another database (restored from backup): what the store had
      // under the old numbering comes back, renumbered, as the relay sends everything again.
      this._epoch = conversation.epoch;
      this._list = this._list.filter((m) => !this._fromDisk.has(m));
    }
    const id = this._alias.get(message.id) ?? message.id;
    const same = (m: ChatMessage): boolean =>
      m.id === id || (message.seq !== undefined && m.seq === message.seq && this._epochOf.get(m) === this._epoch);
    const old = this._list.filter(same);
    const at = this._list.findIndex(same);
    const merged: ChatMessage = {
      ...message,
      id: [...old, message].find((m) => !m.id.startsWith('seq:'))?.id ?? id,
      seq: message.seq ?? old.find((m) => m.seq !== undefined)?.seq,
      state: old.reduce((s, m) => (RANK[m.state] > RANK[s] ? m.state : s), message.state),
    };
    if (merged.id !== message.id) this._alias.set(message.id, merged.id);
    this._epochOf.set(merged, this._epoch);
    this._list = this._list.filter((m) => !same(m));
    const seq = merged.seq;
    let index = seq === undefined ? at : this._list.findIndex((m) => m.seq === undefined || m.seq > seq);
    if (index < 0) index = this._list.length;
    this._list.splice(index, 0, merged);
    this._save();
    return merged;
  }

  /**
   * Writes the history soon (changes made meanwhile join the same write): the stored messages of
   * the current epoch (archive mode), and the messages waiting to be sent, which are exactly the
   * entries without a seq, so the outbox is kept with them.
   */
  private _save(): void {
    if (this._dirty || this._closed) return;
    this._dirty = true;
    this._write(() => {
      this._dirty = false;
      const { store, mode } = this.options as VisitorSessionOptions;
      const messages = this._list.filter((m) =>
        m.seq === undefined ? true : mode !== 'ephemeral' && this._epochOf.get(m) === this._epoch,
      );
      return messages.length
        ? saveLocalHistory(store, this.orgId, { conversationId: this.conversationId, epoch: this._epoch, messages })
        : deleteLocalHistory(store, this.orgId);
    });
  }

  private _write(task: () => Promise<void>): void {
    this._writes = this._writes.then(task).catch((error: unknown) => this.emit('error', toSealchatError(error)));
  }

  private _setOnline(online: boolean): void {
    if (this._online === online) return;
    this._online = online;
    this.dispatchEvent(new CustomEvent('presence', { detail: online }));
  }

  private async _forget(conversationId: string | undefined): Promise<void> {
    if (this.conversationId !== conversationId) return;
    // Everything goes: what was typed for it too, even before it was opened.
    this._write(() => deleteLocalHistory(this.options.store, this.orgId));
    if (conversationId) this._write(() => deleteTranscriptMark(this.options.store, conversationId));
    this.outbox.discard(conversationId);
    this.outbox.discard(undefined);
    if (conversationId) this.conversations.delete(conversationId);
    this._conversation = undefined;
    this._pointer = undefined;
    this._epoch = 0;
    this._list = [];
    this._alias.clear();
    // A new device for the next conversation, so nothing links it to the one erased.
    await Promise.all([deleteConversationPointer(this.options.store, this.orgId), this._renew()]);
    this.dispatchEvent(new CustomEvent('deleted', { detail: conversationId }));
  }

  private _renew(): Promise<void> {
    const { store } = this.options;
    const name = deviceName(this.orgId);
    // One renewal at a time: two interleaved would store the halves of two different devices.
    const before = this._renewal?.catch(() => undefined);
    return (this._renewal = (async () => {
      await before;
      await Promise.all([store.deleteKeyPair(`${name}/signing`), store.deleteKeyPair(`${name}/agreement`)]);
      this.renewIdentity(await loadOrCreateIdentity(store, name));
    })());
  }

  /** Opens the conversation once, however many messages wait for it. */
  private _ensureConversation(): Promise<void> {
    return (this._opening ??= this._openConversation().finally(() => (this._opening = undefined)));
  }

  private async _openConversation(): Promise<void> {
    // Not with the device of a conversation just erased (a renewal that failed is tried again).
    await this._renewal?.catch(() => this._renew());
    const answer = await this.connection.request({ kind: 'open-conversation', orgId: this.orgId });
    if (answer.kind !== 'conversation-opened') {
      throw new SealchatError('SEALCHAT_E_BAD_ANSWER', `Expected conversation-opened, got ${answer.kind}`);
    }
    this._pointer = { conversationId: answer.conversationId, capability: answer.capability };
    await saveConversationPointer(this.options.store, this.orgId, this._pointer);
    this._conversation = this._addConversation(this._pointer, this.roster!);
    await this.attach(this._conversation, this._pointer.capability);
  }

  private _addConversation(pointer: ConversationPointer, roster: NonNullable<typeof this.roster>): Conversation {
    const options = this.options as VisitorSessionOptions;
    const conversation = new Conversation(pointer.conversationId, this.identity, this.orgId, roster, true, {
      mode: options.mode ?? 'archive',
      ...(options.rotation ? { rotation: options.rotation } : {}),
      ...(options.maxSkip !== undefined ? { maxSkip: options.maxSkip } : {}),
    });
    // Resume from the epoch the local history counts in: a relay restored from backup says `reset`.
    conversation.epoch = this._epoch;
    this.conversations.set(conversation.id, conversation);
    this.emit('conversation', conversation);
    return conversation;
  }
}
