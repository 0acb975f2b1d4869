import { describe, expect, it } from 'vitest';
import {
  CertificateError,
  DecodeError,
  x25519,
  ChainIndexError,
  decodeContent,
  textOf,
  decodeEnvelope,
  encodeContent,
  EnvelopeType,
  formatOrgKey,
  generateDeviceIdentity,
  generateSigningKeyPair,
  exportPublicKey,
  HEADER_LENGTH,
  issueCertificate,
  issueRoster,
  openKeyShare,
  openPayload,
  OpenError,
  OrgKeyFormatError,
  parseOrgKey,
  ReceivingChain,
  RosterError,
  RosterForkError,
  RosterSignerError,
  sealKeyShare,
  sealPayload,
  SendingChain,
  SignatureError,
  verifyEnvelope,
  verifyRoster,
  ZERO_LINK,
} from './index.js';
import { createTestOrganisation, type TestOrganisation } from './testing/index.js';

const HOUR = 3_600_000;

describe('org key text form', () => {
  it('round-trips and rejects a typo, a truncation, bad characters and a foreign prefix with a clear error', async () => {
    const { rootPublic } = await createTestOrganisation();
    const text = await formatOrgKey(rootPublic);
    expect(text).toMatch(/^sc1[A-Za-z0-9_-]{48}$/);
    expect(await parseOrgKey(text)).toEqual(rootPublic);
    expect(await parseOrgKey(`  ${text}\n`)).toEqual(rootPublic);
    const typo = text.slice(0, 10) + (text[10] === 'A' ? 'B' : 'A') + text.slice(11);
    await expect(parseOrgKey(typo)).rejects.toThrow(/checksum/);
    await expect(parseOrgKey(text.slice(0, -3))).rejects.toBeInstanceOf(OrgKeyFormatError);
    await expect(parseOrgKey('pk1' + text.slice(3))).rejects.toThrow(/starts with "sc1"/);
    await expect(parseOrgKey(text.slice(0, 20) + '!' + text.slice(21))).rejects.toThrow(/base64url/);
  });
});

describe('private keys', () => {
  it('are generated non-extractable', async () => {
    const device = await generateDeviceIdentity();
    expect(device.signing.privateKey.extractable).toBe(false);
    expect(device.agreement.privateKey.extractable).toBe(false);
    await expect(crypto.subtle.exportKey('pkcs8', device.signing.privateKey)).rejects.toThrow();
    await expect(crypto.subtle.exportKey('pkcs8', device.agreement.privateKey)).rejects.toThrow();
  });
});

