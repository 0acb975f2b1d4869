/**
 * Published known-answer vectors, run through our own wrappers where the wrapper can take the
 * vector's inputs, and through WebCrypto exactly as our modules call it where it cannot. The suite
 * runs in Node and in Chromium (vite.config.ts), so both WebCrypto engines are held to the RFCs.
 *
 * Every vector is data copied from the cited RFC section (or, for GCM, the McGrew–Viega
 * specification), never recomputed here. Private keys reach WebCrypto as PKCS#8 (RFC 8410 §7).
 */
import { Aes128Gcm, CipherSuite, DhkemX25519HkdfSha256, HkdfSha256 } from '@hpke/core';
import { describe, expect, it } from 'vitest';
import { concatBytes, fromHex, toBase64Url, toHex, utf8Encode } from './bytes.js';
import { OpenError } from './errors.js';
import { hkdf } from './hkdf.js';
import { hpkeOpen, hpkeSeal } from './hpke.js';
import { ed25519Sign, ed25519Verify, exportPublicKey, x25519 } from './keys.js';

// ---------------------------------------------------------------------------------------------
// Key import helpers

/** RFC 8410 §7 OneAsymmetricKey prefix for a 32-byte private key, with the curve's OID (RFC 8410 §3). */
function pkcs8(oidLastByte: number, privateKey: Uint8Array): Uint8Array<ArrayBuffer> {
  // SEQUENCE { INTEGER 0, SEQUENCE { OID 1.3.101.x }, OCTET STRING { OCTET STRING (32) } }
  const prefix = Uint8Array.of(
    0x30,
    0x2e,
    0x02,
    0x01,
    0x00,
    0x30,
    0x05,
    0x06,
    0x03,
    0x2b,
    0x65,
    oidLastByte,
    0x04,
    0x22,
    0x04,
    0x20,
  );
  return concatBytes(prefix, privateKey);
}
const OID_X25519 = 0x6e; // 1.3.101.110
const OID_ED25519 = 0x70; // 1.3.101.112

async function importEd25519Private(seed: Uint8Array, extractable = false): Promise<CryptoKey> {
  return crypto.subtle.importKey('pkcs8', pkcs8(OID_ED25519, seed), { name: 'Ed25519' }, extractable, ['sign']);
}

async function importX25519Private(scalar: Uint8Array, extractable = false): Promise<CryptoKey> {
  return crypto.subtle.importKey('pkcs8', pkcs8(OID_X25519, scalar), { name: 'X25519' }, extractable, ['deriveBits']);
}

/** The public key WebCrypto derives from an imported private key: JWK `x` (RFC 8037 §2). */
async function derivedPublic(privateKey: CryptoKey): Promise<string> {
  const jwk = await crypto.subtle.exportKey('jwk', privateKey);
  return jwk.x ?? '';
}

