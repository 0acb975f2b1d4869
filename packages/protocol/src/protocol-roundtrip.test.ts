import { describe, expect, it } from 'vitest';
import {
  ChainIndexError,
  CertificateError,
  decodeContent,
  decodeEnvelope,
  encodeContent,
  exportPublicKey,
  formatOrgKey,
  generateDeviceIdentity,
  generateSigningKeyPair,
  issueCertificate,
  issueRoster,
  openKeyShare,
  openMessage,
  OpenError,
  orgIdFromRootKey,
  OrgKeyFormatError,
  parseOrgKey,
  readKeyShareIntro,
  ReceivingChain,
  RosterError,
  sealKeyShare,
  sealMessage,
  SendingChain,
  SignatureError,
  verifyEnvelope,
  verifyRoster,
  type DeviceIdentity,
} from './index.js';

const HOUR = 3_600_000;

async function makeOrg() {
  const root = await generateSigningKeyPair();
  const rootPublic = await exportPublicKey(root.publicKey);
  const orgId = await orgIdFromRootKey(rootPublic);
  return { signer: { privateKey: root.privateKey, publicKey: rootPublic }, rootPublic, orgId };
}

async function certify(org: Awaited<ReturnType<typeof makeOrg>>, device: DeviceIdentity, now = Date.now()) {
  return issueCertificate(
    {
      orgId: org.orgId,
      deviceId: device.deviceId,
      displayName: 'Agent',
      role: 'agent',
      signingPublic: device.signingPublic,
      agreementPublic: device.agreementPublic,
      issuedAt: now - HOUR,
      expiresAt: now + HOUR,
    },
    org.signer,
  );
}

describe('org key text form', () => {
  it('round-trips and rejects a typo, a truncation and a foreign prefix with a clear error', async () => {
    const { rootPublic } = await makeOrg();
    const text = await formatOrgKey(rootPublic);
    expect(text).toMatch(/^sc1[A-Za-z0-9_-]{48}$/);
    expect(await parseOrgKey(text)).toEqual(rootPublic);
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
  });
});

describe('roster', () => {
  it('verifies a roster signed by the org and refuses rollback, expiry and another signer', async () => {
    const org = await makeOrg();
    const agent = await generateDeviceIdentity();
    const now = Date.now();
    const cert = await certify(org, agent, now);
    const roster = await issueRoster(
      { orgId: org.orgId, version: 3, issuedAt: now, expiresAt: now + HOUR, certificates: [cert] },
      org.signer,
    );
    const verified = await verifyRoster(roster, { orgRootKey: org.rootPublic, now });
    expect(verified.version).toBe(3);
    expect(verified.devices[0]?.deviceId).toEqual(agent.deviceId);

    await expect(verifyRoster(roster, { orgRootKey: org.rootPublic, now, minVersion: 4 })).rejects.toThrow(/older/);
    await expect(verifyRoster(roster, { orgRootKey: org.rootPublic, now: now + 2 * HOUR })).rejects.toBeInstanceOf(
      RosterError,
    );
    const other = await makeOrg();
    await expect(verifyRoster(roster, { orgRootKey: other.rootPublic, now })).rejects.toThrow(/not signed/);
    const tampered = roster.slice();
    tampered[30] = tampered[30]! ^ 1;
    await expect(verifyRoster(tampered, { orgRootKey: org.rootPublic, now })).rejects.toBeInstanceOf(RosterError);
  });

  it('refuses a certificate issued by a key other than the org root', async () => {
    const org = await makeOrg();
    const rogue = await makeOrg();
    const agent = await generateDeviceIdentity();
    const now = Date.now();
    const cert = await certify({ ...rogue, orgId: org.orgId }, agent, now);
    const roster = await issueRoster(
      { orgId: org.orgId, version: 1, issuedAt: now, expiresAt: now + HOUR, certificates: [cert] },
      org.signer,
    );
    const error = await verifyRoster(roster, { orgRootKey: org.rootPublic, now }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RosterError);
    expect((error as RosterError).cause).toBeInstanceOf(CertificateError);
  });
});

