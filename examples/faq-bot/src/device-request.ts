/**
 * The bot's side of enrolment: its identity, generated in its own key file, and the "device
 * request" it hands to a supervisor. The request holds public keys only; the private halves never
 * leave the key file.
 */
import {
  concatBytes,
  deviceIdFromSigningKey,
  fromBase64Url,
  loadOrCreateIdentity,
  PUBLIC_KEY_LENGTH,
  toBase64Url,
  toHex,
  type DeviceIdentity,
  type KeyStore,
  type PublicDevice,
} from '@sealchat/protocol';

/** Key pairs `bot/signing` and `bot/agreement` in the store. */
const IDENTITY_NAME = 'bot';
/** Marks the text as a Sealchat device request, like `sc1` marks an org key. */
export const DEVICE_REQUEST_PREFIX = 'scd1';

/** Loads the bot's identity from its store, generating it on first use. */
export function createBotIdentity(store: KeyStore): Promise<DeviceIdentity> {
  return loadOrCreateIdentity(store, IDENTITY_NAME);
}

/**
 * The bot's identity, or undefined when the store has none yet. Never generates one: a bot that
 * made itself a new identity at start would not be on the roster, and would be refused.
 * @throws Error when the store holds only half an identity.
 */
export async function loadBotIdentity(store: KeyStore): Promise<DeviceIdentity | undefined> {
  const [signing, agreement] = await Promise.all([
    store.getKeyPair(`${IDENTITY_NAME}/signing`),
    store.getKeyPair(`${IDENTITY_NAME}/agreement`),
  ]);
  if (!signing && !agreement) return undefined;
  if (!signing || !agreement) throw new Error('The key file holds half a bot identity; restore it from a backup');
  return loadOrCreateIdentity(store, IDENTITY_NAME);
}

/** `scd1` + base64url(signingPublic ‖ agreementPublic): what `faq-bot id` prints for the supervisor. */
export function formatDeviceRequest(device: PublicDevice): string {
  return DEVICE_REQUEST_PREFIX + toBase64Url(concatBytes(device.signingPublic, device.agreementPublic));
}

/** The device id as people compare it: hex, in groups of four. */
export function formatDeviceId(deviceId: Uint8Array): string {
  return toHex(deviceId).replace(/(.{4})(?=.)/g, '$1 ');
}

/**
 * Parses a device request. There is no checksum: whoever enrols compares the device id it prints
 * with the one `faq-bot id` printed on the bot's host, which also catches a swapped request.
 * @throws TypeError when the text is not a device request.
 */
export async function parseDeviceRequest(text: string): Promise<PublicDevice> {
  const trimmed = text.trim();
  if (!trimmed.startsWith(DEVICE_REQUEST_PREFIX)) {
    throw new TypeError(`A device request starts with "${DEVICE_REQUEST_PREFIX}"; copy it from \`faq-bot id\``);
  }
  let body: Uint8Array<ArrayBuffer>;
  try {
    body = fromBase64Url(trimmed.slice(DEVICE_REQUEST_PREFIX.length));
  } catch {
    throw new TypeError('The device request contains characters outside base64url; check for a typo');
  }
  if (body.length !== 2 * PUBLIC_KEY_LENGTH) {
    throw new TypeError('The device request has the wrong length; it may be truncated');
  }
  const signingPublic = body.slice(0, PUBLIC_KEY_LENGTH);
  const agreementPublic = body.slice(PUBLIC_KEY_LENGTH);
  return { deviceId: await deviceIdFromSigningKey(signingPublic), signingPublic, agreementPublic };
}
