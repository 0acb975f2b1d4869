import {
  bytesEqual,
  decodeContent,
  decodeEnvelope,
  encodeContent,
  EnvelopeType,
  openKeyShare,
  openMessage,
  readKeyShareIntro,
  ReceivingChain,
  sealKeyShare,
  sealMessage,
  SealchatError,
  SendingChain,
  toHex,
  verifyEnvelope,
  type DeviceIdentity,
  type PublicDevice,
  type VerifiedRoster,
} from '@sealchat/protocol';
import type { ChatMessage } from './chat-message.js';

/** Something a conversation could not accept; surfaced as an event, never a crash. */
export interface ConversationProblem {
  readonly conversationId: string;
  readonly seq: number;
  readonly error: SealchatError;
}

interface Sender {
  readonly role: 'visitor' | 'agent';
  readonly name: string | undefined;
  readonly signingPublic: Uint8Array<ArrayBuffer>;
}

/** An envelope ready to post, with the id the relay will dedupe retries by. */
export interface OutgoingEnvelope {
  readonly envelope: Uint8Array<ArrayBuffer>;
  /** Present for a chat message, absent for a key share. */
  readonly message?: ChatMessage;
}

/**
 * The cryptographic state of one conversation, seen from one device: who may write in it, the
 * receiving chain of every sender, this device's sending chain, and the decrypted messages.
 * Records must be fed in relay sequence order; {@link accept} is not re-entrant.
 *
 * Trust: an agent is a device on the verified roster; the visitor is the one non-roster device
 * whose key share comes first in the conversation. Anyone else is rejected.
 */
export class Conversation {
  readonly id: string;
  readonly messages: ChatMessage[] = [];
  lastSeq = 0;
  private visitor: PublicDevice | undefined;
  private readonly chains = new Map<string, { chain: ReceivingChain; sender: Sender }>();
  private sending: { chain: SendingChain; recipients: Set<string> } | undefined;
  /** Our own messages posted but not yet seen back from the relay, by chain id and index. */
  private readonly ownPending = new Map<string, string>();

  constructor(
    readonly conversationId: Uint8Array<ArrayBuffer>,
    private readonly me: DeviceIdentity,
    private readonly orgId: Uint8Array<ArrayBuffer>,
    private roster: VerifiedRoster,
    /** Whether this device is the visitor of this conversation. */
    private readonly iAmVisitor: boolean,
  ) {
    this.id = toHex(conversationId);
    if (iAmVisitor) this.visitor = me;
  }

  updateRoster(roster: VerifiedRoster): void {
    this.roster = roster;
  }

  /** True once the visitor has introduced itself (agents can reply only then). */
  get hasVisitor(): boolean {
    return this.visitor !== undefined;
  }

  /**
   * Processes one stored record. Returns the message it added or updated, if any.
   * @throws SealchatError when the record is forged, replayed, misplaced or undecryptable.
   */
  async accept(seq: number, bytes: Uint8Array): Promise<ChatMessage | undefined> {
    if (seq <= this.lastSeq) return undefined;
    this.lastSeq = seq;
    const envelope = decodeEnvelope(bytes);
    if (!bytesEqual(envelope.conversationId, this.conversationId)) {
      throw new SealchatError('SEALCHAT_E_WRONG_CONVERSATION', 'Envelope belongs to another conversation');
    }
    if (envelope.type === EnvelopeType.keyShare) {
      await this.acceptKeyShare(envelope);
      return undefined;
    }
    const chainKey = toHex(envelope.chainId);
    const pendingId = this.ownPending.get(`${chainKey}:${envelope.index}`);
    if (pendingId && bytesEqual(envelope.senderDeviceId, this.me.deviceId)) {
      this.ownPending.delete(`${chainKey}:${envelope.index}`);
      return this.update(pendingId, { seq, state: 'sent' });
    }
    const entry = this.chains.get(chainKey);
    if (!entry) throw new SealchatError('SEALCHAT_E_NO_CHAIN', 'Message on a chain with no key share');
    await verifyEnvelope(envelope, entry.sender.signingPublic);
    const key = await entry.chain.take(envelope.index);
    const content = decodeContent(await openMessage(envelope, key));
    const mine = bytesEqual(envelope.senderDeviceId, this.me.deviceId);
    const message: ChatMessage = {
      id: `seq:${seq}`,
      conversationId: this.id,
      seq,
      author: entry.sender.role,
      authorName: entry.sender.name,
      mine,
      text: content.text,
      sentAt: content.sentAt,
      state: 'sent',
    };
    this.messages.push(message);
    return message;
  }

