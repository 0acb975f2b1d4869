import { concatBytes, utf8Encode } from './bytes.js';
import { ByteReader, ByteWriter } from './codec.js';
import { Context, PROTOCOL_VERSION } from './contexts.js';
import { DecodeError, OpenError, SealchatError } from './errors.js';
import { HPKE_ENC_LENGTH, hpkeOpen, hpkeSeal } from './hpke.js';
import { DEVICE_ID_LENGTH, type DeviceIdentity, type Recipient } from './identity.js';
import { labelledHash, PUBLIC_KEY_LENGTH, SIGNATURE_LENGTH, sign, verify } from './keys.js';
import { ORG_ID_LENGTH } from './org-key.js';
import { CHAIN_ID_LENGTH, CHAIN_SEED_LENGTH, type MessageKey } from './sender-chain.js';

export const CONVERSATION_ID_LENGTH = 16;
export const TRANSCRIPT_LINK_LENGTH = 32;
/** Recipients per key share; bounds the work a hostile envelope can ask of a receiver. */
export const MAX_SHARE_RECIPIENTS = 1000;
/** Largest encrypted body a receiver will try to open. */
export const MAX_BODY_BYTES = 60 * 1024;

/**
 * Envelope types (docs/protocol.md §7). Each has its own signature context and AEAD associated
 * data, so no type can pass for another (a key share cannot be read as a message, a typing ping
 * cannot be a receipt, a note cannot be a message). Types 6 and 7 are the agents' private notes:
 * their chains are never shared with the visitor.
 */
export const EnvelopeType = {
  keyShare: 1,
  message: 2,
  receipt: 3,
  typing: 4,
  control: 5,
  noteKeyShare: 6,
  note: 7,
} as const;
export type EnvelopeType = (typeof EnvelopeType)[keyof typeof EnvelopeType];
/** The types that carry a chain seed. */
export type KeyShareType = typeof EnvelopeType.keyShare | typeof EnvelopeType.noteKeyShare;
/** The types whose body is encrypted with one of the sender's chains. */
export type PayloadType = Exclude<EnvelopeType, KeyShareType>;
/** The payload types of the sender's message chain (the one the visitor reads); a note has a chain of its own. */
export type MessageChainType = Exclude<PayloadType, typeof EnvelopeType.note>;

const CONTEXT_BY_TYPE: Record<EnvelopeType, string> = {
  [EnvelopeType.keyShare]: Context.envelopeKeyShare,
  [EnvelopeType.message]: Context.envelopeMessage,
  [EnvelopeType.receipt]: Context.envelopeReceipt,
  [EnvelopeType.typing]: Context.envelopeTyping,
  [EnvelopeType.control]: Context.envelopeControl,
  [EnvelopeType.noteKeyShare]: Context.envelopeNoteKeyShare,
  [EnvelopeType.note]: Context.envelopeNote,
};

/** `archive`: supervisors can read history. `ephemeral`: no archive share, nothing kept. */
export type ConversationMode = 'archive' | 'ephemeral';
const MODE_CODES: Record<ConversationMode, number> = { archive: 1, ephemeral: 2 };

/**
 * The authenticated header: everything a receiver needs to pick keys and place the envelope,
 * all of it under the signature and, for payloads, the AEAD's associated data.
 */
export interface EnvelopeHeader {
  readonly version: number;
  readonly type: EnvelopeType;
  readonly conversationId: Uint8Array<ArrayBuffer>;
  readonly senderDeviceId: Uint8Array<ArrayBuffer>;
  readonly chainId: Uint8Array<ArrayBuffer>;
  /** Message index in the chain; 0 for key shares. */
  readonly index: number;
  /** Position of this envelope among all the sender's envelopes in this conversation, from 0. */
  readonly senderSeq: number;
  /** Digest of the sender's previous envelope in this conversation (`senderSeq - 1`); zeros for its first. */
  readonly transcript: Uint8Array<ArrayBuffer>;
}

/** Where an envelope stands in its sender's transcript. */
export interface TranscriptLink {
  readonly senderSeq: number;
  readonly previous: Uint8Array<ArrayBuffer>;
}

/** A decoded, not yet verified envelope. */
export interface Envelope extends EnvelopeHeader {
  readonly header: Uint8Array<ArrayBuffer>;
  readonly body: Uint8Array<ArrayBuffer>;
  readonly signature: Uint8Array<ArrayBuffer>;
  /** The whole envelope as received. */
  readonly bytes: Uint8Array<ArrayBuffer>;
}

/** version, type, conversation, sender, chain, index, senderSeq, transcript link: 90 bytes. */
export const HEADER_LENGTH =
  1 + 1 + CONVERSATION_ID_LENGTH + DEVICE_ID_LENGTH + CHAIN_ID_LENGTH + 4 + 4 + TRANSCRIPT_LINK_LENGTH;
