import { utf8Encode } from '@sealchat/protocol';

/**
 * The passphrase construction the Node key file and the organisation backup share: PBKDF2-SHA-256
 * stretches the passphrase once, then HKDF splits the result into an AES-256-GCM key and a check
 * value under the caller's labels. The check tells a wrong passphrase (check differs) from a damaged
 * file (check matches, GCM fails); it lets an attacker test a guess no faster than a trial decryption.
 */
export async function derivePassphraseKeys(
  passphrase: string,
  salt: Uint8Array<ArrayBuffer>,
  iterations: number,
  labels: { readonly encryption: Uint8Array<ArrayBuffer>; readonly check: Uint8Array<ArrayBuffer> },
): Promise<{ key: CryptoKey; check: Uint8Array<ArrayBuffer> }> {
  const password = await crypto.subtle.importKey('raw', utf8Encode(passphrase.normalize('NFC')), 'PBKDF2', false, [
    'deriveBits',
  ]);
  const stretched = new Uint8Array(
    await crypto.subtle.deriveBits({ name: 'PBKDF2', hash: 'SHA-256', salt, iterations }, password, 256),
  );
  // WebCrypto cannot derive an HKDF key from PBKDF2 directly, so the 32 bytes pass through here once.
  const master = await crypto.subtle.importKey('raw', stretched, 'HKDF', false, ['deriveKey', 'deriveBits']);
  stretched.fill(0);
  const hkdf = (info: Uint8Array<ArrayBuffer>): HkdfParams => ({
    name: 'HKDF',
    hash: 'SHA-256',
    salt: new Uint8Array(0),
    info,
  });
  const key = await crypto.subtle.deriveKey(hkdf(labels.encryption), master, { name: 'AES-GCM', length: 256 }, false, [
    'encrypt',
    'decrypt',
  ]);
  const check = new Uint8Array(await crypto.subtle.deriveBits(hkdf(labels.check), master, 256));
  return { key, check };
}
