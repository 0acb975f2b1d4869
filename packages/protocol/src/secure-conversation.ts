import { bytesEqual, fromHex, toHex } from './bytes.js';
import type { VerifiedCertificate } from './certificate.js';
import {
  decodeEnvelope,
  envelopeDigest,
  EnvelopeType,
  openKeyShare,
  openPayload,
  readKeyShareIntro,
  sealKeyShare,
  sealPayload,
  verifyEnvelope,
  ZERO_LINK,
  type ConversationMode,
  type Envelope,
  type KeyShareType,
  type MessageChainType,
  type PayloadType,
  type ShareOpener,
  type TranscriptLink,
} from './envelope.js';
import {
  ArchiveShareError,
  ConversationModeError,
  NoChainError,
  ReplayError,
  UntrustedSenderError,
  WrongConversationError,
} from './errors.js';
import { deviceIdFromSigningKey, type DeviceIdentity, type PublicDevice, type Recipient } from './identity.js';
import { rosterReaders, type VerifiedRoster } from './roster.js';
import { ReceivingChain, SendingChain } from './sender-chain.js';

/** When a sender starts a new chain besides roster changes (docs/protocol.md §Rotation). */
export interface RotationPolicy {
  /** Messages per chain. Default 100. */
  readonly maxMessages?: number;
  /** Age of a chain, in milliseconds. Default one hour. */
  readonly maxAgeMs?: number;
}

export interface SecureConversationOptions {
  readonly me: DeviceIdentity;
  readonly orgId: Uint8Array<ArrayBuffer>;
  readonly conversationId: Uint8Array<ArrayBuffer>;
  readonly roster: VerifiedRoster;
  /** Whether this device is the conversation's visitor (else it is a roster device). */
  readonly iAmVisitor: boolean;
  /** The mode a visitor starts the conversation in. Agents follow the visitor's. Default `archive`. */
  readonly mode?: ConversationMode;
  readonly rotation?: RotationPolicy;
  /** Keys a receiver may derive ahead for out-of-order delivery. Default 1000. */
  readonly maxSkip?: number;
  /** Clock, for rotation by age. */
  readonly now?: () => number;
}

/** Who wrote an envelope, as far as the roster (or the visitor's pin) says. */
export interface SenderInfo {
  readonly deviceId: Uint8Array<ArrayBuffer>;
  readonly role: 'visitor' | 'agent' | 'supervisor';
  /** From the certificate; undefined for the visitor. */
  readonly displayName: string | undefined;
  readonly mine: boolean;
  /**
   * True for a device no longer on the roster, accepted (by `AgentSecureConversation`, from a past
   * roster) as the writer of a chain it began while it was a member; absent otherwise.
   */
  readonly former?: boolean;
}

/** What a received envelope turned out to be. */
export type Received =
  | { readonly kind: 'key-share'; readonly sender: SenderInfo }
  | {
      readonly kind: 'payload';
      readonly type: PayloadType;
      readonly sender: SenderInfo;
      readonly plaintext: Uint8Array<ArrayBuffer>;
    }
  /** This device's own envelope coming back from the relay; `digest` matches what {@link SecureConversation.seal} returned. */
  | { readonly kind: 'own-echo'; readonly digest: string }
  /** This device's own payload from an earlier session that it cannot read (ephemeral mode keeps no self share). */
  | { readonly kind: 'own-unreadable'; readonly type: PayloadType }
  /**
   * A note key share or note of the agents (types 6, 7), as a visitor (or any plain
   * SecureConversation) receives it: signed by a roster device and placed in its transcript, never
   * opened. `AgentSecureConversation` reads notes.
   */
  | { readonly kind: 'hidden' };

/**
 * What a sender's transcript revealed (docs/protocol.md §8). `gap`: envelopes of that sender were
 * skipped (dropped, or still to come). `reorder`: a skipped one arrived late. `fork`: two different
 * envelopes claim one place, or a hash link disagrees with its neighbour (a forged branch, or two
 * sessions of one device writing at once). `trimmed`: the relay's history ends before a head this
 * device held on an earlier load ({@link SecureConversation.checkExtends}).
 */