describe('trust chain: root → supervisor → agents, roster signed by the root or an administering supervisor', () => {
  /** Signs as the org root, which may sign any roster. */
  const rootOf = (org: TestOrganisation) => ({ privateKey: org.root.privateKey, publicKey: org.rootPublic });
  const supervisorOf = (org: TestOrganisation) => ({
    privateKey: org.supervisor.signing.privateKey,
    publicKey: org.supervisor.signingPublic,
  });

  it('verifies, and lists supervisors, agents and the archive key', async () => {
    const org = await createTestOrganisation();
    const agent = await generateDeviceIdentity();
    const roster = await verifyRoster(await org.roster(3, [agent]), { orgRootKey: org.rootPublic, now: Date.now() });
    expect(roster.version).toBe(3);
    expect(roster.supervisors.map((s) => s.deviceId)).toEqual([org.supervisor.deviceId]);
    expect(roster.agents.map((a) => a.deviceId)).toEqual([agent.deviceId]);
    expect(roster.archive?.deviceId).toEqual(org.archive.deviceId);
    expect(roster.signerKey).toEqual(org.rootPublic);
    expect(roster.signedByRoot).toBe(true);
  });

  it('a supervisor that administers on a roster signs the next one', async () => {
    const org = await createTestOrganisation();
    const agent = await generateDeviceIdentity();
    const now = Date.now();
    const fields = {
      orgId: org.orgId,
      issuedAt: now - 1000,
      expiresAt: now + HOUR,
      archivePublic: undefined,
      // Issued by the root, administering: what a device needs to sign a successor.
      supervisors: [org.supervisorCertificate],
      agents: [await org.certify(agent)],
    };
    const v1 = await verifyRoster(await issueRoster({ ...fields, version: 1 }, rootOf(org)), {
      orgRootKey: org.rootPublic,
      now,
    });
    const v2 = await verifyRoster(
      await issueRoster({ ...fields, version: 2, previousDigest: v1.digest, agents: [] }, supervisorOf(org)),
      { orgRootKey: org.rootPublic, now, previous: v1 },
    );
    expect(v2.signerKey).toEqual(org.supervisor.signingPublic);
    expect(v2.signedByRoot).toBe(false);
    expect(v2.agents).toEqual([]);
  });

  it('refuses a lower version (rollback), the same version with other bytes, expiry and another org', async () => {
    const org = await createTestOrganisation();
    const agent = await generateDeviceIdentity();
    const now = Date.now();
    const v3 = await org.roster(3, [agent]);
    const seen = await verifyRoster(v3, { orgRootKey: org.rootPublic, now });
    const v4 = await verifyRoster(await org.roster(4, [agent]), { orgRootKey: org.rootPublic, now, previous: seen });
    await expect(verifyRoster(v3, { orgRootKey: org.rootPublic, now, previous: v4 })).rejects.toThrow(/older/);
    const otherV3 = await org.roster(3, []);
    const fork = verifyRoster(otherV3, { orgRootKey: org.rootPublic, now, previous: seen });
    await expect(fork).rejects.toBeInstanceOf(RosterForkError);
    await expect(fork).rejects.toThrow(/differs/);
    await expect(verifyRoster(v3, { orgRootKey: org.rootPublic, now, previous: seen })).resolves.toMatchObject({
      version: 3,
    });
    await expect(verifyRoster(v3, { orgRootKey: org.rootPublic, now: now + 2 * 24 * HOUR })).rejects.toThrow(/expired/);
    const other = await createTestOrganisation();
    await expect(verifyRoster(v3, { orgRootKey: other.rootPublic, now })).rejects.toThrow(/another organisation/);
  });

  it('refuses an agent certificate not issued by a supervisor on the roster (an injected device)', async () => {
    const org = await createTestOrganisation();
    const rogue = await createTestOrganisation();
    const intruder = await generateDeviceIdentity();
    const now = Date.now();
    // Certified by another org's supervisor, but listed on this org's roster.
    const forgedCert = await rogue.certify(intruder);
    const roster = await issueRoster(
      {
        orgId: org.orgId,
        version: 1,
        issuedAt: now,
        expiresAt: now + HOUR,
        archivePublic: undefined,
        supervisors: [org.supervisorCertificate],
        agents: [forgedCert],
      },
      rootOf(org),
    );
    const error = await verifyRoster(roster, { orgRootKey: org.rootPublic, now }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RosterError);
    expect((error as RosterError).cause).toBeInstanceOf(CertificateError);
  });

  it('refuses a supervisor not certified by the root, and a roster signed by a non-supervisor or a supervisor that does not administer', async () => {
    const org = await createTestOrganisation();
    const now = Date.now();
    const impostor = await generateDeviceIdentity();
    const selfSigned = await issueCertificate(
      {
        orgId: org.orgId,
        deviceId: impostor.deviceId,
        displayName: 'Boss',
        role: 'supervisor',
        signingPublic: impostor.signingPublic,
        agreementPublic: impostor.agreementPublic,
        issuedAt: now - 1000,
        expiresAt: now + HOUR,
      },
      { privateKey: impostor.signing.privateKey, publicKey: impostor.signingPublic },
    );
    const somePredecessor = crypto.getRandomValues(new Uint8Array(32));
    const bySelf = await issueRoster(
      {
        orgId: org.orgId,
        version: 9,
        previousDigest: somePredecessor,
        issuedAt: now,
        expiresAt: now + HOUR,
        archivePublic: undefined,
        supervisors: [selfSigned],
        agents: [],
      },
      { privateKey: impostor.signing.privateKey, publicKey: impostor.signingPublic },
    );
    await expect(verifyRoster(bySelf, { orgRootKey: org.rootPublic, now })).rejects.toBeInstanceOf(RosterError);
    const v8 = await verifyRoster(await org.roster(8, []), { orgRootKey: org.rootPublic, now });
    const stranger = await generateSigningKeyPair();
    const byStranger = await issueRoster(
      {
        orgId: org.orgId,
        version: 9,
        previousDigest: v8.digest,
        issuedAt: now,
        expiresAt: now + HOUR,
        archivePublic: undefined,
        supervisors: [org.supervisorCertificate],
        agents: [],
      },
      { privateKey: stranger.privateKey, publicKey: await exportPublicKey(stranger.publicKey) },
    );
    await expect(verifyRoster(byStranger, { orgRootKey: org.rootPublic, now })).rejects.toBeInstanceOf(
      RosterSignerError,
    );
    await expect(verifyRoster(byStranger, { orgRootKey: org.rootPublic, now, previous: v8 })).rejects.toBeInstanceOf(
      RosterSignerError,
    );
    // A supervisor listed on version 8 whose certificate does not administer: being listed is not enough.
    const invited = await generateDeviceIdentity();
    const invitedCert = await org.certifySupervisor(invited, {
      administer: false,
      issuedAt: now - 1000,
      expiresAt: now + HOUR,
    });
    const v8b = await verifyRoster(
      await issueRoster(
        {
          orgId: org.orgId,
          version: 8,
          previousDigest: v8.previousDigest,
          issuedAt: now - 500,
          expiresAt: now + HOUR,
          archivePublic: undefined,
          supervisors: [org.supervisorCertificate, invitedCert],
          agents: [],
        },
        rootOf(org),
      ),
      { orgRootKey: org.rootPublic, now },
    );
    const next = {
      orgId: org.orgId,
      version: 9,
      previousDigest: v8b.digest,
      issuedAt: now,
      expiresAt: now + HOUR,
      archivePublic: undefined,
      supervisors: [org.supervisorCertificate, invitedCert],
      agents: [],
    };
    const byInvited = await issueRoster(next, {
      privateKey: invited.signing.privateKey,
      publicKey: invited.signingPublic,
    });
    await expect(verifyRoster(byInvited, { orgRootKey: org.rootPublic, now, previous: v8b })).rejects.toBeInstanceOf(
      RosterSignerError,
    );
    // The supervisor whose certificate administers on version 8 may sign version 9.
    const bySupervisor = await issueRoster(next, supervisorOf(org));
    expect((await verifyRoster(bySupervisor, { orgRootKey: org.rootPublic, now, previous: v8b })).version).toBe(9);
  });

  it('refuses an expired agent certificate', async () => {
    const org = await createTestOrganisation();
    const agent = await generateDeviceIdentity();
    const expired = await org.certify(agent, { expiresAt: Date.now() - 1 });
    const now = Date.now();
    const roster = await issueRoster(
      {
        orgId: org.orgId,
        version: 1,
        issuedAt: now,
        expiresAt: now + HOUR,
        archivePublic: undefined,
        supervisors: [org.supervisorCertificate],
        agents: [expired],
      },
      rootOf(org),
    );
    await expect(verifyRoster(roster, { orgRootKey: org.rootPublic, now })).rejects.toThrow(/not valid at this time/);
  });

  it('a tampered roster byte breaks the signature', async () => {
    const org = await createTestOrganisation();
    const roster = await org.roster(1, []);
    const tampered = roster.slice();
    // A byte of issuedAt (after the u32 length, format, org id, version and previous digest): it still
    // decodes, so only the signature can catch it.
    tampered[66] = tampered[66]! ^ 1;
    const error = await verifyRoster(tampered, { orgRootKey: org.rootPublic, now: Date.now() }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(RosterError);
    expect((error as RosterError).cause).toBeInstanceOf(SignatureError);
  });
});

describe('envelopes: a negative case per check', () => {
  async function setup() {
    const org = await createTestOrganisation();
    const visitor = await generateDeviceIdentity();
    const agent = await generateDeviceIdentity();
    const conversationId = crypto.getRandomValues(new Uint8Array(16));
    const chain = SendingChain.create();
    const binding = {
      orgId: org.orgId,
      conversationId,
      chainId: chain.chainId,
      rosterVersion: 1,
      mode: 'archive' as const,
    };
    const share = await sealKeyShare({
      sender: visitor,
      binding,
      seed: chain.chainSeed,
      recipients: [agent, visitor],
      link: { senderSeq: 0, previous: ZERO_LINK },
    });
    const message = await sealPayload({
      type: EnvelopeType.message,
      sender: visitor,
      conversationId,
      chainId: chain.chainId,
      messageKey: await chain.nextMessageKey(),
      plaintext: encodeContent({ kind: 'text', text: 'hi', sentAt: 1 }),
      link: { senderSeq: 1, previous: ZERO_LINK },
    });
    const seed = await openKeyShare(decodeEnvelope(share), agent, org.orgId);
    return { org, visitor, agent, conversationId, chain, share, message, seed };
  }

  it('opens when nothing is changed', async () => {
    const { visitor, message, chain, seed } = await setup();
    const env = decodeEnvelope(message);
    await verifyEnvelope(env, visitor.signingPublic);
    const key = await new ReceivingChain(chain.chainId, seed).take(env.index);
    expect(textOf(decodeContent(await openPayload(env, key)))).toBe('hi');
  });

  // Header layout: version 0, type 1, conversation 2..17, sender 18..33, chain 34..49, index 50..53,
  // senderSeq 54..57, transcript link 58..89.
  const fields: [string, number][] = [
    ['conversation id', 2],
    ['sender device id', 18],
    ['chain id', 34],
    ['index', 53],
    ['sender sequence number', 57],
    ['transcript link', 60],
  ];
  for (const [name, offset] of fields) {
    it(`a flipped byte in the ${name} fails the signature and the AEAD`, async () => {
      const { visitor, message, chain, seed } = await setup();
      const bytes = message.slice();
      bytes[offset] = bytes[offset]! ^ 0x01;
      const env = decodeEnvelope(bytes);
      await expect(verifyEnvelope(env, visitor.signingPublic)).rejects.toBeInstanceOf(SignatureError);
      const key = await new ReceivingChain(chain.chainId, seed).take(0);
      await expect(openPayload(env, key)).rejects.toBeInstanceOf(OpenError);
    });
  }

  it('a flipped byte in the ciphertext fails the signature and the AEAD', async () => {
    const { visitor, message, chain, seed } = await setup();
    const bytes = message.slice();
    bytes[HEADER_LENGTH + 6] = bytes[HEADER_LENGTH + 6]! ^ 0x01;
    const env = decodeEnvelope(bytes);
    await expect(verifyEnvelope(env, visitor.signingPublic)).rejects.toBeInstanceOf(SignatureError);
    await expect(openPayload(env, await new ReceivingChain(chain.chainId, seed).take(0))).rejects.toBeInstanceOf(
      OpenError,
    );
  });

  it('a swapped type byte (message → typing, key share → message) fails: each type has its own context', async () => {
    const { visitor, message, share, chain, seed } = await setup();
    const asTyping = message.slice();
    asTyping[1] = EnvelopeType.typing;
    const env = decodeEnvelope(asTyping);
    await expect(verifyEnvelope(env, visitor.signingPublic)).rejects.toBeInstanceOf(SignatureError);
    await expect(openPayload(env, await new ReceivingChain(chain.chainId, seed).take(0))).rejects.toBeInstanceOf(
      OpenError,
    );
    const asMessage = share.slice();
    asMessage[1] = EnvelopeType.message;
    await expect(verifyEnvelope(decodeEnvelope(asMessage), visitor.signingPublic)).rejects.toBeInstanceOf(
      SignatureError,
    );
  });

  it('a wrong key does not open: a device not among the recipients, and a key share under another org id', async () => {
    const { share, agent } = await setup();
    const outsider = await generateDeviceIdentity();
    await expect(openKeyShare(decodeEnvelope(share), outsider, new Uint8Array(16))).rejects.toBeInstanceOf(OpenError);
    const other = await createTestOrganisation();
    await expect(openKeyShare(decodeEnvelope(share), agent, other.orgId)).rejects.toBeInstanceOf(OpenError);
  });

  it('a verified signature under the wrong sender key fails', async () => {
    const { message, agent } = await setup();
    await expect(verifyEnvelope(decodeEnvelope(message), agent.signingPublic)).rejects.toBeInstanceOf(SignatureError);
  });

  it('a chain wipes its seed once started, and a key given back after a failed decrypt can be taken again', async () => {
    const chain = SendingChain.create();
    const seed = chain.chainSeed.slice();
    await chain.nextMessageKey();
    expect(() => chain.chainSeed).toThrow(/wiped/);
    const receiving = new ReceivingChain(chain.chainId, seed);
    const key = await receiving.take(0);
    receiving.giveBack(key);
    await expect(receiving.take(0)).resolves.toBe(key);
    await expect(receiving.take(0)).rejects.toBeInstanceOf(ChainIndexError);
  });

  it('x25519 refuses a public key of the wrong length with a typed error', async () => {
    const device = await generateDeviceIdentity();
    await expect(x25519(device.agreement.privateKey, new Uint8Array(31))).rejects.toBeInstanceOf(DecodeError);
  });

  it('refuses a used index and indices beyond the skipped-key cap', async () => {
    const chain = SendingChain.create();
    const receiving = new ReceivingChain(chain.chainId, chain.chainSeed, { maxSkip: 10 });
    await expect(receiving.take(11)).rejects.toBeInstanceOf(ChainIndexError);
    await expect(receiving.take(10)).resolves.toMatchObject({ index: 10 });
    await expect(receiving.take(10)).rejects.toBeInstanceOf(ChainIndexError);
    await expect(receiving.take(3)).resolves.toMatchObject({ index: 3 });
    await expect(receiving.take(3)).rejects.toBeInstanceOf(ChainIndexError);
  });
});