export const ZERO_LINK = new Uint8Array(TRANSCRIPT_LINK_LENGTH);

function encodeHeader(h: Omit<EnvelopeHeader, 'version'>): Uint8Array<ArrayBuffer> {
  return new ByteWriter()
    .u8(PROTOCOL_VERSION)
    .u8(h.type)
    .fixed(h.conversationId, CONVERSATION_ID_LENGTH)
    .fixed(h.senderDeviceId, DEVICE_ID_LENGTH)
    .fixed(h.chainId, CHAIN_ID_LENGTH)
    .u32(h.index)
    .u32(h.senderSeq)
    .fixed(h.transcript, TRANSCRIPT_LINK_LENGTH)
    .finish();
}

/**
 * Parses envelope bytes (as stored by the relay) into a typed value.
 * @throws DecodeError on any malformed input.
 */
export function decodeEnvelope(bytes: Uint8Array): Envelope {
  const r = new ByteReader(bytes);
  const header = r.fixed(HEADER_LENGTH);
  const body = r.bytes(MAX_BODY_BYTES);
  const signature = r.fixed(SIGNATURE_LENGTH);
  r.end();
  const h = new ByteReader(header);
  const version = h.u8();
  if (version !== PROTOCOL_VERSION) throw new DecodeError(`Unsupported envelope version ${version}`);
  const type = h.u8();
  if (!(type in CONTEXT_BY_TYPE)) throw new DecodeError(`Unknown envelope type ${type}`);
  return {
    version,
    type: type as EnvelopeType,
    conversationId: h.fixed(CONVERSATION_ID_LENGTH),
    senderDeviceId: h.fixed(DEVICE_ID_LENGTH),
    chainId: h.fixed(CHAIN_ID_LENGTH),
    index: h.u32(),
    senderSeq: h.u32(),
    transcript: h.fixed(TRANSCRIPT_LINK_LENGTH),
    header,
    body,
    signature,
    bytes: Uint8Array.from(bytes),
  };
}

/** The transcript digest of an envelope: what the sender's next envelope links to. */
export function envelopeDigest(envelopeBytes: Uint8Array): Promise<Uint8Array<ArrayBuffer>> {
  return labelledHash(Context.transcript, envelopeBytes);
}

function signedPart(header: Uint8Array, body: Uint8Array): Uint8Array<ArrayBuffer> {
  return concatBytes(header, new ByteWriter().bytes(body).finish());
}

async function signEnvelope(
  sender: DeviceIdentity,
  header: Uint8Array<ArrayBuffer>,
  type: EnvelopeType,
  body: Uint8Array<ArrayBuffer>,
): Promise<Uint8Array<ArrayBuffer>> {
  const signature = await sign(sender.signing.privateKey, CONTEXT_BY_TYPE[type], signedPart(header, body));
  return concatBytes(signedPart(header, body), signature);
}

/**
 * Verifies the sender's signature over header and body, in the context of the envelope's type.
 * @throws SignatureError
 */
export async function verifyEnvelope(envelope: Envelope, senderSigningPublic: Uint8Array<ArrayBuffer>): Promise<void> {
  await verify(
    senderSigningPublic,
    CONTEXT_BY_TYPE[envelope.type],
    signedPart(envelope.header, envelope.body),
    envelope.signature,
  );
}

// ---------------------------------------------------------------------------------------------
// Key shares

/** What binds a key share to its place: HPKE `info` covers all of it (docs/protocol.md §Key shares). */
export interface KeyShareBinding {
  readonly orgId: Uint8Array<ArrayBuffer>;
  readonly conversationId: Uint8Array<ArrayBuffer>;
  readonly chainId: Uint8Array<ArrayBuffer>;
  readonly rosterVersion: number;
  readonly mode: ConversationMode;
}

/** The public part of a key share, readable before deciding whether to trust the sender. */
export interface KeyShareIntro {
  readonly senderSigningPublic: Uint8Array<ArrayBuffer>;
  readonly senderAgreementPublic: Uint8Array<ArrayBuffer>;
  readonly rosterVersion: number;
  readonly mode: ConversationMode;
  readonly recipients: readonly Uint8Array<ArrayBuffer>[];
}

interface KeyShareBody extends KeyShareIntro {
  readonly shares: ReadonlyMap<string, { enc: Uint8Array<ArrayBuffer>; ciphertext: Uint8Array<ArrayBuffer> }>;
}

/**
 * The HPKE `info` of one recipient's share (§6): its label prefix is the share type's, so a note
 * seed never opens as a message seed, nor the reverse.
 */