function flipBit(bytes: Uint8Array, bit: number): Uint8Array<ArrayBuffer> {
  const out = Uint8Array.from(bytes);
  out[bit >> 3]! ^= 1 << (bit & 7);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Ed25519: RFC 8032 §7.1 "Test Vectors for Ed25519"

interface Ed25519Vector {
  readonly name: string;
  readonly secretKey: string;
  readonly publicKey: string;
  readonly message: string;
  readonly signature: string;
}

/** RFC 8032 §7.1, TEST 1024: the 1023-octet message. */
const TEST_1024_MESSAGE =
  '08b8b2b733424243760fe426a4b54908632110a66c2f6591eabd3345e3e4eb98' +
  'fa6e264bf09efe12ee50f8f54e9f77b1e355f6c50544e23fb1433ddf73be84d8' +
  '79de7c0046dc4996d9e773f4bc9efe5738829adb26c81b37c93a1b270b20329d' +
  '658675fc6ea534e0810a4432826bf58c941efb65d57a338bbd2e26640f89ffbc' +
  '1a858efcb8550ee3a5e1998bd177e93a7363c344fe6b199ee5d02e82d522c4fe' +
  'ba15452f80288a821a579116ec6dad2b3b310da903401aa62100ab5d1a36553e' +
  '06203b33890cc9b832f79ef80560ccb9a39ce767967ed628c6ad573cb116dbef' +
  'efd75499da96bd68a8a97b928a8bbc103b6621fcde2beca1231d206be6cd9ec7' +
  'aff6f6c94fcd7204ed3455c68c83f4a41da4af2b74ef5c53f1d8ac70bdcb7ed1' +
  '85ce81bd84359d44254d95629e9855a94a7c1958d1f8ada5d0532ed8a5aa3fb2' +
  'd17ba70eb6248e594e1a2297acbbb39d502f1a8c6eb6f1ce22b3de1a1f40cc24' +
  '554119a831a9aad6079cad88425de6bde1a9187ebb6092cf67bf2b13fd65f270' +
  '88d78b7e883c8759d2c4f5c65adb7553878ad575f9fad878e80a0c9ba63bcbcc' +
  '2732e69485bbc9c90bfbd62481d9089beccf80cfe2df16a2cf65bd92dd597b07' +
  '07e0917af48bbb75fed413d238f5555a7a569d80c3414a8d0859dc65a46128ba' +
  'b27af87a71314f318c782b23ebfe808b82b0ce26401d2e22f04d83d1255dc51a' +
  'ddd3b75a2b1ae0784504df543af8969be3ea7082ff7fc9888c144da2af58429e' +
  'c96031dbcad3dad9af0dcbaaaf268cb8fcffead94f3c7ca495e056a9b47acdb7' +
  '51fb73e666c6c655ade8297297d07ad1ba5e43f1bca32301651339e22904cc8c' +
  '42f58c30c04aafdb038dda0847dd988dcda6f3bfd15c4b4c4525004aa06eeff8' +
  'ca61783aacec57fb3d1f92b0fe2fd1a85f6724517b65e614ad6808d6f6ee34df' +
  'f7310fdc82aebfd904b01e1dc54b2927094b2db68d6f903b68401adebf5a7e08' +
  'd78ff4ef5d63653a65040cf9bfd4aca7984a74d37145986780fc0b16ac451649' +
  'de6188a7dbdf191f64b5fc5e2ab47b57f7f7276cd419c17a3ca8e1b939ae49e4' +
  '88acba6b965610b5480109c8b17b80e1b7b750dfc7598d5d5011fd2dcc5600a3' +
  '2ef5b52a1ecc820e308aa342721aac0943bf6686b64b2579376504ccc493d97e' +
  '6aed3fb0f9cd71a43dd497f01f17c0e2cb3797aa2a2f256656168e6c496afc5f' +
  'b93246f6b1116398a346f1a641f3b041e989f7914f90cc2c7fff357876e506b5' +
  '0d334ba77c225bc307ba537152f3f1610e4eafe595f6d9d90d11faa933a15ef1' +
  '369546868a7f3a45a96768d40fd9d03412c091c6315cf4fde7cb68606937380d' +
  'b2eaaa707b4c4185c32eddcdd306705e4dc1ffc872eeee475a64dfac86aba41c' +
  '0618983f8741c5ef68d3a101e8a3b8cac60c905c15fc910840b94c00a0b9d0';

/** RFC 8032 §7.1: TEST 1, TEST 2, TEST 3, TEST 1024 and TEST SHA(abc). */
const ED25519_VECTORS: readonly Ed25519Vector[] = [
  {
    name: 'TEST 1 (empty message)',
    secretKey: '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60',
    publicKey: 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a',
    message: '',
    signature:
      'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b',
  },
  {
    name: 'TEST 2 (1 octet)',
    secretKey: '4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb',
    publicKey: '3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c',
    message: '72',
    signature:
      '92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00',
  },
  {
    name: 'TEST 3 (2 octets)',
    secretKey: 'c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7',
    publicKey: 'fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025',
    message: 'af82',
    signature:
      '6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a',
  },
  {
    name: 'TEST 1024 (1023 octets)',
    secretKey: 'f5e5767cf153319517630f226876b86c8160cc583bc013744c6bf255f5cc0ee5',
    publicKey: '278117fc144c72340f67d0f2316e8386ceffbf2b2428c9c51fef7c597f1d426e',
    message: TEST_1024_MESSAGE,
    signature:
      '0aab4c900501b3e24d7cdf4663326a3a87df5e4843b2cbdb67cbf6e460fec350aa5371b1508f9f4528ecea23c436d94b5e8fcd4f681e30a6ac00a9704a188a03',
  },
  {
    name: 'TEST SHA(abc) (64 octets)',
    secretKey: '833fe62409237b9d62ec77587520911e9a759cec1d19755b7da901b96dca3d42',
    publicKey: 'ec172b93ad5e563bf4932c70e1245034c35467ef2efd4d64ebf819683467e2bf',
    message:
      'ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f',
    signature:
      'dc2a4459e7369633a52b1bf277839a00201009a3efbf3ecb69bea2186c26b58909351fc9ac90b3ecfdfbc7c66431e0303dca179c138ac17ad9bef1177331a704',
  },
];

/** The group order L (RFC 8032 §5.1): a verifier must refuse S ≥ L (§5.1.7), or signatures are malleable. */
const ED25519_L = 2n ** 252n + 27742317777372353535851937790883648493n;

function littleEndian(value: bigint, length: number): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = Number((value >> BigInt(8 * i)) & 0xffn);
  return out;
}

