import { AUDIT_DIGEST_LENGTH, type AuditMark } from './audit-mark.js';
import { bytesEqual } from './bytes.js';
import { ByteReader, ByteWriter } from './codec.js';
import { Context } from './contexts.js';
import { RosterHeadError, SealchatError, StaleRosterHeadError } from './errors.js';
import { PUBLIC_KEY_LENGTH, SIGNATURE_LENGTH, sign, verify } from './keys.js';
import { ORG_ID_LENGTH } from './org-key.js';
import { ROSTER_DIGEST_LENGTH, type VerifiedRoster } from './roster.js';

/** Roster head encoding version (docs/protocol.md §4.4). */
export const ROSTER_HEAD_FORMAT = 1;

/**
 * How old a roster head a visitor accepts by default (docs/protocol.md §4.4): 4 days. A team that
 * closes the consoles on Friday evening and opens them on Tuesday morning is away about 3.6 days,
 * and its visitors can still write; a revoked device colluding with the relay reaches new visitors
 * for at most this long after the revocation. A keeper device (docs/operations.md) keeps heads fresh
 * while nobody is there, so an organisation that runs one can ask its visitors for less.
 */
export const DEFAULT_MAX_HEAD_AGE_MS = 4 * 24 * 60 * 60 * 1000;

/** How far a head's time may run ahead of the verifier's clock. */
const CLOCK_SKEW_MS = 5 * 60_000;

/** A roster head whose signature and signer's standing were checked against its roster. */
export interface VerifiedRosterHead {
  readonly rosterVersion: number;
  readonly rosterDigest: Uint8Array<ArrayBuffer>;
  /**
   * How far the organisation's audit log reached when the head was signed, as the signer knew it
   * (docs/audit-log.md §Heads): a reader's floor. The log a relay serves must extend it.
   */
  readonly audit: AuditMark;
  /** When an administrator said the roster was current, ms since the epoch. */
  readonly signedAt: number;
  readonly signerKey: Uint8Array<ArrayBuffer>;
  readonly encoded: Uint8Array<ArrayBuffer>;
}

/**
 * Signs a roster head: "`roster` is the organisation's current roster at `signedAt`, and its audit
 * log reaches at least `audit`". The signer is the org root, or a supervisor on `roster` whose
 * certificate administers and is valid at `signedAt` ({@link verifyRosterHead} refuses anything
 * else). A signer never names a lower `audit` than a head it has seen: readers take it as a floor
 * (docs/audit-log.md §Heads).
 * @throws TypeError when `audit` is not a count ≥ 0 and a 32-byte digest (zeros for count 0).
 */
export async function issueRosterHead(
  roster: VerifiedRoster,
  signer: { privateKey: CryptoKey; publicKey: Uint8Array<ArrayBuffer> },
  signedAt: number,
  audit: AuditMark,
): Promise<Uint8Array<ArrayBuffer>> {
  if (!Number.isSafeInteger(audit.count) || audit.count < 0) throw new TypeError('audit.count must be an integer ≥ 0');
  if (!(audit.digest instanceof Uint8Array) || audit.digest.length !== AUDIT_DIGEST_LENGTH)
    throw new TypeError('audit.digest must be 32 bytes');
  if (audit.count === 0 && audit.digest.some((b) => b !== 0))
    throw new TypeError('audit.digest of an empty log is 32 zero bytes');
  const tbs = new ByteWriter()
    .u8(ROSTER_HEAD_FORMAT)
    .fixed(roster.orgId, ORG_ID_LENGTH)
    .u64(roster.version)
    .fixed(roster.digest, ROSTER_DIGEST_LENGTH)
    .u64(audit.count)
    .fixed(audit.digest, AUDIT_DIGEST_LENGTH)
    .u64(signedAt)
    .fixed(signer.publicKey, PUBLIC_KEY_LENGTH)
    .finish();
  const signature = await sign(signer.privateKey, Context.rosterHead, tbs);
  return new ByteWriter().bytes(tbs).fixed(signature, SIGNATURE_LENGTH).finish();
}

/**
 * Decodes and verifies a roster head against the roster it must name (docs/protocol.md §4.4): the
 * same organisation, version and digest; signed by the org root or by a supervisor on that roster
 * whose certificate administers and is valid at the head's time; dated at most five minutes ahead
 * of `now`, and at most `maxAgeMs` before it.
 * @param trust.maxAgeMs the oldest head accepted; default {@link DEFAULT_MAX_HEAD_AGE_MS}. The relay
 *   passes `Infinity`: it stores heads, and each visitor applies its own limit.
 * @throws StaleRosterHeadError when the head verifies but is older than `maxAgeMs`.
 * @throws RosterHeadError for every other failed check.
 */
export async function verifyRosterHead(
  encoded: Uint8Array<ArrayBuffer>,
  trust: {
    orgRootKey: Uint8Array<ArrayBuffer>;
    roster: VerifiedRoster;
    now: number;
    maxAgeMs?: number | undefined;
  },
): Promise<VerifiedRosterHead> {
  try {
    const outer = new ByteReader(encoded);
    const tbs = outer.bytes(256);
    const signature = outer.fixed(SIGNATURE_LENGTH);
    outer.end();
    const r = new ByteReader(tbs);
    const format = r.u8();
    if (format !== ROSTER_HEAD_FORMAT) throw new RosterHeadError(`Unknown roster head format ${format}`);
    const orgId = r.fixed(ORG_ID_LENGTH);
    const rosterVersion = r.u64();
    const rosterDigest = r.fixed(ROSTER_DIGEST_LENGTH);
    const auditCount = r.u64();
    const auditDigest = r.fixed(AUDIT_DIGEST_LENGTH);
    const signedAt = r.u64();
    const signerKey = r.fixed(PUBLIC_KEY_LENGTH);
    r.end();
    const { roster } = trust;
    // The visitor's bundle carries these messages: short, and one for org, version and digest.
    if (
      !bytesEqual(orgId, roster.orgId) ||
      rosterVersion !== roster.version ||
      !bytesEqual(rosterDigest, roster.digest)
    )
      throw new RosterHeadError(`Roster head names version ${rosterVersion}, not the roster held (${roster.version})`);
    if (!bytesEqual(signerKey, trust.orgRootKey)) {
      // Standing comes from the roster the head names: a device dropped from it, or whose
      // administering certificate (7 days at most) has run out, signs nothing that counts.
      const admin = roster.supervisors.find((s) => bytesEqual(s.signingPublic, signerKey));
      if (!admin?.administer || signedAt < admin.issuedAt || signedAt >= admin.expiresAt) {
        throw new RosterHeadError('Roster head signer does not administer the roster');
      }
    }
    await verify(signerKey, Context.rosterHead, tbs, signature);
    if (signedAt > trust.now + CLOCK_SKEW_MS) throw new RosterHeadError('Roster head is dated in the future');
    const maxAgeMs = trust.maxAgeMs ?? DEFAULT_MAX_HEAD_AGE_MS;
    if (trust.now - signedAt > maxAgeMs) {
      throw new StaleRosterHeadError(`Roster head is ${trust.now - signedAt} ms old, over ${maxAgeMs}`);
    }
    return {
      rosterVersion,
      rosterDigest,
      audit: { count: auditCount, digest: auditDigest },
      signedAt,
      signerKey,
      encoded,
    };
  } catch (error) {
    if (error instanceof RosterHeadError) throw error;
    if (error instanceof SealchatError)
      throw new RosterHeadError(`Invalid roster head: ${error.message}`, { cause: error });
    throw error;
  }
}
