import {
  decodeContent,
  decodeEnvelope,
  encodeContent,
  envelopeTypeOf,
  EnvelopeType,
  fromHex,
  MAX_RECEIPT_HEADS,
  SecureConversation,
  toHex,
  type ConversationMode,
  type FormContent,
  type MessageChainContent,
  type MessageContent,
  type ReceiptContent,
  type ReceiptHead,
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

/**
 * What the transcript revealed about a record: a drop, a late arrival, a fork, a tail trimmed since
 * the last load (protocol §8), or `refused`: a record the relay served that was not accepted
 * (forged, misplaced, replayed under another digest or undecryptable; the `problem` event says why).
 */
export interface TranscriptNotice {
  readonly conversationId: string;
  readonly seq: number;
  readonly kind: TranscriptEvent['kind'] | 'refused';
  /** Hex; empty for a refused record, whose sender is not known. */
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
  /** Where each message sits in its sender's numbered chain, by message id (receipts name those places). */
  private readonly positions = new Map<string, { readonly device: string; readonly senderSeq: number }>();
  /** Per sender of the other side (device id, hex): the senderSeq of its latest message. */
  private readonly theirLatest = new Map<string, number>();
  /** Per sender of the other side: how far this side (this device or, for agents, a colleague) said `read` / `delivered`. */
  private readonly readAck = new Map<string, number>();
  private readonly deliveredAck = new Map<string, number>();

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
    const { senderDeviceId, senderSeq } = decodeEnvelope(bytes);
    result.notices.push(...this.report(events));
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
      const me = toHex(this.me.deviceId);
      const state = content.status === 'read' ? 'read' : 'delivered';
      for (const head of content.heads) {
        const device = toHex(head.deviceId);
        if (ourSide) {
          // Ours (this device or a colleague): what this side has already acknowledged.
          if (state === 'read') bump(this.readAck, device, head.senderSeq);
          bump(this.deliveredAck, device, head.senderSeq);
          continue;
        }
        // Only a head that is exactly this device's envelope at that number marks anything: a relay
        // that dropped or swapped our envelopes makes the other side name a place we never wrote.
        if (device !== me || this.secure.digestAt(this.me.deviceId, head.senderSeq) !== toHex(head.digest)) continue;
        for (const m of this.messages) {
          const at = this.positions.get(m.id);
          if (m.mine && at?.device === me && at.senderSeq <= head.senderSeq && RANK[m.state] < RANK[state]) {
            const changed = this.update(m.id, { state });
            if (changed) result.messages.push(changed);
          }
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
    const device = toHex(senderDeviceId);
    this.positions.set(message.id, { device, senderSeq });
    if (!ourSide) bump(this.theirLatest, device, senderSeq);
    result.messages.push(message);
    return result;
  }

  /**
   * Records what the transcript revealed, at the current {@link lastSeq}, in {@link notices}, and
   * returns it as notices for the UI (a `trimmed` tail is found after a catch-up, not in a record).
   */
  report(events: readonly TranscriptEvent[]): TranscriptNotice[] {
    const notices = events.map((e) => ({
      conversationId: this.id,
      seq: this.lastSeq,
      kind: e.kind,
      senderDeviceId: toHex(e.senderDeviceId),
    }));
    this.notices.push(...notices);
    return notices;
  }

  /** Records that the record at `seq` was refused, so the UI can say so (not only a `problem` event). */
  refused(seq: number): TranscriptNotice {
    const notice = { conversationId: this.id, seq, kind: 'refused' as const, senderDeviceId: '' };
    this.notices.push(notice);
    return notice;
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
      if (clientMessageId !== undefined && s.type !== EnvelopeType.keyShare) {
        this.ownPending.set(s.digest, clientMessageId);
        this.positions.set(clientMessageId, { device: toHex(this.me.deviceId), senderSeq: s.senderSeq });
      }
      return s.envelope;
    });
  }

  /**
   * The receipt this device should send now, if any: `read` (or `delivered`) for each sender of the
   * other side with a message this side has not acknowledged that far. It names how far this device
   * holds that sender's envelopes without a hole (docs/protocol.md §7), never a relay seq.
   */
  receiptDue(status: 'delivered' | 'read'): ReceiptContent | undefined {
    const heads: ReceiptHead[] = [];
    for (const [device, latest] of this.theirLatest) {
      const done = Math.max(
        this.readAck.get(device) ?? -1,
        status === 'read' ? -1 : (this.deliveredAck.get(device) ?? -1),
      );
      const held = latest > done ? this.secure.heldThrough(fromHex(device)) : undefined;
      if (!held || held.senderSeq <= done || heads.length === MAX_RECEIPT_HEADS) continue;
      heads.push({ deviceId: fromHex(device), senderSeq: held.senderSeq, digest: fromHex(held.digest) });
      if (status === 'read') bump(this.readAck, device, held.senderSeq);
      bump(this.deliveredAck, device, held.senderSeq);
    }
    return heads.length ? { kind: 'receipt', status, heads, sentAt: Date.now() } : undefined;
  }

  /** Messages of the other side this side has not marked read yet. */
  get unread(): number {
    const ours = this.iAmVisitor ? 'visitor' : 'agent';
    return this.messages.filter((m) => {
      const at = this.positions.get(m.id);
      return m.author !== ours && at !== undefined && at.senderSeq > (this.readAck.get(at.device) ?? -1);
    }).length;
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

/** Raises `map`'s value for `key` to `value` (never lowers it). */
function bump(map: Map<string, number>, key: string, value: number): void {
  if (value > (map.get(key) ?? -1)) map.set(key, value);
}
