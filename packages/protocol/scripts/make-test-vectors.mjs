#!/usr/bin/env node
// Writes packages/protocol/test-vectors/v1.json: a frozen conversation in Sealchat's wire format,
// built with the real protocol API from keys generated for the purpose. The keys are created
// EXTRACTABLE (unlike anything the protocol generates) only so their PKCS#8 can go into the file;
// they are test-only and published. Run it once, on purpose; the vectors are meant not to change:
//
//   node packages/protocol/scripts/make-test-vectors.mjs
//
// The protocol is TypeScript source; vite's module runner loads it without a build.
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describeEnvelope, describeKeyShare, loadProtocol } from './vector-tools.mjs';

const out = resolve(import.meta.dirname, '../test-vectors/v1.json');
const p = await loadProtocol();

/** The vectors' clock: 2026-01-01T00:00:00Z. Everything is valid at this instant and judged at it. */
const NOW = Date.UTC(2026, 0, 1);
const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;

const hex = p.toHex;

async function pkcs8(key) {
  return hex(new Uint8Array(await crypto.subtle.exportKey('pkcs8', key)));
}

async function extractableIdentity() {
  const signing = await crypto.subtle.generateKey({ name: 'Ed25519' }, true, ['sign', 'verify']);
  const agreement = await crypto.subtle.generateKey({ name: 'X25519' }, true, ['deriveBits']);
  return p.restoreDeviceIdentity(signing, agreement);
}

async function describeIdentity(identity) {
  return {
    deviceId: hex(identity.deviceId),
    signingPublic: hex(identity.signingPublic),
    signingPrivatePkcs8: await pkcs8(identity.signing.privateKey),
    agreementPublic: hex(identity.agreementPublic),
    agreementPrivatePkcs8: await pkcs8(identity.agreement.privateKey),
  };
}

// The organisation: root key, one supervisor certified by the root, one agent certified by the
// supervisor, an archive key, and a roster signed by the supervisor.
const root = await crypto.subtle.generateKey({ name: 'Ed25519' }, true, ['sign', 'verify']);
const rootPublic = await p.exportPublicKey(root.publicKey);
const orgId = await p.orgIdFromRootKey(rootPublic);
const supervisor = await extractableIdentity();
const agent = await extractableIdentity();
const visitor = await extractableIdentity();
const archive = await crypto.subtle.generateKey({ name: 'X25519' }, true, ['deriveBits']);
const archivePublic = await p.exportPublicKey(archive.publicKey);

const supervisorFields = {
  orgId,
  deviceId: supervisor.deviceId,
  displayName: 'Supervisor Åsa',
  role: 'supervisor',
  signingPublic: supervisor.signingPublic,
  agreementPublic: supervisor.agreementPublic,
  issuedAt: NOW - DAY,
  expiresAt: NOW + 365 * DAY,
};
const supervisorCertificate = await p.issueCertificate(supervisorFields, {
  privateKey: root.privateKey,
  publicKey: rootPublic,
});
const agentFields = {
  orgId,
  deviceId: agent.deviceId,
  displayName: 'Agent Zoë',
  role: 'agent',
  signingPublic: agent.signingPublic,
  agreementPublic: agent.agreementPublic,
  issuedAt: NOW - DAY,
  expiresAt: NOW + 30 * DAY,
};
const supervisorSigner = { privateKey: supervisor.signing.privateKey, publicKey: supervisor.signingPublic };
const agentCertificate = await p.issueCertificate(agentFields, supervisorSigner);
const rosterFields = {
  orgId,
  version: 7,
  issuedAt: NOW - MINUTE,
  expiresAt: NOW + DAY,
  archivePublic,
  supervisors: [supervisorCertificate],
  agents: [agentCertificate],
};
const roster = await p.issueRoster(rosterFields, supervisorSigner);
const verifiedRoster = await p.verifyRoster(roster, { orgRootKey: rootPublic, now: NOW });

