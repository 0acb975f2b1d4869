import {
  EMPTY_AUDIT_MARK,
  auditLinkDigest,
  generateDeviceIdentity,
  issueRoster,
  issueRosterHead,
  verifyRoster,
  type AuditMark,
  type DeviceIdentity,
  type VerifiedRoster,
} from '@sealchat/protocol';
import { createTestOrganisation, type TestOrganisation } from '@sealchat/protocol/testing';
import { describe, expect, it } from 'vitest';
import { expectKind, harnessPerTest, random, type Harness, type TestClient } from './testing/relay-harness.js';

/**
 * The relay keeps each org's roster head (docs/protocol.md §4.4, docs/relay-protocol.md): it takes
 * one only if it verifies against the org's current roster, is not older than the one held and its
 * audit mark names the relay's own log, never fewer records than the held head (docs/audit-log.md
 * §Heads), and serves it to anyone while it names the current roster. Issue 11, findings 3 and 8a.
 */
const newHarness = harnessPerTest();
const DAY = 24 * 60 * 60 * 1000;

interface Scene {
  h: Harness;
  org: TestOrganisation;
  admin: DeviceIdentity;
  invited: DeviceIdentity;
  agent: DeviceIdentity;
  client: TestClient;
  v1: VerifiedRoster;
}

async function scene(): Promise<Scene> {
  const h = await newHarness({ demo: true });
  const org = await createTestOrganisation();
  const [admin, invited, agent] = await Promise.all([1, 2, 3].map(() => generateDeviceIdentity()));
  const now = Date.now();
  const bytes = await issueRoster(
    {
      orgId: org.orgId,
      version: 1,
      issuedAt: now - 1000,
      expiresAt: now + DAY,
      archivePublic: undefined,
      supervisors: [
        org.supervisorCertificate,
        await org.certifySupervisor(admin!),
        await org.certifySupervisor(invited!, { administer: false }),
      ],
      agents: [await org.certify(agent!)],
    },
    { privateKey: org.root.privateKey, publicKey: org.rootPublic },
  );
  const client = await h.connect();
  expectKind(await client.request({ kind: 'publish-roster', orgRootKey: org.rootPublic, roster: bytes }), 'ok');
  const v1 = await verifyRoster(bytes, { orgRootKey: org.rootPublic, now });
  return { h, org, admin: admin!, invited: invited!, agent: agent!, client, v1 };
}

const byRoot = (s: Scene) => ({ privateKey: s.org.root.privateKey, publicKey: s.org.rootPublic });
const by = (device: DeviceIdentity) => ({ privateKey: device.signing.privateKey, publicKey: device.signingPublic });
const publishHead = (s: Scene, head: Uint8Array<ArrayBuffer>) =>
  s.client.request({ kind: 'publish-roster-head', orgRootKey: s.org.rootPublic, head });

/** Appends `n` opaque records to the org's audit log as its supervisor; returns the mark after each. */
async function appendAudit(s: Scene, n: number): Promise<AuditMark[]> {
  const supervisor = await s.h.connect();
  expectKind(await supervisor.authAgent(s.org.orgId, s.org.supervisor), 'ok');
  const marks: AuditMark[] = [];
  for (let index = 0; index < n; index++) {
    const record = random(300);
    expectKind(await supervisor.request({ kind: 'append-audit', index, record }), 'ok');
    marks.push({ count: index + 1, digest: await auditLinkDigest(record) });
  }
  return marks;
}