export interface TranscriptEvent {
  readonly kind: 'gap' | 'reorder' | 'fork' | 'trimmed';
  readonly senderDeviceId: Uint8Array<ArrayBuffer>;
}

/** A sealed envelope ready to post, with the digest its echo will carry. */
export interface Sealed {
  readonly envelope: Uint8Array<ArrayBuffer>;
  readonly digest: string;
  readonly type: EnvelopeType;
  /** Its place in this device's numbered chain (docs/protocol.md §7). */
  readonly senderSeq: number;
}

/** A chain this device sends on, and what it was started for (rotation, docs/protocol.md §6). */
export interface SendingState {
  readonly chain: SendingChain;
  readonly rosterVersion: number;
  /** Recipient ids (hex) its key share went to. */
  readonly recipients: Set<string>;
  readonly startedAt: number;
}

/**
 * Where this device's own numbered chain stands in a conversation (docs/protocol.md §7): the
 * senderSeq and digest (hex) of the last envelope it wrote. A device keeps it in its store and gives
 * it back after a reload, so a relay that withholds its last envelopes cannot make it reuse a number.
 */
export interface OwnHead {
  readonly senderSeq: number;
  readonly digest: string;
}

/** One sender's transcript as this device has seen it. */
interface TranscriptState {
  /** Highest senderSeq accepted, -1 before any. */
  highest: number;
  /** Every senderSeq from 0 to this one is accepted (-1: not even 0). Advanced lazily by {@link SecureConversation.heldThrough}. */
  through: number;
  /** Digest of each accepted envelope, by senderSeq. */
  readonly digests: Map<number, string>;
  /** What the envelope at senderSeq + 1 said the digest at senderSeq must be. */
  readonly expected: Map<number, string>;
  /** senderSeqs skipped over and not yet arrived. */
  readonly missing: Set<number>;
}

/** How many missing envelopes per sender are remembered; beyond it, the oldest are forgotten. */
const MAX_MISSING = 10_000;

interface KnownSender extends SenderInfo {
  readonly signingPublic: Uint8Array<ArrayBuffer>;
}

/**
 * One conversation's end-to-end security, for one device: who may write (the verified roster and
 * the conversation's visitor), every sender's chain, this device's own chain with its rotation
 * policy, replay and duplicate rejection, and the per-sender hash chain that exposes drops and
 * reorders. Feed it envelopes in relay order through {@link receive}; it is not re-entrant.
 *
 * Trust rules (docs/protocol.md §Who may write):
 * - a roster device writes under the keys in its certificate, only while it is on the roster;
 * - the visitor is the first non-roster device with a key share in the conversation, pinned
 *   from then on; the visitor itself pins its own identity from the start;
 * - the visitor's first key share (or this device's own) pins the conversation's mode; a share in
 *   another mode is refused from then on.
 */
export class SecureConversation {
  readonly conversationId: Uint8Array<ArrayBuffer>;
  protected readonly me: DeviceIdentity;
  protected readonly orgId: Uint8Array<ArrayBuffer>;
  protected roster: VerifiedRoster;
  private readonly _iAmVisitor: boolean;
  private _visitorDevice: PublicDevice | undefined;
  protected pinnedMode: ConversationMode | undefined;
  private readonly _ownMode: ConversationMode;
  protected readonly maxMessages: number;
  protected readonly maxAgeMs: number;
  protected readonly maxSkip: number;
  protected readonly now: () => number;
  /** Receiving chains of message key shares (type 1), by {@link chainKey}. */
  protected readonly chains = new Map<string, ReceivingChain>();
  private readonly _transcripts = new Map<string, TranscriptState>();
  private readonly _accepted = new Set<string>();
  private readonly _sent = new Set<string>();
  /** This device's sending chains, by the type of key share that begins them (messages 1, notes 6). */
  private readonly _sending = new Map<KeyShareType, SendingState>();
  /** This device's own head from before a reload ({@link restoreOwnHead}); later numbers go past it. */
  private _ownFloor: OwnHead | undefined;

