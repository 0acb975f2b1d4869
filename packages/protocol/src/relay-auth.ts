import { ByteWriter } from './codec.js';
import { Context } from './contexts.js';
import { DEVICE_ID_LENGTH } from './identity.js';
import { sign, verify } from './keys.js';
import { ORG_ID_LENGTH } from './org-key.js';

/** Length of the relay's random challenge. */
export const CHALLENGE_LENGTH = 32;

/**
 * The relay's name in an agent's login (docs/protocol.md §9): the origin of the WebSocket URL the
 * client dialled, as `new URL` spells it (lower-case host, default port left out, no path), so
 * `wss://Relay.example:443/chat` and `wss://relay.example` are one relay.
 * @throws TypeError when `url` is not a ws:// or wss:// URL.
 */
export function relayOrigin(url: string): string {
  const parsed = new URL(url);
  if (parsed.protocol !== 'ws:' && parsed.protocol !== 'wss:')
    throw new TypeError(`A relay is named by a ws:// or wss:// URL, got ${JSON.stringify(url)}`);
  return parsed.origin;
}

// The relay's origin is signed so that a hostile relay cannot hand another relay's challenge to an
// agent connected to it and log in as that agent there: the answer names the relay it was made for.
function authPayload(
  challenge: Uint8Array,
  orgId: Uint8Array,
  deviceId: Uint8Array,
  relayUrl: string,
): Uint8Array<ArrayBuffer> {
  return new ByteWriter()
    .fixed(challenge, CHALLENGE_LENGTH)
    .fixed(orgId, ORG_ID_LENGTH)
    .fixed(deviceId, DEVICE_ID_LENGTH)
    .string(relayOrigin(relayUrl))
    .finish();
}

/**
 * An agent device proves to the relay at `relayUrl` (the URL it dialled, or its origin) that it
 * holds the signing key of its certificate.
 * @throws TypeError when `relayUrl` is not a ws:// or wss:// URL.
 */
export function signRelayChallenge(
  signingKey: CryptoKey,
  challenge: Uint8Array,
  orgId: Uint8Array,
  deviceId: Uint8Array,
  relayUrl: string,
): Promise<Uint8Array<ArrayBuffer>> {
  return sign(signingKey, Context.relayAuth, authPayload(challenge, orgId, deviceId, relayUrl));
}

/**
 * Checks a login signature made for the relay at `relayUrl` (one of the relay's own origins).
 * @throws SignatureError when it does not verify, also when it was made for another relay.
 * @throws TypeError when `relayUrl` is not a ws:// or wss:// URL.
 */
export function verifyRelayChallenge(
  signingPublic: Uint8Array<ArrayBuffer>,
  challenge: Uint8Array,
  orgId: Uint8Array,
  deviceId: Uint8Array,
  relayUrl: string,
  signature: Uint8Array<ArrayBuffer>,
): Promise<void> {
  return verify(signingPublic, Context.relayAuth, authPayload(challenge, orgId, deviceId, relayUrl), signature);
}
