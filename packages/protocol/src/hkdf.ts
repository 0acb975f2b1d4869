import { utf8Encode } from './bytes.js';

/**
 * HKDF-SHA-256 (RFC 5869) through WebCrypto. The output comes back as bytes because WebCrypto cannot
 * derive an HKDF key from an HKDF key ("length cannot be null"), so ratchet chain keys live briefly
 * in memory; message keys are imported straight back as non-extractable AES-GCM keys.
 */
export async function hkdf(
  ikm: Uint8Array<ArrayBuffer>,
  salt: Uint8Array<ArrayBuffer>,
  info: string,
  length: number,
): Promise<Uint8Array<ArrayBuffer>> {
  return hkdfBytes(ikm, salt, utf8Encode(info), length);
}

/**
 * {@link hkdf} with `info` as raw bytes: the primitive under the protocol's labels. Internal (not in
 * index.ts); it exists so that known-answer vectors with arbitrary-byte info (Project Wycheproof)
 * run through the very call the protocol ships.
 * @throws DOMException (OperationError) when `length` is over 255 × 32 bytes (RFC 5869 §2.3).
 */
export async function hkdfBytes(
  ikm: Uint8Array<ArrayBuffer>,
  salt: Uint8Array<ArrayBuffer>,
  info: Uint8Array<ArrayBuffer>,
  length: number,
): Promise<Uint8Array<ArrayBuffer>> {
  const key = await crypto.subtle.importKey('raw', ikm, 'HKDF', false, ['deriveBits']);
  const bits = await crypto.subtle.deriveBits({ name: 'HKDF', hash: 'SHA-256', salt, info }, key, length * 8);
  return new Uint8Array(bits);
}
