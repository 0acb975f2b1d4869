import { bytesEqual, fromBase64Url, toBase64Url } from './bytes.js';
import { Context } from './contexts.js';
import { OrgKeyFormatError } from './errors.js';
import { labelledHash, PUBLIC_KEY_LENGTH } from './keys.js';

/**
 * The organisation root public key in the text form pinned in the embed tag (`org="sc1..."`):
 * `sc1` then base64url(key ‖ 4-byte checksum). The checksum catches a mistyped or truncated
 * attribute before the widget trusts anything signed under it.
 */
export const ORG_KEY_PREFIX = 'sc1';
const CHECKSUM_LENGTH = 4;
export const ORG_ID_LENGTH = 16;

export async function formatOrgKey(rootPublicKey: Uint8Array<ArrayBuffer>): Promise<string> {
  if (rootPublicKey.length !== PUBLIC_KEY_LENGTH) throw new TypeError('An org root key is 32 bytes');
  const checksum = await labelledHash(Context.orgKeyChecksum, rootPublicKey, CHECKSUM_LENGTH);
  const body = new Uint8Array(PUBLIC_KEY_LENGTH + CHECKSUM_LENGTH);
  body.set(rootPublicKey);
  body.set(checksum, PUBLIC_KEY_LENGTH);
  return ORG_KEY_PREFIX + toBase64Url(body);
}

/**
 * Parses the text form back into the 32-byte Ed25519 root public key.
 * @throws OrgKeyFormatError naming what is wrong: prefix, length, alphabet or checksum.
 */
export async function parseOrgKey(text: string): Promise<Uint8Array<ArrayBuffer>> {
  const trimmed = text.trim();
  if (!trimmed.startsWith(ORG_KEY_PREFIX)) {
    throw new OrgKeyFormatError(`An org key starts with "${ORG_KEY_PREFIX}"; check the org attribute`);
  }
  let body: Uint8Array<ArrayBuffer>;
  try {
    body = fromBase64Url(trimmed.slice(ORG_KEY_PREFIX.length));
  } catch {
    throw new OrgKeyFormatError('The org key contains characters outside base64url; check for a typo');
  }
  if (body.length !== PUBLIC_KEY_LENGTH + CHECKSUM_LENGTH) {
    throw new OrgKeyFormatError('The org key has the wrong length; it may be truncated');
  }
  const key = body.slice(0, PUBLIC_KEY_LENGTH);
  const expected = await labelledHash(Context.orgKeyChecksum, key, CHECKSUM_LENGTH);
  if (!bytesEqual(expected, body.slice(PUBLIC_KEY_LENGTH))) {
    throw new OrgKeyFormatError('The org key checksum does not match; check the org attribute for a typo');
  }
  return key;
}

/** The 16-byte organisation id the relay routes by: a hash of the root key, so it cannot be chosen. */
export async function orgIdFromRootKey(rootPublicKey: Uint8Array<ArrayBuffer>): Promise<Uint8Array<ArrayBuffer>> {
  return labelledHash(Context.orgId, rootPublicKey, ORG_ID_LENGTH);
}