  constructor(options: SecureConversationOptions) {
    this.me = options.me;
    this.orgId = options.orgId;
    this.conversationId = options.conversationId;
    this.roster = options.roster;
    this._iAmVisitor = options.iAmVisitor;
    this._ownMode = options.mode ?? 'archive';
    this.maxMessages = options.rotation?.maxMessages ?? 100;
    this.maxAgeMs = options.rotation?.maxAgeMs ?? 60 * 60 * 1000;
    this.maxSkip = options.maxSkip ?? 1000;
    this.now = options.now ?? Date.now;
    if (this._iAmVisitor) this._visitorDevice = this.me;
  }

  /** The conversation's mode, once a key share pinned it (the visitor knows its own from the start). */
  get mode(): ConversationMode | undefined {
    return this.pinnedMode ?? (this._iAmVisitor ? this._ownMode : undefined);
  }

  /** The visitor, once known. Agents can write only then. */
  get visitor(): PublicDevice | undefined {
    return this._visitorDevice;
  }

  /**
   * Pins the conversation's visitor as this device saw it open the conversation on an earlier load
   * (agents keep it in their store): the relay cannot then introduce another "visitor" by serving
   * a forged opening record first (docs/protocol.md §8 step 4).
   * @throws UntrustedSenderError when another visitor is pinned already.
   */
  pinVisitor(visitor: PublicDevice): void {
    const pinned = this._visitorDevice;
    if (pinned && !bytesEqual(pinned.signingPublic, visitor.signingPublic))
      throw new UntrustedSenderError('Another visitor is pinned in this conversation');
    this._visitorDevice ??= visitor;
  }

  /** A newer verified roster: later chains go to its readers; senders no longer on it are refused. */
  updateRoster(roster: VerifiedRoster): void {
    this.roster = roster;
  }

  /**
   * The last envelope this device wrote here, as sealed now or read back from the history; or the
   * head given to {@link restoreOwnHead}, if that is further. Persist it before posting what
   * {@link seal} returned.
   */
  get ownHead(): OwnHead | undefined {
    const state = this._transcript(this.me.deviceId);
    const floor = this._ownFloor;
    if (floor && floor.senderSeq >= state.highest) return floor;
    const digest = state.digests.get(state.highest);
    return digest === undefined ? undefined : { senderSeq: state.highest, digest };
  }

  /**
   * Gives back the head this device persisted before a reload: its next envelope is numbered past
   * it and linked to it, whatever the relay serves (a relay that withholds the tail cannot make an
   * honest sender reuse a number and look like a fork, docs/protocol.md §7). The caller parsed it
   * (a u32 and a 32-byte digest in hex).
   */
  restoreOwnHead(head: OwnHead): void {
    if (!this._ownFloor || head.senderSeq > this._ownFloor.senderSeq) this._ownFloor = head;
  }

  /**
   * How far this device holds `deviceId`'s envelopes without a hole: every number from 0 to the
   * head's `senderSeq` is accepted (and hash-linked), the last with the head's digest. What a
   * receipt names (docs/protocol.md §7). Undefined before that sender's envelope 0.
   */
  heldThrough(deviceId: Uint8Array): OwnHead | undefined {
    const state = this._transcripts.get(toHex(deviceId));
    if (!state) return undefined;
    while (state.digests.has(state.through + 1)) state.through++;
    const digest = state.digests.get(state.through);
    return digest === undefined ? undefined : { senderSeq: state.through, digest };
  }

  /** The digest (hex) of `deviceId`'s envelope at `senderSeq`, if this device accepted (or wrote) it. */
  digestAt(deviceId: Uint8Array, senderSeq: number): string | undefined {
    return this._transcripts.get(toHex(deviceId))?.digests.get(senderSeq);
  }

  /**
   * The furthest envelope this device accepted of every other sender, by device id (hex): what a
   * device keeps between loads, to check with {@link checkExtends} that the relay's next history
   * still reaches it. Not {@link heldThrough}: a tail held above a hole must not go missing unseen.
   */
  get heads(): Map<string, OwnHead> {
    const out = new Map<string, OwnHead>();
    const mine = toHex(this.me.deviceId);
    for (const [key, state] of this._transcripts) {
      const digest = key === mine ? undefined : state.digests.get(state.highest);
      if (digest !== undefined) out.set(key, { senderSeq: state.highest, digest });
    }
    return out;
  }

