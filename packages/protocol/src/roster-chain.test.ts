import { describe, expect, it } from 'vitest';
import {
  CertificateError,
  MAX_ADMINISTER_LIFETIME_MS,
  RosterError,
  RosterForkError,
  RosterJumpError,
  RosterSignerError,
  generateDeviceIdentity,
  issueCertificate,
  issueRoster,
  verifyRoster,
  verifyRosterHistory,
  type DeviceIdentity,
  type VerifiedRoster,
} from './index.js';
import { createTestOrganisation, type TestOrganisation } from './testing/index.js';

/**
 * Roster authority as a chain (docs/protocol.md §4.3; issue 11, finding 1; docs/security.md F1).
 * Before it, any supervisor certificate the root ever issued could sign a roster at any version, so
 * a revoked supervisor signed version 2^53-1 listing itself and bricked the org.
 */

const DAY = 24 * 60 * 60 * 1000;

interface Team {
  org: TestOrganisation;
  /** A supervisor whose certificate administers (issued by the root, 7 days). */
  admin: DeviceIdentity;
  adminCert: Uint8Array<ArrayBuffer>;
  /** A supervisor without the capability: an invited colleague. */
  invited: DeviceIdentity;
  invitedCert: Uint8Array<ArrayBuffer>;
}

async function team(): Promise<Team> {
  const org = await createTestOrganisation();
  const admin = await generateDeviceIdentity();
  const invited = await generateDeviceIdentity();
  return {
    org,
    admin,
    adminCert: await org.certifySupervisor(admin),
    invited,
    invitedCert: await org.certifySupervisor(invited, { administer: false }),
  };
}

/** A roster of `t.org` listing `supervisors`, signed by `signer` (the root when omitted). */
async function roster(
  t: Team,
  version: number,
  previous: VerifiedRoster | undefined,
  supervisors: readonly Uint8Array<ArrayBuffer>[],
  signer?: DeviceIdentity,
  times: { issuedAt?: number; expiresAt?: number } = {},
): Promise<Uint8Array<ArrayBuffer>> {
  const issuedAt = times.issuedAt ?? Date.now() - 1000;
  return issueRoster(
    {
      orgId: t.org.orgId,
      version,
      previousDigest: previous?.digest,
      issuedAt,
      expiresAt: times.expiresAt ?? issuedAt + DAY,
      archivePublic: undefined,
      supervisors: [t.org.supervisorCertificate, ...supervisors],
      agents: [],
    },
    signer
      ? { privateKey: signer.signing.privateKey, publicKey: signer.signingPublic }
      : { privateKey: t.org.root.privateKey, publicKey: t.org.rootPublic },
  );
}

const verifyAfter = (t: Team, bytes: Uint8Array<ArrayBuffer>, previous?: VerifiedRoster) =>
  verifyRoster(bytes, { orgRootKey: t.org.rootPublic, now: Date.now(), previous });

