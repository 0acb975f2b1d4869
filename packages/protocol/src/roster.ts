import { bytesEqual } from './bytes.js';
import { verifyCertificate, type VerifiedCertificate } from './certificate.js';
import { ByteReader, ByteWriter } from './codec.js';
import { Context, PROTOCOL_VERSION } from './contexts.js';
import { DecodeError, RosterError, SealchatError } from './errors.js';
import { PUBLIC_KEY_LENGTH, SIGNATURE_LENGTH, sign, verify } from './keys.js';
import { ORG_ID_LENGTH, orgIdFromRootKey } from './org-key.js';

/** Devices per roster; a relay sending more is treated as hostile. */
export const MAX_ROSTER_DEVICES = 1000;

/**
 * The signed list of devices that may read an organisation's conversations. Clients share chain
 * seeds only with devices on a roster they verified, remember the highest version they have seen,
 * and refuse a lower one, so a relay can neither add a device nor roll a revocation back.
 */
export interface VerifiedRoster {
  readonly orgId: Uint8Array<ArrayBuffer>;
  readonly version: number;
  readonly issuedAt: number;
  readonly expiresAt: number;
  readonly devices: readonly VerifiedCertificate[];
  readonly encoded: Uint8Array<ArrayBuffer>;
}

export interface RosterFields {
  readonly orgId: Uint8Array<ArrayBuffer>;
  readonly version: number;
  readonly issuedAt: number;
  readonly expiresAt: number;
  readonly certificates: readonly Uint8Array<ArrayBuffer>[];
}

/** Signs a roster with the organisation root key. */
export async function issueRoster(
  fields: RosterFields,
  signer: { privateKey: CryptoKey; publicKey: Uint8Array<ArrayBuffer> },
): Promise<Uint8Array<ArrayBuffer>> {
  const w = new ByteWriter()
    .u8(PROTOCOL_VERSION)
    .fixed(fields.orgId, ORG_ID_LENGTH)
    .u64(fields.version)
    .u64(fields.issuedAt)
    .u64(fields.expiresAt)
    .u32(fields.certificates.length);
  for (const cert of fields.certificates) w.bytes(cert);
  const tbs = w.fixed(signer.publicKey, PUBLIC_KEY_LENGTH).finish();
  const signature = await sign(signer.privateKey, Context.roster, tbs);
  return new ByteWriter().bytes(tbs).fixed(signature, SIGNATURE_LENGTH).finish();
}

/**
 * Decodes and verifies a roster and every certificate on it.
 * @param trust.minVersion the highest version already accepted for this org; a lower one is a rollback.
 * @throws RosterError for any failed check.
 */
export async function verifyRoster(
  encoded: Uint8Array<ArrayBuffer>,
  trust: { orgRootKey: Uint8Array<ArrayBuffer>; now: number; minVersion?: number },
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
    const count = r.u32();
    if (count > MAX_ROSTER_DEVICES) throw new DecodeError(`Roster lists ${count} devices, over the limit`);
    const certificates: Uint8Array<ArrayBuffer>[] = [];
    for (let i = 0; i < count; i++) certificates.push(r.bytes(4096));
    const signerKey = r.fixed(PUBLIC_KEY_LENGTH);
    r.end();

    if (!bytesEqual(signerKey, trust.orgRootKey)) throw new RosterError('Roster is not signed by the organisation key');
    await verify(signerKey, Context.roster, tbs, signature);
    if (!bytesEqual(orgId, await orgIdFromRootKey(trust.orgRootKey))) {
      throw new RosterError('Roster belongs to another organisation');
    }
    if (trust.minVersion !== undefined && version < trust.minVersion) {
      throw new RosterError(`Roster version ${version} is older than version ${trust.minVersion} already seen`);
    }
    if (trust.now >= expiresAt) throw new RosterError('Roster has expired');
    const devices = await Promise.all(
      certificates.map((cert) => verifyCertificate(cert, { orgRootKey: trust.orgRootKey, orgId, now: trust.now })),
    );
    return { orgId, version, issuedAt, expiresAt, devices, encoded };
  } catch (error) {
    if (error instanceof RosterError) throw error;
    if (error instanceof SealchatError) throw new RosterError(`Invalid roster: ${error.message}`, { cause: error });
    throw error;
  }
}
