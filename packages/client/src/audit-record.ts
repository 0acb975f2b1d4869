import {
  ByteReader,
  ByteWriter,
  DecodeError,
  HPKE_ENC_LENGTH,
  SIGNATURE_LENGTH,
  SealchatError,
  archiveIdFromKey,
  auditLinkDigest,
  bytesEqual,
  concatBytes,
  hpkeSeal,
  sign,
  utf8Encode,
  verify,
  verifyCertificate,
  type VerifiedCertificate,
  type VerifiedRoster,
} from '@sealchat/protocol';
import { encodeAuditEvent, type AuditEvent } from './audit-entry.js';

/**
 * One audit log record: its encoding, sealing and signing, and the checks that place it in the
 * chain (docs/audit-log.md §Record, §Verifying and reading). Walking, reading and writing the
 * whole log are audit-log.ts.
 */

/** Version byte of a record (docs/audit-log.md §Record). */
export const AUDIT_RECORD_VERSION = 1;
/** Every entry is padded to exactly this many bytes before sealing: the relay cannot tell actions apart by size. */
export const AUDIT_ENTRY_BLOCK = 512;
/** The largest record a well-formed writer makes is about 1.7 KB; anything over this is refused unread. */
export const MAX_AUDIT_RECORD_BYTES = 2048;
const MAX_CERTIFICATE_BYTES = 1024;
export const DIGEST_LENGTH = 32;
const ARCHIVE_ID_LENGTH = 16;
const AEAD_TAG_LENGTH = 16;
const CIPHERTEXT_LENGTH = AUDIT_ENTRY_BLOCK + AEAD_TAG_LENGTH;

/**
 * Labels, docs/protocol.md §3.1 (defined here, not in the protocol's Context: only the client uses
 * them). The link digest's is the protocol's (`auditLinkDigest`): the relay checks roster heads with it.
 */
const Label = {
  record: 'sealchat/v1 audit-record',
  entry: 'sealchat/v1 audit-entry',
} as const;

/** The digest before the first record. */
export const ZERO_DIGEST = new Uint8Array(DIGEST_LENGTH);

// --- errors -------------------------------------------------------------------------------------

/**
 * The log does not verify at `index`: a record is missing, out of place, altered, replayed, not
 * signed by a supervisor the org root certified (at the record's time), does not open under the
 * archive key it names, or the log is shorter than, or forks from, a head the reader verified before.
 * Nothing from `index` on can be trusted; entries before it were verified.
 */
export class AuditLogTamperedError extends SealchatError {
  /** The first index that does not verify. */
  readonly index: number;

  constructor(index: number, reason: string, options?: { cause?: unknown }) {
    super('SEALCHAT_E_AUDIT_TAMPERED', `Audit log record ${index} does not verify: ${reason}`, options);
    this.index = index;
  }
}

/** The record at `index` is sealed to another archive key than the reader's: this device cannot read it. */
export class AuditLogKeyError extends SealchatError {
  readonly index: number;

  constructor(index: number) {
    super('SEALCHAT_E_AUDIT_KEY', `Audit log record ${index} is sealed to another archive key`);
    this.index = index;
  }
}

// --- records ------------------------------------------------------------------------------------

export interface ChainState {
  readonly count: number;
  readonly digest: Uint8Array<ArrayBuffer>;
  readonly at: number;
}

export const GENESIS: ChainState = { count: 0, digest: ZERO_DIGEST, at: 0 };

export interface DecodedRecord {
  readonly index: number;
  readonly at: number;
  readonly prev: Uint8Array<ArrayBuffer>;
  readonly archiveId: Uint8Array<ArrayBuffer>;
  readonly certificate: Uint8Array<ArrayBuffer>;
  readonly enc: Uint8Array<ArrayBuffer>;
  readonly ciphertext: Uint8Array<ArrayBuffer>;
  readonly signature: Uint8Array<ArrayBuffer>;
  /** Version to certificate: the AEAD's associated data. */
  readonly header: Uint8Array<ArrayBuffer>;
  /** Everything the signature covers. */
  readonly signed: Uint8Array<ArrayBuffer>;
}

