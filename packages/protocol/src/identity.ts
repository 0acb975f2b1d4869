import { Context } from './contexts.js';
import { exportPublicKey, generateAgreementKeyPair, generateSigningKeyPair, labelledHash } from './keys.js';

export const DEVICE_ID_LENGTH = 16;

/**
 * A device's long-term keys: Ed25519 to sign, X25519 to receive HPKE key shares. Visitors, agents and
 * bots all have one. The private halves are non-extractable CryptoKeys; the public halves are cached
 * as bytes because every envelope and certificate needs them.
 */
export interface DeviceIdentity {
  /** Derived from the signing key, so a relay cannot attach another key to a known device id. */
  readonly deviceId: Uint8Array<ArrayBuffer>;
  readonly signing: CryptoKeyPair;
  readonly agreement: CryptoKeyPair;
  readonly signingPublic: Uint8Array<ArrayBuffer>;
  readonly agreementPublic: Uint8Array<ArrayBuffer>;
}

/** Whoever a chain seed can be sealed to: a device, or the organisation's archive key. */
export interface Recipient {
  readonly deviceId: Uint8Array<ArrayBuffer>;
  readonly agreementPublic: Uint8Array<ArrayBuffer>;
}

/** The public part of a {@link DeviceIdentity}. */
export interface PublicDevice extends Recipient {
  readonly signingPublic: Uint8Array<ArrayBuffer>;
}

export async function deviceIdFromSigningKey(signingPublic: Uint8Array<ArrayBuffer>): Promise<Uint8Array<ArrayBuffer>> {
  return labelledHash(Context.deviceId, signingPublic, DEVICE_ID_LENGTH);
}

/** Generates a fresh identity with non-extractable private keys. */
export async function generateDeviceIdentity(): Promise<DeviceIdentity> {
  const [signing, agreement] = await Promise.all([generateSigningKeyPair(), generateAgreementKeyPair()]);
  return restoreDeviceIdentity(signing, agreement);
}

/** Rebuilds an identity from key pairs loaded out of a key store. */
export async function restoreDeviceIdentity(signing: CryptoKeyPair, agreement: CryptoKeyPair): Promise<DeviceIdentity> {
  const [signingPublic, agreementPublic] = await Promise.all([
    exportPublicKey(signing.publicKey),
    exportPublicKey(agreement.publicKey),
  ]);
  return { deviceId: await deviceIdFromSigningKey(signingPublic), signing, agreement, signingPublic, agreementPublic };
}