function shareInfo(
  type: KeyShareType,
  b: KeyShareBinding,
  senderDeviceId: Uint8Array,
  recipientDeviceId: Uint8Array,
): Uint8Array<ArrayBuffer> {
  return concatBytes(
    utf8Encode(type === EnvelopeType.noteKeyShare ? Context.noteKeyShareInfo : Context.keyShareInfo),
    new ByteWriter()
      .u8(PROTOCOL_VERSION)
      .fixed(b.orgId, ORG_ID_LENGTH)
      .fixed(b.conversationId, CONVERSATION_ID_LENGTH)
      .fixed(b.chainId, CHAIN_ID_LENGTH)
      .fixed(senderDeviceId, DEVICE_ID_LENGTH)
      .fixed(recipientDeviceId, DEVICE_ID_LENGTH)
      .u64(b.rosterVersion)
      .u8(MODE_CODES[b.mode])
      .finish(),
  );
}

/** What {@link sealKeyShare} seals. */
export interface KeyShareParams {
  readonly sender: DeviceIdentity;
  readonly binding: KeyShareBinding;
  readonly seed: Uint8Array<ArrayBuffer>;
  readonly recipients: readonly Recipient[];
  readonly link: TranscriptLink;
  /**
   * {@link EnvelopeType.keyShare} (the default) for the message chain, {@link EnvelopeType.noteKeyShare}
   * for a note chain: the same layout under its own signature context and HPKE `info` label, so a
   * note seed never opens as a message seed (docs/protocol.md §6). Leaving the visitor out of a
   * note chain's recipients is the caller's part (`AgentSecureConversation`).
   */
  readonly type?: KeyShareType;
}

/**
 * Seals a chain seed to each recipient with HPKE and signs the whole envelope. The envelope also
 * carries the sender's public keys, which is how a visitor introduces itself to the agents.
 * @throws TypeError for a seed that is not 32 bytes; RangeError for more than {@link MAX_SHARE_RECIPIENTS}.
 */
export async function sealKeyShare(params: KeyShareParams): Promise<Uint8Array<ArrayBuffer>> {
  const { sender, binding, seed, recipients, link } = params;
  // (Not a destructuring default: that stops the bundler from inlining EnvelopeType in the widget.)
  const type = params.type ?? EnvelopeType.keyShare;
  if (seed.length !== CHAIN_SEED_LENGTH) throw new TypeError('A chain seed is 32 bytes');
  if (recipients.length > MAX_SHARE_RECIPIENTS) throw new RangeError('Too many recipients for one key share');
  const header = encodeHeader({
    type,
    conversationId: binding.conversationId,
    senderDeviceId: sender.deviceId,
    chainId: binding.chainId,
    index: 0,
    senderSeq: link.senderSeq,
    transcript: link.previous,
  });
  const w = new ByteWriter()
    .fixed(sender.signingPublic, PUBLIC_KEY_LENGTH)
    .fixed(sender.agreementPublic, PUBLIC_KEY_LENGTH)
    .u64(binding.rosterVersion)
    .u8(MODE_CODES[binding.mode])
    .u32(recipients.length);
  const sealed = await Promise.all(
    recipients.map((recipient) =>
      hpkeSeal(recipient.agreementPublic, seed, shareInfo(type, binding, sender.deviceId, recipient.deviceId), header),
    ),
  );
  recipients.forEach((recipient, i) => {
    w.fixed(recipient.deviceId, DEVICE_ID_LENGTH).fixed(sealed[i]!.enc, HPKE_ENC_LENGTH).bytes(sealed[i]!.ciphertext);
  });
  return signEnvelope(sender, header, type, w.finish());
}

function decodeKeyShareBody(body: Uint8Array): KeyShareBody {
  const r = new ByteReader(body);
  const senderSigningPublic = r.fixed(PUBLIC_KEY_LENGTH);
  const senderAgreementPublic = r.fixed(PUBLIC_KEY_LENGTH);
  const rosterVersion = r.u64();
  const modeCode = r.u8();
  const mode = (Object.keys(MODE_CODES) as ConversationMode[]).find((m) => MODE_CODES[m] === modeCode);
  if (!mode) throw new DecodeError(`Unknown conversation mode ${modeCode}`);
  const count = r.u32();
  if (count > MAX_SHARE_RECIPIENTS) throw new DecodeError(`Key share lists ${count} recipients, over the limit`);
  const shares = new Map<string, { enc: Uint8Array<ArrayBuffer>; ciphertext: Uint8Array<ArrayBuffer> }>();
  const recipients: Uint8Array<ArrayBuffer>[] = [];
  for (let i = 0; i < count; i++) {
    const recipient = r.fixed(DEVICE_ID_LENGTH);
    const enc = r.fixed(HPKE_ENC_LENGTH);
    const ciphertext = r.bytes(256);
    recipients.push(recipient);
    shares.set(recipient.join(','), { enc, ciphertext });
  }
  r.end();
  return { senderSigningPublic, senderAgreementPublic, rosterVersion, mode, recipients, shares };
}