describe('key shares and messages', () => {
  async function setup() {
    const org = await makeOrg();
    const visitor = await generateDeviceIdentity();
    const agent = await generateDeviceIdentity();
    const conversationId = crypto.getRandomValues(new Uint8Array(16));
    const chain = SendingChain.create();
    const share = await sealKeyShare({
      sender: visitor,
      binding: { orgId: org.orgId, conversationId, chainId: chain.chainId, rosterVersion: 1 },
      seed: chain.chainSeed,
      recipients: [agent, visitor],
    });
    return { org, visitor, agent, conversationId, chain, share };
  }

  it('delivers text from visitor to agent through a signed HPKE key share and a sealed message', async () => {
    const { org, visitor, agent, conversationId, chain, share } = await setup();
    const envelope = decodeEnvelope(share);
    const intro = await readKeyShareIntro(envelope);
    expect(intro.senderSigningPublic).toEqual(visitor.signingPublic);
    const opened = await openKeyShare(envelope, agent, org.orgId);
    const receiving = new ReceivingChain(opened.chainId, opened.seed);

    const texts = ['first', 'second ✓', 'third'];
    const sealed = [];
    for (const text of texts) {
      sealed.push(
        await sealMessage({
          sender: visitor,
          conversationId,
          chainId: chain.chainId,
          messageKey: await chain.nextMessageKey(),
          plaintext: encodeContent({ kind: 'text', text, sentAt: 1 }),
        }),
      );
    }
    // Out of order within the window is fine.
    for (const i of [2, 0, 1]) {
      const env = decodeEnvelope(sealed[i]!);
      await verifyEnvelope(env, visitor.signingPublic);
      const content = decodeContent(await openMessage(env, await receiving.take(env.index)));
      expect(content.text).toBe(texts[i]);
    }
    // Replaying an index is refused.
    await expect(receiving.take(1)).rejects.toBeInstanceOf(ChainIndexError);
  });

  it('a device not among the recipients cannot open the share', async () => {
    const { org, share } = await setup();
    const outsider = await generateDeviceIdentity();
    await expect(openKeyShare(decodeEnvelope(share), outsider, org.orgId)).rejects.toBeInstanceOf(OpenError);
  });

  it('a share is bound to its org: opening it under another org id fails', async () => {
    const { agent, share } = await setup();
    const other = await makeOrg();
    await expect(openKeyShare(decodeEnvelope(share), agent, other.orgId)).rejects.toBeInstanceOf(OpenError);
  });

  it('a message moved to another conversation or with a flipped bit fails to verify and to open', async () => {
    const { agent, org, visitor, conversationId, chain, share } = await setup();
    const opened = await openKeyShare(decodeEnvelope(share), agent, org.orgId);
    const sealed = await sealMessage({
      sender: visitor,
      conversationId,
      chainId: chain.chainId,
      messageKey: await chain.nextMessageKey(),
      plaintext: encodeContent({ kind: 'text', text: 'hi', sentAt: 1 }),
    });
    const moved = sealed.slice();
    moved[2] = moved[2]! ^ 0xff; // first byte of the conversation id
    const env = decodeEnvelope(moved);
    await expect(verifyEnvelope(env, visitor.signingPublic)).rejects.toBeInstanceOf(SignatureError);
    await expect(
      openMessage(env, await new ReceivingChain(opened.chainId, opened.seed).take(0)),
    ).rejects.toBeInstanceOf(OpenError);
    const flipped = sealed.slice();
    flipped[flipped.length - 70] = flipped[flipped.length - 70]! ^ 1; // inside the ciphertext
    await expect(verifyEnvelope(decodeEnvelope(flipped), visitor.signingPublic)).rejects.toBeInstanceOf(SignatureError);
  });

  it('a key share cannot pass for a message: the type is under the signature', async () => {
    const { visitor, share } = await setup();
    const confused = share.slice();
    confused[1] = 2; // key-share → message
    await expect(verifyEnvelope(decodeEnvelope(confused), visitor.signingPublic)).rejects.toBeInstanceOf(
      SignatureError,
    );
  });

  it('rejects indices far ahead of the chain (skipped-key cap)', async () => {
    const chain = SendingChain.create();
    const receiving = new ReceivingChain(chain.chainId, chain.chainSeed, { maxSkip: 10 });
    await expect(receiving.take(11)).rejects.toBeInstanceOf(ChainIndexError);
    await expect(receiving.take(10)).resolves.toMatchObject({ index: 10 });
  });
});