describe('roster chain: who may sign the next roster', () => {
  it('F1: a supervisor revoked at version 2 cannot sign version 2^53-1, nor version 3', async () => {
    const t = await team();
    const v1 = await verifyAfter(t, await roster(t, 1, undefined, [t.adminCert]));
    const v2 = await verifyAfter(t, await roster(t, 2, v1, []), v1); // the admin is revoked
    // Its 7-day certificate still verifies on its own, and it still holds the key.
    const huge = await roster(t, Number.MAX_SAFE_INTEGER, v2, [t.adminCert], t.admin);
    await expect(verifyAfter(t, huge, v2)).rejects.toBeInstanceOf(RosterJumpError);
    await expect(verifyAfter(t, huge)).rejects.toBeInstanceOf(RosterSignerError);
    const next = await roster(t, 3, v2, [t.adminCert], t.admin);
    await expect(verifyAfter(t, next, v2)).rejects.toBeInstanceOf(RosterSignerError);
    // The honest root still goes on from version 2.
    expect((await verifyAfter(t, await roster(t, 3, v2, []), v2)).version).toBe(3);
  });

  it('F1: a supervisor without the administer capability (an invited one) signs nothing', async () => {
    const t = await team();
    const v1 = await verifyAfter(t, await roster(t, 1, undefined, [t.invitedCert]));
    const v2 = await roster(t, 2, v1, [t.invitedCert], t.invited);
    await expect(verifyAfter(t, v2, v1)).rejects.toBeInstanceOf(RosterSignerError);
    await expect(verifyAfter(t, v2)).rejects.toBeInstanceOf(RosterSignerError);
  });

  it('a roster cannot list its own signer into authority: standing comes from the predecessor', async () => {
    const t = await team();
    const v1 = await verifyAfter(t, await roster(t, 1, undefined, []));
    // The admin certificate is genuine, but the admin is not on version 1.
    const v2 = await roster(t, 2, v1, [t.adminCert], t.admin);
    await expect(verifyAfter(t, v2, v1)).rejects.toBeInstanceOf(RosterSignerError);
  });

  it('an administrator on the predecessor signs the successor, which may not outlive its certificate', async () => {
    const t = await team();
    const v1 = await verifyAfter(t, await roster(t, 1, undefined, [t.adminCert]));
    const v2 = await verifyAfter(t, await roster(t, 2, v1, [t.adminCert], t.admin), v1);
    expect(v2.signedByRoot).toBe(false);
    expect(v2.signerKey).toEqual(t.admin.signingPublic);
    // Held and served again (a refresh, a relay's stored roster): it is the roster already accepted.
    expect((await verifyAfter(t, v2.encoded, v2)).digest).toEqual(v2.digest);
    const long = await roster(t, 2, v1, [t.adminCert], t.admin, { expiresAt: Date.now() + 8 * DAY });
    await expect(verifyAfter(t, long, v1)).rejects.toBeInstanceOf(RosterSignerError);
    // Backdated to before the certificate: no standing then either.
    const early = await roster(t, 2, v1, [t.adminCert], t.admin, { issuedAt: Date.now() - 2 * DAY });
    await expect(verifyAfter(t, early, v1)).rejects.toThrow(RosterError);
  });

  it('a jump, a fork and a successor of another roster are refused, each with its own code', async () => {
    const t = await team();
    const v1 = await verifyAfter(t, await roster(t, 1, undefined, [t.adminCert]));
    const v1b = await verifyAfter(t, await roster(t, 1, undefined, [t.adminCert, t.invitedCert]));
    // The same version with other bytes.
    const fork = verifyAfter(t, v1b.encoded, v1);
    await expect(fork).rejects.toBeInstanceOf(RosterForkError);
    await expect(fork).rejects.toMatchObject({ code: 'SEALCHAT_E_ROSTER_FORK' });
    // A successor of the other version 1.
    const other = verifyAfter(t, await roster(t, 2, v1b, [t.adminCert]), v1);
    await expect(other).rejects.toBeInstanceOf(RosterForkError);
    // A device-signed roster that skips a version.
    const jump = verifyAfter(t, await roster(t, 3, v1, [t.adminCert], t.admin), v1);
    await expect(jump).rejects.toMatchObject({ code: 'SEALCHAT_E_ROSTER_JUMP' });
    const signer = verifyAfter(t, await roster(t, 2, v1, [], t.invited), v1);
    await expect(signer).rejects.toMatchObject({ code: 'SEALCHAT_E_ROSTER_SIGNER' });
    // The root speaks for the organisation at any higher version.
    const rootJump = await roster(t, 5, { ...v1, digest: new Uint8Array(32).fill(7) }, []);
    expect((await verifyAfter(t, rootJump, v1)).version).toBe(5);
    // A rollback stays the plain roster error.
    const v2 = await verifyAfter(t, await roster(t, 2, v1, []), v1);
    await expect(verifyAfter(t, v1.encoded, v2)).rejects.toMatchObject({ code: 'SEALCHAT_E_ROSTER' });
  });

  it('a mark (version and digest) refuses a rollback and a fork, and a device-signed successor', async () => {
    const t = await team();
    const v1 = await verifyAfter(t, await roster(t, 1, undefined, [t.adminCert]));
    const mark = { version: v1.version, digest: v1.digest };
    const v2 = await roster(t, 2, v1, [t.adminCert], t.admin);
    // The standing cannot be checked against a mark: the full predecessor is needed.
    await expect(
      verifyRoster(v2, { orgRootKey: t.org.rootPublic, now: Date.now(), previous: mark }),
    ).rejects.toBeInstanceOf(RosterSignerError);
    const v1b = await roster(t, 1, undefined, [t.invitedCert]);
    await expect(
      verifyRoster(v1b, { orgRootKey: t.org.rootPublic, now: Date.now(), previous: mark }),
    ).rejects.toBeInstanceOf(RosterForkError);
  });
});

