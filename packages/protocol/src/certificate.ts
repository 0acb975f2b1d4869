import { bytesEqual } from './bytes.js';
import { ByteReader, ByteWriter } from './codec.js';
import { Context } from './contexts.js';
import { CertificateError, DecodeError, SealchatError } from './errors.js';
import { DEVICE_ID_LENGTH, deviceIdFromSigningKey, type PublicDevice } from './identity.js';
import { PUBLIC_KEY_LENGTH, SIGNATURE_LENGTH, sign, verify } from './keys.js';
import { ORG_ID_LENGTH } from './org-key.js';

export type DeviceRole = 'agent' | 'supervisor';
const ROLE_CODES: Record<DeviceRole, number> = { agent: 1, supervisor: 2 };
const MAX_DISPLAY_NAME_BYTES = 256;
/**
 * Certificate encoding version (docs/protocol.md §4.2). 2 added the capabilities byte: version-1
 * certificates, whose supervisors could all sign rosters, are refused.
 */
export const CERTIFICATE_FORMAT = 2;
/** Capability bit: the device may sign the organisation's next roster and its administrative audit entries. */
const CAPABILITY_ADMINISTER = 1;
/**
 * Longest life of a certificate that administers (docs/protocol.md §4.2): a supervisor who leaves
 * keeps a key that signs nothing after this, whatever rosters a relay still holds. The root's holder
 * renews it (every console does on load and while open).
 */
export const MAX_ADMINISTER_LIFETIME_MS = 7 * 24 * 60 * 60 * 1000;

/** What a certificate says about a device. */
export interface CertificateFields extends PublicDevice {
  readonly orgId: Uint8Array<ArrayBuffer>;
  readonly displayName: string;
  readonly role: DeviceRole;
  /**
   * May sign the next roster and administrative audit entries. Only the root grants it, only to a
   * supervisor, for at most {@link MAX_ADMINISTER_LIFETIME_MS}; the role name alone grants nothing.
   */
  readonly administer: boolean;
  /** Milliseconds since the Unix epoch. */
  readonly issuedAt: number;
  readonly expiresAt: number;
  /**
   * Ed25519 public key that signed this certificate: the org root key for a supervisor, a
   * supervisor's signing key for an agent device.
   */
  readonly issuerKey: Uint8Array<ArrayBuffer>;
}

/** A certificate that has been decoded and checked against the organisation key. */
export interface VerifiedCertificate extends CertificateFields {
  /** The canonical encoding, as signed and as carried in a roster. */
  readonly encoded: Uint8Array<ArrayBuffer>;
}

function encodeFields(fields: CertificateFields): Uint8Array<ArrayBuffer> {
  return new ByteWriter()
    .u8(CERTIFICATE_FORMAT)
    .fixed(fields.orgId, ORG_ID_LENGTH)
    .fixed(fields.deviceId, DEVICE_ID_LENGTH)
    .string(fields.displayName)
    .u8(ROLE_CODES[fields.role])
    .u8(fields.administer ? CAPABILITY_ADMINISTER : 0)
    .fixed(fields.signingPublic, PUBLIC_KEY_LENGTH)
    .fixed(fields.agreementPublic, PUBLIC_KEY_LENGTH)
    .u64(fields.issuedAt)
    .u64(fields.expiresAt)
    .fixed(fields.issuerKey, PUBLIC_KEY_LENGTH)
    .finish();
}

/**
 * Signs a device certificate with the issuer's private key. `administer` defaults to false.
 * @throws RangeError when `administer` is asked for a non-supervisor or for longer than
 *   {@link MAX_ADMINISTER_LIFETIME_MS} (such a certificate would never verify).
 */
export async function issueCertificate(
  fields: Omit<CertificateFields, 'issuerKey' | 'administer'> & { readonly administer?: boolean },
  issuer: { privateKey: CryptoKey; publicKey: Uint8Array<ArrayBuffer> },
): Promise<Uint8Array<ArrayBuffer>> {
  const administer = fields.administer ?? false;
  if (administer && fields.role !== 'supervisor') throw new RangeError('Only a supervisor may administer');
  if (administer && fields.expiresAt - fields.issuedAt > MAX_ADMINISTER_LIFETIME_MS)
    throw new RangeError('A certificate that administers lives at most 7 days');
  const tbs = encodeFields({ ...fields, administer, issuerKey: issuer.publicKey });
  const signature = await sign(issuer.privateKey, Context.certificate, tbs);
  return new ByteWriter().bytes(tbs).fixed(signature, SIGNATURE_LENGTH).finish();
}

