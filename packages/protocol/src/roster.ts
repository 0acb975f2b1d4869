import { bytesEqual } from './bytes.js';
import { verifyCertificate, type VerifiedCertificate } from './certificate.js';
import { ByteReader, ByteWriter } from './codec.js';
import { Context, PROTOCOL_VERSION } from './contexts.js';
import { DecodeError, RosterError, SealchatError } from './errors.js';
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
 * the org root), agent devices (certified by a supervisor) and the archive key. Clients share
 * chain seeds only with the readers of a roster they verified, remember the highest version
 * (and its digest) they have seen, and refuse a lower one, so a relay can neither add a reader
 * nor roll a revocation back.
 */
export interface VerifiedRoster {
  readonly orgId: Uint8Array<ArrayBuffer>;
  readonly version: number;
  readonly issuedAt: number;
  readonly expiresAt: number;
  readonly archive: ArchiveKey | undefined;
  readonly supervisors: readonly VerifiedCertificate[];
  readonly agents: readonly VerifiedCertificate[];
  /** Supervisors and agents: every device that may read. */
  readonly devices: readonly VerifiedCertificate[];
  /** The supervisor (or root) key that signed this roster. */
  readonly signerKey: Uint8Array<ArrayBuffer>;
  readonly encoded: Uint8Array<ArrayBuffer>;
  /** Labelled SHA-256 of `encoded`: two rosters with one version but different bytes differ here. */
  readonly digest: Uint8Array<ArrayBuffer>;
}

export interface RosterFields {
  readonly orgId: Uint8Array<ArrayBuffer>;
  readonly version: number;
  readonly issuedAt: number;
  readonly expiresAt: number;
  /** X25519 public key of the archive recipient, or undefined for an org without one. */
  readonly archivePublic: Uint8Array<ArrayBuffer> | undefined;
  /** Supervisor certificates, each issued by the org root. */
  readonly supervisors: readonly Uint8Array<ArrayBuffer>[];
  /** Agent device certificates, each issued by a supervisor on this roster. */
  readonly agents: readonly Uint8Array<ArrayBuffer>[];
}

/** The id an archive key stands under in recipient lists. */
export function archiveIdFromKey(archivePublic: Uint8Array<ArrayBuffer>): Promise<Uint8Array<ArrayBuffer>> {
  return labelledHash(Context.archiveId, archivePublic, 16);
}

/** Signs a roster. The signer is a supervisor on it (or, to bootstrap the first one, the org root). */
export async function issueRoster(
  fields: RosterFields,
  signer: { privateKey: CryptoKey; publicKey: Uint8Array<ArrayBuffer> },
): Promise<Uint8Array<ArrayBuffer>> {
  const w = new ByteWriter()
    .u8(PROTOCOL_VERSION)
    .fixed(fields.orgId, ORG_ID_LENGTH)
    .u64(fields.version)
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

/**
 * Decodes and verifies a roster and every certificate on it: supervisors issued by the root,
 * agents issued by a listed supervisor, the roster signed by a listed supervisor or the root.
 * @param trust.minVersion the highest version already accepted for this org; a lower one is a rollback.
 * @param trust.knownDigest the digest accepted at `minVersion`; the same version with other bytes is refused.
 * @throws RosterError for any failed check.
 */
export async function verifyRoster(
  encoded: Uint8Array<ArrayBuffer>,
  trust: {
    orgRootKey: Uint8Array<ArrayBuffer>;
    now: number;
    minVersion?: number;
    knownDigest?: Uint8Array<ArrayBuffer> | undefined;
  },
): Promise<VerifiedRoster> {
  try {
    const outer = new ByteReader(encoded);
    const tbs = outer.bytes();
    const signature = outer.fixed(SIGNATURE_LENGTH);
    outer.end();

    const r = new ByteReader(tbs);
    const format = r.u8();
    if (format !== PROTOCOL_VERSION) throw new DecodeError(`Unsupported roster version ${format}`);
    const orgId = r.fixed(ORG_ID_LENGTH);
    const version = r.u64();
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

    if (!bytesEqual(orgId, await orgIdFromRootKey(trust.orgRootKey))) {
      throw new RosterError('Roster belongs to another organisation');
    }
    const supervisors = await Promise.all(
      supervisorCerts.map((cert) =>
        verifyCertificate(cert, { issuers: [trust.orgRootKey], orgId, now: trust.now, role: 'supervisor' }),
      ),
    );
    const supervisorKeys = supervisors.map((s) => s.signingPublic);
    if (!bytesEqual(signerKey, trust.orgRootKey) && !supervisorKeys.some((k) => bytesEqual(k, signerKey))) {
      throw new RosterError('Roster is not signed by the organisation key or one of its supervisors');
    }
    await verify(signerKey, Context.roster, tbs, signature);
    const digest = await labelledHash(Context.rosterDigest, encoded);
    if (trust.minVersion !== undefined) {
      if (version < trust.minVersion) {
        throw new RosterError(`Roster version ${version} is older than version ${trust.minVersion} already seen`);
      }
      if (version === trust.minVersion && trust.knownDigest && !bytesEqual(digest, trust.knownDigest)) {
        throw new RosterError(`Roster version ${version} differs from the version ${version} already seen`);
      }
    }
    if (trust.now >= expiresAt) throw new RosterError('Roster has expired');
    if (trust.now < issuedAt - 5 * 60_000) throw new RosterError('Roster is issued in the future');
    const agents = await Promise.all(
      agentCerts.map((cert) =>
        verifyCertificate(cert, { issuers: supervisorKeys, orgId, now: trust.now, role: 'agent' }),
      ),
    );
    const archive = archivePublic
      ? { deviceId: await archiveIdFromKey(archivePublic), agreementPublic: archivePublic }
      : undefined;
    return {
      orgId,
      version,
      issuedAt,
      expiresAt,
      archive,
      supervisors,
      agents,
      devices: [...supervisors, ...agents],
      signerKey,
      encoded,
      digest,
    };
  } catch (error) {
    if (error instanceof RosterError) throw error;
    if (error instanceof SealchatError) throw new RosterError(`Invalid roster: ${error.message}`, { cause: error });
    throw error;
  }
}

/** The devices a roster lets read, plus the archive key when there is one. */
export function rosterReaders(roster: VerifiedRoster, withArchive: boolean): Recipient[] {
  const readers: Recipient[] = [...roster.devices];
  if (withArchive && roster.archive) readers.push(roster.archive);
  return readers;
}