  /**
   * After the history is read, checks that it extends the heads this device held on an earlier
   * load ({@link heads}): a sender whose envelopes now stop short of its head was `trimmed` (the
   * relay cut the tail between sessions); one whose envelope at that number has another digest
   * is a `fork`. A hole below a later envelope was already a `gap` as it was read.
   */
  checkExtends(heads: ReadonlyMap<string, OwnHead>): TranscriptEvent[] {
    const events: TranscriptEvent[] = [];
    for (const [device, head] of heads) {
      const deviceId = fromHex(device);
      const digest = this.digestAt(deviceId, head.senderSeq);
      const highest = this._transcripts.get(device)?.highest ?? -1;
      if (digest !== undefined && digest !== head.digest) events.push({ kind: 'fork', senderDeviceId: deviceId });
      // A hole below a later envelope was reported as a `gap` while reading; a history that no
      // longer reaches the head at all lost its tail.
      else if (highest < head.senderSeq) events.push({ kind: 'trimmed', senderDeviceId: deviceId });
    }
    return events;
  }

  /**
   * Authenticates, places and decrypts one stored envelope.
   * @throws DecodeError, WrongConversationError, ReplayError, UntrustedSenderError, SignatureError,
   *   ConversationModeError, NoChainError, ChainIndexError, OpenError — the envelope is then ignored,
   *   and the conversation's state is as if it never arrived.
   */
  async receive(bytes: Uint8Array): Promise<{ received: Received; events: TranscriptEvent[] }> {
    const envelope = decodeEnvelope(bytes);
    if (!bytesEqual(envelope.conversationId, this.conversationId)) {
      throw new WrongConversationError('Envelope belongs to another conversation');
    }
    const digest = await envelopeDigest(envelope.bytes);
    const digestHex = toHex(digest);
    if (this._accepted.has(digestHex)) throw new ReplayError('Envelope already received');
    const mine = bytesEqual(envelope.senderDeviceId, this.me.deviceId);
    if (mine && this._sent.has(digestHex)) {
      this._accepted.add(digestHex);
      return { received: { kind: 'own-echo', digest: digestHex }, events: [] };
    }

    const sender = await this._authenticate(envelope);
    let received = await this.receiveOther(envelope, sender, mine);
    if (received) {
      // Taken by receiveOther (a note).
    } else if (envelope.type === EnvelopeType.keyShare) {
      const intro = readKeyShareIntro(envelope);
      if (this.pinnedMode !== undefined && intro.mode !== this.pinnedMode) {
        throw new ConversationModeError(`Key share in ${intro.mode} mode in a ${this.pinnedMode} conversation`);
      }
      if (this._iAmVisitor && !mine && intro.mode !== this._ownMode) {
        throw new ConversationModeError(`Key share in ${intro.mode} mode; this visitor chose ${this._ownMode}`);
      }
      this.checkArchiveShare(intro.mode, intro.recipients);
      const chainKey = this.chainKey(envelope.senderDeviceId, envelope.chainId);
      const opener = this.opener(intro.recipients);
      if (opener) {
        const seed = await openKeyShare(envelope, opener, this.orgId);
        this.chains.set(chainKey, new ReceivingChain(envelope.chainId, seed, { maxSkip: this.maxSkip }));
      }
      // The visitor chooses the mode: its key shares set it (or this device's own, sealed in it),
      // never one of another sender that the relay served first (docs/protocol.md §8 step 6).
      if (sender.role === 'visitor' || mine) this.pinnedMode ??= intro.mode;
      if (!this._visitorDevice && sender.role === 'visitor') {
        this._visitorDevice = {
          deviceId: envelope.senderDeviceId,
          signingPublic: intro.senderSigningPublic,
          agreementPublic: intro.senderAgreementPublic,
        };
      }
      received = { kind: 'key-share', sender };
    } else {
      const chain = this.chains.get(this.chainKey(envelope.senderDeviceId, envelope.chainId));
      if (!chain) {
        if (!mine) throw new NoChainError('Payload on a chain with no key share for this device');
        received = { kind: 'own-unreadable', type: envelope.type as MessageChainType };
      } else {
        const key = await chain.take(envelope.index);
        let plaintext: Uint8Array<ArrayBuffer>;
        try {
          plaintext = await openPayload(envelope, key);
        } catch (error) {
          chain.giveBack(key);
          throw error;
        }
        received = { kind: 'payload', type: envelope.type as MessageChainType, sender, plaintext };
      }
    }
    this._accepted.add(digestHex);
    return { received, events: this._place(envelope, digest) };
  }

