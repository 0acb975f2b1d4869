/**
 * Padmé padding (Nikitin et al., "Reducing Metadata Leakage from Encrypted Files and Communication
 * with PURBs", PoPETs 2019, §4): leaks O(log log L) bits of the length, at most 11.6% overhead.
 * The padded plaintext ends with 0x80 then zeros (ISO/IEC 7816-4), so the original length is recoverable.
 */
import { DecodeError } from './errors.js';

/** The Padmé length for a payload of `length` bytes. */
export function padmeLength(length: number): number {
  if (length < 2) return length;
  const e = Math.floor(Math.log2(length));
  const s = Math.floor(Math.log2(e)) + 1;
  const lastBits = e - s;
  const mask = 2 ** lastBits - 1;
  return Math.floor((length + mask) / (mask + 1)) * (mask + 1);
}

export function pad(plaintext: Uint8Array): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(padmeLength(plaintext.length + 1));
  out.set(plaintext);
  out[plaintext.length] = 0x80;
  return out;
}

/** @throws DecodeError when the padding marker is missing. */
export function unpad(padded: Uint8Array): Uint8Array<ArrayBuffer> {
  for (let i = padded.length - 1; i >= 0; i--) {
    if (padded[i] === 0x80) return padded.slice(0, i);
    if (padded[i] !== 0) break;
  }
  throw new DecodeError('Missing padding marker');
}
