import { bytesEqual, concatBytes, utf8Encode } from './bytes.js';
import { ByteReader, ByteWriter } from './codec.js';
import { Context, PROTOCOL_VERSION } from './contexts.js';
import { DecodeError, OpenError, SealchatError } from './errors.js';
import { HPKE_ENC_LENGTH, hpkeOpen, hpkeSeal } from './hpke.js';
import { DEVICE_ID_LENGTH, deviceIdFromSigningKey, type DeviceIdentity, type PublicDevice } from './identity.js';
import { PUBLIC_KEY_LENGTH, SIGNATURE_LENGTH, sign, verify } from './keys.js';
import { ORG_ID_LENGTH } from './org-key.js';
import { CHAIN_ID_LENGTH, CHAIN_SEED_LENGTH, type MessageKey } from './sender-chain.js';

export const CONVERSATION_ID_LENGTH = 16;
/** Recipients per key share; bounds the work a hostile envelope can ask of a receiver. */
export const MAX_SHARE_RECIPIENTS = 1000;

/**
 * Envelope types. Each has its own signature and AEAD context, so no type can pass for another.
 */
export const EnvelopeType = { keyShare: 1, message: 2 } as const;
export type EnvelopeType = (typeof EnvelopeType)[keyof typeof EnvelopeType];

const CONTEXT_BY_TYPE: Record<EnvelopeType, string> = {
  [EnvelopeType.keyShare]: Context.envelopeKeyShare,
  [EnvelopeType.message]: Context.envelopeMessage,
};

/**
 * The authenticated header: everything a receiver needs to pick keys, all of it bound by the
 * signature and, for messages, by the AEAD as associated data. Moving an envelope to another
 * conversation or chain, or changing its type or index, breaks both.
 */
export interface EnvelopeHeader {
  readonly version: number;
  readonly type: EnvelopeType;
  readonly conversationId: Uint8Array<ArrayBuffer>;
  readonly senderDeviceId: Uint8Array<ArrayBuffer>;
  readonly chainId: Uint8Array<ArrayBuffer>;
  /** Message index in the chain; 0 for key shares. */
  readonly index: number;
}

/** A decoded, not yet verified envelope. */
export interface Envelope extends EnvelopeHeader {
  readonly header: Uint8Array<ArrayBuffer>;
  readonly body: Uint8Array<ArrayBuffer>;
  readonly signature: Uint8Array<ArrayBuffer>;
}

const HEADER_LENGTH = 1 + 1 + CONVERSATION_ID_LENGTH + DEVICE_ID_LENGTH + CHAIN_ID_LENGTH + 4;

function encodeHeader(h: Omit<EnvelopeHeader, 'version'>): Uint8Array<ArrayBuffer> {
  return new ByteWriter()
    .u8(PROTOCOL_VERSION)
    .u8(h.type)
    .fixed(h.conversationId, CONVERSATION_ID_LENGTH)
    .fixed(h.senderDeviceId, DEVICE_ID_LENGTH)
    .fixed(h.chainId, CHAIN_ID_LENGTH)
    .u32(h.index)
    .finish();
}

/**
 * Parses envelope bytes (as stored by the relay) into a typed value.
 * @throws DecodeError on any malformed input.
 */
export function decodeEnvelope(bytes: Uint8Array): Envelope {
  const r = new ByteReader(bytes);
  const header = r.fixed(HEADER_LENGTH);
  const body = r.bytes();
  const signature = r.fixed(SIGNATURE_LENGTH);
  r.end();
  const h = new ByteReader(header);
  const version = h.u8();
  if (version !== PROTOCOL_VERSION) throw new DecodeError(`Unsupported envelope version ${version}`);
  const type = h.u8();
  if (type !== EnvelopeType.keyShare && type !== EnvelopeType.message) {
    throw new DecodeError(`Unknown envelope type ${type}`);
  }
  return {
    version,
    type,
    conversationId: h.fixed(CONVERSATION_ID_LENGTH),
    senderDeviceId: h.fixed(DEVICE_ID_LENGTH),
    chainId: h.fixed(CHAIN_ID_LENGTH),
    index: h.u32(),
    header,
    body,
    signature,
  };
}

