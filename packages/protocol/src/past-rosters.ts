import { bytesEqual } from './bytes.js';
import { ByteReader } from './codec.js';
import { RosterError, SealchatError } from './errors.js';
import { ORG_ID_LENGTH } from './org-key.js';
import { verifyRoster, type VerifiedRoster } from './roster.js';

/**
 * Rosters an organisation published before its current one, for reading history: a device revoked
 * since wrote under the roster of its time (docs/protocol.md §8 step 4, §13). Agent side only; a
 * visitor never needs them.
 */

/**
 * Verifies a roster as of its own issue time: signed under the org root (or a supervisor the root
 * certified), every certificate valid when the roster was issued. Neither expiry nor rollback is
 * checked against today: an old roster is expected to have expired and to be older than the
 * current one. Use it only to decide who wrote an old envelope, never who receives new keys.
 * @throws RosterError when the roster does not decode, is another org's, or any signature or
 *   certificate fails.
 */
export async function verifyPastRoster(
  encoded: Uint8Array<ArrayBuffer>,
  orgRootKey: Uint8Array<ArrayBuffer>,
): Promise<VerifiedRoster> {
  let issuedAt: number;
  try {
    // Just the header (docs/protocol.md §4.3); verifyRoster decodes and checks all of it.
    const header = new ByteReader(new ByteReader(encoded).bytes());
    header.u8();
    header.fixed(ORG_ID_LENGTH);
    header.u64();
    issuedAt = header.u64();
  } catch (error) {
    if (error instanceof SealchatError) throw new RosterError(`Invalid roster: ${error.message}`, { cause: error });
    throw error;
  }
  return verifyRoster(encoded, { orgRootKey, now: issuedAt });
}

/** What {@link verifyRosterHistory} kept, and what it refused (a relay serving those is faulty or hostile). */
export interface RosterHistory {
  /** Verified rosters, one per version, ascending by version. */
  readonly rosters: VerifiedRoster[];
  readonly refused: RosterError[];
}

/**
 * Verifies rosters the relay says the org published ({@link verifyPastRoster} each) and merges
 * them with those already `known` (the session's current roster among them). A version served
 * with two different digests is ambiguous: both are dropped, and the version stays unknown.
 * @throws never for a bad roster (it lands in `refused`); only for a failure of WebCrypto itself.
 */
export async function verifyRosterHistory(
  encoded: readonly Uint8Array<ArrayBuffer>[],
  trust: { readonly orgRootKey: Uint8Array<ArrayBuffer>; readonly known?: readonly VerifiedRoster[] },
): Promise<RosterHistory> {
  const byVersion = new Map<number, VerifiedRoster>();
  const ambiguous = new Set<number>();
  const refused: RosterError[] = [];
  const add = (roster: VerifiedRoster) => {
    const other = byVersion.get(roster.version);
    if (ambiguous.has(roster.version)) return;
    if (other && !bytesEqual(other.digest, roster.digest)) {
      ambiguous.add(roster.version);
      byVersion.delete(roster.version);
      refused.push(new RosterError(`Two different rosters claim version ${roster.version}`));
    } else byVersion.set(roster.version, roster);
  };
  for (const roster of trust.known ?? []) add(roster);
  for (const bytes of encoded) {
    try {
      add(await verifyPastRoster(bytes, trust.orgRootKey));
    } catch (error) {
      if (!(error instanceof RosterError)) throw error;
      refused.push(error);
    }
  }
  return { rosters: [...byVersion.values()].sort((a, b) => a.version - b.version), refused };
}
