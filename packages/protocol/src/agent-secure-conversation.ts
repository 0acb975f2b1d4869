import { bytesEqual } from './bytes.js';
import type { VerifiedCertificate } from './certificate.js';
import {
  decodeEnvelope,
  EnvelopeType,
  openKeyShare,
  openPayload,
  readKeyShareIntro,
  type ConversationMode,
  type Envelope,
  type KeyShareType,
  type PayloadType,
  type ShareOpener,
} from './envelope.js';
import {
  ArchiveKeyError,
  ConversationModeError,
  NoChainError,
  NoteChainError,
  UntrustedSenderError,
} from './errors.js';
import type { GrantedSeed } from './history-grant.js';
import type { Recipient } from './identity.js';
import { exportPublicKey } from './keys.js';
import type { VerifiedRoster } from './roster.js';
import {
  SecureConversation,
  type Received,
  type Sealed,
  type SecureConversationOptions,
  type SenderInfo,
  type TranscriptEvent,
} from './secure-conversation.js';
import { ReceivingChain } from './sender-chain.js';

export interface AgentSecureConversationOptions extends Omit<SecureConversationOptions, 'iAmVisitor' | 'mode'> {
  /**
   * The organisation's archive key, from {@link verifyArchiveKey}: key shares this device is not a
   * recipient of, but the archive is (archive mode), open with it. A supervisor console that holds
   * it reads conversations from before its enrolment, notes included.
   */
  readonly archive?: ShareOpener;
  /**
   * Rosters of this organisation before the current one, each from `verifyPastRoster` (or
   * `verifyRosterHistory`): a device revoked since is still accepted as the writer of the chains
   * it began under one of them, marked `former` (docs/protocol.md §8 step 4). Also settable later
   * with {@link AgentSecureConversation.setPastRosters}.
   */
  readonly pastRosters?: readonly VerifiedRoster[];
  /**
   * Keep the seed of every chain this conversation opens, for {@link grantableSeeds}: set by a
   * supervisor console that shares history with agents (docs/protocol.md §14).
   */
  readonly keepSeeds?: boolean;
}

/**
 * {@link SecureConversation} for a roster device (agent, supervisor, bot), with what only the
 * organisation's side does, kept out of the visitor's bundle:
 *
 * - **Private notes** (docs/protocol.md §6–§8): {@link sealNote} seals on a second sending chain
 *   whose note key shares (type 6) go to the roster's readers, and in archive mode to the archive
 *   and this device, never to the visitor. Receiving, a note key share that lists the visitor or
 *   comes before the visitor is known is refused, a note (type 7) is read only on a note chain, and
 *   types 1–5 never on one ({@link NoteChainError}; state unchanged, as for every refusal).
 * - **The archive key**: key shares open with the device key when the device is a recipient, else
 *   with the archive key when the archive is.
 * - **Former members** (docs/protocol.md §8 step 4): a sender on neither the current roster nor the
 *   visitor may still have written a key share (type 1 or 6) under a past roster that listed it
 *   with the keys the share carries; that chain, and only it, is then accepted from it, its
 *   `SenderInfo` marked `former`. Key shares this device sends still go to the current roster only.
 */
export class AgentSecureConversation extends SecureConversation {
  private readonly archive: ShareOpener | undefined;
  /** Receiving chains of note key shares (type 6), by chain key: kept apart from the message chains. */
  private readonly noteChains = new Map<string, ReceivingChain>();
  /** Past rosters by version (see {@link setPastRosters}). */
  private pastRosters = new Map<number, VerifiedRoster>();
  /** Chains (by chain key) whose key share a former member wrote, with its certificate of that time. */
  private readonly formerChains = new Map<string, VerifiedCertificate>();
  /** The former member's certificate while {@link receive} handles its envelope; read by {@link certificateOf}. */
  private formerSender: VerifiedCertificate | undefined;
  /** Seeds a history grant gave, by key share type and chain key (see {@link grant}). */
  private readonly granted = new Map<string, Uint8Array<ArrayBuffer>>();
  /**
   * The key shares accepted here, by type and chain key, when `keepSeeds`: their seeds are opened
   * only when {@link grantableSeeds} asks, not on every load.
   */
  private readonly kept: Map<string, Envelope> | undefined;