function readLittleEndian(bytes: Uint8Array): bigint {
  let value = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) value = (value << 8n) | BigInt(bytes[i]!);
  return value;
}

describe('Ed25519 through ed25519Verify / ed25519Sign (RFC 8032 §7.1)', () => {
  it('the TEST 1024 message is the 1023 octets of the RFC', () => {
    expect(fromHex(TEST_1024_MESSAGE)).toHaveLength(1023);
  });

  for (const v of ED25519_VECTORS) {
    it(`${v.name}: verifies, and signing reproduces the signature byte for byte`, async () => {
      const publicKey = fromHex(v.publicKey);
      const message = fromHex(v.message);
      const signature = fromHex(v.signature);
      expect(await ed25519Verify(publicKey, message, signature)).toBe(true);

      // The secret key imported as PKCS#8 derives the RFC's public key (JWK export needs extractable).
      expect(await derivedPublic(await importEd25519Private(fromHex(v.secretKey), true))).toBe(toBase64Url(publicKey));
      // Ed25519 is deterministic (RFC 8032 §5.1.6), so the signature must match exactly,
      // from a non-extractable key as the protocol holds them.
      const privateKey = await importEd25519Private(fromHex(v.secretKey));
      expect(toHex(await ed25519Sign(privateKey, message))).toBe(v.signature);
    });

    it(`${v.name}: a flipped bit anywhere in the signature fails`, async () => {
      const publicKey = fromHex(v.publicKey);
      const message = fromHex(v.message);
      const signature = fromHex(v.signature);
      // One bit in each octet, walking the bit position so R's and S's high bits are covered.
      for (let octet = 0; octet < 64; octet++) {
        const bad = flipBit(signature, octet * 8 + (octet % 8));
        expect(await ed25519Verify(publicKey, message, bad), `octet ${octet}`).toBe(false);
      }
    });

    it(`${v.name}: another message, a wrong key, and S + L all fail`, async () => {
      const publicKey = fromHex(v.publicKey);
      const message = fromHex(v.message);
      const signature = fromHex(v.signature);
      expect(await ed25519Verify(publicKey, concatBytes(message, Uint8Array.of(0)), signature)).toBe(false);
      if (message.length > 0) expect(await ed25519Verify(publicKey, flipBit(message, 0), signature)).toBe(false);
      expect(await ed25519Verify(flipBit(publicKey, 0), message, signature)).toBe(false);
      const s = readLittleEndian(signature.subarray(32));
      const malleated = concatBytes(signature.subarray(0, 32), littleEndian(s + ED25519_L, 32));
      expect(s + ED25519_L < 2n ** 256n).toBe(true);
      expect(await ed25519Verify(publicKey, message, malleated)).toBe(false);
    });
  }

  it("TEST 2's signature does not verify under TEST 3's key", async () => {
    const [, two, three] = ED25519_VECTORS;
    expect(await ed25519Verify(fromHex(three!.publicKey), fromHex(two!.message), fromHex(two!.signature))).toBe(false);
  });

  it('wrong lengths are refused, not thrown', async () => {
    const v = ED25519_VECTORS[0]!;
    const publicKey = fromHex(v.publicKey);
    const signature = fromHex(v.signature);
    expect(await ed25519Verify(publicKey.slice(0, 31), new Uint8Array(0), signature)).toBe(false);
    expect(await ed25519Verify(publicKey, new Uint8Array(0), signature.slice(0, 63))).toBe(false);
    expect(await ed25519Verify(publicKey, new Uint8Array(0), concatBytes(signature, Uint8Array.of(0)))).toBe(false);
  });
});

// ---------------------------------------------------------------------------------------------
// X25519: RFC 7748 §5.2 (function test vectors) and §6.1 (Diffie–Hellman)

/** RFC 7748 §5.2, the two single-call test vectors (scalar, input u-coordinate, output u-coordinate). */
const X25519_VECTORS = [
  {
    scalar: 'a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4',
    u: 'e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c',
    out: 'c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552',
  },
  {
    // Its u has the top bit set: X25519 must mask it (RFC 7748 §5).
    scalar: '4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d',
    u: 'e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493',
    out: '95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957',
  },
] as const;