  private async acceptKeyShare(envelope: ReturnType<typeof decodeEnvelope>): Promise<void> {
    const intro = await readKeyShareIntro(envelope);
    const cert = this.roster.devices.find((d) => bytesEqual(d.deviceId, envelope.senderDeviceId));
    let sender: Sender;
    if (cert) {
      if (!bytesEqual(cert.signingPublic, intro.senderSigningPublic)) {
        throw new SealchatError('SEALCHAT_E_UNTRUSTED_SENDER', 'Key share keys do not match the roster');
      }
      sender = { role: 'agent', name: cert.displayName, signingPublic: cert.signingPublic };
    } else {
      if (!this.visitor) {
        this.visitor = {
          deviceId: envelope.senderDeviceId,
          signingPublic: intro.senderSigningPublic,
          agreementPublic: intro.senderAgreementPublic,
        };
      } else if (
        !bytesEqual(this.visitor.deviceId, envelope.senderDeviceId) ||
        !bytesEqual(this.visitor.agreementPublic, intro.senderAgreementPublic)
      ) {
        throw new SealchatError(
          'SEALCHAT_E_UNTRUSTED_SENDER',
          'Key share from a device that is neither the visitor nor on the roster',
        );
      }
      sender = { role: 'visitor', name: undefined, signingPublic: intro.senderSigningPublic };
    }
    const opened = await openKeyShare(envelope, this.me, this.orgId);
    this.chains.set(toHex(opened.chainId), { chain: new ReceivingChain(opened.chainId, opened.seed), sender });
  }

  /**
   * Encrypts `text` for everyone who may read this conversation. When the set of readers changed
   * (or there is no chain yet), a fresh chain starts and its key share is returned first.
   */
  async seal(text: string, clientMessageId: string): Promise<OutgoingEnvelope[]> {
    const recipients = this.recipients();
    const recipientKey = (d: PublicDevice) => toHex(d.deviceId);
    const out: OutgoingEnvelope[] = [];
    const current = this.sending;
    if (!current || recipients.some((d) => !current.recipients.has(recipientKey(d)))) {
      const chain = SendingChain.create();
      const envelope = await sealKeyShare({
        sender: this.me,
        binding: {
          orgId: this.orgId,
          conversationId: this.conversationId,
          chainId: chain.chainId,
          rosterVersion: this.roster.version,
        },
        seed: chain.chainSeed,
        recipients,
      });
      this.sending = { chain, recipients: new Set(recipients.map(recipientKey)) };
      out.push({ envelope });
    }
    const { chain } = this.sending!;
    const sentAt = Date.now();
    const messageKey = await chain.nextMessageKey();
    const envelope = await sealMessage({
      sender: this.me,
      conversationId: this.conversationId,
      chainId: chain.chainId,
      messageKey,
      plaintext: encodeContent({ kind: 'text', text, sentAt }),
    });
    this.ownPending.set(`${toHex(chain.chainId)}:${messageKey.index}`, clientMessageId);
    const myCert = this.roster.devices.find((d) => bytesEqual(d.deviceId, this.me.deviceId));
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
    out.push({ envelope, message });
    return out;
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

  /** Every device that gets our chain seed: the roster, the visitor, and this device itself (to read its own history after a reload). */
  private recipients(): PublicDevice[] {
    const all = new Map<string, PublicDevice>();
    for (const d of this.roster.devices) all.set(toHex(d.deviceId), d);
    if (this.visitor) all.set(toHex(this.visitor.deviceId), this.visitor);
    all.set(toHex(this.me.deviceId), this.me);
    return [...all.values()];
  }
}
