import { Aes256Gcm, CipherSuite, DhkemX25519HkdfSha256, HkdfSha256 } from '@hpke/core';
import { OpenError } from './errors.js';

/**
 * HPKE base mode (RFC 9180 §5.1.1) with DHKEM(X25519, HKDF-SHA256), HKDF-SHA256 and AES-256-GCM,
 * all native WebCrypto through @hpke/core. Used only to carry chain seeds to recipient devices.
 */
const suite = new CipherSuite({
  kem: new DhkemX25519HkdfSha256(),
  kdf: new HkdfSha256(),
  aead: new Aes256Gcm(),
});

/** Length of the KEM encapsulation for DHKEM(X25519) (RFC 9180 §7.1, Nenc). */
export const HPKE_ENC_LENGTH = 32;

export interface HpkeSealed {
  readonly enc: Uint8Array<ArrayBuffer>;
  readonly ciphertext: Uint8Array<ArrayBuffer>;
}

export async function hpkeSeal(
  recipientPublic: Uint8Array<ArrayBuffer>,
  plaintext: Uint8Array<ArrayBuffer>,
  info: Uint8Array<ArrayBuffer>,
  aad: Uint8Array<ArrayBuffer>,
): Promise<HpkeSealed> {
  const recipientPublicKey = await suite.kem.deserializePublicKey(recipientPublic.slice().buffer);
  const { ct, enc } = await suite.seal({ recipientPublicKey, info }, plaintext, aad);
  return { enc: new Uint8Array(enc), ciphertext: new Uint8Array(ct) };
}

/** @throws OpenError when the share was not sealed to this key with this info and aad. */
export async function hpkeOpen(
  recipient: CryptoKeyPair,
  sealed: HpkeSealed,
  info: Uint8Array<ArrayBuffer>,
  aad: Uint8Array<ArrayBuffer>,
): Promise<Uint8Array<ArrayBuffer>> {
  try {
    const pt = await suite.open({ recipientKey: recipient, enc: sealed.enc, info }, sealed.ciphertext, aad);
    return new Uint8Array(pt);
  } catch (cause) {
    throw new OpenError('Key share does not open', { cause });
  }
}