/** RFC 7748 §5.2, the iterated test: k = u = 9, then k, u = X25519(k, u), k. */
const X25519_ITERATED = {
  start: '0900000000000000000000000000000000000000000000000000000000000000',
  after1: '422c8e7a6227d7bca1350b3e2bb7279f7897b87bb6854b783c60e80311ae3079',
  after1000: '684cf59ba83309552800ef566f2f4d3c1c3887c49360e3875f2eb94d99532c51',
} as const;

/** RFC 7748 §6.1, Alice and Bob. */
const X25519_DH = {
  alicePrivate: '77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a',
  alicePublic: '8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a',
  bobPrivate: '5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb',
  bobPublic: 'de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f',
  shared: '4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742',
} as const;

describe('X25519 through x25519 (RFC 7748)', () => {
  X25519_VECTORS.forEach((v, i) => {
    it(`§5.2 test vector ${i + 1}`, async () => {
      const privateKey = await importX25519Private(fromHex(v.scalar));
      expect(toHex(await x25519(privateKey, fromHex(v.u)))).toBe(v.out);
    });
  });

  it('§5.2 iterated test, after 1 and after 1000 iterations', async () => {
    let k = fromHex(X25519_ITERATED.start);
    let u = fromHex(X25519_ITERATED.start);
    for (let i = 1; i <= 1000; i++) {
      const next = await x25519(await importX25519Private(k), u);
      u = k;
      k = next;
      if (i === 1) expect(toHex(k)).toBe(X25519_ITERATED.after1);
    }
    expect(toHex(k)).toBe(X25519_ITERATED.after1000);
  }, 60_000);

  it('§6.1 Diffie–Hellman: both public keys, and one shared secret from either side', async () => {
    const alice = await importX25519Private(fromHex(X25519_DH.alicePrivate), true);
    const bob = await importX25519Private(fromHex(X25519_DH.bobPrivate), true);
    expect(await derivedPublic(alice)).toBe(toBase64Url(fromHex(X25519_DH.alicePublic)));
    expect(await derivedPublic(bob)).toBe(toBase64Url(fromHex(X25519_DH.bobPublic)));
    expect(toHex(await x25519(alice, fromHex(X25519_DH.bobPublic)))).toBe(X25519_DH.shared);
    expect(toHex(await x25519(bob, fromHex(X25519_DH.alicePublic)))).toBe(X25519_DH.shared);
  });

  it('a wrong private key gives another secret', async () => {
    const alice = await importX25519Private(flipBit(fromHex(X25519_DH.alicePrivate), 8));
    expect(toHex(await x25519(alice, fromHex(X25519_DH.bobPublic)))).not.toBe(X25519_DH.shared);
  });

  // RFC 7748 §6.1: a check for the all-zero output rejects these small-order peer points.
  const lowOrder = {
    'u = 0': new Uint8Array(32),
    'u = 1': concatBytes(Uint8Array.of(1), new Uint8Array(31)),
  };
  for (const [name, point] of Object.entries(lowOrder)) {
    it(`rejects the low-order peer point ${name}`, async () => {
      const alice = await importX25519Private(fromHex(X25519_DH.alicePrivate));
      await expect(x25519(alice, point)).rejects.toThrow();
    });
  }
});

// ---------------------------------------------------------------------------------------------
// HKDF-SHA-256: RFC 5869 Appendix A.1–A.3

interface HkdfVector {
  readonly name: string;
  readonly ikm: string;
  readonly salt: string;
  readonly info: string;
  readonly length: number;
  readonly okm: string;
}

const HKDF_VECTORS: readonly HkdfVector[] = [
  {
    name: 'A.1 basic',
    ikm: '0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b',
    salt: '000102030405060708090a0b0c',
    info: 'f0f1f2f3f4f5f6f7f8f9',
    length: 42,
    okm: '3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865',
  },
  {
    name: 'A.2 longer inputs and outputs',
    ikm:
      '000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f' +
      '202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f' +
      '404142434445464748494a4b4c4d4e4f',
    salt:
      '606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f' +
      '808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f' +
      'a0a1a2a3a4a5a6a7a8a9aaabacadaeaf',
    info:
      'b0b1b2b3b4b5b6b7b8b9babbbcbdbebfc0c1c2c3c4c5c6c7c8c9cacbcccdcecf' +
      'd0d1d2d3d4d5d6d7d8d9dadbdcdddedfe0e1e2e3e4e5e6e7e8e9eaebecedeeef' +
      'f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff',
    length: 82,
    okm:
      'b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19afa97c' +
      '59045a99cac7827271cb41c65e590e09da3275600c2f09b8367793a9aca3db71' +
      'cc30c58179ec3e87c14c01d5c1f3434f1d87',
  },
  {
    name: 'A.3 zero-length salt and info',
    ikm: '0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b',
    salt: '',
    info: '',
    length: 42,
    okm: '8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8',
  },
];

