/**
 * Frozen known-answer vectors for Sealchat's own wire format. test-vectors/v1.json (made once by
 * scripts/make-test-vectors.mjs) holds the keys and a visitor conversation; its certificates and
 * roster are in format 1, which is no longer accepted, and serve here as evidence that such bytes are
 * refused. test-vectors/v2-trust.json (made once by scripts/make-trust-vectors.mjs with the same keys)
 * holds format-2 certificates and a chain of two format-2 rosters; v1.json's conversation is checked
 * against its version 7. If a change to the protocol code breaks this suite, it changed the bytes on
 * the wire: that needs a new format or PROTOCOL_VERSION and a new vector file, not an edit here.
 * Runs in Node and in Chromium.
 */
import { describe, expect, it } from 'vitest';
import trustJson from '../test-vectors/v2-trust.json';
import vectorsJson from '../test-vectors/v1.json';
import { fromHex, toHex } from './bytes.js';
import {
  CERTIFICATE_FORMAT,
  issueCertificate,
  verifyCertificate,
  type DeviceRole,
  type VerifiedCertificate,
} from './certificate.js';
import { PROTOCOL_VERSION } from './contexts.js';
import {
  decodeEnvelope,
  envelopeDigest,
  EnvelopeType,
  HEADER_LENGTH,
  openKeyShare,
  openPayload,
  sealPayload,
  verifyEnvelope,
  ZERO_LINK,
  type ConversationMode,
} from './envelope.js';
import {
  CertificateError,
  DecodeError,
  OrgKeyFormatError,
  ReplayError,
  RosterError,
  RosterForkError,
  RosterJumpError,
  RosterSignerError,
  SealchatError,
} from './errors.js';
import { deviceIdFromSigningKey, restoreDeviceIdentity, type DeviceIdentity } from './identity.js';
import { sign, verify } from './keys.js';
import { decodeContent, textOf, type MessageContent } from './message-content.js';
import { formatOrgKey, orgIdFromRootKey, parseOrgKey } from './org-key.js';
import {
  archiveIdFromKey,
  issueRoster,
  ROSTER_FORMAT,
  verifyRoster,
  type RosterFields,
  type VerifiedRoster,
} from './roster.js';
import { SecureConversation } from './secure-conversation.js';
import { ReceivingChain } from './sender-chain.js';
import {
  agreementPair,
  boolean,
  bytes,
  list,
  number,
  object,
  oneOf,
  signingPair,
  string,
  type Bytes,
  type Json,
} from './testing/vector-json.js';

// ---------------------------------------------------------------------------------------------
// The vector files, parsed from `unknown` into typed bytes (the JSON is a boundary like any other)
// with the readers of testing/vector-json.ts.

interface KeyVector {
  readonly deviceId: Bytes;
  readonly signingPublic: Bytes;
  readonly signingPrivatePkcs8: Bytes;
  readonly agreementPublic: Bytes;
  readonly agreementPrivatePkcs8: Bytes;
}
/** A format-2 certificate of v2-trust.json and the fields it must decode to. */
interface CertificateVector {
  readonly deviceId: Bytes;
  readonly signingPublic: Bytes;
  readonly agreementPublic: Bytes;
  readonly displayName: string;
  readonly role: DeviceRole;
  readonly administer: boolean;
  readonly issuedAt: number;
  readonly expiresAt: number;
  readonly issuerKey: Bytes;
  readonly certificate: Bytes;
}
/** A format-2 roster of v2-trust.json and the fields it must decode to. */
interface RosterVector {
  readonly version: number;
  readonly previousDigest: Bytes;
  readonly issuedAt: number;
  readonly expiresAt: number;
  readonly archivePublic: Bytes;
  readonly supervisors: readonly Bytes[];
  readonly agents: readonly Bytes[];
  readonly signer: 'root' | 'supervisor';
  readonly signerKey: Bytes;
  readonly encoded: Bytes;
  readonly digest: Bytes;
}
interface HeaderVector {
  readonly version: number;
  readonly type: number;
  readonly conversationId: Bytes;
  readonly senderDeviceId: Bytes;
  readonly chainId: Bytes;
  readonly index: number;
  readonly senderSeq: number;
  readonly transcript: Bytes;
}
interface EnvelopeCommon {
  readonly bytes: Bytes;
  readonly digest: Bytes;
  readonly header: HeaderVector;
}
interface KeyShareVector extends EnvelopeCommon {
  readonly kind: 'key-share';
  readonly rosterVersion: number;
  readonly mode: ConversationMode;
  readonly recipients: readonly Bytes[];
  readonly chainSeed: Bytes;
}
interface MessageVector extends EnvelopeCommon {
  readonly kind: 'message';
  readonly plaintext: Bytes;
  readonly content: MessageContent;
}
type EnvelopeVector = KeyShareVector | MessageVector;

