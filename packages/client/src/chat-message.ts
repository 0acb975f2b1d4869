/**
 * How far a message the user sent has got: `sent` once the relay stored it, `delivered` once a
 * device of the other side received it, `read` once the other side showed it. `failed` always comes
 * with a way to retry. A message only moves forward.
 */
export type MessageState = 'sending' | 'sent' | 'delivered' | 'read' | 'failed';

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
  /** Plain text. Render it as text, never as HTML. For a form, its answers as `name: value` lines. */
  readonly text: string;
  /** Set for a form (the visitor's pre-chat answers): the fields as asked. Text too, never HTML. */
  readonly fields: readonly { readonly name: string; readonly value: string }[] | undefined;
  /** Sender's clock, milliseconds since the Unix epoch. */
  readonly sentAt: number;
  readonly state: MessageState;
  /**
   * True for a private note: written by an agent for the organisation's readers, never readable by
   * the visitor (`AgentSession.addNote`). Absent on everything else, and on everything a visitor has.
   */
  readonly note?: boolean;
  /**
   * True for a message or note of a device no longer on the roster, read under the roster of its
   * time (`authorName` is the name it had then). Only agent sessions set it; a visitor never holds
   * one. A relay colluding with the revoked device could add such messages (docs/protocol.md §13):
   * show them marked, e.g. "Sam (former member)".
   */
  readonly former?: boolean;
}
