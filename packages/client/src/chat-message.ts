/** How far a message the user sent has got. `failed` always comes with a way to retry. */
export type MessageState = 'sending' | 'sent' | 'failed';

/** One chat message as the UI shows it: plaintext, after decryption and authentication. */
export interface ChatMessage {
  /** Stable local id: the client message id (hex) for our own, `seq:<n>` for others'. */
  readonly id: string;
  readonly conversationId: string;
  /** Relay sequence number, once stored. */
  readonly seq: number | undefined;
  /** Who wrote it, in roles: the conversation's visitor, or an agent device on the roster. */
  readonly author: 'visitor' | 'agent';
  /** The agent's display name from its certificate; undefined for the visitor. */
  readonly authorName: string | undefined;
  /** True when this device sent it. */
  readonly mine: boolean;
  /** Plain text. Render it as text, never as HTML. */
  readonly text: string;
  /** Sender's clock, milliseconds since the Unix epoch. */
  readonly sentAt: number;
  readonly state: MessageState;
}