/** The WebCrypto call hkdf.ts makes, with `info` as bytes. */
async function webCryptoHkdf(
  ikm: Uint8Array<ArrayBuffer>,
  salt: Uint8Array<ArrayBuffer>,
  info: Uint8Array<ArrayBuffer>,
  length: number,
) {
  const key = await crypto.subtle.importKey('raw', ikm, 'HKDF', false, ['deriveBits']);
  return new Uint8Array(await crypto.subtle.deriveBits({ name: 'HKDF', hash: 'SHA-256', salt, info }, key, length * 8));
}

describe('HKDF-SHA-256 (RFC 5869 Appendix A)', () => {
  // Our hkdf() takes `info` as a UTF-8 string. A.1 (f0 f1 …) and A.2 (b0 b1 …) are not valid UTF-8,
  // so only A.3 (empty info) can go through the wrapper; all three go through WebCrypto as hkdf.ts calls it.
  it('A.3 through hkdf()', async () => {
    const v = HKDF_VECTORS[2]!;
    expect(toHex(await hkdf(fromHex(v.ikm), fromHex(v.salt), '', v.length))).toBe(v.okm);
  });

  for (const v of HKDF_VECTORS) {
    it(`${v.name} through WebCrypto HKDF`, async () => {
      expect(toHex(await webCryptoHkdf(fromHex(v.ikm), fromHex(v.salt), fromHex(v.info), v.length))).toBe(v.okm);
    });
  }

  it('hkdf() encodes info as UTF-8 bytes, non-ASCII included', async () => {
    const v = HKDF_VECTORS[0]!;
    const info = 'sealchat/v1 chain-step ü€😀';
    expect(await hkdf(fromHex(v.ikm), fromHex(v.salt), info, 42)).toEqual(
      await webCryptoHkdf(fromHex(v.ikm), fromHex(v.salt), utf8Encode(info), 42),
    );
  });

  it('another salt or info gives another output', async () => {
    const v = HKDF_VECTORS[0]!;
    expect(toHex(await webCryptoHkdf(fromHex(v.ikm), flipBit(fromHex(v.salt), 0), fromHex(v.info), 42))).not.toBe(
      v.okm,
    );
    expect(toHex(await webCryptoHkdf(fromHex(v.ikm), fromHex(v.salt), flipBit(fromHex(v.info), 0), 42))).not.toBe(
      v.okm,
    );
  });
});

// ---------------------------------------------------------------------------------------------
// AES-256-GCM: McGrew & Viega, "The Galois/Counter Mode of Operation (GCM)", Appendix B, test cases 13–16

interface GcmVector {
  readonly name: string;
  readonly key: string;
  readonly iv: string;
  readonly plaintext: string;
  readonly aad: string;
  readonly ciphertext: string;
  readonly tag: string;
}

const GCM_KEY_15 = 'feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308';
const GCM_PLAINTEXT_15 =
  'd9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72' +
  '1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255';
const GCM_CIPHERTEXT_15 =
  '522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa' +
  '8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662898015ad';

const GCM_VECTORS: readonly GcmVector[] = [
  {
    name: 'test case 13 (empty)',
    key: '0000000000000000000000000000000000000000000000000000000000000000',
    iv: '000000000000000000000000',
    plaintext: '',
    aad: '',
    ciphertext: '',
    tag: '530f8afbc74536b9a963b4f1c4cb738b',
  },
  {
    name: 'test case 14 (one zero block)',
    key: '0000000000000000000000000000000000000000000000000000000000000000',
    iv: '000000000000000000000000',
    plaintext: '00000000000000000000000000000000',
    aad: '',
    ciphertext: 'cea7403d4d606b6e074ec5d3baf39d18',
    tag: 'd0d1c8a799996bf0265b98b5d48ab919',
  },
  {
    name: 'test case 15 (four blocks)',
    key: GCM_KEY_15,
    iv: 'cafebabefacedbaddecaf888',
    plaintext: GCM_PLAINTEXT_15,
    aad: '',
    ciphertext: GCM_CIPHERTEXT_15,
    tag: 'b094dac5d93471bdec1a502270e3cc6c',
  },
  {
    name: 'test case 16 (60 octets with associated data)',
    key: GCM_KEY_15,
    iv: 'cafebabefacedbaddecaf888',
    plaintext: GCM_PLAINTEXT_15.slice(0, 120),
    aad: 'feedfacedeadbeeffeedfacedeadbeefabaddad2',
    ciphertext: GCM_CIPHERTEXT_15.slice(0, 120),
    tag: '76fc6ece0f4e1768cddf8853bb2d551b',
  },
];