  /** @throws TypeError as {@link setPastRosters}. */
  constructor(options: AgentSecureConversationOptions) {
    super({ ...options, iAmVisitor: false });
    this.archive = options.archive;
    if (options.pastRosters) this.setPastRosters(options.pastRosters);
    if (options.keepSeeds) this.kept = new Map();
  }

  /**
   * Seeds from a history grant (`openHistoryGrant`, docs/protocol.md §14): a key share this device
   * is not a recipient of opens its chain with the granted seed of its sender, chain and type.
   * Give them before the conversation's envelopes; a seed that does not belong opens nothing.
   */
  grant(seeds: readonly GrantedSeed[]): void {
    for (const s of seeds) this.granted.set(`${s.type}:${this.chainKey(s.senderDeviceId, s.chainId)}`, s.seed);
  }

  /**
   * The chain seeds this conversation opened, to grant to another device (only with `keepSeeds`).
   * None for an ephemeral conversation: it keeps no history, whoever could read it live.
   */
  async grantableSeeds(): Promise<GrantedSeed[]> {
    if (this.mode !== 'archive' || !this.kept) return [];
    const seeds: GrantedSeed[] = [];
    for (const [key, envelope] of this.kept) {
      const type = envelope.type as KeyShareType;
      // This device's own chains too: in archive mode it lists itself.
      const opener = this.opener(readKeyShareIntro(envelope, type).recipients);
      const seed = opener ? await openKeyShare(envelope, opener, this.orgId) : this.granted.get(key);
      if (seed) seeds.push({ type, senderDeviceId: envelope.senderDeviceId, chainId: envelope.chainId, seed });
    }
    return seeds;
  }

  /**
   * Replaces the past rosters that decide whether an envelope from a device no longer on the
   * roster was written by a member of its time. Chains already accepted from former members stay.
   * @throws TypeError for a roster of another organisation, or two different rosters of one version.
   */
  setPastRosters(rosters: readonly VerifiedRoster[]): void {
    const byVersion = new Map<number, VerifiedRoster>();
    for (const roster of rosters) {
      if (!bytesEqual(roster.orgId, this.orgId)) throw new TypeError('A past roster of another organisation');
      const other = byVersion.get(roster.version);
      if (other && !bytesEqual(other.digest, roster.digest))
        throw new TypeError(`Two different past rosters of version ${roster.version}`);
      byVersion.set(roster.version, roster);
    }
    this.pastRosters = byVersion;
  }

  /**
   * The former member (a device no longer on the roster) whose key share began this chain, if it
   * was accepted as one; undefined for every other chain.
   */
  formerSenderOf(senderDeviceId: Uint8Array, chainId: Uint8Array): SenderInfo | undefined {
    const cert = this.formerChains.get(this.chainKey(senderDeviceId, chainId));
    return (
      cert && { deviceId: cert.deviceId, role: cert.role, displayName: cert.displayName, mine: false, former: true }
    );
  }

  /**
   * As {@link SecureConversation.receive}, and an envelope of a former member (see the class) is
   * accepted under its certificate of the time, its sender marked `former: true`.
   * @throws as {@link SecureConversation.receive}; the state is unchanged on every refusal.
   */
  override async receive(bytes: Uint8Array): Promise<{ received: Received; events: TranscriptEvent[] }> {
    const former = this.formerCertificate(bytes);
    this.formerSender = former;
    let outcome: { received: Received; events: TranscriptEvent[] };
    try {
      outcome = await super.receive(bytes);
    } finally {
      this.formerSender = undefined;
    }
    const received = outcome.received;
    if (received.kind === 'key-share' || received.kind === 'own-echo') this.afterKeyShare(decodeEnvelope(bytes));
    if (!former || (received.kind !== 'key-share' && received.kind !== 'payload')) return outcome;
    // Accepted: only now does the chain count as the former member's.
    const envelope = decodeEnvelope(bytes);
    if (received.kind === 'key-share')
      this.formerChains.set(this.chainKey(envelope.senderDeviceId, envelope.chainId), former);
    return { ...outcome, received: { ...received, sender: { ...received.sender, former: true } } };
  }