async function signEnvelope(
  sender: DeviceIdentity,
  header: Uint8Array<ArrayBuffer>,
  type: EnvelopeType,
  body: Uint8Array<ArrayBuffer>,
): Promise<Uint8Array<ArrayBuffer>> {
  const signature = await sign(sender.signing.privateKey, CONTEXT_BY_TYPE[type], signedPart(header, body));
  return concatBytes(header, new ByteWriter().bytes(body).finish(), signature);
}

function signedPart(header: Uint8Array, body: Uint8Array): Uint8Array<ArrayBuffer> {
  return concatBytes(header, new ByteWriter().bytes(body).finish());
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
}

/** A verified and opened key share. */
export interface OpenedKeyShare {
  readonly senderDeviceId: Uint8Array<ArrayBuffer>;
  readonly senderSigningPublic: Uint8Array<ArrayBuffer>;
  readonly senderAgreementPublic: Uint8Array<ArrayBuffer>;
  readonly chainId: Uint8Array<ArrayBuffer>;
  readonly rosterVersion: number;
  readonly seed: Uint8Array<ArrayBuffer>;
}

function shareInfo(
  b: KeyShareBinding,
  senderDeviceId: Uint8Array,
  recipientDeviceId: Uint8Array,
): Uint8Array<ArrayBuffer> {
  return concatBytes(
    utf8Encode(Context.keyShareInfo),
    new ByteWriter()
      .fixed(b.orgId, ORG_ID_LENGTH)
      .fixed(b.conversationId, CONVERSATION_ID_LENGTH)
      .fixed(b.chainId, CHAIN_ID_LENGTH)
      .fixed(senderDeviceId, DEVICE_ID_LENGTH)
      .fixed(recipientDeviceId, DEVICE_ID_LENGTH)
      .u64(b.rosterVersion)
      .finish(),
  );
}

/**
 * Seals a chain seed to each recipient with HPKE and signs the whole envelope. The envelope also
 * carries the sender's public keys, which is how a visitor introduces itself to the agents.
 */
export async function sealKeyShare(params: {
  sender: DeviceIdentity;
  binding: KeyShareBinding;
  seed: Uint8Array<ArrayBuffer>;
  recipients: readonly PublicDevice[];
}): Promise<Uint8Array<ArrayBuffer>> {
  const { sender, binding, seed, recipients } = params;
  if (seed.length !== CHAIN_SEED_LENGTH) throw new TypeError('A chain seed is 32 bytes');
  const header = encodeHeader({
    type: EnvelopeType.keyShare,
    conversationId: binding.conversationId,
    senderDeviceId: sender.deviceId,
    chainId: binding.chainId,
    index: 0,
  });
  const w = new ByteWriter()
    .fixed(sender.signingPublic, PUBLIC_KEY_LENGTH)
    .fixed(sender.agreementPublic, PUBLIC_KEY_LENGTH)
    .u64(binding.rosterVersion)
    .u32(recipients.length);
  for (const recipient of recipients) {
    const sealed = await hpkeSeal(
      recipient.agreementPublic,
      seed,
      shareInfo(binding, sender.deviceId, recipient.deviceId),
      header,
    );
    w.fixed(recipient.deviceId, DEVICE_ID_LENGTH).fixed(sealed.enc, HPKE_ENC_LENGTH).bytes(sealed.ciphertext);
  }
  return signEnvelope(sender, header, EnvelopeType.keyShare, w.finish());
}

/** The public part of a key share, readable before deciding whether to trust the sender. */
export interface KeyShareIntro {
  readonly senderSigningPublic: Uint8Array<ArrayBuffer>;
  readonly senderAgreementPublic: Uint8Array<ArrayBuffer>;
  readonly rosterVersion: number;
  readonly recipients: readonly Uint8Array<ArrayBuffer>[];
}

interface KeyShareBody extends KeyShareIntro {
  readonly shares: ReadonlyMap<string, { enc: Uint8Array<ArrayBuffer>; ciphertext: Uint8Array<ArrayBuffer> }>;
}

function decodeKeyShareBody(body: Uint8Array): KeyShareBody {
  const r = new ByteReader(body);
  const senderSigningPublic = r.fixed(PUBLIC_KEY_LENGTH);
  const senderAgreementPublic = r.fixed(PUBLIC_KEY_LENGTH);
  const rosterVersion = r.u64();
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
  return { senderSigningPublic, senderAgreementPublic, rosterVersion, recipients, shares };
}