/** As sender-chain.ts imports message keys and envelope.ts uses them: non-extractable, 96-bit IV, 128-bit tag, AAD always given. */
async function importGcmKey(raw: Uint8Array<ArrayBuffer>): Promise<CryptoKey> {
  return crypto.subtle.importKey('raw', raw, 'AES-GCM', false, ['encrypt', 'decrypt']);
}

describe('AES-256-GCM as envelope.ts uses it (GCM spec test cases 13–16)', () => {
  for (const v of GCM_VECTORS) {
    it(`${v.name}: encrypts to ciphertext ‖ tag and decrypts back`, async () => {
      const key = await importGcmKey(fromHex(v.key));
      const params = { name: 'AES-GCM', iv: fromHex(v.iv), additionalData: fromHex(v.aad) };
      const sealed = new Uint8Array(await crypto.subtle.encrypt(params, key, fromHex(v.plaintext)));
      expect(toHex(sealed)).toBe(v.ciphertext + v.tag);
      expect(toHex(new Uint8Array(await crypto.subtle.decrypt(params, key, sealed)))).toBe(v.plaintext);
    });

    it(`${v.name}: a flipped tag bit, other associated data, or another key is refused`, async () => {
      const key = await importGcmKey(fromHex(v.key));
      const sealed = fromHex(v.ciphertext + v.tag);
      const params = { name: 'AES-GCM', iv: fromHex(v.iv), additionalData: fromHex(v.aad) };
      await expect(crypto.subtle.decrypt(params, key, flipBit(sealed, sealed.length * 8 - 1))).rejects.toThrow();
      const otherAad = { ...params, additionalData: concatBytes(fromHex(v.aad), Uint8Array.of(0)) };
      await expect(crypto.subtle.decrypt(otherAad, key, sealed)).rejects.toThrow();
      const otherKey = await importGcmKey(flipBit(fromHex(v.key), 0));
      await expect(crypto.subtle.decrypt(params, otherKey, sealed)).rejects.toThrow();
    });
  }
});

// ---------------------------------------------------------------------------------------------
// HPKE: RFC 9180 Appendix A.1.1, DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, AES-128-GCM, base mode

const HPKE_A11 = {
  info: '4f6465206f6e2061204772656369616e2055726e',
  skRm: '4612c550263fc8ad58375df3f557aac531d26850903e55a9f23f21d8534e8ac8',
  pkRm: '3948cfe0ad1ddb695d780e59077195da6c56506b027329794ab02bca80815c4d',
  skEm: '52c4a758a802cd8b936eceea314432798d5baf2d7e9235dc084ab1b9cfa2f736',
  enc: '37fda3567bdbd628e88668c3c8d7e97d1d1253b6d4ea6d44c150f741f1bf4431',
  sharedSecret: 'fe0e18c9f024ce43799ae393c7e8fe8fce9d218875e8227b0187c04e7d2ea1fc',
  key: '4531685d41d65f03dc48f6b8302c05b0',
  baseNonce: '56d890e5accaaf011cff4b7d',
  /** A.1.1.1, sequence numbers 0, 1, 2. */
  encryptions: [
    {
      aad: '436f756e742d30',
      ct: 'f938558b5d72f1a23810b4be2ab4f84331acc02fc97babc53a52ae8218a355a96d8770ac83d07bea87e13c512a',
    },
    {
      aad: '436f756e742d31',
      ct: 'af2d7e9ac9ae7e270f46ba1f975be53c09f8d875bdc8535458c2494e8a6eab251c03d0c22a56b8ca42c2063b84',
    },
    {
      aad: '436f756e742d32',
      ct: '498dfcabd92e8acedc281e85af1cb4e3e31c7dc394a1ca20e173cb72516491588d96a19ad4a683518973dcc180',
    },
  ],
  pt: '4265617574792069732074727574682c20747275746820626561757479',
} as const;

