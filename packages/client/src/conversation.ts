import {
  decodeContent,
  encodeContent,
  EnvelopeType,
  SecureConversation,
  toHex,
  type ConversationMode,
  type DeviceIdentity,
  type RotationPolicy,
  type SealchatError,
  type TranscriptEvent,
  type VerifiedRoster,
} from '@sealchat/protocol';
import type { ChatMessage } from './chat-message.js';

/** A record a conversation could not accept; surfaced as an event, never a crash. */
export interface ConversationProblem {
  readonly conversationId: string;
  readonly seq: number;
  readonly error: SealchatError;
}

/** What the transcript revealed about a record: a drop, a late arrival, or a fork (protocol §Transcript). */
export interface TranscriptNotice {
  readonly conversationId: string;
  readonly seq: number;
  readonly kind: TranscriptEvent['kind'];
  readonly senderDeviceId: string;
}

/** An envelope ready to post; `message` is set for a chat message, absent for a key share. */
export interface OutgoingEnvelope {
  readonly envelope: Uint8Array<ArrayBuffer>;
  readonly message?: ChatMessage;
}

export interface ConversationOptions {
  readonly mode?: ConversationMode;
  readonly rotation?: RotationPolicy;
  readonly maxSkip?: number;
}

/**
 * One conversation as the UI sees it: the decrypted messages with their delivery states. The
 * security decisions are all {@link SecureConversation}'s; this class maps its results to
 * {@link ChatMessage}s. Records must be fed in relay sequence order.
 */
export class Conversation {
  readonly id: string;
  readonly messages: ChatMessage[] = [];
  /** Highest relay sequence number processed, within {@link epoch}. */
  lastSeq = 0;
  /** The relay database's epoch these sequence numbers belong to; 0 until the relay said. */
  epoch = 0;
  /** Everything the transcript revealed so far (drops, late arrivals, forks), for the UI to show. */
  readonly notices: TranscriptNotice[] = [];
  private readonly secure: SecureConversation;
  /** Our own envelopes posted but not yet seen back, by digest → message id. */
  private readonly ownPending = new Map<string, string>();

  constructor(
    readonly conversationId: Uint8Array<ArrayBuffer>,
    private readonly me: DeviceIdentity,
    orgId: Uint8Array<ArrayBuffer>,
    private roster: VerifiedRoster,
    private readonly iAmVisitor: boolean,
    options: ConversationOptions = {},
  ) {
    this.id = toHex(conversationId);
    this.secure = new SecureConversation({ me, orgId, conversationId, roster, iAmVisitor, ...options });
  }

  updateRoster(roster: VerifiedRoster): void {
    this.roster = roster;
    this.secure.updateRoster(roster);
  }

  /** True once the visitor has introduced itself (agents can reply only then). */
  get hasVisitor(): boolean {
    return this.secure.visitor !== undefined;
  }

  get mode(): ConversationMode | undefined {
    return this.secure.mode;
  }

  /**
   * Processes one stored record. Returns the message it added or updated, if any, and what the
   * transcript revealed.
   * @throws SealchatError when the record is forged, replayed, misplaced or undecryptable.
   */
  async accept(seq: number, bytes: Uint8Array): Promise<{ message?: ChatMessage; notices: TranscriptNotice[] }> {
    if (seq <= this.lastSeq) return { notices: [] };
    this.lastSeq = seq;
    const { received, events } = await this.secure.receive(bytes);
    const notices = events.map((e) => ({
      conversationId: this.id,
      seq,
      kind: e.kind,
      senderDeviceId: toHex(e.senderDeviceId),
    }));
    this.notices.push(...notices);
    if (received.kind === 'own-echo') {
      const id = this.ownPending.get(received.digest);
      if (id === undefined) return { notices };
      this.ownPending.delete(received.digest);
      const message = this.update(id, { seq, state: 'sent' });
      return message ? { message, notices } : { notices };
    }
    if (received.kind !== 'payload' || received.type !== EnvelopeType.message) return { notices };
    const content = decodeContent(received.plaintext);
    const message: ChatMessage = {
      id: `seq:${seq}`,
      conversationId: this.id,
      seq,
      author: received.sender.role === 'visitor' ? 'visitor' : 'agent',
      authorName: received.sender.displayName,
      mine: received.sender.mine,
      text: content.text,
      sentAt: content.sentAt,
      state: 'sent',
    };
    this.messages.push(message);
    return { message, notices };
  }

  /** Encrypts `text` for everyone who may read this conversation (a key share first when the chain rotates). */
  async seal(text: string, clientMessageId: string): Promise<OutgoingEnvelope[]> {
    const sentAt = Date.now();
    const sealed = await this.secure.seal(EnvelopeType.message, encodeContent({ kind: 'text', text, sentAt }));
    const myCert = this.roster.devices.find((d) => toHex(d.deviceId) === toHex(this.me.deviceId));
    const message: ChatMessage = {
      id: clientMessageId,
      conversationId: this.id,
      seq: undefined,
      author: this.iAmVisitor ? 'visitor' : 'agent',
      authorName: myCert?.displayName,
      mine: true,
      text,
      sentAt,
      state: 'sending',
    };
    this.messages.push(message);
    return sealed.map((s) => {
      if (s.type !== EnvelopeType.message) return { envelope: s.envelope };
      this.ownPending.set(s.digest, clientMessageId);
      return { envelope: s.envelope, message };
    });
  }

  /** Changes a message's delivery state (or seq) and returns the new value. */
  update(id: string, change: Partial<Pick<ChatMessage, 'seq' | 'state'>>): ChatMessage | undefined {
    const index = this.messages.findIndex((m) => m.id === id);
    if (index < 0) return undefined;
    const current = this.messages[index]!;
    // Once the relay has stored it, a late timeout must not mark it failed.
    if (change.state === 'failed' && current.state === 'sent') return current;
    const updated = { ...current, ...change };
    this.messages[index] = updated;
    return updated;
  }
}