function hexList(o: Json, key: string): Bytes[] {
  return list(o, key).map((r) => {
    if (typeof r !== 'string') throw new TypeError(`${key}: not a string`);
    return fromHex(r);
  });
}
function keyVector(o: Json): KeyVector {
  return {
    deviceId: bytes(o, 'deviceId'),
    signingPublic: bytes(o, 'signingPublic'),
    signingPrivatePkcs8: bytes(o, 'signingPrivatePkcs8'),
    agreementPublic: bytes(o, 'agreementPublic'),
    agreementPrivatePkcs8: bytes(o, 'agreementPrivatePkcs8'),
  };
}
function certificateVector(value: unknown, where: string): CertificateVector {
  const o = object(value, where);
  return {
    deviceId: bytes(o, 'deviceId'),
    signingPublic: bytes(o, 'signingPublic'),
    agreementPublic: bytes(o, 'agreementPublic'),
    displayName: string(o, 'displayName'),
    role: oneOf(o, 'role', ['agent', 'supervisor'] as const),
    administer: boolean(o, 'administer'),
    issuedAt: number(o, 'issuedAt'),
    expiresAt: number(o, 'expiresAt'),
    issuerKey: bytes(o, 'issuerKey'),
    certificate: bytes(o, 'certificate'),
  };
}
function rosterVector(value: unknown, i: number): RosterVector {
  const o = object(value, `rosters[${i}]`);
  return {
    version: number(o, 'version'),
    previousDigest: bytes(o, 'previousDigest'),
    issuedAt: number(o, 'issuedAt'),
    expiresAt: number(o, 'expiresAt'),
    archivePublic: bytes(o, 'archivePublic'),
    supervisors: hexList(o, 'supervisors'),
    agents: hexList(o, 'agents'),
    signer: oneOf(o, 'signer', ['root', 'supervisor'] as const),
    signerKey: bytes(o, 'signerKey'),
    encoded: bytes(o, 'encoded'),
    digest: bytes(o, 'digest'),
  };
}
function envelopeVector(value: unknown, i: number): EnvelopeVector {
  const o = object(value, `envelopes[${i}]`);
  const h = object(o['header'], `envelopes[${i}].header`);
  const common: EnvelopeCommon = {
    bytes: bytes(o, 'bytes'),
    digest: bytes(o, 'digest'),
    header: {
      version: number(h, 'version'),
      type: number(h, 'type'),
      conversationId: bytes(h, 'conversationId'),
      senderDeviceId: bytes(h, 'senderDeviceId'),
      chainId: bytes(h, 'chainId'),
      index: number(h, 'index'),
      senderSeq: number(h, 'senderSeq'),
      transcript: bytes(h, 'transcript'),
    },
  };
  if (oneOf(o, 'kind', ['key-share', 'message'] as const) === 'key-share') {
    const k = object(o['keyShare'], `envelopes[${i}].keyShare`);
    return {
      ...common,
      kind: 'key-share',
      rosterVersion: number(k, 'rosterVersion'),
      mode: oneOf(k, 'mode', ['archive', 'ephemeral'] as const),
      recipients: hexList(k, 'recipients'),
      chainSeed: bytes(k, 'chainSeed'),
    };
  }
  const c = object(o['content'], `envelopes[${i}].content`);
  return {
    ...common,
    kind: 'message',
    plaintext: bytes(o, 'plaintext'),
    content: { kind: oneOf(c, 'kind', ['text'] as const), text: string(c, 'text'), sentAt: number(c, 'sentAt') },
  };
}

/** v1.json: the keys, the conversation, and the format-1 certificates and roster (now refused). */
function parseVectors(value: unknown) {
  const v = object(value, 'v1.json');
  const org = object(v['org'], 'org');
  const supervisor = object(v['supervisor'], 'supervisor');
  const agent = object(v['agent'], 'agent');
  const archive = object(v['archive'], 'archive');
  const roster = object(v['roster'], 'roster');
  const conversation = object(v['conversation'], 'conversation');
  return {
    protocolVersion: number(v, 'protocolVersion'),
    now: number(v, 'now'),
    org: {
      rootPublic: bytes(org, 'rootPublic'),
      rootPrivatePkcs8: bytes(org, 'rootPrivatePkcs8'),
      orgKey: string(org, 'orgKey'),
      orgId: bytes(org, 'orgId'),
    },
    supervisor: keyVector(supervisor),
    agent: keyVector(agent),
    visitor: keyVector(object(v['visitor'], 'visitor')),
    archive: {
      deviceId: bytes(archive, 'deviceId'),
      agreementPublic: bytes(archive, 'agreementPublic'),
      agreementPrivatePkcs8: bytes(archive, 'agreementPrivatePkcs8'),
    },
    formatOne: {
      supervisorCertificate: bytes(supervisor, 'certificate'),
      agentCertificate: bytes(agent, 'certificate'),
      rosterVersion: number(roster, 'version'),
      roster: bytes(roster, 'encoded'),
    },
    conversation: {
      id: bytes(conversation, 'id'),
      mode: oneOf(conversation, 'mode', ['archive', 'ephemeral'] as const),
    },
    envelopes: list(v, 'envelopes').map(envelopeVector),
  };
}

