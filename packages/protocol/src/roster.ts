import { bytesEqual, toHex } from './bytes.js';
import { verifyCertificate, type VerifiedCertificate } from './certificate.js';
import { ByteReader, ByteWriter } from './codec.js';
import { Context } from './contexts.js';
import {
  DecodeError,
  RosterError,
  RosterForkError,
  RosterJumpError,
  RosterSignerError,
  SealchatError,
} from './errors.js';
import type { Recipient } from './identity.js';
import { labelledHash, PUBLIC_KEY_LENGTH, SIGNATURE_LENGTH, sign, verify } from './keys.js';
import { ORG_ID_LENGTH, orgIdFromRootKey } from './org-key.js';

/** Certificates per roster (supervisors and devices together); a relay sending more is hostile. */
export const MAX_ROSTER_DEVICES = 1000;
const MAX_CERTIFICATE_BYTES = 4096;

/**
 * The archive recipient: an X25519 key whose private half the supervisors hold. In `archive`
 * mode every chain seed is also shared to it, so history stays readable to the organisation.
 * Its id is derived from the key, like a device id, so it can stand in a recipient list.
 */
export interface ArchiveKey {
  readonly deviceId: Uint8Array<ArrayBuffer>;
  readonly agreementPublic: Uint8Array<ArrayBuffer>;
}

/**
 * The signed list of who may read an organisation's conversations: supervisors (certified by
 * the org root), agent devices (certified by a supervisor) and the archive key. Rosters form a
 * chain: each names the digest of the one before it and has the next version, and only the root or
 * a device that administers on the roster before may sign the next (docs/protocol.md §4.3). Clients
 * share chain seeds only with the readers of a roster they verified, keep the newest (and its
 * digest), and refuse a lower version, a fork and a signer without standing, so neither a relay nor
 * someone who left the team can add a reader or roll a revocation back.
 */
export interface VerifiedRoster {
  readonly orgId: Uint8Array<ArrayBuffer>;
  readonly version: number;
  /** Digest of the roster this one follows; all zero for version 1. */
  readonly previousDigest: Uint8Array<ArrayBuffer>;
  readonly issuedAt: number;
  readonly expiresAt: number;
  readonly archive: ArchiveKey | undefined;
  readonly supervisors: readonly VerifiedCertificate[];
  readonly agents: readonly VerifiedCertificate[];
  /** Supervisors and agents: every device that may read. */
  readonly devices: readonly VerifiedCertificate[];
  /** The key that signed this roster: the org root, or an administering supervisor's. */
  readonly signerKey: Uint8Array<ArrayBuffer>;
  /** Whether {@link signerKey} is the org root, which may sign at any version without the rosters before. */
  readonly signedByRoot: boolean;
  readonly encoded: Uint8Array<ArrayBuffer>;
  /** Labelled SHA-256 of `encoded`: two rosters with one version but different bytes differ here. */
  readonly digest: Uint8Array<ArrayBuffer>;
}

/**
 * What a verifier keeps of the newest roster it accepted, when it keeps less than the roster itself
 * (a visitor's mark): enough to refuse a rollback and a fork, not to check an administrator's standing.
 */
export interface RosterMark {
  readonly version: number;
  readonly digest: Uint8Array<ArrayBuffer>;
}

export interface RosterFields {
  readonly orgId: Uint8Array<ArrayBuffer>;
  readonly version: number;
  /**
   * Digest of the roster this one follows (`VerifiedRoster.digest`); omitted or all zero only for
   * version 1.
   */
  readonly previousDigest?: Uint8Array<ArrayBuffer> | undefined;
  readonly issuedAt: number;
  readonly expiresAt: number;
  /** X25519 public key of the archive recipient, or undefined for an org without one. */
  readonly archivePublic: Uint8Array<ArrayBuffer> | undefined;
  /** Supervisor certificates, each issued by the org root. */
  readonly supervisors: readonly Uint8Array<ArrayBuffer>[];
  /** Agent device certificates, each issued by a supervisor on this roster. */
  readonly agents: readonly Uint8Array<ArrayBuffer>[];
}

/**
 * Roster encoding version (docs/protocol.md §4.3). 2 added the predecessor's digest, which chains
 * rosters; version-1 rosters, which any listed supervisor could sign at any version, are refused.
 */
export const ROSTER_FORMAT = 2;
/** Length of `previousDigest`: a labelled SHA-256. */
export const ROSTER_DIGEST_LENGTH = 32;
/** How far a roster's issue time may run ahead of the verifier's clock. */
const CLOCK_SKEW_MS = 5 * 60_000;

/** The id an archive key stands under in recipient lists. */
export function archiveIdFromKey(archivePublic: Uint8Array<ArrayBuffer>): Promise<Uint8Array<ArrayBuffer>> {
  return labelledHash(Context.archiveId, archivePublic, 16);
}

/**
 * Signs a roster. The signer is the org root, or a supervisor whose certificate on the previous
 * roster administers and outlives this roster ({@link verifyRoster} refuses anything else).
 * @throws RangeError when `previousDigest` is missing after version 1, or given for version 1.
 */
