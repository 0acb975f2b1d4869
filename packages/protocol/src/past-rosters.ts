import { bytesEqual } from './bytes.js';
import { Context } from './contexts.js';
import { RosterError } from './errors.js';
import { labelledHash } from './keys.js';
import { peekRosterHeader, verifyRoster, type VerifiedRoster } from './roster.js';

/**
 * Rosters an organisation published before its current one, for reading history: a device revoked
 * since wrote under the roster of its time (docs/protocol.md §8 step 4, §13). Agent side only; a
 * visitor never needs them.
 */

/**
 * Verifies a roster as of its own issue time: signed by the org root, or by a device that
 * administers on `previous` (the roster just before it), every certificate valid when the roster
 * was issued. Neither expiry nor rollback is checked against today: an old roster is expected to
 * have expired and to be older than the current one. Use it only to decide who wrote an old
 * envelope, never who receives new keys.
 * @throws RosterError when the roster does not decode, is another org's, or any signature,
 *   certificate or the signer's standing fails.
 */
export async function verifyPastRoster(
  encoded: Uint8Array<ArrayBuffer>,
  orgRootKey: Uint8Array<ArrayBuffer>,
  previous?: VerifiedRoster,
): Promise<VerifiedRoster> {
  const { issuedAt, version } = peekRosterHeader(encoded);
  return verifyRoster(encoded, {
    orgRootKey,
    now: issuedAt,
    ...(previous && previous.version === version - 1 ? { previous } : {}),
  });
}

/**
 * Verifies a roster this verifier accepted before and kept (a relay's stored roster, a console's
 * own saved one): signature and certificates are checked again, but not its signer's standing,
 * which needed the roster before it and was checked when it was accepted. Only for bytes from the
 * verifier's own storage, never for bytes another party sent.
 * @param now when to judge expiry; default the roster's own issue time (an expired one still reads).
 * @throws RosterError as for {@link verifyPastRoster}, and for expiry when `now` is given.
 */
export async function verifyHeldRoster(
  encoded: Uint8Array<ArrayBuffer>,
  orgRootKey: Uint8Array<ArrayBuffer>,
  now?: number,
): Promise<VerifiedRoster> {
  const { issuedAt, version } = peekRosterHeader(encoded);
  const digest = await labelledHash(Context.rosterDigest, encoded);
  return verifyRoster(encoded, { orgRootKey, now: now ?? issuedAt, previous: { version, digest } });
}

/** What {@link verifyRosterHistory} kept, and what it refused (a relay serving those is faulty or hostile). */
export interface RosterHistory {
  /** Verified rosters, one per version, ascending by version. */
  readonly rosters: VerifiedRoster[];
  readonly refused: RosterError[];
}

/**
 * Verifies rosters the relay says the org published and merges them with those already `known`
 * (the session's current roster among them), keeping only what the chain allows:
 * - a version served with two different digests is ambiguous: both are dropped;
 * - descending from the lowest `known` roster, each roster its accepted successor names by digest
 *   is taken (the successor's signer vouches for it), checked as of its own issue time;
 * - below a gap (a version the relay kept back), ascending, a roster signed by the root stands on
 *   its own and a device-signed one needs the accepted roster just before it
 *   ({@link verifyPastRoster});
 * - a roster that an accepted successor does not name (a fork a relay kept from an
 *   ex-administrator) is dropped. `known` rosters are never dropped.
 * @throws never for a bad roster (it lands in `refused`); only for a failure of WebCrypto itself.
 */
export async function verifyRosterHistory(
  encoded: readonly Uint8Array<ArrayBuffer>[],
  trust: { readonly orgRootKey: Uint8Array<ArrayBuffer>; readonly known?: readonly VerifiedRoster[] },
): Promise<RosterHistory> {
  const refused: RosterError[] = [];
  const known = new Map<number, VerifiedRoster>();
  for (const roster of trust.known ?? []) known.set(roster.version, roster);
  // Served rosters, grouped by version (ambiguous versions dropped), before anything is verified.
  const served = new Map<number, Uint8Array<ArrayBuffer>>();
  const ambiguous = new Set<number>();
  for (const bytes of encoded) {
    let version: number;
    try {
      version = peekRosterHeader(bytes).version;
    } catch (error) {
      if (!(error instanceof RosterError)) throw error;
      refused.push(error);
      continue;
    }
    const other = served.get(version);
    if (ambiguous.has(version) || known.has(version)) {
      if (known.has(version) && !bytesEqual(known.get(version)!.encoded, bytes))
        refused.push(new RosterError(`A roster other than the one held claims version ${version}`));
      continue;
    }
    if (other && !bytesEqual(other, bytes)) {
      ambiguous.add(version);
      served.delete(version);
      refused.push(new RosterError(`Two different rosters claim version ${version}`));
    } else served.set(version, bytes);
  }
  const accepted = new Map<number, VerifiedRoster>(known);
  const tryVerify = async (run: () => Promise<VerifiedRoster>): Promise<VerifiedRoster | undefined> => {
    try {
      return await run();
    } catch (error) {
      if (!(error instanceof RosterError)) throw error;
      refused.push(error);
      return undefined;
    }
  };
  // Down the links from what is held.
  const lowestKnown = Math.min(...known.keys());
  for (let version = lowestKnown - 1; known.size > 0 && served.has(version); version--) {
    const bytes = served.get(version)!;
    const successor = accepted.get(version + 1)!;
    if (!bytesEqual(await labelledHash(Context.rosterDigest, bytes), successor.previousDigest)) break;
    served.delete(version);
    const roster = await tryVerify(() => verifyHeldRoster(bytes, trust.orgRootKey));
    if (!roster) break;
    accepted.set(version, roster);
  }
  // The rest, up from the root's word.
  for (const version of [...served.keys()].sort((a, b) => a - b)) {
    const roster = await tryVerify(() =>
      verifyPastRoster(served.get(version)!, trust.orgRootKey, accepted.get(version - 1)),
    );
    if (roster) accepted.set(version, roster);
  }
  for (const version of [...accepted.keys()].sort((a, b) => b - a)) {
    const successor = accepted.get(version + 1);
    const roster = accepted.get(version)!;
    if (successor && !known.has(version) && !bytesEqual(successor.previousDigest, roster.digest)) {
      accepted.delete(version);
      refused.push(new RosterError(`Roster version ${version} is not the one version ${version + 1} follows`));
    }
  }
  return { rosters: [...accepted.values()].sort((a, b) => a.version - b.version), refused };
}
