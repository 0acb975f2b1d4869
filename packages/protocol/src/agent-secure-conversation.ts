import { bytesEqual, toHex } from './bytes.js';
import {
  EnvelopeType,
  openKeyShare,
  openPayload,
  readKeyShareIntro,
  sealKeyShare,
  sealPayload,
  type Envelope,
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
import { exportPublicKey } from './keys.js';
import type { VerifiedRoster } from './roster.js';
import {
  SecureConversation,
  type Received,
  type Sealed,
  type SecureConversationOptions,
  type SenderInfo,
  type SendingState,
} from './secure-conversation.js';
import { ReceivingChain, SendingChain } from './sender-chain.js';

export interface AgentSecureConversationOptions extends Omit<SecureConversationOptions, 'iAmVisitor' | 'mode'> {
  /**
   * The organisation's archive key, from {@link verifyArchiveKey}: key shares this device is not a
   * recipient of, but the archive is (archive mode), open with it. A supervisor console that holds
   * it reads conversations from before its enrolment, notes included.
   */
  readonly archive?: ShareOpener;
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
 */
export class AgentSecureConversation extends SecureConversation {
  private readonly archive: ShareOpener | undefined;
  /** Receiving chains of note key shares (type 6), by chain key: kept apart from the message chains. */
  private readonly noteChains = new Map<string, ReceivingChain>();
  private noteSending: SendingState | undefined;

  constructor(options: AgentSecureConversationOptions) {
    super({ ...options, iAmVisitor: false });
    this.archive = options.archive;
  }

  /**
   * Encrypts a note for the roster's readers (and the archive and this device, in archive mode),
   * never the visitor: a note key share first when the note chain rotates (by the rules of the
   * message chain), then the note.
   * @throws UntrustedSenderError before the visitor introduced itself (there is no conversation yet).
   */
  async sealNote(plaintext: Uint8Array<ArrayBuffer>): Promise<Sealed[]> {
    const mode = this.mode;
    const visitor = this.visitor;
    if (!visitor || !mode) throw new UntrustedSenderError('The visitor has not written yet');
    const recipients = this.recipients(mode).filter((r) => !bytesEqual(r.deviceId, visitor.deviceId));
    const ids = new Set(recipients.map((r) => toHex(r.deviceId)));
    const out: Sealed[] = [];
    let sending = this.noteSending;
    // The message chain's rotation rules (SecureConversation.seal), written out again so that none
    // of this reaches the visitor's bundle.
    if (
      !sending ||
      sending.rosterVersion !== this.roster.version ||
      [...ids].some((id) => !sending!.recipients.has(id)) ||
      sending.chain.used >= this.maxMessages ||
      this.now() - sending.startedAt >= this.maxAgeMs
    ) {
      const chain = SendingChain.create();
      const envelope = await sealKeyShare({
        type: EnvelopeType.noteKeyShare,
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
      sending = { chain, rosterVersion: this.roster.version, recipients: ids, startedAt: this.now() };
      this.noteSending = sending;
      out.push(await this.recordOwn(envelope, EnvelopeType.noteKeyShare));
    }
    const envelope = await sealPayload({
      type: EnvelopeType.note,
      sender: this.me,
      conversationId: this.conversationId,
      chainId: sending.chain.chainId,
      messageKey: await sending.chain.nextMessageKey(),
      plaintext,
      link: this.nextOwnLink(),
    });
    out.push(await this.recordOwn(envelope, EnvelopeType.note));
    return out;
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