  /**
   * Receives, after authentication, what this class does not: here the notes (types 6, 7, whose
   * sender is a roster device), which a visitor, or any plain SecureConversation, places unopened.
   * Undefined lets the envelope go on as a key share or payload. `AgentSecureConversation` reads
   * notes here; an override must throw, never change state, when it refuses an envelope.
   */
  /* eslint-disable @typescript-eslint/no-unused-vars -- the override (AgentSecureConversation) uses them */
  protected receiveOther(
    envelope: Envelope,
    sender: SenderInfo,
    mine: boolean,
  ): Received | undefined | Promise<Received | undefined> {
    return envelope.type > EnvelopeType.control ? { kind: 'hidden' } : undefined;
  }
  /* eslint-enable @typescript-eslint/no-unused-vars */

  /**
   * Refuses an `archive`-mode key share that leaves out the roster's archive key: a hostile or
   * buggy sender could otherwise make its chain unarchivable without anyone noticing.
   * @throws ArchiveShareError
   */
  protected checkArchiveShare(mode: ConversationMode, recipients: readonly Uint8Array[]): void {
    const archive = this.roster.archive;
    if (mode === 'archive' && archive && !recipients.some((r) => bytesEqual(r, archive.deviceId)))
      throw new ArchiveShareError('An archive-mode key share leaves out the archive key');
  }

  /** Who opens a key share listing `recipients`: this device when it is one. */
  protected opener(recipients: readonly Uint8Array[]): ShareOpener | undefined {
    return recipients.some((r) => bytesEqual(r, this.me.deviceId)) ? this.me : undefined;
  }

  /**
   * Encrypts a payload for everyone who may read the conversation. Starts a new chain first (and
   * returns its key share before the payload) when there is none, the roster changed, a new reader
   * appeared, or the rotation policy says so.
   * @throws UntrustedSenderError when an agent writes before the visitor introduced itself.
   */
  async seal(type: MessageChainType, plaintext: Uint8Array<ArrayBuffer>): Promise<Sealed[]> {
    return this.sealOn(type, plaintext);
  }

  /**
   * Seals `plaintext` as `type` on this device's chain begun by key shares of `shareType`, first
   * starting a new one, its key share to {@link recipients} returned before the payload, when
   * there is none, the roster changed, a new reader appeared, or the rotation policy says so.
   * Serves the message chain ({@link seal}) and the note chain (`AgentSecureConversation.sealNote`).
   * @throws UntrustedSenderError before the visitor introduced itself.
   */
  protected async sealOn(
    type: PayloadType,
    plaintext: Uint8Array<ArrayBuffer>,
    shareType: KeyShareType = EnvelopeType.keyShare,
  ): Promise<Sealed[]> {
    const mode = this.mode;
    if (!this._visitorDevice || !mode) throw new UntrustedSenderError('The visitor has not written yet');
    const recipients = this.recipients(mode, shareType);
    const ids = new Set(recipients.map((r) => toHex(r.deviceId)));
    const out: Sealed[] = [];
    const s = this._sending.get(shareType);
    const rotate =
      !s ||
      s.rosterVersion !== this.roster.version ||
      [...ids].some((id) => !s.recipients.has(id)) ||
      s.chain.used >= this.maxMessages ||
      this.now() - s.startedAt >= this.maxAgeMs;
    if (rotate) {
      const chain = SendingChain.create();
      const envelope = await sealKeyShare({
        type: shareType,
        sender: this.me,
        binding: {
          orgId: this.orgId,
          conversationId: this.conversationId,
          chainId: chain.chainId,
          rosterVersion: this.roster.version,
          mode,
        },
        seed: chain.chainSeed,
        recipients,
        link: this.nextOwnLink(),
      });
      this._sending.set(shareType, {
        chain,
        rosterVersion: this.roster.version,
        recipients: ids,
        startedAt: this.now(),
      });
      out.push(await this.recordOwn(envelope, shareType));
      // Our own key share pins the mode (and, for the visitor, starts the conversation). An agent's
      // was pinned by the visitor's share already (it cannot write before), so this changes nothing.
      this.pinnedMode ??= mode;
    }
    const { chain } = this._sending.get(shareType)!;
    const envelope = await sealPayload({
      type,
      sender: this.me,
      conversationId: this.conversationId,
      chainId: chain.chainId,
      messageKey: await chain.nextMessageKey(),
      plaintext,
      link: this.nextOwnLink(),
    });
    out.push(await this.recordOwn(envelope, type));
    return out;
  }