/**
 * Reads who a key share claims to come from, and checks that the claim is self-consistent
 * (device id derived from the signing key, signature valid under it). Whether that sender is
 * trusted is the caller's decision: a roster device, or the conversation's visitor.
 * @throws DecodeError, SignatureError
 */
export async function readKeyShareIntro(envelope: Envelope): Promise<KeyShareIntro> {
  if (envelope.type !== EnvelopeType.keyShare) throw new DecodeError('Not a key share');
  const body = decodeKeyShareBody(envelope.body);
  if (!bytesEqual(envelope.senderDeviceId, await deviceIdFromSigningKey(body.senderSigningPublic))) {
    throw new DecodeError('Key share sender id does not match its signing key');
  }
  await verifyEnvelope(envelope, body.senderSigningPublic);
  return body;
}

/**
 * Opens this device's share of a verified key share.
 * @throws OpenError when there is no share for `me`, or it does not open under this binding.
 */
export async function openKeyShare(
  envelope: Envelope,
  me: DeviceIdentity,
  orgId: Uint8Array<ArrayBuffer>,
): Promise<OpenedKeyShare> {
  try {
    const body = decodeKeyShareBody(envelope.body);
    const share = body.shares.get(me.deviceId.join(','));
    if (!share) throw new OpenError('No key share for this device');
    const binding = {
      orgId,
      conversationId: envelope.conversationId,
      chainId: envelope.chainId,
      rosterVersion: body.rosterVersion,
    };
    const seed = await hpkeOpen(
      me.agreement,
      share,
      shareInfo(binding, envelope.senderDeviceId, me.deviceId),
      envelope.header,
    );
    if (seed.length !== CHAIN_SEED_LENGTH) throw new OpenError('Key share has the wrong length');
    return {
      senderDeviceId: envelope.senderDeviceId,
      senderSigningPublic: body.senderSigningPublic,
      senderAgreementPublic: body.senderAgreementPublic,
      chainId: envelope.chainId,
      rosterVersion: body.rosterVersion,
      seed,
    };
  } catch (error) {
    if (error instanceof OpenError) throw error;
    if (error instanceof SealchatError) throw new OpenError('Key share does not open', { cause: error });
    throw error;
  }
}

// ---------------------------------------------------------------------------------------------
// Messages

/** Encrypts and signs one message with the next key of the sender's chain. */
export async function sealMessage(params: {
  sender: DeviceIdentity;
  conversationId: Uint8Array<ArrayBuffer>;
  chainId: Uint8Array<ArrayBuffer>;
  messageKey: MessageKey;
  plaintext: Uint8Array<ArrayBuffer>;
}): Promise<Uint8Array<ArrayBuffer>> {
  const { sender, conversationId, chainId, messageKey, plaintext } = params;
  const header = encodeHeader({
    type: EnvelopeType.message,
    conversationId,
    senderDeviceId: sender.deviceId,
    chainId,
    index: messageKey.index,
  });
  const ciphertext = new Uint8Array(
    await crypto.subtle.encrypt(
      { name: 'AES-GCM', iv: messageKey.iv, additionalData: concatBytes(utf8Encode(Context.envelopeMessage), header) },
      messageKey.key,
      plaintext,
    ),
  );
  return signEnvelope(sender, header, EnvelopeType.message, ciphertext);
}

/**
 * Decrypts a message envelope whose signature the caller has verified.
 * @throws OpenError when the ciphertext or header was tampered with or the key is wrong.
 */
export async function openMessage(envelope: Envelope, messageKey: MessageKey): Promise<Uint8Array<ArrayBuffer>> {
  if (envelope.type !== EnvelopeType.message) throw new OpenError('Not a message');
  try {
    const plaintext = await crypto.subtle.decrypt(
      {
        name: 'AES-GCM',
        iv: messageKey.iv,
        additionalData: concatBytes(utf8Encode(Context.envelopeMessage), envelope.header),
      },
      messageKey.key,
      envelope.body,
    );
    return new Uint8Array(plaintext);
  } catch (cause) {
    throw new OpenError('Message does not open', { cause });
  }
}