  /**
   * After a key share was accepted (or this device's own came back): a chain no share here opened
   * takes a granted seed, and with `keepSeeds` the share is kept for {@link grantableSeeds}.
   */
  private afterKeyShare(envelope: Envelope): void {
    const type = envelope.type;
    if (type !== EnvelopeType.keyShare && type !== EnvelopeType.noteKeyShare) return;
    const chains = type === EnvelopeType.noteKeyShare ? this.noteChains : this.chains;
    const key = this.chainKey(envelope.senderDeviceId, envelope.chainId);
    const granted = this.granted.get(`${type}:${key}`);
    const mine = bytesEqual(envelope.senderDeviceId, this.me.deviceId);
    // A copy: the chain zeroes its seed once it has stepped, and the granted one is still held
    // (here for grantableSeeds, and by the session that compares it with the grant fetched again).
    if (granted && !mine && !chains.has(key))
      chains.set(key, new ReceivingChain(envelope.chainId, granted.slice(), { maxSkip: this.maxSkip }));
    this.kept?.set(`${type}:${key}`, envelope);
  }

  /**
   * The certificate under which a sender on neither the current roster nor the visitor wrote this
   * envelope: for a key share, its entry on the past roster of the version the share states, with
   * the keys the share carries; for anything else, the one its chain's key share was accepted
   * under. Undefined leaves the envelope to the usual rules (which refuse an unknown sender).
   */
  private formerCertificate(bytes: Uint8Array): VerifiedCertificate | undefined {
    if (this.pastRosters.size === 0 && this.formerChains.size === 0) return undefined;
    let envelope: Envelope;
    try {
      envelope = decodeEnvelope(bytes);
    } catch {
      return undefined; // SecureConversation.receive refuses it with the decoder's error.
    }
    const id = envelope.senderDeviceId;
    const visitor = this.visitor;
    if (
      super.certificateOf(id) ||
      bytesEqual(id, this.me.deviceId) ||
      (visitor !== undefined && bytesEqual(id, visitor.deviceId))
    )
      return undefined;
    if (envelope.type !== EnvelopeType.keyShare && envelope.type !== EnvelopeType.noteKeyShare)
      return this.formerChains.get(this.chainKey(id, envelope.chainId));
    let intro: ReturnType<typeof readKeyShareIntro>;
    try {
      intro = readKeyShareIntro(envelope, envelope.type);
    } catch {
      return undefined;
    }
    const cert = this.pastRosters.get(intro.rosterVersion)?.devices.find((d) => bytesEqual(d.deviceId, id));
    return cert &&
      bytesEqual(cert.signingPublic, intro.senderSigningPublic) &&
      bytesEqual(cert.agreementPublic, intro.senderAgreementPublic)
      ? cert
      : undefined;
  }

  /** The current roster's certificate, or the former member's while its envelope is received. */
  protected override certificateOf(deviceId: Uint8Array): VerifiedCertificate | undefined {
    const former = this.formerSender;
    return super.certificateOf(deviceId) ?? (former && bytesEqual(former.deviceId, deviceId) ? former : undefined);
  }

  /**
   * Encrypts a note for the roster's readers (and the archive and this device, in archive mode),
   * never the visitor: a note key share first when the note chain rotates (by the rules of the
   * message chain), then the note.
   * @throws UntrustedSenderError before the visitor introduced itself (there is no conversation yet).
   */
  sealNote(plaintext: Uint8Array<ArrayBuffer>): Promise<Sealed[]> {
    return this.sealOn(EnvelopeType.note, plaintext, EnvelopeType.noteKeyShare);
  }

  /** As {@link SecureConversation.recipients}, without the visitor for a note chain. */
  protected override recipients(mode: ConversationMode, shareType: KeyShareType): Recipient[] {
    const all = super.recipients(mode, shareType);
    const visitor = this.visitor!;
    return shareType === EnvelopeType.noteKeyShare ? all.filter((r) => !bytesEqual(r.deviceId, visitor.deviceId)) : all;
  }

  /**
   * As {@link SecureConversation.seal}, and a note (type 7) goes on the note chain
   * ({@link sealNote}), never on the chain the visitor reads.
   * @throws UntrustedSenderError before the visitor introduced itself.
   */
  override seal(type: PayloadType, plaintext: Uint8Array<ArrayBuffer>): Promise<Sealed[]> {
    return type === EnvelopeType.note ? this.sealNote(plaintext) : super.seal(type, plaintext);
  }

