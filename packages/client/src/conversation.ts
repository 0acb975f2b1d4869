import {
  decodeContent,
  encodeContent,
  envelopeTypeOf,
  EnvelopeType,
  SecureConversation,
  toHex,
  type ConversationMode,
  type FormContent,
  type MessageChainContent,
  type MessageContent,
  type ReceiptContent,
  type Received,
  type DeviceIdentity,
  type RotationPolicy,
  type SealchatError,
  type TranscriptEvent,
  type VerifiedRoster,
} from '@sealchat/protocol';
import type { ChatMessage, MessageState } from './chat-message.js';

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

/** The other side is typing (shown for a few seconds after `sentAt`). */
export interface TypingSignal {
  readonly conversationId: string;
  /** The agent's name; undefined for the visitor. */
  readonly authorName: string | undefined;
  readonly sentAt: number;
}

/** What one record did to a conversation. */
export interface Accepted {
  /** Messages added, or changed by a receipt or an echo. */
  readonly messages: ChatMessage[];
  readonly notices: TranscriptNotice[];
  typing?: TypingSignal;
  /**
   * A payload this class does not show, undecoded: a control envelope (type 5) or a note (type 7,
   * which only AgentSecureConversation opens). Agent sessions read them (agent-session.ts).
   */
  payload?: Extract<Received, { kind: 'payload' }>;
}

/** Delivery states in order; a message only moves forward (failed → sending again on retry). */
const RANK: Record<MessageState, number> = { failed: 0, sending: 0, sent: 1, delivered: 2, read: 3 };

