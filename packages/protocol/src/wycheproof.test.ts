/**
 * Project Wycheproof (C2SP/wycheproof, testvectors_v1) through our own wrappers, in Node and in
 * Chromium (vite.config.ts runs this file in both projects).
 *
 * The vector files are read in place from ../shared/vendor/wycheproof beside the repository (or
 * SEALCHAT_WYCHEPROOF_DIR: the `@wycheproof` alias of vite.config.ts), never copied into it. Vite's import.meta.glob resolves them at test time in both runtimes, with no
 * node:fs (in Chromium they arrive through /@fs/ as JSON modules imported by this file). A missing
 * folder fails this file with a message saying where the vectors were expected: it never skips.
 *
 * Each suite counts the vectors it actually ran and asserts a minimum, so a filter mistake cannot
 * turn it into a suite that passes on nothing.
 */
import { DecapError, EncapError } from '@hpke/core';
import { describe, expect, it } from 'vitest';
import { concatBytes, toHex } from './bytes.js';
import { OpenError } from './errors.js';
import { hkdfBytes } from './hkdf.js';
import { hpkeOpen, hpkeSeal } from './hpke.js';
import { ed25519Verify, generateAgreementKeyPair, x25519 } from './keys.js';
import { bytes, list, number, object, oneOf, string, type Bytes, type Json } from './testing/vector-json.js';

// ---------------------------------------------------------------------------------------------
// Loading

const VECTOR_DIR = '@wycheproof/testvectors_v1 (../shared/vendor/wycheproof, or SEALCHAT_WYCHEPROOF_DIR)';

// Lazy: only the four files named here are transformed, and only when asked for.
const vectorFiles = import.meta.glob<unknown>(
  '@wycheproof/testvectors_v1/{x25519,ed25519,aes_gcm,hkdf_sha256}_test.json',
  { import: 'default' },
);

interface TestGroup {
  readonly group: Json;
  readonly tests: readonly Json[];
}

/** The test groups of one vector file, or a clear failure if the file is not where CI puts it. */
async function loadGroups(file: string, algorithm: string): Promise<readonly TestGroup[]> {
  const load = Object.entries(vectorFiles).find(([path]) => path.endsWith(`/${file}`))?.[1];
  if (!load) {
    throw new Error(
      `Project Wycheproof vectors not found: expected ${file} in ${VECTOR_DIR}, relative to the repository root. ` +
        'They are read in place and must not be copied into the repo.',
    );
  }
  const root = object(await load(), file);
  if (string(root, 'algorithm') !== algorithm) throw new TypeError(`${file}: not ${algorithm}`);
  return list(root, 'testGroups').map((g, i) => {
    const group = object(g, `${file} group ${i}`);
    return { group, tests: list(group, 'tests').map((t, j) => object(t, `${file} group ${i} test ${j}`)) };
  });
}

const [x25519Groups, ed25519Groups, aesGcmGroups, hkdfGroups] = await Promise.all([
  loadGroups('x25519_test.json', 'XDH'),
  loadGroups('ed25519_test.json', 'EDDSA'),
  loadGroups('aes_gcm_test.json', 'AES-GCM'),
  loadGroups('hkdf_sha256_test.json', 'HKDF-SHA-256'),
]);

interface Vector {
  readonly tcId: number;
  readonly result: 'valid' | 'invalid' | 'acceptable';
  readonly flags: readonly string[];
  readonly test: Json;
  readonly group: Json;
}

function vectors(groups: readonly TestGroup[]): Vector[] {
  return groups.flatMap(({ group, tests }) =>
    tests.map((test) => ({
      tcId: number(test, 'tcId'),
      result: oneOf(test, 'result', ['valid', 'invalid', 'acceptable']),
      flags: list(test, 'flags').map((f) => {
        if (typeof f !== 'string') throw new TypeError('flags: not a list of strings');
        return f;
      }),
      test,
      group,
    })),
  );
}

const label = (v: Vector) => `tcId ${v.tcId} [${v.flags.join(', ')}] ${string(v.test, 'comment')}`;

/** The error a promise rejects with; fails the test if it resolves. */
async function rejection(promise: Promise<unknown>, what: string): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error(`${what}: expected a rejection, but it resolved`);
}

