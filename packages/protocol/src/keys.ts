import { concatBytes, utf8Encode } from './bytes.js';
import { DecodeError, SignatureError } from './errors.js';

/**
 * Thin wrappers over WebCrypto's X25519 and Ed25519. Private keys are always generated
 * non-extractable: they can sign or decapsulate, and can be stored in IndexedDB as CryptoKeys,
 * but no script (ours, the host page's, or an injected one) can read their bytes.
 */

export const PUBLIC_KEY_LENGTH = 32;
export const SIGNATURE_LENGTH = 64;

export async function generateSigningKeyPair(): Promise<CryptoKeyPair> {
  return await crypto.subtle.generateKey({ name: 'Ed25519' }, false, ['sign', 'verify']);
}

export async function generateAgreementKeyPair(): Promise<CryptoKeyPair> {
  return (await crypto.subtle.generateKey({ name: 'X25519' }, false, ['deriveBits'])) as CryptoKeyPair;
}

export async function exportPublicKey(key: CryptoKey): Promise<Uint8Array<ArrayBuffer>> {
  return new Uint8Array(await crypto.subtle.exportKey('raw', key));
}

export async function importVerifyKey(raw: Uint8Array<ArrayBuffer>): Promise<CryptoKey> {
  return crypto.subtle.importKey('raw', raw, { name: 'Ed25519' }, true, ['verify']);
}

export async function importAgreementPublicKey(raw: Uint8Array<ArrayBuffer>): Promise<CryptoKey> {
  return crypto.subtle.importKey('raw', raw, { name: 'X25519' }, true, []);
}

/** Plain Ed25519 (RFC 8032) over `message`. Protocol code signs through {@link sign}, which adds a context. */
export async function ed25519Sign(
  privateKey: CryptoKey,
  message: Uint8Array<ArrayBuffer>,
): Promise<Uint8Array<ArrayBuffer>> {
  return new Uint8Array(await crypto.subtle.sign({ name: 'Ed25519' }, privateKey, message));
}

/** Plain Ed25519 verification; false for a bad signature or an unusable public key, never a throw. */
export async function ed25519Verify(
  publicKey: Uint8Array<ArrayBuffer>,
  message: Uint8Array<ArrayBuffer>,
  signature: Uint8Array<ArrayBuffer>,
): Promise<boolean> {
  if (publicKey.length !== PUBLIC_KEY_LENGTH || signature.length !== SIGNATURE_LENGTH) return false;
  try {
    return await crypto.subtle.verify({ name: 'Ed25519' }, await importVerifyKey(publicKey), signature, message);
  } catch {
    return false;
  }
}

/**
 * X25519 (RFC 7748 §5) between a private key and a peer's raw public key. WebCrypto refuses
 * low-order peer points (an all-zero shared secret) with an OperationError.
 */
export async function x25519(
  privateKey: CryptoKey,
  peerPublic: Uint8Array<ArrayBuffer>,
): Promise<Uint8Array<ArrayBuffer>> {
  if (peerPublic.length !== PUBLIC_KEY_LENGTH) {
    throw new DecodeError(`An X25519 public key is ${PUBLIC_KEY_LENGTH} bytes, got ${peerPublic.length}`);
  }
  const peer = await importAgreementPublicKey(peerPublic);
  return new Uint8Array(await crypto.subtle.deriveBits({ name: 'X25519', public: peer }, privateKey, 256));
}

/** Signs `context ‖ 0x00 ‖ data`, so a signature made in one context never verifies in another. */
export async function sign(privateKey: CryptoKey, context: string, data: Uint8Array): Promise<Uint8Array<ArrayBuffer>> {
  return ed25519Sign(privateKey, signedBytes(context, data));
}

/** @throws SignatureError when the signature does not verify under `publicKey` in `context`. */
export async function verify(
  publicKey: Uint8Array<ArrayBuffer>,
  context: string,
  data: Uint8Array,
  signature: Uint8Array<ArrayBuffer>,
): Promise<void> {
  if (!(await ed25519Verify(publicKey, signedBytes(context, data), signature))) {
    throw new SignatureError(`Signature does not verify (${context})`);
  }
}

export async function sha256(data: Uint8Array<ArrayBuffer>): Promise<Uint8Array<ArrayBuffer>> {
  return new Uint8Array(await crypto.subtle.digest('SHA-256', data));
}

/** SHA-256 over `context ‖ 0x00 ‖ data`, truncated to `length` bytes: derived identifiers. */
export async function labelledHash(context: string, data: Uint8Array, length = 32): Promise<Uint8Array<ArrayBuffer>> {
  return (await sha256(signedBytes(context, data))).slice(0, length);
}

function signedBytes(context: string, data: Uint8Array): Uint8Array<ArrayBuffer> {
  return concatBytes(utf8Encode(context), Uint8Array.of(0), data);
}
