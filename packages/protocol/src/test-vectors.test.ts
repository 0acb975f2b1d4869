/**
 * Frozen known-answer vectors for Sealchat's own wire format (test-vectors/v1.json, made once by
 * scripts/make-test-vectors.mjs). If a change to the protocol code breaks this suite, it changed
 * the bytes on the wire: that needs a new PROTOCOL_VERSION and a new vector file, not an edit here.
 * Runs in Node and in Chromium.
 */
import { describe, expect, it } from 'vitest';
import vectorsJson from '../test-vectors/v1.json';
import { fromHex, toHex } from './bytes.js';
import { issueCertificate, verifyCertificate, type DeviceRole, type VerifiedCertificate } from './certificate.js';
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
import { CertificateError, OrgKeyFormatError, ReplayError, RosterError, SealchatError } from './errors.js';
import { deviceIdFromSigningKey, restoreDeviceIdentity, type DeviceIdentity } from './identity.js';
import { sign, verify } from './keys.js';
import { decodeContent, textOf, type MessageContent } from './message-content.js';
import { formatOrgKey, orgIdFromRootKey, parseOrgKey } from './org-key.js';
import { archiveIdFromKey, issueRoster, verifyRoster, type VerifiedRoster } from './roster.js';
import { SecureConversation } from './secure-conversation.js';
import { ReceivingChain } from './sender-chain.js';
import {
  agreementPair,
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
// The vector file, parsed from `unknown` into typed bytes (the JSON is a boundary like any other)
// with the readers of testing/vector-json.ts.

interface KeyVector {
  readonly deviceId: Bytes;
  readonly signingPublic: Bytes;
  readonly signingPrivatePkcs8: Bytes;
  readonly agreementPublic: Bytes;
  readonly agreementPrivatePkcs8: Bytes;
}
interface CertifiedVector extends KeyVector {
  readonly displayName: string;
  readonly role: DeviceRole;
  readonly issuedAt: number;
  readonly expiresAt: number;
  readonly certificate: Bytes;
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

function keyVector(o: Json): KeyVector {
  return {
    deviceId: bytes(o, 'deviceId'),
    signingPublic: bytes(o, 'signingPublic'),
    signingPrivatePkcs8: bytes(o, 'signingPrivatePkcs8'),
    agreementPublic: bytes(o, 'agreementPublic'),
    agreementPrivatePkcs8: bytes(o, 'agreementPrivatePkcs8'),
  };
}
function certifiedVector(value: unknown, where: string): CertifiedVector {
  const o = object(value, where);
  return {
    ...keyVector(o),
    displayName: string(o, 'displayName'),
    role: oneOf(o, 'role', ['agent', 'supervisor'] as const),
    issuedAt: number(o, 'issuedAt'),
    expiresAt: number(o, 'expiresAt'),
    certificate: bytes(o, 'certificate'),
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
      recipients: list(k, 'recipients').map((r) => {
        if (typeof r !== 'string') throw new TypeError('recipients: not a string');
        return fromHex(r);
      }),
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

function parseVectors(value: unknown) {
  const v = object(value, 'vectors');
  const org = object(v['org'], 'org');
  const visitor = object(v['visitor'], 'visitor');
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
    supervisor: certifiedVector(v['supervisor'], 'supervisor'),
    agent: certifiedVector(v['agent'], 'agent'),
    visitor: keyVector(visitor),
    archive: {
      deviceId: bytes(archive, 'deviceId'),
      agreementPublic: bytes(archive, 'agreementPublic'),
      agreementPrivatePkcs8: bytes(archive, 'agreementPrivatePkcs8'),
    },
    roster: {
      version: number(roster, 'version'),
      issuedAt: number(roster, 'issuedAt'),
      expiresAt: number(roster, 'expiresAt'),
      signerKey: bytes(roster, 'signerKey'),
      encoded: bytes(roster, 'encoded'),
      digest: bytes(roster, 'digest'),
    },
    conversation: {
      id: bytes(conversation, 'id'),
      mode: oneOf(conversation, 'mode', ['archive', 'ephemeral'] as const),
    },
    envelopes: list(v, 'envelopes').map(envelopeVector),
  };
}

const V = parseVectors(vectorsJson);
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
function rootSigner() {
  return crypto.subtle
    .importKey('pkcs8', V.org.rootPrivatePkcs8, { name: 'Ed25519' }, false, ['sign'])
    .then((privateKey) => ({ privateKey, publicKey: V.org.rootPublic }));
}
function verifiedRoster(): Promise<VerifiedRoster> {
  return verifyRoster(V.roster.encoded, { orgRootKey: V.org.rootPublic, now: V.now });
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

describe('wire-format vectors v1: organisation', () => {
  it('is for this protocol version', () => {
    expect(V.protocolVersion).toBe(PROTOCOL_VERSION);
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

  it('the supervisor certificate verifies and re-issues to the same bytes', async () => {
    const s = V.supervisor;
    const cert = await verifyCertificate(s.certificate, {
      issuers: [V.org.rootPublic],
      orgId: V.org.orgId,
      now: V.now,
      role: 'supervisor',
    });
    expectCertificate(cert, s, V.org.rootPublic);
    // Ed25519 is deterministic, so the same fields and key give the same certificate.
    expect(await issueCertificate(fieldsOf(cert), await rootSigner())).toEqual(s.certificate);
  });

  it('the agent certificate verifies under the supervisor and re-issues to the same bytes', async () => {
    const a = V.agent;
    const cert = await verifyCertificate(a.certificate, {
      issuers: [V.supervisor.signingPublic],
      orgId: V.org.orgId,
      now: V.now,
      role: 'agent',
    });
    expectCertificate(cert, a, V.supervisor.signingPublic);
    const supervisor = await identity(V.supervisor);
    const signer = { privateKey: supervisor.signing.privateKey, publicKey: supervisor.signingPublic };
    expect(await issueCertificate(fieldsOf(cert), signer)).toEqual(a.certificate);
  });

  it('certificates are refused with any byte changed, outside their validity, or under another issuer', async () => {
    const trust = { issuers: [V.org.rootPublic], orgId: V.org.orgId, now: V.now, role: 'supervisor' as const };
    for (const { offset, bytes: bad } of flippedBytes(V.supervisor.certificate)) {
      await expect(verifyCertificate(bad, trust), `offset ${offset}`).rejects.toBeInstanceOf(CertificateError);
    }
    await expect(
      verifyCertificate(V.supervisor.certificate, { ...trust, now: V.supervisor.expiresAt }),
    ).rejects.toBeInstanceOf(CertificateError);
    await expect(
      verifyCertificate(V.supervisor.certificate, { ...trust, now: V.supervisor.issuedAt - 1 }),
    ).rejects.toBeInstanceOf(CertificateError);
    await expect(verifyCertificate(V.agent.certificate, { ...trust, role: 'agent' })).rejects.toBeInstanceOf(
      CertificateError,
    );
  });

  it("the roster verifies at the vectors' time and re-issues to the same bytes", async () => {
    const roster = await verifiedRoster();
    expect(roster.orgId).toEqual(V.org.orgId);
    expect(roster.version).toBe(V.roster.version);
    expect(roster.issuedAt).toBe(V.roster.issuedAt);
    expect(roster.expiresAt).toBe(V.roster.expiresAt);
    expect(roster.signerKey).toEqual(V.roster.signerKey);
    expect(roster.digest).toEqual(V.roster.digest);
    expect(roster.archive?.agreementPublic).toEqual(V.archive.agreementPublic);
    expect(roster.archive?.deviceId).toEqual(V.archive.deviceId);
    expect(await archiveIdFromKey(V.archive.agreementPublic)).toEqual(V.archive.deviceId);
    expect(roster.supervisors.map((c) => c.encoded)).toEqual([V.supervisor.certificate]);
    expect(roster.agents.map((c) => c.encoded)).toEqual([V.agent.certificate]);

    const supervisor = await identity(V.supervisor);
    const reissued = await issueRoster(
      {
        orgId: roster.orgId,
        version: roster.version,
        issuedAt: roster.issuedAt,
        expiresAt: roster.expiresAt,
        archivePublic: roster.archive?.agreementPublic,
        supervisors: roster.supervisors.map((c) => c.encoded),
        agents: roster.agents.map((c) => c.encoded),
      },
      { privateKey: supervisor.signing.privateKey, publicKey: supervisor.signingPublic },
    );
    expect(reissued).toEqual(V.roster.encoded);
  });

  it('the roster is refused with any byte changed, once expired, or below a version already seen', async () => {
    const trust = { orgRootKey: V.org.rootPublic, now: V.now };
    for (const { offset, bytes: bad } of flippedBytes(V.roster.encoded)) {
      await expect(verifyRoster(bad, trust), `offset ${offset}`).rejects.toBeInstanceOf(RosterError);
    }
    await expect(verifyRoster(V.roster.encoded, { ...trust, now: V.roster.expiresAt })).rejects.toBeInstanceOf(
      RosterError,
    );
    await expect(verifyRoster(V.roster.encoded, { ...trust, minVersion: V.roster.version + 1 })).rejects.toBeInstanceOf(
      RosterError,
    );
    await expect(
      verifyRoster(V.roster.encoded, { orgRootKey: V.supervisor.signingPublic, now: V.now }),
    ).rejects.toBeInstanceOf(RosterError);
  });
});

describe('wire-format vectors v1: conversation', () => {
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

  it('the key share lists the roster devices, the archive key and the visitor itself', () => {
    const share = keyShareVector();
    expect(share.mode).toBe(V.conversation.mode);
    expect(share.rosterVersion).toBe(V.roster.version);
    expect(new Set(share.recipients.map(toHex))).toEqual(
      new Set([V.supervisor.deviceId, V.agent.deviceId, V.archive.deviceId, V.visitor.deviceId].map(toHex)),
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

function expectCertificate(cert: VerifiedCertificate, v: CertifiedVector, issuer: Bytes): void {
  expect(cert.orgId).toEqual(V.org.orgId);
  expect(cert.deviceId).toEqual(v.deviceId);
  expect(cert.displayName).toBe(v.displayName);
  expect(cert.role).toBe(v.role);
  expect(cert.signingPublic).toEqual(v.signingPublic);
  expect(cert.agreementPublic).toEqual(v.agreementPublic);
  expect(cert.issuedAt).toBe(v.issuedAt);
  expect(cert.expiresAt).toBe(v.expiresAt);
  expect(cert.issuerKey).toEqual(issuer);
  expect(cert.encoded).toEqual(v.certificate);
}

function fieldsOf(cert: VerifiedCertificate) {
  return {
    orgId: cert.orgId,
    deviceId: cert.deviceId,
    displayName: cert.displayName,
    role: cert.role,
    signingPublic: cert.signingPublic,
    agreementPublic: cert.agreementPublic,
    issuedAt: cert.issuedAt,
    expiresAt: cert.expiresAt,
  };
}
