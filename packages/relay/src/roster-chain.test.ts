import { generateDeviceIdentity, issueRoster, labelledHash, type DeviceIdentity } from '@sealchat/protocol';
import { describe, expect, it } from 'vitest';
import { createTestOrganisation, type TestOrganisation } from '@sealchat/protocol/testing';
import { expectKind, harnessPerTest, type Harness, type TestClient } from './testing/relay-harness.js';

/**
 * The relay holds the chain: a published roster must be the stored one's successor, signed by the
 * root or by a device that administers on the stored one (docs/protocol.md §4.3). Issue 11,
 * finding 1: a revoked supervisor used to sign version 2^53-1, which the relay stored, cutting
 * every live agent off and leaving the honest supervisor no version to go above.
 */
const newHarness = harnessPerTest();
const DAY = 24 * 60 * 60 * 1000;
const ROSTER_DIGEST = 'sealchat/v1 roster-digest';

interface Scene {
  h: Harness;
  org: TestOrganisation;
  admin: DeviceIdentity;
  adminCert: Uint8Array<ArrayBuffer>;
  agent: DeviceIdentity;
  publisher: TestClient;
  /** The last roster the relay accepted. */
  head: Uint8Array<ArrayBuffer>;
  version: number;
}

async function publish(s: Scene, roster: Uint8Array<ArrayBuffer>) {
  return s.publisher.request({ kind: 'publish-roster', orgRootKey: s.org.rootPublic, roster });
}

async function rosterOf(
  s: Pick<Scene, 'org' | 'agent'>,
  version: number,
  previous: Uint8Array<ArrayBuffer> | undefined,
  supervisors: readonly Uint8Array<ArrayBuffer>[],
  signer?: DeviceIdentity,
) {
  const issuedAt = Date.now() - 1000;
  return issueRoster(
    {
      orgId: s.org.orgId,
      version,
      previousDigest: previous && (await labelledHash(ROSTER_DIGEST, previous)),
      issuedAt,
      expiresAt: issuedAt + DAY,
      archivePublic: undefined,
      supervisors: [s.org.supervisorCertificate, ...supervisors],
      agents: [await s.org.certify(s.agent)],
    },
    signer
      ? { privateKey: signer.signing.privateKey, publicKey: signer.signingPublic }
      : { privateKey: s.org.root.privateKey, publicKey: s.org.rootPublic },
  );
}

/** An org whose version 1 lists an administering supervisor, revoked at version 2 by the root. */
async function revokedAdmin(): Promise<Scene> {
  const h = await newHarness({ demo: true });
  const org = await createTestOrganisation();
  const admin = await generateDeviceIdentity();
  const agent = await generateDeviceIdentity();
  const adminCert = await org.certifySupervisor(admin, { displayName: 'Leaver' });
  const s: Scene = {
    h,
    org,
    admin,
    adminCert,
    agent,
    publisher: await h.connect(),
    head: new Uint8Array(),
    version: 0,
  };
  const v1 = await rosterOf(s, 1, undefined, [adminCert]);
  expectKind(await publish(s, v1), 'ok');
  const v2 = await rosterOf(s, 2, v1, []);
  expectKind(await publish(s, v2), 'ok');
  return { ...s, head: v2, version: 2 };
}

describe('relay: roster chain', () => {
  it('F1: a revoked supervisor cannot publish version 2^53-1 or the next version; the org keeps working', async () => {
    const s = await revokedAdmin();
    const live = await s.h.connect();
    expectKind(await live.authAgent(s.org.orgId, s.agent), 'ok');

    const huge = await rosterOf(s, Number.MAX_SAFE_INTEGER, s.head, [s.adminCert], s.admin);
    expect(expectKind(await publish(s, huge), 'error').code).toBe('SEALCHAT_E_ROSTER_JUMP');
    const next = await rosterOf(s, 3, s.head, [s.adminCert], s.admin);
    expect(expectKind(await publish(s, next), 'error').code).toBe('SEALCHAT_E_ROSTER_SIGNER');
    // A fork of version 2 from version 1, where the leaver still administered.
    const v1 = await rosterOf(s, 1, undefined, [s.adminCert]);
    const fork = await rosterOf(s, 2, v1, [s.adminCert], s.admin);
    expect(expectKind(await publish(s, fork), 'error').code).toBe('SEALCHAT_E_ROSTER_FORK');

    // Nothing changed: the live agent is still connected and the stored roster is version 2.
    expect(expectKind(await s.publisher.request({ kind: 'get-roster', orgId: s.org.orgId }), 'roster').roster).toEqual(
      s.head,
    );
    expectKind(await live.request({ kind: 'get-roster', orgId: s.org.orgId }), 'roster');
    // And the root goes on from version 2.
    expectKind(await publish(s, await rosterOf(s, 3, s.head, [])), 'ok');
  });

  it('refuses a fork at the stored version and a successor of another roster, with the fork code', async () => {
    const s = await revokedAdmin();
    const otherV2 = await rosterOf(s, 2, await rosterOf(s, 1, undefined, []), []);
    expect(expectKind(await publish(s, otherV2), 'error').code).toBe('SEALCHAT_E_ROSTER_FORK');
    const stray = await rosterOf(s, 3, otherV2, []);
    expect(expectKind(await publish(s, stray), 'error').code).toBe('SEALCHAT_E_ROSTER_FORK');
    // The identical re-publish of the stored roster is an idempotent retry.
    expectKind(await publish(s, s.head), 'ok');
  });

  it('takes a successor signed by a device that administers on the stored roster', async () => {
    const s = await revokedAdmin();
    const v3 = await rosterOf(s, 3, s.head, [s.adminCert]); // the root lets the admin back in
    expectKind(await publish(s, v3), 'ok');
    const v4 = await rosterOf(s, 4, v3, [s.adminCert], s.admin);
    expectKind(await publish(s, v4), 'ok');
    expect(expectKind(await s.publisher.request({ kind: 'get-roster', orgId: s.org.orgId }), 'roster').roster).toEqual(
      v4,
    );
    // With a device-signed roster stored, agents still log in and the root still goes on.
    const agent = await s.h.connect();
    expectKind(await agent.authAgent(s.org.orgId, s.agent), 'ok');
    expectKind(await publish(s, await rosterOf(s, 5, v4, [])), 'ok');
  });
});