describe('relay: roster heads', () => {
  it('keeps a head for the current roster and serves it to anyone, a visitor’s socket included', async () => {
    const s = await scene();
    const visitor = await s.h.connect();
    expect(expectKind(await visitor.request({ kind: 'get-roster-head', orgId: s.org.orgId }), 'error').code).toBe(
      'SEALCHAT_E_NOT_FOUND',
    );
    const head = await issueRosterHead(s.v1, byRoot(s), Date.now(), EMPTY_AUDIT_MARK);
    expectKind(await publishHead(s, head), 'ok');
    expect(
      expectKind(await visitor.request({ kind: 'get-roster-head', orgId: s.org.orgId }), 'roster-head').head,
    ).toEqual(head);
    // An administrator of the roster may renew it; no age limit at the relay, but never older than the one held.
    const byAdmin = await issueRosterHead(s.v1, by(s.admin), Date.now() + 1000, EMPTY_AUDIT_MARK);
    expectKind(await publishHead(s, byAdmin), 'ok');
    const older = await issueRosterHead(s.v1, byRoot(s), Date.now() - 2 * DAY, EMPTY_AUDIT_MARK);
    expect(expectKind(await publishHead(s, older), 'error').code).toBe('SEALCHAT_E_ROSTER_HEAD_REJECTED');
    expect(
      expectKind(await visitor.request({ kind: 'get-roster-head', orgId: s.org.orgId }), 'roster-head').head,
    ).toEqual(byAdmin);
  });

  it('refuses heads signed by an agent or a supervisor who does not administer, and of unknown orgs', async () => {
    const s = await scene();
    for (const signer of [s.agent, s.invited]) {
      const head = await issueRosterHead(s.v1, by(signer), Date.now(), EMPTY_AUDIT_MARK);
      expect(expectKind(await publishHead(s, head), 'error').code).toBe('SEALCHAT_E_ROSTER_HEAD_REJECTED');
    }
    const other = await createTestOrganisation();
    const theirs = await issueRosterHead(await other.verifiedRoster(1, []), byRoot(s), Date.now(), EMPTY_AUDIT_MARK);
    expect(
      expectKind(
        await s.client.request({ kind: 'publish-roster-head', orgRootKey: other.rootPublic, head: theirs }),
        'error',
      ).code,
    ).toBe('SEALCHAT_E_UNKNOWN_ORG');
    expect(expectKind(await s.client.request({ kind: 'get-roster-head', orgId: s.org.orgId }), 'error').code).toBe(
      'SEALCHAT_E_NOT_FOUND',
    );
  });

  it('F3: a new roster makes the held head stale; a head for the old roster is refused after it', async () => {
    const s = await scene();
    const oldHead = await issueRosterHead(s.v1, byRoot(s), Date.now(), EMPTY_AUDIT_MARK);
    expectKind(await publishHead(s, oldHead), 'ok');
    const v2raw = await issueRoster(
      {
        orgId: s.org.orgId,
        version: 2,
        previousDigest: s.v1.digest,
        issuedAt: Date.now() - 500,
        expiresAt: Date.now() + DAY,
        archivePublic: undefined,
        supervisors: [s.org.supervisorCertificate],
        agents: [],
      },
      byRoot(s),
    );
    expectKind(await s.client.request({ kind: 'publish-roster', orgRootKey: s.org.rootPublic, roster: v2raw }), 'ok');
    const visitor = await s.h.connect();
    expect(expectKind(await visitor.request({ kind: 'get-roster-head', orgId: s.org.orgId }), 'error').code).toBe(
      'SEALCHAT_E_NOT_FOUND',
    );
    // The revoked administrator (and anyone replaying a head) cannot vouch for version 1 any more.
    const replay = await issueRosterHead(s.v1, by(s.admin), Date.now() + 1000, EMPTY_AUDIT_MARK);
    expect(expectKind(await publishHead(s, replay), 'error').code).toBe('SEALCHAT_E_ROSTER_HEAD_REJECTED');
    const v2 = await verifyRoster(v2raw, { orgRootKey: s.org.rootPublic, now: Date.now(), previous: s.v1 });
    // Nor for version 2, which does not list it.
    expect(
      expectKind(await publishHead(s, await issueRosterHead(v2, by(s.admin), Date.now(), EMPTY_AUDIT_MARK)), 'error')
        .code,
    ).toBe('SEALCHAT_E_ROSTER_HEAD_REJECTED');
    const fresh = await issueRosterHead(v2, byRoot(s), Date.now(), EMPTY_AUDIT_MARK);
    expectKind(await publishHead(s, fresh), 'ok');
    expect(
      expectKind(await visitor.request({ kind: 'get-roster-head', orgId: s.org.orgId }), 'roster-head').head,
    ).toEqual(fresh);
  });

  it('F8a: takes an audit mark only for its own log, and never one naming fewer records than the held head', async () => {
    const s = await scene();
    const [, two, three] = await appendAudit(s, 3);
    const now = Date.now();
    const refused = async (audit: AuditMark, at: number) =>
      expect(expectKind(await publishHead(s, await issueRosterHead(s.v1, byRoot(s), at, audit)), 'error').code).toBe(
        'SEALCHAT_E_ROSTER_HEAD_REJECTED',
      );
    // More records than the relay holds, or another digest for the last one: every reader would
    // refuse the log under such a head, so the relay does not keep it.
    await refused({ count: 4, digest: three!.digest }, now);
    await refused({ count: 3, digest: two!.digest }, now);
    const held = await issueRosterHead(s.v1, byRoot(s), now, three!);
    expectKind(await publishHead(s, held), 'ok');
    // Newer, but naming fewer records (a signer that knew less): refused, the held head stays.
    await refused(two!, now + 1000);
    await refused(EMPTY_AUDIT_MARK, now + 1000);
    const visitor = await s.h.connect();
    expect(
      expectKind(await visitor.request({ kind: 'get-roster-head', orgId: s.org.orgId }), 'roster-head').head,
    ).toEqual(held);
    // As many records, signed later: taken.
    const renewed = await issueRosterHead(s.v1, by(s.admin), now + 2000, three!);
    expectKind(await publishHead(s, renewed), 'ok');
    expect(
      expectKind(await visitor.request({ kind: 'get-roster-head', orgId: s.org.orgId }), 'roster-head').head,
    ).toEqual(renewed);
  });
});
