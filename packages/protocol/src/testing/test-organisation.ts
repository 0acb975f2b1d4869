import { issueCertificate, MAX_ADMINISTER_LIFETIME_MS, type DeviceRole } from '../certificate.js';
import { generateDeviceIdentity, type DeviceIdentity } from '../identity.js';
import { Context } from '../contexts.js';
import { exportPublicKey, generateAgreementKeyPair, generateSigningKeyPair, labelledHash } from '../keys.js';
import { formatOrgKey, orgIdFromRootKey } from '../org-key.js';
import { archiveIdFromKey, issueRoster, verifyRoster, type VerifiedRoster } from '../roster.js';
import { EMPTY_AUDIT_MARK, type AuditMark } from '../audit-mark.js';
import { issueRosterHead } from '../roster-head.js';

const DAY = 24 * 60 * 60 * 1000;

/**
 * A complete organisation for tests, built with the real API: root key, one supervisor device
 * certified by the root, an archive key, and a roster factory. Exported as
 * `@sealchat/protocol/testing`; never used by shipped code.
 */
export interface TestOrganisation {
  readonly root: CryptoKeyPair;
  readonly rootPublic: Uint8Array<ArrayBuffer>;
  readonly orgId: Uint8Array<ArrayBuffer>;
  readonly orgKey: string;
  readonly supervisor: DeviceIdentity;
  readonly supervisorCertificate: Uint8Array<ArrayBuffer>;
  /** The archive recipient's key pair, as supervisors hold it. */
  readonly archive: { readonly deviceId: Uint8Array<ArrayBuffer>; readonly agreement: CryptoKeyPair };
  /** A certificate for `device`, issued by the supervisor. */
  certify(
    device: DeviceIdentity,
    options?: { displayName?: string; role?: DeviceRole; expiresAt?: number },
  ): Promise<Uint8Array<ArrayBuffer>>;
  /**
   * A supervisor certificate for `device` issued by the org root, the only issuer whose grant of
   * `administer` counts. Issued a minute ago by default; it administers (named "Admin", living
   * {@link MAX_ADMINISTER_LIFETIME_MS}, the most it may) unless `administer` is false (then an
   * invited colleague, "Invited", for 30 days).
   */
  certifySupervisor(
    device: DeviceIdentity,
    options?: { administer?: boolean; displayName?: string; issuedAt?: number; expiresAt?: number },
  ): Promise<Uint8Array<ArrayBuffer>>;
  /**
   * A roster listing the supervisor and `agents`, signed by the org root, following the roster
   * this organisation last issued at `version - 1` (a fork when it issued two of those).
   */
  roster(
    version: number,
    agents: readonly DeviceIdentity[],
    options?: { expiresAt?: number; issuedAt?: number; archive?: boolean },
  ): Promise<Uint8Array<ArrayBuffer>>;
  /** {@link roster}, verified. */
  verifiedRoster(version: number, agents: readonly DeviceIdentity[]): Promise<VerifiedRoster>;
  /**
   * A roster head for `roster` signed by the org root at `signedAt` (default now), naming `audit`
   * (default an empty log): what a relay serves first-time visitors (docs/protocol.md §4.4).
   */
  rosterHead(roster: VerifiedRoster, signedAt?: number, audit?: AuditMark): Promise<Uint8Array<ArrayBuffer>>;
}

export async function createTestOrganisation(): Promise<TestOrganisation> {
  const root = await generateSigningKeyPair();
  const rootPublic = await exportPublicKey(root.publicKey);
  const orgId = await orgIdFromRootKey(rootPublic);
  const supervisor = await generateDeviceIdentity();
  const certifySupervisor: TestOrganisation['certifySupervisor'] = (device, options = {}) => {
    const administer = options.administer ?? true;
    const issuedAt = options.issuedAt ?? Date.now() - 60_000;
    return issueCertificate(
      {
        orgId,
        deviceId: device.deviceId,
        displayName: options.displayName ?? (administer ? 'Admin' : 'Invited'),
        role: 'supervisor',
        administer,
        signingPublic: device.signingPublic,
        agreementPublic: device.agreementPublic,
        issuedAt,
        expiresAt: options.expiresAt ?? issuedAt + (administer ? MAX_ADMINISTER_LIFETIME_MS : 30 * DAY),
      },
      { privateKey: root.privateKey, publicKey: rootPublic },
    );
  };
  // It administers (signs audit records, may sign the next roster), so it lives 7 days at most.
  const supervisorCertificate = await certifySupervisor(supervisor, { displayName: 'Supervisor' });
  const issued = new Map<number, Uint8Array<ArrayBuffer>>();
  const archiveAgreement = await generateAgreementKeyPair();
  const archivePublic = await exportPublicKey(archiveAgreement.publicKey);
  const signer = { privateKey: supervisor.signing.privateKey, publicKey: supervisor.signingPublic };
  const org: TestOrganisation = {
    root,
    rootPublic,
    orgId,
    orgKey: await formatOrgKey(rootPublic),
    supervisor,
    supervisorCertificate,
    archive: { deviceId: await archiveIdFromKey(archivePublic), agreement: archiveAgreement },
    certifySupervisor,
    certify(device, options = {}) {
      const issuedAt = Date.now() - 60_000;
      return issueCertificate(
        {
          orgId,
          deviceId: device.deviceId,
          displayName: options.displayName ?? 'Agent',
          role: options.role ?? 'agent',
          signingPublic: device.signingPublic,
          agreementPublic: device.agreementPublic,
          issuedAt,
          expiresAt: options.expiresAt ?? issuedAt + 30 * DAY,
        },
        signer,
      );
    },
    async roster(version, agents, options = {}) {
      const issuedAt = options.issuedAt ?? Date.now() - 1000;
      const before = issued.get(version - 1);
      const roster = await issueRoster(
        {
          orgId,
          version,
          previousDigest:
            version === 1
              ? undefined
              : before
                ? await labelledHash(Context.rosterDigest, before)
                : await labelledHash(Context.rosterDigest, Uint8Array.of(version)),
          issuedAt,
          expiresAt: options.expiresAt ?? issuedAt + DAY,
          archivePublic: options.archive === false ? undefined : archivePublic,
          supervisors: [supervisorCertificate],
          agents: await Promise.all(agents.map((agent) => org.certify(agent))),
        },
        { privateKey: root.privateKey, publicKey: rootPublic },
      );
      issued.set(version, roster);
      return roster;
    },
    async verifiedRoster(version, agents) {
      return verifyRoster(await org.roster(version, agents), { orgRootKey: rootPublic, now: Date.now() });
    },
    rosterHead(roster, signedAt = Date.now(), audit = EMPTY_AUDIT_MARK) {
      return issueRosterHead(roster, { privateKey: root.privateKey, publicKey: rootPublic }, signedAt, audit);
    },
  };
  return org;
}
