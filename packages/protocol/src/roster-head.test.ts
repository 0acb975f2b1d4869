import { describe, expect, it } from 'vitest';
import {
  DEFAULT_MAX_HEAD_AGE_MS,
  EMPTY_AUDIT_MARK,
  RosterHeadError,
  StaleRosterHeadError,
  generateDeviceIdentity,
  issueRoster,
  issueRosterHead,
  verifyRoster,
  verifyRosterHead,
  type AuditMark,
  type DeviceIdentity,
  type VerifiedRoster,
} from './index.js';
import { createTestOrganisation, type TestOrganisation } from './testing/index.js';

/**
 * Roster heads (docs/protocol.md §4.4; issue 11, finding 3). Without them a first-time visitor
 * accepted any unexpired roster, so a relay colluding with a revoked device served the roster from
 * before the revocation for up to 30 days.
 */

const HOUR = 60 * 60 * 1000;
/** A log of 7 records, as a signer that verified it would name it. */
const SEVEN: AuditMark = { count: 7, digest: new Uint8Array(32).fill(0xa7) };
const DAY = 24 * HOUR;

interface Team {
  org: TestOrganisation;
  admin: DeviceIdentity;
  adminCert: Uint8Array<ArrayBuffer>;
  invited: DeviceIdentity;
  invitedCert: Uint8Array<ArrayBuffer>;
  agent: DeviceIdentity;
  /** Version 1, signed by the root, listing the admin and the invited supervisor and the agent. */
  v1: VerifiedRoster;
  /** Version 2, signed by the root, without the admin. */
  v2: VerifiedRoster;
}

async function team(): Promise<Team> {
  const org = await createTestOrganisation();
  const [admin, invited, agent] = await Promise.all([1, 2, 3].map(() => generateDeviceIdentity()));
  const now = Date.now();
  const byRoot = { privateKey: org.root.privateKey, publicKey: org.rootPublic };
  // Issued an hour ago: a head the admin dates two hours back predates its standing.
  const adminCert = await org.certifySupervisor(admin!, { issuedAt: now - HOUR });
  const invitedCert = await org.certifySupervisor(invited!, { administer: false, issuedAt: now - HOUR });
  const agentCert = await org.certify(agent!);
  const issue = (version: number, previous: VerifiedRoster | undefined, supervisors: Uint8Array<ArrayBuffer>[]) =>
    issueRoster(
      {
        orgId: org.orgId,
        version,
        previousDigest: previous?.digest,
        issuedAt: now - 1000,
        expiresAt: now + 30 * DAY,
        archivePublic: undefined,
        supervisors: [org.supervisorCertificate, ...supervisors],
        agents: [agentCert],
      },
      byRoot,
    ).then((bytes) => verifyRoster(bytes, { orgRootKey: org.rootPublic, now, previous }));
  const v1 = await issue(1, undefined, [adminCert, invitedCert]);
  const v2 = await issue(2, v1, [invitedCert]);
  return { org, admin: admin!, adminCert, invited: invited!, invitedCert, agent: agent!, v1, v2 };
}

const signerOf = (device: DeviceIdentity) => ({
  privateKey: device.signing.privateKey,
  publicKey: device.signingPublic,
});
const rootOf = (t: Team) => ({ privateKey: t.org.root.privateKey, publicKey: t.org.rootPublic });
const check = (t: Team, head: Uint8Array<ArrayBuffer>, roster: VerifiedRoster, now = Date.now(), maxAgeMs?: number) =>
  verifyRosterHead(head, { orgRootKey: t.org.rootPublic, roster, now, maxAgeMs });