/** RFC 8410 §7 OneAsymmetricKey for a raw X25519 private key (OID 1.3.101.110). */
async function importX25519Private(scalar: Bytes): Promise<CryptoKey> {
  const prefix = Uint8Array.of(0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x6e, 0x04, 0x22);
  const pkcs8 = concatBytes(prefix, Uint8Array.of(0x04, 0x20), scalar);
  return crypto.subtle.importKey('pkcs8', pkcs8, { name: 'X25519' }, false, ['deriveBits']);
}

// ---------------------------------------------------------------------------------------------
// X25519 (x25519_test.json) through x25519() and, for low-order points, hpkeOpen / hpkeSeal
//
// "acceptable" here is of two kinds, decided separately:
//  - ZeroSharedSecret (every LowOrderPublic point): must be REFUSED. RFC 7748 §6.1 allows the check,
//    RFC 9180 §7.1.4 requires it for HPKE, and a contributory secret is what our key shares assume.
//    WebCrypto (Secure Curves §X25519 deriveBits) throws OperationError on an all-zero result in both
//    engines; x25519() and @hpke/core rely on that, and these vectors pin it.
//  - Twist, NonCanonicalPublic and edge cases with a non-zero secret: ACCEPTED, and the output must
//    be exactly the RFC 7748 §5 value (top bit masked, u reduced mod p). Rejecting them is allowed,
//    but computing anything else would be an invalid-curve leak.

const x25519Vectors = vectors(x25519Groups);
const isZeroShared = (v: Vector) => v.flags.includes('ZeroSharedSecret');

describe('Wycheproof X25519 through x25519()', () => {
  it('every vector carries a group for curve25519', () => {
    for (const v of x25519Vectors) expect(string(v.group, 'curve'), label(v)).toBe('curve25519');
  });

  it('valid vectors give the expected shared secret', async () => {
    let ran = 0;
    for (const v of x25519Vectors.filter((v) => v.result === 'valid')) {
      const privateKey = await importX25519Private(bytes(v.test, 'private'));
      expect(toHex(await x25519(privateKey, bytes(v.test, 'public'))), label(v)).toBe(string(v.test, 'shared'));
      ran++;
    }
    expect(ran).toBeGreaterThanOrEqual(264);
  });

  it('acceptable vectors with a non-zero secret (twist, non-canonical u) give exactly the RFC 7748 value', async () => {
    let ran = 0;
    for (const v of x25519Vectors.filter((v) => v.result === 'acceptable' && !isZeroShared(v))) {
      const privateKey = await importX25519Private(bytes(v.test, 'private'));
      expect(toHex(await x25519(privateKey, bytes(v.test, 'public'))), label(v)).toBe(string(v.test, 'shared'));
      ran++;
    }
    expect(ran).toBeGreaterThanOrEqual(223);
  });

  it('no vector is invalid outright; every all-zero secret is flagged ZeroSharedSecret', () => {
    expect(x25519Vectors.filter((v) => v.result === 'invalid').map(label)).toEqual([]);
    const zeroShared = x25519Vectors.filter((v) => /^(00)+$/.test(string(v.test, 'shared')));
    expect(zeroShared.filter((v) => !isZeroShared(v)).map(label)).toEqual([]);
  });

  it('low-order public keys (all-zero shared secret) are refused, never returned', async () => {
    let ran = 0;
    for (const v of x25519Vectors.filter(isZeroShared)) {
      const privateKey = await importX25519Private(bytes(v.test, 'private'));
      const error = await rejection(x25519(privateKey, bytes(v.test, 'public')), label(v));
      expect(error, label(v)).toBeInstanceOf(DOMException);
      expect((error as DOMException).name, label(v)).toBe('OperationError');
      ran++;
    }
    expect(ran).toBeGreaterThanOrEqual(31);
  });
});