export async function issueRoster(
  fields: RosterFields,
  signer: { privateKey: CryptoKey; publicKey: Uint8Array<ArrayBuffer> },
): Promise<Uint8Array<ArrayBuffer>> {
  const previousDigest = fields.previousDigest ?? new Uint8Array(ROSTER_DIGEST_LENGTH);
  const first = previousDigest.every((b) => b === 0);
  if (fields.version === 1 && !first) throw new RangeError('Version 1 follows no roster');
  if (fields.version !== 1 && first) throw new RangeError(`Version ${fields.version} needs its predecessor's digest`);
  const w = new ByteWriter()
    .u8(ROSTER_FORMAT)
    .fixed(fields.orgId, ORG_ID_LENGTH)
    .u64(fields.version)
    .fixed(previousDigest, ROSTER_DIGEST_LENGTH)
    .u64(fields.issuedAt)
    .u64(fields.expiresAt);
  if (fields.archivePublic) w.u8(1).fixed(fields.archivePublic, PUBLIC_KEY_LENGTH);
  else w.u8(0);
  w.u32(fields.supervisors.length);
  for (const cert of fields.supervisors) w.bytes(cert);
  w.u32(fields.agents.length);
  for (const cert of fields.agents) w.bytes(cert);
  const tbs = w.fixed(signer.publicKey, PUBLIC_KEY_LENGTH).finish();
  const signature = await sign(signer.privateKey, Context.roster, tbs);
  return new ByteWriter().bytes(tbs).fixed(signature, SIGNATURE_LENGTH).finish();
}

function readCertificates(r: ByteReader, budget: { left: number }): Uint8Array<ArrayBuffer>[] {
  const count = r.u32();
  budget.left -= count;
  if (budget.left < 0) throw new DecodeError(`Roster lists more than ${MAX_ROSTER_DEVICES} certificates`);
  const out: Uint8Array<ArrayBuffer>[] = [];
  for (let i = 0; i < count; i++) out.push(r.bytes(MAX_CERTIFICATE_BYTES));
  return out;
}

/** The header of an encoded roster, read without verifying anything (to pick the time to verify it at). */
export function peekRosterHeader(encoded: Uint8Array<ArrayBuffer>): { version: number; issuedAt: number } {
  try {
    const r = new ByteReader(new ByteReader(encoded).bytes());
    const format = r.u8();
    if (format !== ROSTER_FORMAT) throw new DecodeError(`Unsupported roster version ${format}`);
    r.fixed(ORG_ID_LENGTH);
    const version = r.u64();
    r.fixed(ROSTER_DIGEST_LENGTH);
    return { version, issuedAt: r.u64() };
  } catch (error) {
    if (error instanceof SealchatError) throw new RosterError(`Invalid roster: ${error.message}`, { cause: error });
    throw error;
  }
}

/**
 * Decodes and verifies a roster and every certificate on it (docs/protocol.md §4.3): supervisors
 * issued by the root, agents issued by a listed supervisor, no device listed twice, every
 * certificate valid when the roster was issued, the roster unexpired at `now`; and its place in the
 * chain:
 * - signed by the root, it may follow any version above `previous`;
 * - signed by a device, `previous` must be the full roster just before it, listing that device
 *   with a certificate that administers, is valid at this roster's issue time and lasts at least
 *   as long as this roster;
 * - with `previous` at hand, a lower version is a rollback, the same version with other bytes or a
 *   successor naming another digest is a fork, and an issue time before `previous`'s is a backdate.
 * @param trust.previous the newest roster this verifier accepted for the org (or its mark).
 * @throws RosterJumpError when a device-signed roster skips versions after `previous`.
 * @throws RosterForkError when it contradicts `previous` at the same or the next version.
 * @throws RosterSignerError when its signer has no standing, or a device-signed roster comes without its predecessor.
 * @throws RosterError for any other failed check (signature, org, expiry, certificates, rollback).
 */