/** v2-trust.json: format-2 certificates and the roster chain version 7 (root) → 8 (supervisor). */
function parseTrustVectors(value: unknown) {
  const v = object(value, 'v2-trust.json');
  const org = object(v['org'], 'org');
  const archive = object(v['archive'], 'archive');
  const [v7, v8, ...rest] = list(v, 'rosters').map(rosterVector);
  if (!v7 || !v8 || rest.length) throw new TypeError('rosters: expected versions 7 and 8');
  return {
    protocolVersion: number(v, 'protocolVersion'),
    certificateFormat: number(v, 'certificateFormat'),
    rosterFormat: number(v, 'rosterFormat'),
    now: number(v, 'now'),
    keys: string(v, 'keys'),
    org: { rootPublic: bytes(org, 'rootPublic'), orgId: bytes(org, 'orgId') },
    supervisor: certificateVector(v['supervisor'], 'supervisor'),
    agent: certificateVector(v['agent'], 'agent'),
    archive: { deviceId: bytes(archive, 'deviceId'), agreementPublic: bytes(archive, 'agreementPublic') },
    v7,
    v8,
  };
}

const V = parseVectors(vectorsJson);
const T = parseTrustVectors(trustJson);
const [KEY_SHARE, ...MESSAGES] = V.envelopes;

function keyShareVector(): KeyShareVector {
  if (KEY_SHARE?.kind !== 'key-share') throw new TypeError('The first envelope must be the key share');
  return KEY_SHARE;
}
function messageVectors(): MessageVector[] {
  return MESSAGES.map((m) => {
    if (m.kind !== 'message') throw new TypeError('Envelopes after the first must be messages');
    return m;
  });
}

// ---------------------------------------------------------------------------------------------
// Keys: imported NON-extractable (testing/vector-json.ts), as the protocol holds its own.

async function identity(k: KeyVector): Promise<DeviceIdentity> {
  const restored = await restoreDeviceIdentity(
    await signingPair(k.signingPrivatePkcs8, k.signingPublic),
    await agreementPair(k.agreementPrivatePkcs8, k.agreementPublic),
  );
  expect(restored.signing.privateKey.extractable).toBe(false);
  expect(restored.deviceId).toEqual(k.deviceId);
  return restored;
}
async function signer(k: KeyVector) {
  const device = await identity(k);
  return { privateKey: device.signing.privateKey, publicKey: device.signingPublic };
}
function rootSigner() {
  return crypto.subtle
    .importKey('pkcs8', V.org.rootPrivatePkcs8, { name: 'Ed25519' }, false, ['sign'])
    .then((privateKey) => ({ privateKey, publicKey: V.org.rootPublic }));
}
const trustAtNow = { orgRootKey: V.org.rootPublic, now: V.now };
/** Version 7, signed by the root: the conversation's roster. */
function verifiedRoster(): Promise<VerifiedRoster> {
  return verifyRoster(T.v7.encoded, trustAtNow);
}
/** The fields of a verified roster, to re-issue it (or a variant) with the same bytes. */
function rosterFieldsOf(roster: VerifiedRoster): RosterFields {
  return {
    orgId: roster.orgId,
    version: roster.version,
    previousDigest: roster.previousDigest,
    issuedAt: roster.issuedAt,
    expiresAt: roster.expiresAt,
    archivePublic: roster.archive?.agreementPublic,
    supervisors: roster.supervisors.map((c) => c.encoded),
    agents: roster.agents.map((c) => c.encoded),
  };
}

/** Every single-byte change of `input`, one at a time (XOR 0x01, then 0x80 on alternate octets). */
function* flippedBytes(input: Bytes): Generator<{ offset: number; bytes: Bytes }> {
  for (let offset = 0; offset < input.length; offset++) {
    const out = Uint8Array.from(input);
    out[offset]! ^= offset % 2 ? 0x80 : 0x01;
    yield { offset, bytes: out };
  }
}

