#!/usr/bin/env node
// Writes packages/protocol/test-vectors/v2-trust.json: known-answer vectors for certificate format 2
// (the capabilities byte) and roster format 2 (the predecessor's digest, which chains rosters),
// made with v1.json's test-only keys at v1.json's `now`, so v1.json stays as the record of format 1
// and its conversation envelopes (which bind roster version 7, not the roster's bytes) still verify
// under the version 7 here. Run it once, on purpose; like v1.json, these vectors are meant not to
// change:
//
//   node packages/protocol/scripts/make-trust-vectors.mjs
import { readFileSync, writeFileSync } from 'node:fs';
import { format } from 'prettier';
import { resolve } from 'node:path';
import { loadProtocol } from './vector-tools.mjs';

const v1 = JSON.parse(readFileSync(resolve(import.meta.dirname, '../test-vectors/v1.json'), 'utf8'));
const out = resolve(import.meta.dirname, '../test-vectors/v2-trust.json');
const p = await loadProtocol();

const hex = p.toHex;
const bytes = p.fromHex;
const NOW = v1.now;
const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;
/**
 * Stands in for the digest of roster version 6, which is not part of the vectors: the org root may
 * sign any version, so version 7 verifies without its predecessor. 32 bytes of 0x06, chosen to be
 * recognisable, not all zero (only version 1 names no predecessor).
 */
const VERSION_6_DIGEST = new Uint8Array(32).fill(0x06);

async function signingKey(pkcs8Hex) {
  return crypto.subtle.importKey('pkcs8', bytes(pkcs8Hex), { name: 'Ed25519' }, true, ['sign']);
}

async function identity(d) {
  const signing = {
    privateKey: await signingKey(d.signingPrivatePkcs8),
    publicKey: await crypto.subtle.importKey('raw', bytes(d.signingPublic), { name: 'Ed25519' }, true, ['verify']),
  };
  const agreement = {
    privateKey: await crypto.subtle.importKey('pkcs8', bytes(d.agreementPrivatePkcs8), { name: 'X25519' }, true, [
      'deriveBits',
    ]),
    publicKey: await crypto.subtle.importKey('raw', bytes(d.agreementPublic), { name: 'X25519' }, true, []),
  };
  const restored = await p.restoreDeviceIdentity(signing, agreement);
  if (hex(restored.deviceId) !== d.deviceId) throw new Error(`Device id ${d.deviceId} does not match its key`);
  return restored;
}

const rootPublic = bytes(v1.org.rootPublic);
const root = { privateKey: await signingKey(v1.org.rootPrivatePkcs8), publicKey: rootPublic };
const orgId = await p.orgIdFromRootKey(rootPublic);
if (hex(orgId) !== v1.org.orgId) throw new Error('v1.json org id does not match its root key');
const supervisor = await identity(v1.supervisor);
const agent = await identity(v1.agent);
const archivePublic = bytes(v1.archive.agreementPublic);
const supervisorSigner = { privateKey: supervisor.signing.privateKey, publicKey: supervisor.signingPublic };

// The supervisor administers: only the root grants it, for at most 7 days.
const supervisorFields = {
  orgId,
  deviceId: supervisor.deviceId,
  displayName: v1.supervisor.displayName,
  role: 'supervisor',
  administer: true,
  signingPublic: supervisor.signingPublic,
  agreementPublic: supervisor.agreementPublic,
  issuedAt: NOW - DAY,
  expiresAt: NOW + 6 * DAY,
};
const supervisorCertificate = await p.issueCertificate(supervisorFields, root);
// The agent as in v1.json: issued by the supervisor, for 30 days, administering nothing.
const agentFields = {
  orgId,
  deviceId: agent.deviceId,
  displayName: v1.agent.displayName,
  role: 'agent',
  administer: false,
  signingPublic: agent.signingPublic,
  agreementPublic: agent.agreementPublic,
  issuedAt: v1.agent.issuedAt,
  expiresAt: v1.agent.expiresAt,
};
const agentCertificate = await p.issueCertificate(agentFields, supervisorSigner);