// The conversation, from the visitor's side: the first seal brings the key share, then each message.
const conversationId = p.fromHex('5ea1c4a7000000000000000000000001');
const visitorSide = new p.SecureConversation({
  me: visitor,
  orgId,
  conversationId,
  roster: verifiedRoster,
  iAmVisitor: true,
  mode: 'archive',
  now: () => NOW,
});
const messages = [
  { kind: 'text', text: 'Hello, I have a question about my order.', sentAt: NOW + 1_000 },
  { kind: 'text', text: 'Grüße aus Zürich — ¿qué tal? 你好，世界 👋🏽', sentAt: NOW + 2_000 },
  { kind: 'text', text: 'Order #1042, thanks!', sentAt: NOW + 3_000 },
];
const sealed = [];
const plaintexts = [];
for (const content of messages) {
  const plaintext = p.encodeContent(content);
  plaintexts.push(plaintext);
  sealed.push(...(await visitorSide.seal(p.EnvelopeType.message, plaintext)));
}
if (sealed.length !== 4 || sealed[0].type !== p.EnvelopeType.keyShare) {
  throw new Error(`Expected one key share then three messages, got types ${sealed.map((s) => s.type).join(',')}`);
}

// The chain seed, read back from the visitor's own share (archive mode shares to the sender too).
const keyShare = p.decodeEnvelope(sealed[0].envelope);
const chainSeed = await p.openKeyShare(keyShare, visitor, orgId);
const intro = p.readKeyShareIntro(keyShare);

const envelopes = [];
for (const [i, s] of sealed.entries()) {
  const { entry } = await describeEnvelope(p, i === 0 ? 'key-share' : 'message', s.envelope);
  if (i === 0) {
    entry.keyShare = describeKeyShare(p, intro, chainSeed);
  } else {
    entry.plaintext = hex(plaintexts[i - 1]);
    entry.content = messages[i - 1];
  }
  envelopes.push(entry);
}

const vectors = {
  description:
    'Sealchat protocol v1 known-answer vectors: an organisation, its roster, and one visitor conversation ' +
    '(a key share to the roster and the archive key, then three messages). Made by ' +
    'packages/protocol/scripts/make-test-vectors.mjs; see test-vectors/README.md.',
  warning: 'TEST-ONLY KEYS. Every private key below is published. Never use them for anything else.',
  protocolVersion: p.PROTOCOL_VERSION,
  now: NOW,
  org: {
    rootPublic: hex(rootPublic),
    rootPrivatePkcs8: await pkcs8(root.privateKey),
    orgKey: await p.formatOrgKey(rootPublic),
    orgId: hex(orgId),
  },
  supervisor: {
    ...(await describeIdentity(supervisor)),
    displayName: supervisorFields.displayName,
    role: supervisorFields.role,
    issuedAt: supervisorFields.issuedAt,
    expiresAt: supervisorFields.expiresAt,
    certificate: hex(supervisorCertificate),
  },
  agent: {
    ...(await describeIdentity(agent)),
    displayName: agentFields.displayName,
    role: agentFields.role,
    issuedAt: agentFields.issuedAt,
    expiresAt: agentFields.expiresAt,
    certificate: hex(agentCertificate),
  },
  visitor: await describeIdentity(visitor),
  archive: {
    deviceId: hex(await p.archiveIdFromKey(archivePublic)),
    agreementPublic: hex(archivePublic),
    agreementPrivatePkcs8: await pkcs8(archive.privateKey),
  },
  roster: {
    version: rosterFields.version,
    issuedAt: rosterFields.issuedAt,
    expiresAt: rosterFields.expiresAt,
    signerKey: hex(supervisor.signingPublic),
    encoded: hex(roster),
    digest: hex(verifiedRoster.digest),
  },
  conversation: { id: hex(conversationId), mode: 'archive' },
  envelopes,
};

writeFileSync(out, `${JSON.stringify(vectors, null, 2)}\n`);
console.log(`wrote ${out}: ${envelopes.length} envelopes, roster v${rosterFields.version}, ${vectors.org.orgKey}`);