// ---------------------------------------------------------------------------------------------

describe('wire-format vectors: organisation (trust v2)', () => {
  it('is for this protocol version, certificate format and roster format', () => {
    expect(V.protocolVersion).toBe(PROTOCOL_VERSION);
    expect(T.protocolVersion).toBe(PROTOCOL_VERSION);
    expect(T.certificateFormat).toBe(CERTIFICATE_FORMAT);
    expect(T.rosterFormat).toBe(ROSTER_FORMAT);
    expect(T.now).toBe(V.now);
  });

  it("v2-trust.json is made with v1.json's keys: the same org, devices and archive key", () => {
    expect(T.keys).toBe('v1.json');
    expect(T.org).toEqual({ rootPublic: V.org.rootPublic, orgId: V.org.orgId });
    for (const [t, v] of [
      [T.supervisor, V.supervisor],
      [T.agent, V.agent],
    ] as const) {
      expect(t.deviceId).toEqual(v.deviceId);
      expect(t.signingPublic).toEqual(v.signingPublic);
      expect(t.agreementPublic).toEqual(v.agreementPublic);
    }
    expect(T.archive).toEqual({ deviceId: V.archive.deviceId, agreementPublic: V.archive.agreementPublic });
  });

  it('the org key text parses to the root key, formats back to the same text, and names the org id', async () => {
    expect(await parseOrgKey(V.org.orgKey)).toEqual(V.org.rootPublic);
    expect(await formatOrgKey(V.org.rootPublic)).toBe(V.org.orgKey);
    expect(await orgIdFromRootKey(V.org.rootPublic)).toEqual(V.org.orgId);
    const typo = V.org.orgKey.slice(0, 9) + (V.org.orgKey[9] === 'A' ? 'B' : 'A') + V.org.orgKey.slice(10);
    await expect(parseOrgKey(typo)).rejects.toBeInstanceOf(OrgKeyFormatError);
  });

  it('device ids derive from their signing keys', async () => {
    for (const k of [V.supervisor, V.agent, V.visitor]) {
      expect(await deviceIdFromSigningKey(k.signingPublic)).toEqual(k.deviceId);
    }
  });

  it('the root private key belongs to the root public key', async () => {
    const root = await rootSigner();
    const data = Uint8Array.of(1, 2, 3);
    await expect(
      verify(V.org.rootPublic, 'vector check', data, await sign(root.privateKey, 'vector check', data)),
    ).resolves.toBeUndefined();
  });

  it('the supervisor certificate verifies, administers for at most 7 days, and re-issues to the same bytes', async () => {
    const s = T.supervisor;
    const cert = await verifyCertificate(s.certificate, {
      issuers: [V.org.rootPublic],
      orgId: V.org.orgId,
      now: V.now,
      role: 'supervisor',
    });
    expectCertificate(cert, s);
    expect(cert.administer).toBe(true);
    expect(cert.issuerKey).toEqual(V.org.rootPublic);
    expect(cert.expiresAt - cert.issuedAt).toBeLessThanOrEqual(7 * 24 * 60 * 60 * 1000);
    // Ed25519 is deterministic, so the same fields and key give the same certificate.
    expect(await issueCertificate(fieldsOf(cert), await rootSigner())).toEqual(s.certificate);
  });

  it('the agent certificate verifies under the supervisor, administers nothing, and re-issues to the same bytes', async () => {
    const a = T.agent;
    const cert = await verifyCertificate(a.certificate, {
      issuers: [V.supervisor.signingPublic],
      orgId: V.org.orgId,
      now: V.now,
      role: 'agent',
    });
    expectCertificate(cert, a);
    expect(cert.administer).toBe(false);
    expect(cert.issuerKey).toEqual(V.supervisor.signingPublic);
    expect(await issueCertificate(fieldsOf(cert), await signer(V.supervisor))).toEqual(a.certificate);
  });

  it('certificates are refused with any byte changed, outside their validity, or under another issuer', async () => {
    const trust = { issuers: [V.org.rootPublic], orgId: V.org.orgId, now: V.now, role: 'supervisor' as const };
    for (const { offset, bytes: bad } of flippedBytes(T.supervisor.certificate)) {
      await expect(verifyCertificate(bad, trust), `offset ${offset}`).rejects.toBeInstanceOf(CertificateError);
    }
    await expect(
      verifyCertificate(T.supervisor.certificate, { ...trust, now: T.supervisor.expiresAt }),
    ).rejects.toBeInstanceOf(CertificateError);
    await expect(
      verifyCertificate(T.supervisor.certificate, { ...trust, now: T.supervisor.issuedAt - 1 }),
    ).rejects.toBeInstanceOf(CertificateError);
    await expect(verifyCertificate(T.agent.certificate, { ...trust, role: 'agent' })).rejects.toBeInstanceOf(
      CertificateError,
    );
  });

  it("v1.json's format-1 certificates and roster are refused: old bytes no longer pass", async () => {
    const certificates = [
      [V.formatOne.supervisorCertificate, [V.org.rootPublic], 'supervisor'],
      [V.formatOne.agentCertificate, [V.supervisor.signingPublic], 'agent'],
    ] as const;
    for (const [certificate, issuers, role] of certificates) {
      const error = await verifyCertificate(certificate, { issuers, orgId: V.org.orgId, now: V.now, role }).catch(
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(CertificateError);
      expect((error as CertificateError).message).toContain('Unsupported certificate version 1');
      expect((error as CertificateError).cause).toBeInstanceOf(DecodeError);
    }
    const error = await verifyRoster(V.formatOne.roster, trustAtNow).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RosterError);
    expect((error as RosterError).message).toContain('Unsupported roster version 1');
    expect((error as RosterError).cause).toBeInstanceOf(DecodeError);
  });

  it("roster version 7 is signed by the root, verifies at the vectors' time on its own, and re-issues to the same bytes", async () => {
    const roster = await verifiedRoster();
    expectRoster(roster, T.v7);
    expect(T.v7.signer).toBe('root');
    expect(roster.signedByRoot).toBe(true);
    expect(roster.signerKey).toEqual(V.org.rootPublic);
    // Version 6 is not in the vectors; version 7 names a fixed stand-in for its digest (32 × 0x06).
    expect(roster.previousDigest).toEqual(new Uint8Array(32).fill(0x06));
    expect(roster.version).toBe(V.formatOne.rosterVersion);
    expect(await archiveIdFromKey(V.archive.agreementPublic)).toEqual(V.archive.deviceId);
    expect(await issueRoster(rosterFieldsOf(roster), await rootSigner())).toEqual(T.v7.encoded);
    // Held as a mark of version 6, the stand-in digest is what version 7 must follow.
    const mark = { version: 6, digest: roster.previousDigest };
    expect((await verifyRoster(T.v7.encoded, { ...trustAtNow, previous: mark })).digest).toEqual(T.v7.digest);
    await expect(
      verifyRoster(T.v7.encoded, { ...trustAtNow, previous: { ...mark, digest: new Uint8Array(32).fill(0x07) } }),
    ).rejects.toBeInstanceOf(RosterForkError);
  });

  it('roster version 8 is signed by the supervisor, verifies after version 7, and re-issues to the same bytes', async () => {
    const v7 = await verifiedRoster();
    const roster = await verifyRoster(T.v8.encoded, { ...trustAtNow, previous: v7 });
    expectRoster(roster, T.v8);
    expect(T.v8.signer).toBe('supervisor');
    expect(roster.signedByRoot).toBe(false);
    expect(roster.signerKey).toEqual(V.supervisor.signingPublic);
    expect(roster.previousDigest).toEqual(T.v7.digest);
    expect(roster.expiresAt).toBeLessThanOrEqual(T.supervisor.expiresAt);
    expect(await issueRoster(rosterFieldsOf(roster), await signer(V.supervisor))).toEqual(T.v8.encoded);
  });

  it('each roster is refused with any byte changed, once expired, or under another org root', async () => {
    const v7 = await verifiedRoster();
    for (const [encoded, previous, expiresAt] of [
      [T.v7.encoded, undefined, T.v7.expiresAt],
      [T.v8.encoded, v7, T.v8.expiresAt],
    ] as const) {
      for (const { offset, bytes: bad } of flippedBytes(encoded)) {
        await expect(verifyRoster(bad, { ...trustAtNow, previous }), `offset ${offset}`).rejects.toBeInstanceOf(
          RosterError,
        );
      }
      await expect(verifyRoster(encoded, { ...trustAtNow, previous, now: expiresAt })).rejects.toBeInstanceOf(
        RosterError,
      );
      await expect(
        verifyRoster(encoded, { orgRootKey: V.supervisor.signingPublic, now: V.now, previous }),
      ).rejects.toBeInstanceOf(RosterError);
    }
  }, 60_000);

  it('the chain: version 8 needs version 7 in full, refuses another version 7, and version 7 after 8 is a rollback', async () => {
    const v7 = await verifiedRoster();
    const v8 = await verifyRoster(T.v8.encoded, { ...trustAtNow, previous: v7 });
    // The supervisor's standing comes from version 7: without it, or with only its mark, none is shown.
    await expect(verifyRoster(T.v8.encoded, trustAtNow)).rejects.toBeInstanceOf(RosterSignerError);
    await expect(
      verifyRoster(T.v8.encoded, { ...trustAtNow, previous: { version: v7.version, digest: v7.digest } }),
    ).rejects.toBeInstanceOf(RosterSignerError);
    // Another version 7, also signed by the root (one that revoked the agent): version 8 does not follow it.
    const otherV7 = await verifyRoster(
      await issueRoster({ ...rosterFieldsOf(v7), agents: [] }, await rootSigner()),
      trustAtNow,
    );
    expect(otherV7.digest).not.toEqual(v7.digest);
    await expect(verifyRoster(T.v8.encoded, { ...trustAtNow, previous: otherV7 })).rejects.toBeInstanceOf(
      RosterForkError,
    );
    await expect(verifyRoster(otherV7.encoded, { ...trustAtNow, previous: v7 })).rejects.toBeInstanceOf(
      RosterForkError,
    );
    // Holding version 8, version 7 is a rollback: a plain RosterError, neither a fork, a jump nor a signer.
    const rollback = await verifyRoster(T.v7.encoded, { ...trustAtNow, previous: v8 }).catch((e: unknown) => e);
    expect(rollback).toBeInstanceOf(RosterError);
    expect((rollback as RosterError).code).toBe('SEALCHAT_E_ROSTER');
    expect((rollback as RosterError).message).toMatch(/older/);
  });

  it('only a device that administers on version 7 signs version 8, within its certificate, without skipping', async () => {
    const v7 = await verifiedRoster();
    const v8Fields = { ...rosterFieldsOf(await verifyRoster(T.v8.encoded, { ...trustAtNow, previous: v7 })) };
    const supervisor = await signer(V.supervisor);
    // The agent is on version 7, but does not administer.
    await expect(
      verifyRoster(await issueRoster(v8Fields, await signer(V.agent)), { ...trustAtNow, previous: v7 }),
    ).rejects.toBeInstanceOf(RosterSignerError);
    // The supervisor may not sign a roster that outlives its certificate.
    const outliving = await issueRoster({ ...v8Fields, expiresAt: T.supervisor.expiresAt + 1 }, supervisor);
    await expect(verifyRoster(outliving, { ...trustAtNow, previous: v7 })).rejects.toBeInstanceOf(RosterSignerError);
    // Nor skip a version: version 9 straight after 7 is a jump only the root may make.
    const skipping = { ...v8Fields, version: 9, previousDigest: T.v8.digest };
    await expect(
      verifyRoster(await issueRoster(skipping, supervisor), { ...trustAtNow, previous: v7 }),
    ).rejects.toBeInstanceOf(RosterJumpError);
    expect(
      (await verifyRoster(await issueRoster(skipping, await rootSigner()), { ...trustAtNow, previous: v7 })).version,
    ).toBe(9);
    // The same supervisor, on a version 7 whose certificate for it does not administer, has no standing.
    const plain = await issueCertificate({ ...fieldsOf(v7.supervisors[0]!), administer: false }, await rootSigner());
    const plainV7 = await verifyRoster(
      await issueRoster({ ...rosterFieldsOf(v7), supervisors: [plain] }, await rootSigner()),
      trustAtNow,
    );
    const after = await issueRoster({ ...v8Fields, previousDigest: plainV7.digest }, supervisor);
    await expect(verifyRoster(after, { ...trustAtNow, previous: plainV7 })).rejects.toBeInstanceOf(RosterSignerError);
  });
});