describe('roster heads', () => {
  it('verify when the root or an administrator of that roster signs them', async () => {
    const t = await team();
    const now = Date.now();
    const byRoot = await check(t, await issueRosterHead(t.v2, rootOf(t), now, EMPTY_AUDIT_MARK), t.v2);
    expect(byRoot).toMatchObject({ rosterVersion: 2, signedAt: now, signerKey: t.org.rootPublic });
    expect(byRoot.rosterDigest).toEqual(t.v2.digest);
    const byAdmin = await check(t, await issueRosterHead(t.v1, signerOf(t.admin), now, EMPTY_AUDIT_MARK), t.v1);
    expect(byAdmin.signerKey).toEqual(t.admin.signingPublic);
  });

  it('F3: a head for the roster before a revocation does not vouch for it after (wrong roster)', async () => {
    const t = await team();
    const forV2 = await issueRosterHead(t.v2, rootOf(t), Date.now(), EMPTY_AUDIT_MARK);
    await expect(check(t, forV2, t.v1)).rejects.toThrow(/names version 2/);
    const forV1 = await issueRosterHead(t.v1, rootOf(t), Date.now(), EMPTY_AUDIT_MARK);
    await expect(check(t, forV1, t.v2)).rejects.toBeInstanceOf(RosterHeadError);
    // Another organisation's head, however fresh, names another org.
    const other = await team();
    await expect(
      check(t, await issueRosterHead(other.v1, rootOf(other), Date.now(), EMPTY_AUDIT_MARK), t.v1),
    ).rejects.toBeInstanceOf(RosterHeadError);
  });

  it('refuse signers without standing: an agent, a non-administering supervisor, an admin not on that roster', async () => {
    const t = await team();
    const now = Date.now();
    const refused = async (head: Uint8Array<ArrayBuffer>, roster: VerifiedRoster) => {
      const error = await check(t, head, roster).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RosterHeadError);
      expect(error).not.toBeInstanceOf(StaleRosterHeadError);
      expect((error as RosterHeadError).code).toBe('SEALCHAT_E_ROSTER_HEAD');
    };
    await refused(await issueRosterHead(t.v1, signerOf(t.agent), now, EMPTY_AUDIT_MARK), t.v1);
    await refused(await issueRosterHead(t.v1, signerOf(t.invited), now, EMPTY_AUDIT_MARK), t.v1);
    // The admin was dropped at version 2 (a revocation): it cannot keep version 2's head fresh...
    await refused(await issueRosterHead(t.v2, signerOf(t.admin), now, EMPTY_AUDIT_MARK), t.v2);
    // ...and its heads for version 1 die with its 7-day certificate.
    await refused(await issueRosterHead(t.v1, signerOf(t.admin), now + 7 * DAY, EMPTY_AUDIT_MARK), t.v1);
    await refused(await issueRosterHead(t.v1, signerOf(t.admin), now - 2 * HOUR, EMPTY_AUDIT_MARK), t.v1);
  });

  it('are stale past maxAgeMs (default 4 days), and refused when dated in the future', async () => {
    const t = await team();
    const now = Date.now();
    expect(DEFAULT_MAX_HEAD_AGE_MS).toBe(4 * DAY);
    const weekend = await issueRosterHead(t.v2, rootOf(t), now - 3.6 * DAY, EMPTY_AUDIT_MARK);
    expect((await check(t, weekend, t.v2)).signedAt).toBe(now - 3.6 * DAY);
    const old = await issueRosterHead(t.v2, rootOf(t), now - 4 * DAY - 1, EMPTY_AUDIT_MARK);
    const stale = await check(t, old, t.v2, now).catch((e: unknown) => e);
    expect(stale).toBeInstanceOf(StaleRosterHeadError);
    expect((stale as StaleRosterHeadError).code).toBe('SEALCHAT_E_ROSTER_HEAD_STALE');
    await expect(check(t, weekend, t.v2, now, DAY)).rejects.toBeInstanceOf(StaleRosterHeadError);
    expect((await check(t, old, t.v2, now, Infinity)).rosterVersion).toBe(2);
    await expect(
      check(t, await issueRosterHead(t.v2, rootOf(t), now + 6 * 60_000, EMPTY_AUDIT_MARK), t.v2, now),
    ).rejects.toThrow(/future/);
    expect(
      (await check(t, await issueRosterHead(t.v2, rootOf(t), now + 60_000, EMPTY_AUDIT_MARK), t.v2, now)).rosterVersion,
    ).toBe(2);
  });

  it('F8a: carry the audit mark the signer names, which no one can change without the signature failing', async () => {
    const t = await team();
    const head = await issueRosterHead(t.v2, rootOf(t), Date.now(), SEVEN);
    expect((await check(t, head, t.v2)).audit).toEqual(SEVEN);
    expect((await check(t, await issueRosterHead(t.v2, rootOf(t), Date.now(), EMPTY_AUDIT_MARK), t.v2)).audit).toEqual(
      EMPTY_AUDIT_MARK,
    );
    // The mark sits after the roster digest (docs/protocol.md §4.4): count, then digest; the tbs
    // starts after its u32 length.
    const countAt = 4 + 1 + 16 + 8 + 32;
    expect([head[countAt + 7], head[countAt + 8], head[countAt + 8 + 31], head[countAt + 8 + 32]]).toEqual([
      7, 0xa7, 0xa7, 0,
    ]);
    for (const at of [countAt + 7, countAt + 8, countAt + 8 + 31]) {
      const changed = head.slice();
      changed[at]! ^= 0x01;
      await expect(check(t, changed, t.v2), `byte ${at}`).rejects.toBeInstanceOf(RosterHeadError);
    }
  });

  it('refuse to sign a mark that is not one: a bad count, a short digest, a digest for an empty log', async () => {
    const t = await team();
    for (const bad of [
      { count: -1, digest: SEVEN.digest },
      { count: 1.5, digest: SEVEN.digest },
      { count: 3, digest: new Uint8Array(31) },
      { count: 0, digest: SEVEN.digest },
    ])
      await expect(issueRosterHead(t.v2, rootOf(t), Date.now(), bad)).rejects.toBeInstanceOf(TypeError);
  });

  it('refuse every flipped byte, a truncation and trailing bytes', async () => {
    const t = await team();
    const head = await issueRosterHead(t.v2, rootOf(t), Date.now(), SEVEN);
    for (let i = 0; i < head.length; i++) {
      const flipped = head.slice();
      flipped[i]! ^= 0x01;
      await expect(check(t, flipped, t.v2), `byte ${i}`).rejects.toBeInstanceOf(RosterHeadError);
    }
    await expect(check(t, head.slice(0, -1), t.v2)).rejects.toBeInstanceOf(RosterHeadError);
    await expect(check(t, Uint8Array.of(...head, 0), t.v2)).rejects.toBeInstanceOf(RosterHeadError);
  });
});