describe('certificates: the administer capability', () => {
  it('lives at most 7 days, is granted only to supervisors, and only the root grants it', async () => {
    const t = await team();
    const now = Date.now();
    const fields = {
      orgId: t.org.orgId,
      deviceId: t.admin.deviceId,
      displayName: 'Admin',
      signingPublic: t.admin.signingPublic,
      agreementPublic: t.admin.agreementPublic,
      issuedAt: now - 1000,
    };
    const byRoot = { privateKey: t.org.root.privateKey, publicKey: t.org.rootPublic };
    await expect(
      issueCertificate(
        { ...fields, role: 'supervisor', administer: true, expiresAt: now + MAX_ADMINISTER_LIFETIME_MS },
        byRoot,
      ),
    ).rejects.toBeInstanceOf(RangeError);
    await expect(
      issueCertificate({ ...fields, role: 'agent', administer: true, expiresAt: now + DAY }, byRoot),
    ).rejects.toBeInstanceOf(RangeError);
    // An administering supervisor certificate from the supervisor (not the root) is refused on a roster.
    const bySupervisor = { privateKey: t.org.supervisor.signing.privateKey, publicKey: t.org.supervisor.signingPublic };
    const selfMade = await issueCertificate(
      { ...fields, role: 'supervisor', administer: true, expiresAt: now + DAY },
      bySupervisor,
    );
    await expect(verifyAfter(t, await roster(t, 1, undefined, [selfMade]))).rejects.toMatchObject({
      cause: expect.any(CertificateError),
    });
  });
});

describe('roster contents', () => {
  it('F9: one device listed twice is refused (the last entry would have redirected its shares)', async () => {
    const t = await team();
    const other = await generateDeviceIdentity();
    // Two certificates for one device id with other agreement keys: a share sealed to "the device"
    // would have gone to whichever entry a client picked.
    const twin = { ...t.admin, agreementPublic: other.agreementPublic };
    const now = Date.now();
    const byRoot = { privateKey: t.org.root.privateKey, publicKey: t.org.rootPublic };
    const twinCert = await issueCertificate(
      {
        orgId: t.org.orgId,
        deviceId: twin.deviceId,
        displayName: 'Twin',
        role: 'supervisor',
        signingPublic: twin.signingPublic,
        agreementPublic: twin.agreementPublic,
        issuedAt: now - 1000,
        expiresAt: now + DAY,
      },
      byRoot,
    );
    await expect(verifyAfter(t, await roster(t, 1, undefined, [t.adminCert, twinCert]))).rejects.toThrow(
      /one device twice/,
    );
  });
});

describe('roster history: what a relay may serve of the past', () => {
  it('drops a fork kept from an ex-administrator when the honest successor names the other roster', async () => {
    const t = await team();
    const v1 = await verifyAfter(t, await roster(t, 1, undefined, [t.adminCert]));
    const honest2 = await verifyAfter(t, await roster(t, 2, v1, []), v1);
    const honest3 = await verifyAfter(t, await roster(t, 3, honest2, []), honest2);
    // The ex-administrator's version 2, valid on its own as of its issue time.
    const forged2 = await roster(t, 2, v1, [t.adminCert], t.admin);
    const history = await verifyRosterHistory([v1.encoded, forged2], {
      orgRootKey: t.org.rootPublic,
      known: [honest3],
    });
    expect(history.rosters.map((r) => r.version)).toEqual([1, 3]);
    expect(history.refused.map((e) => e.message).join('\n')).toMatch(/not the one version 3 follows/);
    // Served beside the honest one: ambiguous, so neither is taken.
    const both = await verifyRosterHistory([honest2.encoded, forged2], { orgRootKey: t.org.rootPublic });
    expect(both.rosters.map((r) => r.version)).toEqual([]);
  });
});