/** The receiver's key pair as hpkeOpen takes it: a non-extractable private CryptoKey and its public half. */
async function a11Recipient(): Promise<CryptoKeyPair> {
  const privateKey = await importX25519Private(fromHex(HPKE_A11.skRm));
  const publicKey = await crypto.subtle.importKey('raw', fromHex(HPKE_A11.pkRm), { name: 'X25519' }, true, []);
  return { privateKey, publicKey };
}

// RFC 9180 §4 and §5.1: LabeledExtract / LabeledExpand and the base-mode key schedule, written out
// over WebCrypto HMAC, independent of @hpke/core. Anchored to A.1.1's key and base_nonce below,
// then used to build the AES-256-GCM ciphertext for the same KEM output that hpkeOpen must open.
async function hmacSha256(
  key: Uint8Array<ArrayBuffer>,
  data: Uint8Array<ArrayBuffer>,
): Promise<Uint8Array<ArrayBuffer>> {
  // RFC 5869 §2.2: an empty salt is HashLen zeros (WebCrypto refuses zero-length HMAC keys).
  const k = await crypto.subtle.importKey(
    'raw',
    key.length ? key : new Uint8Array(32),
    { name: 'HMAC', hash: 'SHA-256' },
    false,
    ['sign'],
  );
  return new Uint8Array(await crypto.subtle.sign('HMAC', k, data));
}

function i2osp(value: number, length: number): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(length);
  for (let i = length - 1, v = value; i >= 0; i--, v = Math.floor(v / 256)) out[i] = v & 0xff;
  return out;
}

async function baseModeKeySchedule(
  aeadId: number,
  nk: number,
  sharedSecret: Uint8Array<ArrayBuffer>,
  info: Uint8Array<ArrayBuffer>,
) {
  const suiteId = concatBytes(utf8Encode('HPKE'), i2osp(0x0020, 2), i2osp(0x0001, 2), i2osp(aeadId, 2));
  const labeledExtract = (salt: Uint8Array<ArrayBuffer>, label: string, ikm: Uint8Array<ArrayBuffer>) =>
    hmacSha256(salt, concatBytes(utf8Encode('HPKE-v1'), suiteId, utf8Encode(label), ikm));
  const labeledExpand = async (prk: Uint8Array<ArrayBuffer>, label: string, context: Uint8Array, length: number) => {
    const labeledInfo = concatBytes(i2osp(length, 2), utf8Encode('HPKE-v1'), suiteId, utf8Encode(label), context);
    // length ≤ 32 here, so one HKDF-Expand block (RFC 5869 §2.3) is enough.
    return (await hmacSha256(prk, concatBytes(labeledInfo, Uint8Array.of(1)))).slice(0, length);
  };
  const empty = new Uint8Array(0);
  const context = concatBytes(
    Uint8Array.of(0), // mode_base
    await labeledExtract(empty, 'psk_id_hash', empty),
    await labeledExtract(empty, 'info_hash', info),
  );
  const secret = await labeledExtract(sharedSecret, 'secret', empty);
  return {
    key: await labeledExpand(secret, 'key', context, nk),
    baseNonce: await labeledExpand(secret, 'base_nonce', context, 12),
  };
}