function textAndFields(content: MessageContent | FormContent): Pick<ChatMessage, 'text' | 'fields'> {
  return content.kind === 'text'
    ? { text: content.text, fields: undefined }
    : { text: content.fields.map((f) => `${f.name}: ${f.value}`).join('\n'), fields: content.fields };
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
  /** The conversation's security state; agent sessions seal their control envelopes with it directly. */
  readonly secure: SecureConversation;
  /** Our own envelopes posted but not yet seen back, by digest → message id. */
  protected readonly ownPending = new Map<string, string>();
  /** Highest seq of a message from the other side (visitor ↔ agents). */
  private theirLastSeq = 0;
  /** How far this side (this device or, for agents, a colleague) has said `read` / `delivered`. */
  private readByUs = 0;
  private deliveredByUs = 0;

  constructor(
    readonly conversationId: Uint8Array<ArrayBuffer>,
    private readonly me: DeviceIdentity,
    orgId: Uint8Array<ArrayBuffer>,
    private roster: VerifiedRoster,
    private readonly iAmVisitor: boolean,
    options: ConversationOptions = {},
    /** Made by a subclass instead (agents: AgentSecureConversation); must be for this conversation and device. */
    secure?: SecureConversation,
  ) {
    this.id = toHex(conversationId);
    this.secure = secure ?? new SecureConversation({ me, orgId, conversationId, roster, iAmVisitor, ...options });
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
   * Processes one stored record. Returns the messages it added or changed (a receipt changes the
   * state of ours), a typing signal, and what the transcript revealed.
   * @throws SealchatError when the record is forged, replayed, misplaced or undecryptable.
   */
  async accept(seq: number, bytes: Uint8Array): Promise<Accepted> {
    const result: Accepted = { messages: [], notices: [] };
    if (seq <= this.lastSeq) return result;
    this.lastSeq = seq;
    const { received, events } = await this.secure.receive(bytes);
    for (const e of events)
      result.notices.push({ conversationId: this.id, seq, kind: e.kind, senderDeviceId: toHex(e.senderDeviceId) });
    this.notices.push(...result.notices);
    if (received.kind === 'own-echo') {
      const id = this.ownPending.get(received.digest);
      if (id === undefined) return result;
      this.ownPending.delete(received.digest);
      const message = this.update(id, { seq, state: 'sent' });
      if (message) result.messages.push(message);
      return result;
    }
    // Nothing to show: a key share, or a note hidden from this visitor.
    if (received.kind !== 'payload') return result;
    // Team coordination (claims, closing; type 5) and notes (type 7): for agent sessions to read
    // (AgentConversation); not decoded here.
    if (received.type >= EnvelopeType.control) {
      result.payload = received;
      return result;
    }
    const content = decodeContent(received.plaintext, received.type);
    const fromVisitor = received.sender.role === 'visitor';
    const ourSide = fromVisitor === this.iAmVisitor;
    if (content.kind === 'typing') {
      if (!ourSide)
        result.typing = { conversationId: this.id, authorName: received.sender.displayName, sentAt: content.sentAt };
      return result;
    }
    if (content.kind === 'receipt') {
      if (ourSide) {
        // Ours (this device or a colleague): what this side has already acknowledged.
        if (content.status === 'read') this.readByUs = Math.max(this.readByUs, content.upToSeq);
        this.deliveredByUs = Math.max(this.deliveredByUs, content.upToSeq);
        return result;
      }
      const state = content.status === 'read' ? 'read' : 'delivered';
      for (const m of this.messages) {
        if (m.mine && m.seq !== undefined && m.seq <= content.upToSeq && RANK[m.state] < RANK[state]) {
          const changed = this.update(m.id, { state });
          if (changed) result.messages.push(changed);
        }
      }
      return result;
    }
    const message: ChatMessage = {
      id: `seq:${seq}`,
      conversationId: this.id,
      seq,
      author: fromVisitor ? 'visitor' : 'agent',
      authorName: received.sender.displayName,
      mine: received.sender.mine,
      ...textAndFields(content),
      sentAt: content.sentAt,
      state: 'sent',
    };
    this.messages.push(message);
    if (!ourSide) this.theirLastSeq = seq;
    result.messages.push(message);
    return result;
  }

  /** Adds a message this device is about to send (state `sending`) to the list, before it is sealed. */
  draft(content: MessageContent | FormContent, clientMessageId: string): ChatMessage {
    const myCert = this.roster.devices.find((d) => toHex(d.deviceId) === toHex(this.me.deviceId));
    const message: ChatMessage = {
      id: clientMessageId,
      conversationId: this.id,
      seq: undefined,
      author: this.iAmVisitor ? 'visitor' : 'agent',
      authorName: myCert?.displayName,
      mine: true,
      ...textAndFields(content),
      sentAt: content.sentAt,
      state: 'sending',
    };
    this.messages.push(message);
    return message;
  }

  /**
   * Encrypts content for everyone who may read this conversation (a key share first when the chain
   * rotates). The payload's echo will mark message `clientMessageId` sent, if there is one.
   */
  async seal(content: MessageChainContent, clientMessageId?: string): Promise<Uint8Array<ArrayBuffer>[]> {
    const sealed = await this.secure.seal(envelopeTypeOf(content), encodeContent(content));
    return sealed.map((s) => {
      if (clientMessageId !== undefined && s.type !== EnvelopeType.keyShare)
        this.ownPending.set(s.digest, clientMessageId);
      return s.envelope;
    });
  }

  /**
   * The receipt this device should send now, if any: `read` (or `delivered`) up to the other side's
   * latest message, unless this side already acknowledged that far.
   */
  receiptDue(status: 'delivered' | 'read'): ReceiptContent | undefined {
    const upTo = this.theirLastSeq;
    const done = status === 'read' ? this.readByUs : Math.max(this.readByUs, this.deliveredByUs);
    if (upTo <= done) return undefined;
    if (status === 'read') this.readByUs = upTo;
    this.deliveredByUs = Math.max(this.deliveredByUs, upTo);
    return { kind: 'receipt', status, upToSeq: upTo, sentAt: Date.now() };
  }

  /** Messages of the other side this side has not marked read yet. */
  get unread(): number {
    const ours = this.iAmVisitor ? 'visitor' : 'agent';
    return this.messages.filter((m) => m.author !== ours && (m.seq ?? 0) > this.readByUs).length;
  }

  /** The visitor's signing key as this conversation pinned it (the visitor's own, on the visitor's side). */
  get visitorSigningKey(): Uint8Array<ArrayBuffer> | undefined {
    return this.secure.visitor?.signingPublic;
  }

  /** Changes a message's delivery state (or seq) and returns the new value. */
  update(id: string, change: Partial<Pick<ChatMessage, 'seq' | 'state'>>): ChatMessage | undefined {
    const index = this.messages.findIndex((m) => m.id === id);
    if (index < 0) return undefined;
    const current = this.messages[index]!;
    // Once the relay has stored it, a late timeout must not mark it failed; states never go back.
    if (change.state && current.state !== 'failed' && RANK[change.state] < RANK[current.state]) return current;
    const updated = { ...current, ...change };
    this.messages[index] = updated;
    return updated;
  }
}