// Version 7: v1.json's version, membership and times, now signed by the root and chained.
const members = { archivePublic, supervisors: [supervisorCertificate], agents: [agentCertificate] };
const v7Fields = {
  orgId,
  version: 7,
  previousDigest: VERSION_6_DIGEST,
  issuedAt: v1.roster.issuedAt,
  expiresAt: v1.roster.expiresAt,
  ...members,
};
const v7 = await p.issueRoster(v7Fields, root);
const verified7 = await p.verifyRoster(v7, { orgRootKey: rootPublic, now: NOW });
// Version 8: the same readers, signed by the supervisor on the strength of version 7, issued at
// `now` and expiring well before the supervisor's certificate.
const v8Fields = {
  orgId,
  version: 8,
  previousDigest: verified7.digest,
  issuedAt: NOW,
  expiresAt: NOW + DAY,
  ...members,
};
const v8 = await p.issueRoster(v8Fields, supervisorSigner);
const verified8 = await p.verifyRoster(v8, { orgRootKey: rootPublic, now: NOW, previous: verified7 });

function describeCertificate(fields, encoded, issuerKey) {
  return {
    deviceId: hex(fields.deviceId),
    signingPublic: hex(fields.signingPublic),
    agreementPublic: hex(fields.agreementPublic),
    displayName: fields.displayName,
    role: fields.role,
    administer: fields.administer,
    issuedAt: fields.issuedAt,
    expiresAt: fields.expiresAt,
    issuerKey: hex(issuerKey),
    certificate: hex(encoded),
  };
}

function describeRoster(fields, verified, signer) {
  return {
    version: fields.version,
    previousDigest: hex(fields.previousDigest),
    issuedAt: fields.issuedAt,
    expiresAt: fields.expiresAt,
    archivePublic: hex(fields.archivePublic),
    supervisors: verified.supervisors.map((c) => hex(c.deviceId)),
    agents: verified.agents.map((c) => hex(c.deviceId)),
    signer,
    signerKey: hex(verified.signerKey),
    encoded: hex(verified.encoded),
    digest: hex(verified.digest),
  };
}

const vectors = {
  description:
    'Sealchat known-answer vectors for certificate format 2 (capabilities byte) and roster format 2 (chained by ' +
    'the previous roster’s digest), with the keys of v1.json at its `now`: a supervisor certificate issued by ' +
    'the root that administers (7-day limit), an agent certificate issued by the supervisor, roster version 7 ' +
    'signed by the root (v1.json’s version and readers) and version 8 signed by the supervisor on the strength ' +
    'of version 7. Made by packages/protocol/scripts/make-trust-vectors.mjs; see test-vectors/README.md.',
  warning: 'TEST-ONLY KEYS (those of v1.json). Never use them for anything else.',
  protocolVersion: p.PROTOCOL_VERSION,
  certificateFormat: p.CERTIFICATE_FORMAT,
  rosterFormat: p.ROSTER_FORMAT,
  now: NOW,
  keys: 'v1.json',
  org: { rootPublic: hex(rootPublic), orgId: hex(orgId) },
  supervisor: describeCertificate(supervisorFields, supervisorCertificate, rootPublic),
  agent: describeCertificate(agentFields, agentCertificate, supervisor.signingPublic),
  archive: { deviceId: v1.archive.deviceId, agreementPublic: v1.archive.agreementPublic },
  rosters: [describeRoster(v7Fields, verified7, 'root'), describeRoster(v8Fields, verified8, 'supervisor')],
};

// Formatted as the repository's prettier check wants it, so a regenerated file passes `npm test`.
writeFileSync(out, await format(JSON.stringify(vectors), { parser: 'json' }));
console.log(`wrote ${out}: certificates, rosters v7 (root) and v8 (supervisor)`);
