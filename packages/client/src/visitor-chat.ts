import type { ConversationMode } from '@sealchat/protocol';
import type { ChatMessage } from './chat-message.js';
import type { TranscriptNotice } from './conversation.js';
import type { ConnectionState } from './relay-connection.js';
import { VisitorSession, type VisitorSessionOptions } from './visitor-session.js';

/**
 * What the widget's panel needs from the visitor's side of a chat. {@link openVisitorChat} returns
 * one; events: `message` (a ChatMessage added or changed), `state`, `transcript`, `typing`,
 * `presence` (boolean: an agent is online), `deleted`, `error`.
 */
export interface VisitorChat extends EventTarget {
  readonly messages: readonly ChatMessage[];
  readonly notices: readonly TranscriptNotice[];
  readonly state: ConnectionState;
  readonly agentsOnline: boolean | undefined;
  readonly conversationId: string | undefined;
  send(text: string): Promise<ChatMessage>;
  sendForm(fields: readonly { name: string; value: string }[]): Promise<ChatMessage>;
  retry(): void;
  markAllRead(): void;
  typingNow(): void;
  safetyCode(): Promise<string | undefined>;
  deleteConversation(): Promise<void>;
  close(): void;
}

export interface VisitorChatOptions extends VisitorSessionOptions {
  readonly mode?: ConversationMode;
}

/** Opens the visitor's chat for an organisation. */
export async function openVisitorChat(options: VisitorChatOptions): Promise<VisitorChat> {
  return VisitorSession.start(options);
}