/**
 * Decodes a certificate and checks it: signed by one of `issuers`, for this org, with the
 * expected role, device id derived from its signing key, valid at `now`.
 * @throws CertificateError for any failed check (wrapping DecodeError or SignatureError as the cause).
 */
export async function verifyCertificate(
  encoded: Uint8Array<ArrayBuffer>,
  trust: {
    issuers: readonly Uint8Array<ArrayBuffer>[];
    orgId: Uint8Array<ArrayBuffer>;
    now: number;
    role?: DeviceRole;
  },
): Promise<VerifiedCertificate> {
  try {
    const outer = new ByteReader(encoded);
    const tbs = outer.bytes(4096);
    const signature = outer.fixed(SIGNATURE_LENGTH);
    outer.end();
    const fields = decodeFields(tbs);
    if (!trust.issuers.some((issuer) => bytesEqual(issuer, fields.issuerKey))) {
      throw new CertificateError('Certificate is not issued by a key this organisation trusts');
    }
    if (trust.role !== undefined && fields.role !== trust.role) {
      throw new CertificateError(`Certificate is for a ${fields.role}, expected a ${trust.role}`);
    }
    if (fields.administer && fields.role !== 'supervisor')
      throw new CertificateError('Only a supervisor certificate may administer');
    if (fields.administer && fields.expiresAt - fields.issuedAt > MAX_ADMINISTER_LIFETIME_MS)
      throw new CertificateError('A certificate that administers may live at most 7 days');
    await verify(fields.issuerKey, Context.certificate, tbs, signature);
    if (!bytesEqual(fields.orgId, trust.orgId))
      throw new CertificateError('Certificate belongs to another organisation');
    if (!bytesEqual(fields.deviceId, await deviceIdFromSigningKey(fields.signingPublic))) {
      throw new CertificateError('Certificate device id does not match its signing key');
    }
    if (trust.now < fields.issuedAt || trust.now >= fields.expiresAt) {
      throw new CertificateError('Certificate is not valid at this time');
    }
    return { ...fields, encoded };
  } catch (error) {
    if (error instanceof CertificateError) throw error;
    if (error instanceof SealchatError)
      throw new CertificateError(`Invalid certificate: ${error.message}`, { cause: error });
    throw error;
  }
}

function decodeFields(tbs: Uint8Array): CertificateFields {
  const r = new ByteReader(tbs);
  const version = r.u8();
  if (version !== CERTIFICATE_FORMAT) throw new DecodeError(`Unsupported certificate version ${version}`);
  const orgId = r.fixed(ORG_ID_LENGTH);
  const deviceId = r.fixed(DEVICE_ID_LENGTH);
  const displayName = r.string(MAX_DISPLAY_NAME_BYTES);
  const roleCode = r.u8();
  const role = (Object.keys(ROLE_CODES) as DeviceRole[]).find((name) => ROLE_CODES[name] === roleCode);
  if (!role) throw new DecodeError(`Unknown role code ${roleCode}`);
  const capabilities = r.u8();
  if ((capabilities & ~CAPABILITY_ADMINISTER) !== 0) throw new DecodeError(`Unknown capabilities ${capabilities}`);
  const signingPublic = r.fixed(PUBLIC_KEY_LENGTH);
  const agreementPublic = r.fixed(PUBLIC_KEY_LENGTH);
  const issuedAt = r.u64();
  const expiresAt = r.u64();
  const issuerKey = r.fixed(PUBLIC_KEY_LENGTH);
  r.end();
  const administer = capabilities === CAPABILITY_ADMINISTER;
  return {
    orgId,
    deviceId,
    displayName,
    role,
    administer,
    signingPublic,
    agreementPublic,
    issuedAt,
    expiresAt,
    issuerKey,
  };
}