/**
 * Reads who a key share (or, with `type` {@link EnvelopeType.noteKeyShare}, a note key share) claims
 * to come from. Whether that sender is trusted, and whether the signature verifies under its key,
 * is the caller's decision ({@link SecureConversation}).
 * @throws DecodeError, also for an envelope not of `type`.
 */
export function readKeyShareIntro(envelope: Envelope, type: KeyShareType = EnvelopeType.keyShare): KeyShareIntro {
  if (envelope.type !== type) throw new DecodeError('Not a key share');
  return decodeKeyShareBody(envelope.body);
}

/** Who opens a share: a device, or the archive recipient under its archive id. */
export interface ShareOpener {
  readonly deviceId: Uint8Array<ArrayBuffer>;
  readonly agreement: CryptoKeyPair;
}

/**
 * Opens `me`'s share of a key share or note key share whose signature the caller has verified,
 * under the HPKE `info` label of the envelope's type.
 * @throws OpenError when there is no share for `me`, or it does not open under this binding.
 */
export async function openKeyShare(
  envelope: Envelope,
  me: ShareOpener,
  orgId: Uint8Array<ArrayBuffer>,
): Promise<Uint8Array<ArrayBuffer>> {
  try {
    const body = decodeKeyShareBody(envelope.body);
    const share = body.shares.get(me.deviceId.join(','));
    if (!share) throw new OpenError('No key share for this device');
    const binding: KeyShareBinding = {
      orgId,
      conversationId: envelope.conversationId,
      chainId: envelope.chainId,
      rosterVersion: body.rosterVersion,
      mode: body.mode,
    };
    const seed = await hpkeOpen(
      me.agreement,
      share,
      shareInfo(envelope.type as KeyShareType, binding, envelope.senderDeviceId, me.deviceId),
      envelope.header,
    );
    if (seed.length !== CHAIN_SEED_LENGTH) throw new OpenError('Key share has the wrong length');
    return seed;
  } catch (error) {
    if (error instanceof OpenError) throw error;
    if (error instanceof SealchatError) throw new OpenError('Key share does not open', { cause: error });
    throw error;
  }
}

// ---------------------------------------------------------------------------------------------
// Payloads: messages, receipts, typing, control, notes

function payloadAad(type: EnvelopeType, header: Uint8Array): Uint8Array<ArrayBuffer> {
  return concatBytes(utf8Encode(CONTEXT_BY_TYPE[type]), Uint8Array.of(0), header);
}

/** Encrypts and signs one payload with the given key of the sender's chain. */
export async function sealPayload(params: {
  type: PayloadType;
  sender: DeviceIdentity;
  conversationId: Uint8Array<ArrayBuffer>;
  chainId: Uint8Array<ArrayBuffer>;
  messageKey: MessageKey;
  plaintext: Uint8Array<ArrayBuffer>;
  link: TranscriptLink;
}): Promise<Uint8Array<ArrayBuffer>> {
  const { type, sender, conversationId, chainId, messageKey, plaintext, link } = params;
  // AES-GCM adds a 16-byte tag; a body over the limit would be refused by every receiver.
  if (plaintext.length + 16 > MAX_BODY_BYTES) {
    throw new RangeError(`A payload of ${plaintext.length} bytes is over the ${MAX_BODY_BYTES}-byte body limit`);
  }
  const header = encodeHeader({
    type,
    conversationId,
    senderDeviceId: sender.deviceId,
    chainId,
    index: messageKey.index,
    senderSeq: link.senderSeq,
    transcript: link.previous,
  });
  const ciphertext = new Uint8Array(
    await crypto.subtle.encrypt(
      { name: 'AES-GCM', iv: messageKey.iv, additionalData: payloadAad(type, header) },
      messageKey.key,
      plaintext,
    ),
  );
  return signEnvelope(sender, header, type, ciphertext);
}

/**
 * Decrypts a payload envelope whose signature the caller has verified.
 * @throws OpenError when the ciphertext or header was tampered with or the key is wrong.
 */
export async function openPayload(envelope: Envelope, messageKey: MessageKey): Promise<Uint8Array<ArrayBuffer>> {
  // A note key share (type 6) fails below: its type's AEAD label is not a payload's.
  if (envelope.type === EnvelopeType.keyShare) throw new OpenError('A key share is not a payload');
  try {
    const plaintext = await crypto.subtle.decrypt(
      { name: 'AES-GCM', iv: messageKey.iv, additionalData: payloadAad(envelope.type, envelope.header) },
      messageKey.key,
      envelope.body,
    );
    return new Uint8Array(plaintext);
  } catch (cause) {
    throw new OpenError('Payload does not open', { cause });
  }
}
