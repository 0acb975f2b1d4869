import { concatBytes, utf8Encode } from './bytes.js';
import { ByteReader, ByteWriter } from './codec.js';
import { Context, PROTOCOL_VERSION } from './contexts.js';
import { CONVERSATION_ID_LENGTH, EnvelopeType, type KeyShareType } from './envelope.js';
import { DecodeError, OpenError } from './errors.js';
import { HPKE_ENC_LENGTH, hpkeOpen, hpkeSeal } from './hpke.js';
import { DEVICE_ID_LENGTH, type Recipient } from './identity.js';
import { ORG_ID_LENGTH } from './org-key.js';
import { CHAIN_ID_LENGTH, CHAIN_SEED_LENGTH } from './sender-chain.js';

/**
 * History grants (docs/protocol.md §14): how an organisation lets an agent read conversations from
 * before the agent joined. A supervisor's browser that holds the archive key opens a past
 * conversation's key shares, and seals the chain seeds it found, by HPKE, to the agent device's
 * agreement key. The relay stores the sealed grant and hands it to that device only.
 *
 * A seed alone authorises nothing: every envelope is still signed by its sender and checked against
 * the roster, and a seed is used only for the key share whose sender, chain and type it names. A
 * wrong or forged seed opens nothing.
 */

/** One chain's seed: the chain a key share (type 1) or note key share (type 6) began. */
export interface GrantedSeed {
  readonly type: KeyShareType;
  readonly senderDeviceId: Uint8Array<ArrayBuffer>;
  readonly chainId: Uint8Array<ArrayBuffer>;
  readonly seed: Uint8Array<ArrayBuffer>;
}

/** Chains one grant may carry (its sealed size then stays under the relay's 64 KiB); bounds a hostile grant's work. */
export const MAX_GRANTED_SEEDS = 700;
const GRANT_VERSION = 1;
const SEED_ENTRY_LENGTH = 1 + DEVICE_ID_LENGTH + CHAIN_ID_LENGTH + CHAIN_SEED_LENGTH;

/** What the grant's HPKE `info` binds: this organisation, this conversation, this device. */
function grantInfo(
  orgId: Uint8Array,
  conversationId: Uint8Array,
  recipientDeviceId: Uint8Array,
): Uint8Array<ArrayBuffer> {
  return concatBytes(
    utf8Encode(Context.historyGrant),
    new ByteWriter()
      .u8(PROTOCOL_VERSION)
      .fixed(orgId, ORG_ID_LENGTH)
      .fixed(conversationId, CONVERSATION_ID_LENGTH)
      .fixed(recipientDeviceId, DEVICE_ID_LENGTH)
      .finish(),
  );
}

/**
 * Seals a conversation's chain seeds to one device.
 * @throws RangeError for more than {@link MAX_GRANTED_SEEDS} seeds; TypeError for a malformed one.
 */
export async function sealHistoryGrant(params: {
  orgId: Uint8Array<ArrayBuffer>;
  conversationId: Uint8Array<ArrayBuffer>;
  recipient: Recipient;
  seeds: readonly GrantedSeed[];
}): Promise<Uint8Array<ArrayBuffer>> {
  const { orgId, conversationId, recipient, seeds } = params;
  if (seeds.length > MAX_GRANTED_SEEDS) throw new RangeError('Too many chains for one history grant');
  const w = new ByteWriter().u32(seeds.length);
  for (const s of seeds) {
    if (s.type !== EnvelopeType.keyShare && s.type !== EnvelopeType.noteKeyShare)
      throw new TypeError('A granted seed begins a message or note chain');
    w.u8(s.type).fixed(s.senderDeviceId, DEVICE_ID_LENGTH).fixed(s.chainId, CHAIN_ID_LENGTH);
    w.fixed(s.seed, CHAIN_SEED_LENGTH);
  }
  const header = Uint8Array.of(GRANT_VERSION);
  const sealed = await hpkeSeal(
    recipient.agreementPublic,
    w.finish(),
    grantInfo(orgId, conversationId, recipient.deviceId),
    header,
  );
  return new ByteWriter().u8(GRANT_VERSION).fixed(sealed.enc, HPKE_ENC_LENGTH).bytes(sealed.ciphertext).finish();
}

/**
 * Opens a grant sealed to `me` for this organisation's conversation.
 * @throws DecodeError for bytes that are not a grant; OpenError for a grant sealed to another
 *   device, for another conversation or organisation, or altered.
 */
export async function openHistoryGrant(params: {
  orgId: Uint8Array<ArrayBuffer>;
  conversationId: Uint8Array<ArrayBuffer>;
  me: { readonly deviceId: Uint8Array<ArrayBuffer>; readonly agreement: CryptoKeyPair };
  grant: Uint8Array;
}): Promise<GrantedSeed[]> {
  const { orgId, conversationId, me, grant } = params;
  const outer = new ByteReader(grant);
  if (outer.u8() !== GRANT_VERSION) throw new DecodeError('Unknown history grant version');
  const enc = outer.fixed(HPKE_ENC_LENGTH);
  const ciphertext = outer.bytes(4 + MAX_GRANTED_SEEDS * SEED_ENTRY_LENGTH + 16);
  outer.end();
  let plaintext: Uint8Array<ArrayBuffer>;
  try {
    plaintext = await hpkeOpen(
      me.agreement,
      { enc, ciphertext },
      grantInfo(orgId, conversationId, me.deviceId),
      Uint8Array.of(GRANT_VERSION),
    );
  } catch (cause) {
    throw new OpenError('This history grant is not for this device and conversation, or was altered', { cause });
  }
  const r = new ByteReader(plaintext);
  const count = r.u32();
  if (count > MAX_GRANTED_SEEDS) throw new DecodeError('Too many chains in a history grant');
  const seeds: GrantedSeed[] = [];
  for (let i = 0; i < count; i++) {
    const type = r.u8();
    if (type !== EnvelopeType.keyShare && type !== EnvelopeType.noteKeyShare)
      throw new DecodeError(`A granted seed of key share type ${type}`);
    seeds.push({
      type,
      senderDeviceId: r.fixed(DEVICE_ID_LENGTH),
      chainId: r.fixed(CHAIN_ID_LENGTH),
      seed: r.fixed(CHAIN_SEED_LENGTH),
    });
  }
  r.end();
  return seeds;
}
