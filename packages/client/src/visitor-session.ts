import {
  loadOrCreateIdentity,
  orgIdFromRootKey,
  parseOrgKey,
  SealchatError,
  type ConversationMode,
} from '@sealchat/protocol';
import type { ChatMessage } from './chat-message.js';
import { ChatSession, type ChatSessionOptions } from './chat-session.js';
import { loadConversationPointer, saveConversationPointer, type ConversationPointer } from './client-store.js';
import { Conversation, type TranscriptNotice } from './conversation.js';

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
  private conversation: Conversation | undefined;
  private pointer: ConversationPointer | undefined;

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

  /** Encrypts and queues a message; it is delivered or shows as failed (with {@link retry}). */
  async send(text: string): Promise<ChatMessage> {
    await this.started;
    if (!this.conversation) await this.openConversation();
    return this.sendText(this.conversation!, text);
  }

  protected override async onConnected(): Promise<void> {
    const roster = await this.refreshRoster();
    if (this.pointer) {
      this.conversation ??= this.addConversation(this.pointer, roster);
      await this.attach(this.conversation, this.pointer.capability);
    }
    this.outbox.resume();
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