  protected override opener(recipients: readonly Uint8Array[]): ShareOpener | undefined {
    const archive = this.archive;
    return (
      super.opener(recipients) ??
      (archive && recipients.some((r) => bytesEqual(r, archive.deviceId)) ? archive : undefined)
    );
  }

  /**
   * Note key shares and notes (from roster devices: SecureConversation.authenticate let no one else
   * through), and the rule that types 1–5 never use a note chain. Every check comes before any
   * change of state.
   */
  protected override async receiveOther(
    envelope: Envelope,
    sender: SenderInfo,
    mine: boolean,
  ): Promise<Received | undefined> {
    const key = this.chainKey(envelope.senderDeviceId, envelope.chainId);
    if (envelope.type <= EnvelopeType.control) {
      if (this.noteChains.has(key)) throw new NoteChainError(`An envelope of type ${envelope.type} on a note chain`);
      return undefined;
    }
    if (envelope.type === EnvelopeType.noteKeyShare) {
      const intro = readKeyShareIntro(envelope, EnvelopeType.noteKeyShare);
      const visitor = this.visitor;
      // Without a known visitor, nobody can tell whether the share leaves it out.
      if (!visitor) throw new NoteChainError('A note key share before the visitor is known');
      if (intro.recipients.some((r) => bytesEqual(r, visitor.deviceId)))
        throw new NoteChainError('A note key share lists the visitor');
      const cert = this.certificateOf(envelope.senderDeviceId);
      if (
        !cert ||
        !bytesEqual(intro.senderSigningPublic, cert.signingPublic) ||
        !bytesEqual(intro.senderAgreementPublic, cert.agreementPublic)
      )
        throw new UntrustedSenderError('Key share carries keys that are not the sender’s');
      if (intro.mode !== this.pinnedMode)
        throw new ConversationModeError(`Note key share in ${intro.mode} mode in a ${this.pinnedMode} conversation`);
      this.checkArchiveShare(intro.mode, intro.recipients);
      if (this.chains.has(key)) throw new NoteChainError('A note key share for a message chain');
      const opener = this.opener(intro.recipients);
      if (opener) {
        const seed = await openKeyShare(envelope, opener, this.orgId);
        this.noteChains.set(key, new ReceivingChain(envelope.chainId, seed, { maxSkip: this.maxSkip }));
      }
      return { kind: 'key-share', sender };
    }
    const chain = this.noteChains.get(key);
    if (!chain) {
      if (this.chains.has(key)) throw new NoteChainError('A note on a message chain');
      if (!mine) throw new NoChainError('Note on a chain with no note key share for this device');
      return { kind: 'own-unreadable', type: EnvelopeType.note };
    }
    const messageKey = await chain.take(envelope.index);
    try {
      return { kind: 'payload', type: EnvelopeType.note, sender, plaintext: await openPayload(envelope, messageKey) };
    } catch (error) {
      // As for messages: a bad envelope must not use up the index of the good one.
      chain.giveBack(messageKey);
      throw error;
    }
  }
}

/**
 * Checks an archive key pair against the roster and names it for {@link AgentSecureConversation}:
 * the id it stands under in recipient lists, and the pair.
 * @throws ArchiveKeyError when the roster has no archive key or another one, the pair is not
 *   X25519, or its private key is extractable.
 */
export async function verifyArchiveKey(pair: CryptoKeyPair, roster: VerifiedRoster): Promise<ShareOpener> {
  if (pair.privateKey.algorithm.name !== 'X25519' || pair.publicKey.algorithm.name !== 'X25519')
    throw new ArchiveKeyError('An archive key is an X25519 key pair');
  if (pair.privateKey.extractable) throw new ArchiveKeyError('The archive private key must be non-extractable');
  const archivePublic = await exportPublicKey(pair.publicKey);
  if (!roster.archive || !bytesEqual(archivePublic, roster.archive.agreementPublic))
    throw new ArchiveKeyError('This is not the archive key of the roster');
  return { deviceId: roster.archive.deviceId, agreement: pair };
}