describe('wire-format vectors: conversation (v1 envelopes, trust v2 roster version 7)', () => {
  it('every envelope decodes to the header in the vectors and hashes to its digest', async () => {
    expect(V.envelopes.map((e) => e.kind)).toEqual(['key-share', 'message', 'message', 'message']);
    for (const e of V.envelopes) {
      const envelope = decodeEnvelope(e.bytes);
      expect(envelope.version).toBe(e.header.version);
      expect(envelope.type).toBe(e.header.type);
      expect(envelope.type).toBe(e.kind === 'key-share' ? EnvelopeType.keyShare : EnvelopeType.message);
      expect(envelope.conversationId).toEqual(e.header.conversationId);
      expect(envelope.conversationId).toEqual(V.conversation.id);
      expect(envelope.senderDeviceId).toEqual(e.header.senderDeviceId);
      expect(envelope.senderDeviceId).toEqual(V.visitor.deviceId);
      expect(envelope.chainId).toEqual(e.header.chainId);
      expect(envelope.index).toBe(e.header.index);
      expect(envelope.senderSeq).toBe(e.header.senderSeq);
      expect(envelope.transcript).toEqual(e.header.transcript);
      expect(envelope.header).toEqual(e.bytes.slice(0, HEADER_LENGTH));
      expect(envelope.bytes).toEqual(e.bytes);
      expect(await envelopeDigest(e.bytes)).toEqual(e.digest);
      await verifyEnvelope(envelope, V.visitor.signingPublic);
    }
  });

  it("each envelope's transcript link is the digest of the one before; sender seq and message index count from 0", () => {
    const links = V.envelopes.map((e) => toHex(e.header.transcript));
    expect(links[0]).toBe(toHex(ZERO_LINK));
    V.envelopes.slice(1).forEach((e, i) => {
      expect(toHex(e.header.transcript)).toBe(toHex(V.envelopes[i]!.digest));
    });
    expect(messageVectors().map((m) => m.header.index)).toEqual([0, 1, 2]);
    expect(V.envelopes.map((e) => e.header.senderSeq)).toEqual([0, 1, 2, 3]);
    expect(new Set(V.envelopes.map((e) => toHex(e.header.chainId))).size).toBe(1);
  });

  it('the key share lists the roster devices, the archive key and the visitor itself', async () => {
    const share = keyShareVector();
    expect(share.mode).toBe(V.conversation.mode);
    expect(share.rosterVersion).toBe(V.formatOne.rosterVersion);
    expect(share.rosterVersion).toBe(T.v7.version);
    expect(new Set(share.recipients.map(toHex))).toEqual(
      new Set([V.supervisor.deviceId, V.agent.deviceId, V.archive.deviceId, V.visitor.deviceId].map(toHex)),
    );
    // The readers of version 7 in format 2 are those the share was sealed to in format 1.
    const roster = await verifiedRoster();
    expect(new Set([...roster.devices.map((d) => d.deviceId), roster.archive!.deviceId].map(toHex))).toEqual(
      new Set(share.recipients.filter((r) => toHex(r) !== toHex(V.visitor.deviceId)).map(toHex)),
    );
  });

  it('the agent receives the key share and the messages in order, with exactly the expected plaintexts', async () => {
    const agent = await agentConversation();
    const share = await agent.receive(keyShareVector().bytes);
    expect(share.received).toEqual({
      kind: 'key-share',
      sender: { deviceId: V.visitor.deviceId, role: 'visitor', displayName: undefined, mine: false },
    });
    expect(share.events).toEqual([]);
    expect(agent.visitor?.deviceId).toEqual(V.visitor.deviceId);
    expect(agent.mode).toBe('archive');

    for (const m of messageVectors()) {
      const { received, events } = await agent.receive(m.bytes);
      expect(events).toEqual([]);
      if (received.kind !== 'payload') throw new Error(`Expected a payload, got ${received.kind}`);
      expect(received.type).toBe(EnvelopeType.message);
      expect(received.sender.role).toBe('visitor');
      expect(received.plaintext).toEqual(m.plaintext);
      expect(decodeContent(received.plaintext)).toEqual(m.content);
    }
    await expect(agent.receive(MESSAGES[0]!.bytes)).rejects.toBeInstanceOf(ReplayError);
  });

  it('the non-ASCII message decodes to the exact text', () => {
    const texts = messageVectors().map((m) => textOf(decodeContent(m.plaintext)));
    expect(texts.some((t) => /[^\u0020-\u007e]/u.test(t))).toBe(true);
    expect(texts[1]).toBe('Grüße aus Zürich — ¿qué tal? 你好，世界 👋🏽');
  });

  it('the archive key and the supervisor open their shares to the same seed, and the chain reads every message', async () => {
    const share = keyShareVector();
    const envelope = decodeEnvelope(share.bytes);
    const archive = {
      deviceId: V.archive.deviceId,
      agreement: await agreementPair(V.archive.agreementPrivatePkcs8, V.archive.agreementPublic),
    };
    const seed = await openKeyShare(envelope, archive, V.org.orgId);
    expect(seed).toEqual(share.chainSeed);
    expect(await openKeyShare(envelope, await identity(V.supervisor), V.org.orgId)).toEqual(share.chainSeed);

    const chain = new ReceivingChain(envelope.chainId, seed);
    for (const m of messageVectors()) {
      const message = decodeEnvelope(m.bytes);
      await verifyEnvelope(message, V.visitor.signingPublic);
      expect(await openPayload(message, await chain.take(message.index))).toEqual(m.plaintext);
    }
  });

  it('message envelopes are deterministic given the seed: re-sealing reproduces them byte for byte', async () => {
    const visitor = await identity(V.visitor);
    const share = keyShareVector();
    const chain = new ReceivingChain(share.header.chainId, share.chainSeed);
    for (const m of messageVectors()) {
      const resealed = await sealPayload({
        type: EnvelopeType.message,
        sender: visitor,
        conversationId: m.header.conversationId,
        chainId: m.header.chainId,
        messageKey: await chain.take(m.header.index),
        plaintext: m.plaintext,
        link: { senderSeq: m.header.senderSeq, previous: m.header.transcript },
      });
      expect(toHex(resealed)).toBe(toHex(m.bytes));
    }
  });

  it('every single-byte change to any envelope is refused, and the conversation carries on', async () => {
    const agent = await agentConversation();
    for (const [i, e] of V.envelopes.entries()) {
      for (const { offset, bytes: bad } of flippedBytes(e.bytes)) {
        await expect(agent.receive(bad), `envelope ${i}, offset ${offset}`).rejects.toBeInstanceOf(SealchatError);
      }
      const { received } = await agent.receive(e.bytes);
      if (e.kind === 'message') {
        if (received.kind !== 'payload') throw new Error(`Expected a payload, got ${received.kind}`);
        expect(received.plaintext).toEqual(e.plaintext);
      } else {
        expect(received.kind).toBe('key-share');
      }
    }
  }, 60_000);

  it('the archive share does not open for a device it was not sealed to, or under another org id', async () => {
    const envelope = decodeEnvelope(keyShareVector().bytes);
    const archive = {
      deviceId: V.archive.deviceId,
      agreement: await agreementPair(V.archive.agreementPrivatePkcs8, V.archive.agreementPublic),
    };
    const otherOrg = Uint8Array.from(V.org.orgId);
    otherOrg[0]! ^= 1;
    await expect(openKeyShare(envelope, archive, otherOrg)).rejects.toThrow(SealchatError);
    // The agent's key under the archive's id: a share sealed to one key does not open with another.
    const agent = await identity(V.agent);
    await expect(
      openKeyShare(envelope, { deviceId: V.archive.deviceId, agreement: agent.agreement }, V.org.orgId),
    ).rejects.toThrow(SealchatError);
  });
});