describe('Wycheproof X25519 low-order points through HPKE (RFC 9180 §7.1.4)', () => {
  const lowOrder = x25519Vectors.filter(isZeroShared);
  const info = Uint8Array.of(1);
  const aad = Uint8Array.of(2);

  it('hpkeOpen refuses a low-order enc with OpenError, because decapsulation fails', async () => {
    const recipient = await generateAgreementKeyPair();
    // Control: an honest enc over garbage fails in the AEAD, not in the KEM, so the cause below
    // tells a refused point apart from a ciphertext that merely does not open.
    const honest = await hpkeSeal(
      new Uint8Array(await crypto.subtle.exportKey('raw', recipient.publicKey)),
      Uint8Array.of(3),
      info,
      aad,
    );
    const garbage = new Uint8Array(honest.ciphertext.length);
    const control = await rejection(
      hpkeOpen(recipient, { enc: honest.enc, ciphertext: garbage }, info, aad),
      'control',
    );
    expect(control).toBeInstanceOf(OpenError);
    expect((control as OpenError).cause).not.toBeInstanceOf(DecapError);

    let ran = 0;
    for (const v of lowOrder) {
      const sealed = { enc: bytes(v.test, 'public'), ciphertext: garbage };
      const error = await rejection(hpkeOpen(recipient, sealed, info, aad), label(v));
      expect(error, label(v)).toBeInstanceOf(OpenError);
      expect((error as OpenError).cause, label(v)).toBeInstanceOf(DecapError);
      ran++;
    }
    expect(ran).toBeGreaterThanOrEqual(31);
  });

  it('hpkeSeal refuses to seal to a low-order recipient key', async () => {
    let ran = 0;
    for (const v of lowOrder) {
      const error = await rejection(hpkeSeal(bytes(v.test, 'public'), Uint8Array.of(3), info, aad), label(v));
      expect(error, label(v)).toBeInstanceOf(EncapError);
      ran++;
    }
    expect(ran).toBeGreaterThanOrEqual(31);
  });
});

// ---------------------------------------------------------------------------------------------
// Ed25519 (ed25519_test.json) through ed25519Verify(), the primitive under verify(): verify() only
// prefixes `context ‖ 0x00` to the message and turns false into SignatureError, so the vectors'
// own messages can reach the curve arithmetic only here.
//
// "acceptable": the file has none today. Were any added, we would demand REJECTION: a verifier that
// accepts an ambiguous encoding is malleable, and our signatures name envelopes and rosters.

const ed25519Vectors = vectors(ed25519Groups);

async function verifies(v: Vector): Promise<boolean> {
  const publicKey = bytes(object(v.group['publicKey'], 'publicKey'), 'pk');
  return ed25519Verify(publicKey, bytes(v.test, 'msg'), bytes(v.test, 'sig'));
}

describe('Wycheproof Ed25519 through ed25519Verify()', () => {
  it('valid signatures verify', async () => {
    let ran = 0;
    for (const v of ed25519Vectors.filter((v) => v.result === 'valid')) {
      expect(await verifies(v), label(v)).toBe(true);
      ran++;
    }
    expect(ran).toBeGreaterThanOrEqual(88);
  });

  it('invalid and acceptable signatures are refused (false, never a throw)', async () => {
    let ran = 0;
    for (const v of ed25519Vectors.filter((v) => v.result !== 'valid')) {
      expect(await verifies(v), label(v)).toBe(false);
      ran++;
    }
    expect(ran).toBeGreaterThanOrEqual(63);
  });

  it('malleable signatures (S + L, S + 2L, … and S read mod p) are among them, and refused', async () => {
    const malleable = ed25519Vectors.filter((v) => v.flags.includes('SignatureMalleability'));
    for (const v of malleable) {
      expect(v.result, label(v)).toBe('invalid');
      expect(await verifies(v), label(v)).toBe(false);
    }
    expect(malleable.length).toBeGreaterThanOrEqual(8);
  });
});

// ---------------------------------------------------------------------------------------------
// AES-256-GCM (aes_gcm_test.json), only the parameters the protocol uses: a 256-bit key, a 96-bit
// IV and a 128-bit tag (sender-chain.ts derives key ‖ IV; envelope.ts and @hpke/core's Aes256Gcm
// use the default tag). Every other group is skipped by this filter and counted.
//
// No wrapper of ours takes raw (key, IV, AAD): envelope.ts calls crypto.subtle.encrypt/decrypt
// inline, with the AAD it builds from the header. So the vectors go through the same calls with the
// same parameters: the key imported raw and non-extractable as sender-chain.ts does, no tagLength.
//
// "acceptable": none in the file; the selected groups hold only valid and invalid (ModifiedTag).
// Were any added they would be held to "must not open", the safe side for an AEAD.

const ourGcm = (g: Json) => number(g, 'keySize') === 256 && number(g, 'ivSize') === 96 && number(g, 'tagSize') === 128;
const aesGcmVectors = vectors(aesGcmGroups);

async function importMessageKey(raw: Bytes): Promise<CryptoKey> {
  return crypto.subtle.importKey('raw', raw, 'AES-GCM', false, ['encrypt', 'decrypt']);
}