export async function verifyRoster(
  encoded: Uint8Array<ArrayBuffer>,
  trust: {
    orgRootKey: Uint8Array<ArrayBuffer>;
    now: number;
    previous?: VerifiedRoster | RosterMark | undefined;
  },
): Promise<VerifiedRoster> {
  try {
    const outer = new ByteReader(encoded);
    const tbs = outer.bytes();
    const signature = outer.fixed(SIGNATURE_LENGTH);
    outer.end();

    const r = new ByteReader(tbs);
    const format = r.u8();
    if (format !== ROSTER_FORMAT) throw new DecodeError(`Unsupported roster version ${format}`);
    const orgId = r.fixed(ORG_ID_LENGTH);
    const version = r.u64();
    const previousDigest = r.fixed(ROSTER_DIGEST_LENGTH);
    const issuedAt = r.u64();
    const expiresAt = r.u64();
    const hasArchive = r.u8();
    if (hasArchive > 1) throw new DecodeError('Bad archive flag');
    const archivePublic = hasArchive ? r.fixed(PUBLIC_KEY_LENGTH) : undefined;
    const budget = { left: MAX_ROSTER_DEVICES };
    const supervisorCerts = readCertificates(r, budget);
    const agentCerts = readCertificates(r, budget);
    const signerKey = r.fixed(PUBLIC_KEY_LENGTH);
    r.end();
    if (version === 0) throw new DecodeError('Roster versions start at 1');
    if ((version === 1) !== previousDigest.every((b) => b === 0))
      throw new DecodeError(version === 1 ? 'Version 1 names a predecessor' : 'Roster names no predecessor');

    if (!bytesEqual(orgId, await orgIdFromRootKey(trust.orgRootKey))) {
      throw new RosterError('Roster belongs to another organisation');
    }
    await verify(signerKey, Context.roster, tbs, signature);
    const digest = await labelledHash(Context.rosterDigest, encoded);
    const signedByRoot = bytesEqual(signerKey, trust.orgRootKey);
    const previous = trust.previous;
    if (previous) {
      if (version < previous.version) {
        throw new RosterError(`Roster version ${version} is older than version ${previous.version} already seen`);
      }
      if (version === previous.version && !bytesEqual(digest, previous.digest)) {
        throw new RosterForkError(`Roster version ${version} differs from the version ${version} already seen`);
      }
      if (version === previous.version + 1 && !bytesEqual(previousDigest, previous.digest)) {
        throw new RosterForkError(`Roster version ${version} follows another roster than the one held`);
      }
      if (version > previous.version + 1 && !signedByRoot) {
        throw new RosterJumpError(
          `Roster version ${version} skips versions after ${previous.version} and is not signed by the organisation key`,
        );
      }
      if ('issuedAt' in previous && version > previous.version && issuedAt < previous.issuedAt) {
        throw new RosterError(`Roster version ${version} is issued before the roster it follows`);
      }
    }
    if (trust.now >= expiresAt) throw new RosterError('Roster has expired');
    if (trust.now < issuedAt - CLOCK_SKEW_MS) throw new RosterError('Roster is issued in the future');
    // Listed certificates must be valid when the roster was issued; the roster itself then decides
    // membership until it expires.
    const supervisors = await Promise.all(
      supervisorCerts.map((cert) =>
        verifyCertificate(cert, { issuers: [trust.orgRootKey], orgId, now: issuedAt, role: 'supervisor' }),
      ),
    );
    const supervisorKeys = supervisors.map((s) => s.signingPublic);
    const agents = await Promise.all(
      agentCerts.map((cert) =>
        verifyCertificate(cert, { issuers: supervisorKeys, orgId, now: issuedAt, role: 'agent' }),
      ),
    );
    const devices = [...supervisors, ...agents];
    const ids = new Set(devices.map((d) => toHex(d.deviceId)));
    if (ids.size !== devices.length) throw new RosterError('Roster lists one device twice');
    const archive = archivePublic
      ? { deviceId: await archiveIdFromKey(archivePublic), agreementPublic: archivePublic }
      : undefined;
    if (archive && ids.has(toHex(archive.deviceId))) throw new RosterError('Roster lists the archive key as a device');
    // The roster already held (same version and digest) had its signer's standing checked when it was accepted.
    const held = previous !== undefined && previous.version === version && bytesEqual(previous.digest, digest);
    if (!signedByRoot && !held) checkAdministrator(signerKey, version, issuedAt, expiresAt, previous);
    return {
      orgId,
      version,
      previousDigest,
      issuedAt,
      expiresAt,
      archive,
      supervisors,
      agents,
      devices,
      signerKey,
      signedByRoot,
      encoded,
      digest,
    };
  } catch (error) {
    if (error instanceof RosterError) throw error;
    if (error instanceof SealchatError) throw new RosterError(`Invalid roster: ${error.message}`, { cause: error });
    throw error;
  }
}

/**
 * A device may sign roster `version` only if the roster just before lists it with a certificate
 * that administers, was valid when the new roster was issued and outlives it: authority comes from
 * the predecessor, never from the roster being signed, and dies with the certificate.
 */
function checkAdministrator(
  signerKey: Uint8Array<ArrayBuffer>,
  version: number,
  issuedAt: number,
  expiresAt: number,
  previous: VerifiedRoster | RosterMark | undefined,
): void {
  if (!previous || !('supervisors' in previous) || previous.version !== version - 1) {
    throw new RosterSignerError(
      `Roster version ${version} is signed by a device, and the roster before it is not at hand to show its standing`,
    );
  }
  const admin = previous.supervisors.find((s) => bytesEqual(s.signingPublic, signerKey));
  if (!admin?.administer) {
    throw new RosterSignerError(
      `Roster version ${version} is signed by a device that does not administer version ${previous.version}`,
    );
  }
  if (issuedAt < admin.issuedAt || issuedAt >= admin.expiresAt || expiresAt > admin.expiresAt) {
    throw new RosterSignerError(`Roster version ${version} outlives its signer's certificate`);
  }
}

/** The devices a roster lets read, plus the archive key when there is one. */
export function rosterReaders(roster: VerifiedRoster, withArchive: boolean): Recipient[] {
  const readers: Recipient[] = [...roster.devices];
  if (withArchive && roster.archive) readers.push(roster.archive);
  return readers;
}