/** The digest that links a record to the next one (and a head to its last record). */
export const linkDigest: (record: Uint8Array) => Promise<Uint8Array<ArrayBuffer>> = auditLinkDigest;

/** HPKE `info`: binds the entry to its organisation, index and predecessor, so it cannot be moved. */
export function entryInfo(orgId: Uint8Array, index: number, prev: Uint8Array): Uint8Array<ArrayBuffer> {
  return concatBytes(
    utf8Encode(Label.entry),
    new ByteWriter().u8(AUDIT_RECORD_VERSION).fixed(orgId, 16).u64(index).fixed(prev, DIGEST_LENGTH).finish(),
  );
}

/** @throws DecodeError when the bytes are not exactly one record of this version. */
function decodeRecord(bytes: Uint8Array<ArrayBuffer>): DecodedRecord {
  if (bytes.length > MAX_AUDIT_RECORD_BYTES) throw new DecodeError(`Record of ${bytes.length} bytes is over the limit`);
  const r = new ByteReader(bytes);
  const version = r.u8();
  if (version !== AUDIT_RECORD_VERSION) throw new DecodeError(`Unsupported audit record version ${version}`);
  const index = r.u64();
  const at = r.u64();
  const prev = r.fixed(DIGEST_LENGTH);
  const archiveId = r.fixed(ARCHIVE_ID_LENGTH);
  const certificate = r.bytes(MAX_CERTIFICATE_BYTES);
  const header = bytes.slice(0, r.position);
  const enc = r.fixed(HPKE_ENC_LENGTH);
  const ciphertext = r.bytes(CIPHERTEXT_LENGTH);
  if (ciphertext.length !== CIPHERTEXT_LENGTH) throw new DecodeError('Audit entry ciphertext has the wrong length');
  const signed = bytes.slice(0, r.position);
  const signature = r.fixed(SIGNATURE_LENGTH);
  r.end();
  return { index, at, prev, archiveId, certificate, enc, ciphertext, signature, header, signed };
}

/** Fixed-size padding (ISO/IEC 7816-4: 0x80 then zeros), so every ciphertext has one length. */
function padEntry(entry: Uint8Array): Uint8Array<ArrayBuffer> {
  if (entry.length >= AUDIT_ENTRY_BLOCK) throw new RangeError('Audit entry is larger than its block');
  const out = new Uint8Array(AUDIT_ENTRY_BLOCK);
  out.set(entry);
  out[entry.length] = 0x80;
  return out;
}

/**
 * Seals and signs one record. Exported for tests that need a record an honest writer would not
 * make (a backdated one); applications append through {@link AuditLogWriter}.
 * @throws TypeError when `event` does not encode.
 */
export async function sealAuditRecord(p: {
  readonly orgId: Uint8Array<ArrayBuffer>;
  readonly index: number;
  readonly at: number;
  readonly prev: Uint8Array<ArrayBuffer>;
  readonly archivePublic: Uint8Array<ArrayBuffer>;
  readonly certificate: Uint8Array<ArrayBuffer>;
  readonly signingKey: CryptoKey;
  readonly event: AuditEvent;
}): Promise<Uint8Array<ArrayBuffer>> {
  const header = new ByteWriter()
    .u8(AUDIT_RECORD_VERSION)
    .u64(p.index)
    .u64(p.at)
    .fixed(p.prev, DIGEST_LENGTH)
    .fixed(await archiveIdFromKey(p.archivePublic), ARCHIVE_ID_LENGTH)
    .bytes(p.certificate)
    .finish();
  const sealed = await hpkeSeal(
    p.archivePublic,
    padEntry(encodeAuditEvent(p.event)),
    entryInfo(p.orgId, p.index, p.prev),
    header,
  );
  const signed = concatBytes(
    header,
    new ByteWriter().fixed(sealed.enc, HPKE_ENC_LENGTH).bytes(sealed.ciphertext).finish(),
  );
  return concatBytes(signed, await sign(p.signingKey, Label.record, signed));
}