  protected async recordOwn(envelope: Uint8Array<ArrayBuffer>, type: EnvelopeType): Promise<Sealed> {
    const digestHex = toHex(await envelopeDigest(envelope));
    this._sent.add(digestHex);
    const { senderSeq, previous } = this.nextOwnLink();
    const state = this._transcript(this.me.deviceId);
    // Numbers skipped past a restored head are this device's own, withheld so far: if the relay
    // serves them later they arrive late (`reorder`), linked as the head said (else `fork`).
    for (let s = Math.max(state.highest + 1, senderSeq - MAX_MISSING); s < senderSeq; s++) state.missing.add(s);
    if (senderSeq > 0 && !state.digests.has(senderSeq - 1)) state.expected.set(senderSeq - 1, toHex(previous));
    state.highest = senderSeq;
    state.digests.set(senderSeq, digestHex);
    return { envelope, digest: digestHex, type, senderSeq };
  }

  /**
   * The link for this device's next envelope: one past its highest (as read back, or as restored
   * from before a reload, whichever is further), chained to that one's digest.
   */
  protected nextOwnLink(): TranscriptLink {
    const head = this.ownHead;
    return head
      ? { senderSeq: head.senderSeq + 1, previous: fromHex(head.digest) }
      : { senderSeq: 0, previous: ZERO_LINK };
  }

  /**
   * Who a chain's key share goes to: roster devices, the visitor, the archive key (archive mode),
   * and this device itself (archive mode, to re-read its history). The same for either `shareType`
   * here; `AgentSecureConversation` leaves the visitor out of note chains.
   */
  // eslint-disable-next-line @typescript-eslint/no-unused-vars -- the override reads shareType
  protected recipients(mode: ConversationMode, shareType: KeyShareType): Recipient[] {
    const all = new Map<string, Recipient>();
    for (const r of rosterReaders(this.roster, mode === 'archive')) all.set(toHex(r.deviceId), r);
    if (this._visitorDevice) all.set(toHex(this._visitorDevice.deviceId), this._visitorDevice);
    if (mode === 'archive') all.set(toHex(this.me.deviceId), this.me);
    else all.delete(toHex(this.me.deviceId));
    return [...all.values()];
  }