describe('HPKE (RFC 9180 Appendix A.1.1)', () => {
  it('the vector keys import: skRm derives pkRm, skEm derives enc', async () => {
    expect(await derivedPublic(await importX25519Private(fromHex(HPKE_A11.skRm), true))).toBe(
      toBase64Url(fromHex(HPKE_A11.pkRm)),
    );
    expect(await derivedPublic(await importX25519Private(fromHex(HPKE_A11.skEm), true))).toBe(
      toBase64Url(fromHex(HPKE_A11.enc)),
    );
  });

  it('@hpke/core (the library hpke.ts wraps) opens A.1.1.1 sequence 0–2 with the RFC receiver key', async () => {
    // The RFC has no X25519 vector with AES-256-GCM, our suite; A.1 differs from it only in the AEAD.
    const suite = new CipherSuite({ kem: new DhkemX25519HkdfSha256(), kdf: new HkdfSha256(), aead: new Aes128Gcm() });
    const recipientKey = await a11Recipient();
    const context = await suite.createRecipientContext({
      recipientKey,
      enc: fromHex(HPKE_A11.enc),
      info: fromHex(HPKE_A11.info),
    });
    for (const e of HPKE_A11.encryptions) {
      expect(toHex(new Uint8Array(await context.open(fromHex(e.ct), fromHex(e.aad))))).toBe(HPKE_A11.pt);
    }
    // Single-shot open, and refusal of a flipped bit.
    const first = HPKE_A11.encryptions[0];
    const params = { recipientKey, enc: fromHex(HPKE_A11.enc), info: fromHex(HPKE_A11.info) };
    expect(toHex(new Uint8Array(await suite.open(params, fromHex(first.ct), fromHex(first.aad))))).toBe(HPKE_A11.pt);
    await expect(suite.open(params, flipBit(fromHex(first.ct), 3), fromHex(first.aad))).rejects.toThrow();
  });

  it('the RFC 9180 §5.1 key schedule written out here reproduces A.1.1 key and base_nonce', async () => {
    const { key, baseNonce } = await baseModeKeySchedule(
      0x0001,
      16,
      fromHex(HPKE_A11.sharedSecret),
      fromHex(HPKE_A11.info),
    );
    expect(toHex(key)).toBe(HPKE_A11.key);
    expect(toHex(baseNonce)).toBe(HPKE_A11.baseNonce);
  });

  it('hpkeOpen opens the A.1.1 KEM output sealed under our suite (AES-256-GCM, aead_id 0x0002)', async () => {
    const info = fromHex(HPKE_A11.info);
    const aad = fromHex(HPKE_A11.encryptions[0].aad);
    const { key, baseNonce } = await baseModeKeySchedule(0x0002, 32, fromHex(HPKE_A11.sharedSecret), info);
    const aes = await importGcmKey(key);
    const ciphertext = new Uint8Array(
      await crypto.subtle.encrypt({ name: 'AES-GCM', iv: baseNonce, additionalData: aad }, aes, fromHex(HPKE_A11.pt)),
    );
    const recipient = await a11Recipient();
    const sealed = { enc: fromHex(HPKE_A11.enc), ciphertext };
    expect(toHex(await hpkeOpen(recipient, sealed, info, aad))).toBe(HPKE_A11.pt);

    // Negative: wrong info, wrong aad, a flipped ciphertext bit, another enc, another receiver key.
    await expect(hpkeOpen(recipient, sealed, flipBit(info, 0), aad)).rejects.toBeInstanceOf(OpenError);
    await expect(hpkeOpen(recipient, sealed, info, flipBit(aad, 0))).rejects.toBeInstanceOf(OpenError);
    await expect(
      hpkeOpen(recipient, { ...sealed, ciphertext: flipBit(ciphertext, 0) }, info, aad),
    ).rejects.toBeInstanceOf(OpenError);
    await expect(
      hpkeOpen(recipient, { ...sealed, enc: fromHex(X25519_DH.alicePublic) }, info, aad),
    ).rejects.toBeInstanceOf(OpenError);
    const bob = await importX25519Private(fromHex(X25519_DH.bobPrivate));
    const wrong = { privateKey: bob, publicKey: recipient.publicKey };
    await expect(hpkeOpen(wrong, sealed, info, aad)).rejects.toBeInstanceOf(OpenError);
  });

  it('hpkeOpen refuses the A.1.1 AES-128-GCM ciphertext: the suite is bound, not negotiated', async () => {
    const e = HPKE_A11.encryptions[0];
    const sealed = { enc: fromHex(HPKE_A11.enc), ciphertext: fromHex(e.ct) };
    await expect(hpkeOpen(await a11Recipient(), sealed, fromHex(HPKE_A11.info), fromHex(e.aad))).rejects.toBeInstanceOf(
      OpenError,
    );
  });

  it('hpkeSeal to pkRm opens with skRm, and with nothing else', async () => {
    const info = fromHex(HPKE_A11.info);
    const aad = utf8Encode('aad');
    const seed = fromHex(X25519_DH.shared);
    const sealed = await hpkeSeal(fromHex(HPKE_A11.pkRm), seed, info, aad);
    expect(sealed.enc).toHaveLength(32);
    expect(sealed.ciphertext).toHaveLength(32 + 16);
    expect(await hpkeOpen(await a11Recipient(), sealed, info, aad)).toEqual(seed);
    const alice = await importX25519Private(fromHex(X25519_DH.alicePrivate));
    const alicePublic = await crypto.subtle.importKey(
      'raw',
      fromHex(X25519_DH.alicePublic),
      { name: 'X25519' },
      true,
      [],
    );
    await expect(hpkeOpen({ privateKey: alice, publicKey: alicePublic }, sealed, info, aad)).rejects.toBeInstanceOf(
      OpenError,
    );
    expect(await exportPublicKey(alicePublic)).toEqual(fromHex(X25519_DH.alicePublic));
  });
});
