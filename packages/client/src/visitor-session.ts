import {
  bytesEqual,
  loadOrCreateIdentity,
  orgIdFromRootKey,
  parseOrgKey,
  safetyCode,
  SealchatError,
  toHex,
  type ConversationMode,
  type RelayFrame,
} from '@sealchat/protocol';
import type { ChatMessage } from './chat-message.js';
import { ChatSession, type ChatSessionOptions } from './chat-session.js';
import {
  deleteConversationPointer,
  loadConversationPointer,
  saveConversationPointer,
  type ConversationPointer,
} from './client-store.js';
import { Conversation, type TranscriptNotice } from './conversation.js';
import { toSealchatError } from './errors.js';

export interface VisitorSessionOptions extends ChatSessionOptions {
  /** The organisation's root key in its text form (`sc1...`), as pinned in the embed tag. */
  readonly orgKey: string;
  /**
   * `archive` (default): supervisors can read the history through the archive key.
   * `ephemeral`: no archive share, no share to this device; what is sent is not kept for re-reading.
   */
  readonly mode?: ConversationMode;
}

/**
 * The visitor's side of a chat: an anonymous device identity kept in the store, one conversation
 * per organisation (opened on the first message, resumed on every later page load), and
 * everything encrypted to the devices on the organisation's verified roster.
 */
export class VisitorSession extends ChatSession {
  protected readonly isVisitor = true;
  private conversation: Conversation | undefined;
  private pointer: ConversationPointer | undefined;
  private online: boolean | undefined;

  /**
   * Connects and resumes the visitor's conversation, if there is one.
   * @throws OrgKeyFormatError when `orgKey` is mistyped; RosterError when the relay's roster does not verify.
   */
  static async start(options: VisitorSessionOptions): Promise<VisitorSession> {
    const orgRootKey = await parseOrgKey(options.orgKey);
    const [identity, orgId] = await Promise.all([
      loadOrCreateIdentity(options.store, 'visitor'),
      orgIdFromRootKey(orgRootKey),
    ]);
    const session = new VisitorSession(options, identity, orgRootKey, orgId);
    session.pointer = await loadConversationPointer(options.store, orgId);
    await session.connect();
    return session;
  }

  /** The messages of this visitor's conversation, in order. */
  get messages(): readonly ChatMessage[] {
    return this.conversation?.messages ?? [];
  }

  /** What the transcript revealed so far: messages the relay dropped, delivered late, or forked. */
  get notices(): readonly TranscriptNotice[] {
    return this.conversation?.notices ?? [];
  }

  /** The conversation id (hex), once there is one. */
  get conversationId(): string | undefined {
    return this.conversation?.id;
  }

  /**
   * Whether an agent of the organisation is online (the relay tells visitors this one bit);
   * undefined until the relay answered. Show "leave a message" when it is false.
   */
  get agentsOnline(): boolean | undefined {
    return this.online;
  }

  /** Encrypts and queues a message; it is delivered or shows as failed (with {@link retry}). */
  async send(text: string): Promise<ChatMessage> {
    return this.sendContent(await this.ensureConversation(), { kind: 'text', text, sentAt: Date.now() });
  }

  /** Sends form answers (the pre-chat form), encrypted like a message. Empty answers are left out. */
  async sendForm(fields: readonly { name: string; value: string }[]): Promise<ChatMessage> {
    const answered = fields.filter((f) => f.value.trim() !== '');
    return this.sendContent(await this.ensureConversation(), { kind: 'form', fields: answered, sentAt: Date.now() });
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
    const conversation = this.conversation;
    if (!conversation) return undefined;
    return safetyCode(this.orgRootKey, this.identity.signingPublic, conversation.conversationId);
  }

  /**
   * Erases the conversation: on the relay (every record, for everyone) and in this browser. The next
   * message starts a new conversation.
   * @throws RelayRequestError when the relay refuses; nothing is erased locally then.
   */
  async deleteConversation(): Promise<void> {
    await this.started;
    const pointer = this.pointer;
    if (!pointer) return;
    await this.connection.request({
      kind: 'delete-conversation',
      conversationId: pointer.conversationId,
      capability: pointer.capability,
    });
    await this.forget(toHex(pointer.conversationId));
  }

  protected override async onConnected(): Promise<void> {
    const roster = await this.refreshRoster();
    const presence = await this.connection.request({ kind: 'watch-presence', orgId: this.orgId, subscribe: true });
    if (presence.kind === 'presence') this.setOnline(presence.anyoneOnline);
    if (this.pointer) {
      this.conversation ??= this.addConversation(this.pointer, roster);
      await this.attach(this.conversation, this.pointer.capability);
    }
    this.outbox.resume();
  }

  protected override onFrame(frame: RelayFrame): void {
    if (frame.kind === 'presence' && frame.requestId === 0 && bytesEqual(frame.orgId, this.orgId)) {
      this.setOnline(frame.anyoneOnline);
      return;
    }
    if (frame.kind === 'conversation-deleted' && this.conversation?.id === toHex(frame.conversationId)) {
      // Erased from elsewhere (another tab, or the organisation's retention): forget it here too.
      void this.forget(this.conversation.id).catch((error: unknown) => this.emit('error', toSealchatError(error)));
      return;
    }
    super.onFrame(frame);
  }

  private setOnline(online: boolean): void {
    if (this.online === online) return;
    this.online = online;
    this.dispatchEvent(new CustomEvent('presence', { detail: online }));
  }

  private async forget(conversationId: string): Promise<void> {
    if (this.conversation?.id !== conversationId) return;
    this.outbox.discard(conversationId);
    this.conversations.delete(conversationId);
    this.conversation = undefined;
    this.pointer = undefined;
    await deleteConversationPointer(this.options.store, this.orgId);
    this.dispatchEvent(new CustomEvent('deleted', { detail: conversationId }));
  }

  private async ensureConversation(): Promise<Conversation> {
    await this.started;
    if (!this.conversation) await this.openConversation();
    return this.conversation!;
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
    this.conversations.set(conversation.id, conversation);
    this.emit('conversation', conversation);
    return conversation;
  }
}