  /** Decides who the sender is and checks its signature. */
  private async _authenticate(envelope: Envelope): Promise<SenderInfo> {
    const cert = this.certificateOf(envelope.senderDeviceId);
    const mine = bytesEqual(envelope.senderDeviceId, this.me.deviceId);
    let known: KnownSender | undefined;
    if (cert) {
      known = {
        deviceId: cert.deviceId,
        role: cert.role,
        displayName: cert.displayName,
        mine,
        signingPublic: cert.signingPublic,
      };
    } else if (
      // A visitor never writes notes (types 6, 7).
      envelope.type <= EnvelopeType.control &&
      this._visitorDevice &&
      bytesEqual(this._visitorDevice.deviceId, envelope.senderDeviceId)
    ) {
      known = { ...this._visitorDevice, role: 'visitor', displayName: undefined, mine };
    } else if (
      !this._visitorDevice &&
      envelope.type === EnvelopeType.keyShare &&
      envelope.senderSeq === 0 &&
      bytesEqual(envelope.transcript, ZERO_LINK) &&
      !this._iAmVisitor
    ) {
      // The visitor's opening record introduces it: its first envelope (senderSeq 0, no link), a
      // key share signed by its device and bound to this conversation. Its keys must be self-consistent.
      const intro = readKeyShareIntro(envelope);
      if (!bytesEqual(envelope.senderDeviceId, await deviceIdFromSigningKey(intro.senderSigningPublic))) {
        throw new UntrustedSenderError('Sender id does not match its signing key');
      }
      known = {
        deviceId: envelope.senderDeviceId,
        role: 'visitor',
        displayName: undefined,
        mine: false,
        signingPublic: intro.senderSigningPublic,
      };
    }
    if (!known) throw new UntrustedSenderError('Sender is neither on the roster nor the conversation’s visitor');
    if (envelope.type === EnvelopeType.keyShare) {
      const intro = readKeyShareIntro(envelope);
      const agreement = cert?.agreementPublic ?? this._visitorDevice?.agreementPublic ?? intro.senderAgreementPublic;
      if (
        !bytesEqual(intro.senderSigningPublic, known.signingPublic) ||
        !bytesEqual(intro.senderAgreementPublic, agreement)
      ) {
        throw new UntrustedSenderError('Key share carries keys that are not the sender’s');
      }
    }
    await verifyEnvelope(envelope, known.signingPublic);
    return { deviceId: known.deviceId, role: known.role, displayName: known.displayName, mine: known.mine };
  }

  protected certificateOf(deviceId: Uint8Array): VerifiedCertificate | undefined {
    return this.roster.devices.find((d) => bytesEqual(d.deviceId, deviceId));
  }

  protected chainKey(senderDeviceId: Uint8Array, chainId: Uint8Array): string {
    return `${toHex(senderDeviceId)}:${toHex(chainId)}`;
  }

  private _transcript(deviceId: Uint8Array): TranscriptState {
    const key = toHex(deviceId);
    let state = this._transcripts.get(key);
    if (!state) {
      state = { highest: -1, through: -1, digests: new Map(), expected: new Map(), missing: new Set() };
      this._transcripts.set(key, state);
    }
    return state;
  }

  /**
   * Places an accepted envelope in its sender's transcript and reports what it reveals:
   * a jump in senderSeq is a `gap`; a senderSeq that was skipped over arriving now is a `reorder`;
   * a senderSeq already taken, or a link that disagrees with the neighbour's digest, is a `fork`.
   */
  private _place(envelope: Envelope, digest: Uint8Array<ArrayBuffer>): TranscriptEvent[] {
    const state = this._transcript(envelope.senderDeviceId);
    const seq = envelope.senderSeq;
    const digestHex = toHex(digest);
    const linkHex = toHex(envelope.transcript);
    const kinds = new Set<TranscriptEvent['kind']>();
    if (state.digests.has(seq)) kinds.add('fork');
    else if (seq <= state.highest) kinds.add(state.missing.delete(seq) ? 'reorder' : 'fork');
    else {
      if (seq > state.highest + 1) kinds.add('gap');
      for (let s = Math.max(state.highest + 1, seq - MAX_MISSING); s < seq; s++) state.missing.add(s);
      state.highest = seq;
    }
    // The hash links must agree with the neighbours already seen, on both sides.
    const before = seq === 0 ? toHex(ZERO_LINK) : state.digests.get(seq - 1);
    if (before !== undefined && before !== linkHex) kinds.add('fork');
    const after = state.expected.get(seq);
    if (after !== undefined && after !== digestHex) kinds.add('fork');
    if (seq > 0 && before === undefined) state.expected.set(seq - 1, linkHex);
    if (!state.digests.has(seq)) state.digests.set(seq, digestHex);
    while (state.missing.size > MAX_MISSING) state.missing.delete(state.missing.values().next().value!);
    return [...kinds].map((kind) => ({ kind, senderDeviceId: envelope.senderDeviceId }));
  }
}
