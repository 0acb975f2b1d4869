import { ByteWriter } from './codec.js';
import { Context } from './contexts.js';
import { DEVICE_ID_LENGTH } from './identity.js';
import { sign, verify } from './keys.js';
import { ORG_ID_LENGTH } from './org-key.js';

/** Length of the relay's random challenge. */
export const CHALLENGE_LENGTH = 32;

function authPayload(challenge: Uint8Array, orgId: Uint8Array, deviceId: Uint8Array): Uint8Array<ArrayBuffer> {
  return new ByteWriter()
    .fixed(challenge, CHALLENGE_LENGTH)
    .fixed(orgId, ORG_ID_LENGTH)
    .fixed(deviceId, DEVICE_ID_LENGTH)
    .finish();
}

/** An agent device proves to the relay that it holds the signing key of its certificate. */
export function signRelayChallenge(
  signingKey: CryptoKey,
  challenge: Uint8Array,
  orgId: Uint8Array,
  deviceId: Uint8Array,
): Promise<Uint8Array<ArrayBuffer>> {
  return sign(signingKey, Context.relayAuth, authPayload(challenge, orgId, deviceId));
}

/** @throws SignatureError */
export function verifyRelayChallenge(
  signingPublic: Uint8Array<ArrayBuffer>,
  challenge: Uint8Array,
  orgId: Uint8Array,
  deviceId: Uint8Array,
  signature: Uint8Array<ArrayBuffer>,
): Promise<void> {
  return verify(signingPublic, Context.relayAuth, authPayload(challenge, orgId, deviceId), signature);
}