export interface Trust {
  readonly orgRootKey: Uint8Array<ArrayBuffer>;
  readonly orgId: Uint8Array<ArrayBuffer>;
  /**
   * The organisation's rosters, chain-verified, ascending (`verifyRosterHistory`): a record's signer
   * must administer on the roster in force when it was written (or the one right after, published
   * just after a restore). A record dated before the first of them is refused: a relay that keeps
   * back old rosters must not thereby skip the check. Without `rosters`, certificates only.
   */
  readonly rosters?: readonly VerifiedRoster[];
  /** Records below this index were verified by this reader before (its kept head): not re-checked against rosters. */
  readonly checkedBefore?: number;
}

export interface CheckedRecord {
  readonly decoded: DecodedRecord;
  readonly certificate: VerifiedCertificate;
  readonly digest: Uint8Array<ArrayBuffer>;
}

/**
 * Checks record `bytes` as the one at `before.count`: decodes, names that index, links to the
 * digest before it, is not dated before it, carries a supervisor certificate the root issued for
 * this org and valid at the record's time, and is signed by it.
 * @throws AuditLogTamperedError naming the index for any failed check.
 */
export async function checkRecord(
  bytes: Uint8Array<ArrayBuffer>,
  before: ChainState,
  trust: Trust,
): Promise<CheckedRecord> {
  const index = before.count;
  let decoded: DecodedRecord;
  try {
    decoded = decodeRecord(bytes);
  } catch (cause) {
    throw new AuditLogTamperedError(index, 'not a record', { cause });
  }
  if (decoded.index !== index) throw new AuditLogTamperedError(index, `it says it is record ${decoded.index}`);
  if (!bytesEqual(decoded.prev, before.digest)) {
    throw new AuditLogTamperedError(index, 'it does not link to the record before it');
  }
  if (decoded.at < before.at) throw new AuditLogTamperedError(index, 'it is dated before the record before it');
  let certificate: VerifiedCertificate;
  try {
    certificate = await verifyCertificate(decoded.certificate, {
      issuers: [trust.orgRootKey],
      orgId: trust.orgId,
      now: decoded.at,
      role: 'supervisor',
    });
    await verify(certificate.signingPublic, Label.record, decoded.signed, decoded.signature);
  } catch (cause) {
    if (!(cause instanceof SealchatError)) throw cause;
    throw new AuditLogTamperedError(index, 'its signer or signature does not verify', { cause });
  }
  // Being a supervisor is not enough: only a device the root lets administer writes the log
  // (an invited supervisor cannot), and only while the roster of the time says so (docs/audit-log.md).
  if (!certificate.administer) throw new AuditLogTamperedError(index, 'its signer does not administer');
  if (index >= (trust.checkedBefore ?? 0) && !administersAt(trust.rosters, certificate, decoded.at)) {
    throw new AuditLogTamperedError(index, 'its signer did not administer on the roster of its time');
  }
  return { decoded, certificate, digest: await linkDigest(bytes) };
}

/**
 * Whether `certificate`'s key administers on the roster in force at `at` (the newest issued by
 * then) or on the one after it; true without rosters, false when they do not reach back to `at`.
 */
function administersAt(
  rosters: readonly VerifiedRoster[] | undefined,
  certificate: VerifiedCertificate,
  at: number,
): boolean {
  if (!rosters || rosters.length === 0) return true;
  if (at < rosters[0]!.issuedAt) return false;
  let inForce = 0;
  for (let i = 0; i < rosters.length; i++) if (rosters[i]!.issuedAt <= at) inForce = i;
  return rosters
    .slice(inForce, inForce + 2)
    .some((roster) =>
      roster.supervisors.some((s) => s.administer && bytesEqual(s.signingPublic, certificate.signingPublic)),
    );
}