describe('Wycheproof AES-GCM, 256-bit key / 96-bit IV / 128-bit tag, as envelope.ts calls it', () => {
  const ours = aesGcmVectors.filter((v) => ourGcm(v.group));
  const skipped = aesGcmVectors.filter((v) => !ourGcm(v.group));

  it('the filter keeps only our parameters, and every vector is either run or counted as skipped', () => {
    expect(ours.length + skipped.length).toBe(aesGcmVectors.length);
    expect(ours.length).toBeGreaterThanOrEqual(66);
    // Other key sizes (128, 192), IV sizes (0–2056 bits) and nothing else: no 256/96/128 vector is lost.
    expect(skipped.filter((v) => ourGcm(v.group))).toEqual([]);
    expect(skipped.length).toBeGreaterThanOrEqual(250);
  });

  it('valid vectors encrypt to ciphertext ‖ tag and decrypt back', async () => {
    let ran = 0;
    for (const v of ours.filter((v) => v.result === 'valid')) {
      const key = await importMessageKey(bytes(v.test, 'key'));
      const params = { name: 'AES-GCM', iv: bytes(v.test, 'iv'), additionalData: bytes(v.test, 'aad') };
      const sealed = new Uint8Array(await crypto.subtle.encrypt(params, key, bytes(v.test, 'msg')));
      expect(toHex(sealed), label(v)).toBe(string(v.test, 'ct') + string(v.test, 'tag'));
      const opened = new Uint8Array(await crypto.subtle.decrypt(params, key, sealed));
      expect(toHex(opened), label(v)).toBe(string(v.test, 'msg'));
      ran++;
    }
    expect(ran).toBeGreaterThanOrEqual(39);
  });

  it('invalid and acceptable vectors (modified tags) do not open', async () => {
    let ran = 0;
    for (const v of ours.filter((v) => v.result !== 'valid')) {
      const key = await importMessageKey(bytes(v.test, 'key'));
      const params = { name: 'AES-GCM', iv: bytes(v.test, 'iv'), additionalData: bytes(v.test, 'aad') };
      const sealed = concatBytes(bytes(v.test, 'ct'), bytes(v.test, 'tag'));
      const error = await rejection(crypto.subtle.decrypt(params, key, sealed), label(v));
      expect((error as DOMException).name, label(v)).toBe('OperationError');
      ran++;
    }
    expect(ran).toBeGreaterThanOrEqual(27);
  });
});

// ---------------------------------------------------------------------------------------------
// HKDF-SHA-256 (hkdf_sha256_test.json) through hkdfBytes(), the call hkdf() makes after encoding its
// label as UTF-8 (the vectors' info is arbitrary bytes, most of it not UTF-8).
//
// "acceptable": none in the file. Invalid vectors ask for more than 255 × 32 bytes (RFC 5869 §2.3):
// WebCrypto refuses with OperationError, and hkdfBytes() must pass that on rather than return bytes.

const hkdfVectors = vectors(hkdfGroups);

function derive(v: Vector): Promise<Bytes> {
  return hkdfBytes(bytes(v.test, 'ikm'), bytes(v.test, 'salt'), bytes(v.test, 'info'), number(v.test, 'size'));
}

describe('Wycheproof HKDF-SHA-256 through hkdfBytes()', () => {
  it('valid vectors give the expected output, up to the 8160-byte maximum', async () => {
    let ran = 0;
    let maximal = 0;
    for (const v of hkdfVectors.filter((v) => v.result === 'valid')) {
      expect(toHex(await derive(v)), label(v)).toBe(string(v.test, 'okm'));
      if (v.flags.includes('MaximalOutputSize')) maximal++;
      ran++;
    }
    expect(ran).toBeGreaterThanOrEqual(83);
    expect(maximal).toBeGreaterThanOrEqual(3);
  });

  it('invalid vectors (output longer than 255 × HashLen) are refused', async () => {
    let ran = 0;
    for (const v of hkdfVectors.filter((v) => v.result !== 'valid')) {
      expect(v.flags, label(v)).toContain('SizeTooLarge');
      const error = await rejection(derive(v), label(v));
      expect((error as DOMException).name, label(v)).toBe('OperationError');
      ran++;
    }
    expect(ran).toBeGreaterThanOrEqual(3);
  });
});