// ---------------------------------------------------------------------------------------------

async function agentConversation(): Promise<SecureConversation> {
  return new SecureConversation({
    me: await identity(V.agent),
    orgId: V.org.orgId,
    conversationId: V.conversation.id,
    roster: await verifiedRoster(),
    iAmVisitor: false,
    now: () => V.now,
  });
}

function expectCertificate(cert: VerifiedCertificate, v: CertificateVector): void {
  expect(cert.orgId).toEqual(V.org.orgId);
  expect(cert.deviceId).toEqual(v.deviceId);
  expect(cert.displayName).toBe(v.displayName);
  expect(cert.role).toBe(v.role);
  expect(cert.administer).toBe(v.administer);
  expect(cert.signingPublic).toEqual(v.signingPublic);
  expect(cert.agreementPublic).toEqual(v.agreementPublic);
  expect(cert.issuedAt).toBe(v.issuedAt);
  expect(cert.expiresAt).toBe(v.expiresAt);
  expect(cert.issuerKey).toEqual(v.issuerKey);
  expect(cert.encoded).toEqual(v.certificate);
}

function expectRoster(roster: VerifiedRoster, v: RosterVector): void {
  expect(roster.orgId).toEqual(V.org.orgId);
  expect(roster.version).toBe(v.version);
  expect(roster.previousDigest).toEqual(v.previousDigest);
  expect(roster.issuedAt).toBe(v.issuedAt);
  expect(roster.expiresAt).toBe(v.expiresAt);
  expect(roster.signerKey).toEqual(v.signerKey);
  expect(roster.encoded).toEqual(v.encoded);
  expect(roster.digest).toEqual(v.digest);
  expect(roster.archive?.agreementPublic).toEqual(v.archivePublic);
  expect(roster.archive?.deviceId).toEqual(V.archive.deviceId);
  expect(roster.supervisors.map((c) => c.deviceId)).toEqual(v.supervisors);
  expect(roster.agents.map((c) => c.deviceId)).toEqual(v.agents);
  expect(roster.supervisors.map((c) => c.encoded)).toEqual([T.supervisor.certificate]);
  expect(roster.agents.map((c) => c.encoded)).toEqual([T.agent.certificate]);
}

function fieldsOf(cert: VerifiedCertificate) {
  return {
    orgId: cert.orgId,
    deviceId: cert.deviceId,
    displayName: cert.displayName,
    role: cert.role,
    administer: cert.administer,
    signingPublic: cert.signingPublic,
    agreementPublic: cert.agreementPublic,
    issuedAt: cert.issuedAt,
    expiresAt: cert.expiresAt,
  };
}
