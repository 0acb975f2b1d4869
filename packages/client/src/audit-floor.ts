import {
  EMPTY_AUDIT_MARK,
  SealchatError,
  bytesEqual,
  fromHex,
  toHex,
  verifyPastRoster,
  verifyRosterHead,
  type AuditMark,
  type RelayFrame,
  type VerifiedRoster,
} from '@sealchat/protocol';
import { AuditLogTamperedError } from './audit-record.js';
import type { ClientStore } from './client-store.js';
import { RelayRequestError, StoredStateError } from './errors.js';
import type { RequestFrame } from './relay-connection.js';

/**
 * The audit floor (docs/audit-log.md §Heads): every roster head carries an audit mark, the length
 * and last link digest of the audit log as its signer knew it, and a reader with nothing kept takes
 * it as the least the relay's log must reach. Here: fetching and verifying the mark of the relay's
 * head, choosing the higher of two marks when signing, and the head a console keeps of what it
 * verified itself.
 */

/** Where a console keeps the audit head it last verified by reading the whole log. */
const AUDIT_HEAD_RECORD = 'org/audit-head';

/** A socket that answers requests: a `RelayConnection`, or `OrgAdministration`. */
export interface RequestChannel {
  request(frame: RequestFrame): Promise<RelayFrame>;
}

/** What the relay's roster head vouches for about the audit log, or, in words, why nothing does. */
export type AuditFloor =
  { readonly mark: AuditMark; readonly signedAt: number } | { readonly mark: undefined; readonly why: string };

/**
 * The audit mark of the relay's roster head, verified (docs/protocol.md §4.4) against `roster`, or
 * against the roster just before it when the relay still holds that one (a console fetches it before
 * publishing a new roster, which makes the old head stale). No age limit: an old head names fewer
 * records than a fresh one would, never a false count, so it is still a floor.
 * @returns the mark and when it was signed; or `mark: undefined` and why, when the relay has no head
 *   (an organisation that never published one, a relay too old to keep them) or its head does not
 *   verify. Neither is an error here: the caller decides what that costs (docs/audit-log.md §Heads).
 * @throws ConnectionLostError, and any error that is not the relay's refusal or a failed check.
 */
export async function fetchAuditFloor(
  channel: RequestChannel,
  orgRootKey: Uint8Array<ArrayBuffer>,
  roster: VerifiedRoster,
): Promise<AuditFloor> {
  let head: Uint8Array<ArrayBuffer>;
  try {
    const answer = await channel.request({ kind: 'get-roster-head', orgId: roster.orgId });
    if (answer.kind !== 'roster-head') return { mark: undefined, why: `the relay answered ${answer.kind}` };
    head = answer.head;
  } catch (error) {
    if (error instanceof RelayRequestError) return { mark: undefined, why: 'the relay holds no roster head' };
    throw error;
  }
  const check = async (against: VerifiedRoster): Promise<AuditFloor> => {
    const { audit, signedAt } = await verifyRosterHead(head, {
      orgRootKey,
      roster: against,
      now: Date.now(),
      maxAgeMs: Infinity,
    });
    return { mark: audit, signedAt };
  };
  try {
    return await check(roster);
  } catch (error) {
    if (!(error instanceof SealchatError)) throw error;
    const previous = roster.version > 1 ? await relayPredecessor(channel, orgRootKey, roster) : undefined;
    if (previous) return check(previous).catch(() => notVouched(error));
    return notVouched(error);
  }
}

function notVouched(error: SealchatError): AuditFloor {
  return { mark: undefined, why: `the relay's roster head does not verify (${error.message})` };
}

/** The relay's roster, when it is exactly the one `roster` names as its predecessor. */
async function relayPredecessor(
  channel: RequestChannel,
  orgRootKey: Uint8Array<ArrayBuffer>,
  roster: VerifiedRoster,
): Promise<VerifiedRoster | undefined> {
  try {
    const answer = await channel.request({ kind: 'get-roster', orgId: roster.orgId });
    if (answer.kind !== 'roster') return undefined;
    const previous = await verifyPastRoster(answer.roster, orgRootKey);
    return previous.version === roster.version - 1 && bytesEqual(previous.digest, roster.previousDigest)
      ? previous
      : undefined;
  } catch (error) {
    if (error instanceof RelayRequestError || error instanceof SealchatError) return undefined;
    throw error;
  }
}

/**
 * The mark a signer names: the higher of the two by count, so a signer never lowers the floor
 * (docs/audit-log.md §Heads). Neither: the empty log's.
 * @throws AuditLogTamperedError when both name the same count with different digests: the log
 *   this device verified and the one an administrator vouched for are not the same log.
 */
export function higherMark(a: AuditMark | undefined, b: AuditMark | undefined): AuditMark {
  if (!a || !b) return a ?? b ?? EMPTY_AUDIT_MARK;
  if (a.count === b.count && !bytesEqual(a.digest, b.digest)) {
    throw new AuditLogTamperedError(a.count - 1, 'a roster head names another record here than the log verified');
  }
  return a.count >= b.count ? a : b;
}

/**
 * The audit head this console verified when it last read the whole log, if it has read it.
 * @throws StoredStateError when the record is malformed.
 */
export async function loadKeptAuditHead(store: ClientStore): Promise<AuditMark | undefined> {
  const value = await store.getRecord(AUDIT_HEAD_RECORD);
  if (value === undefined) return undefined;
  const v = value as Record<string, unknown>;
  if (
    typeof value !== 'object' ||
    value === null ||
    !Number.isSafeInteger(v['count']) ||
    (v['count'] as number) < 0 ||
    typeof v['digest'] !== 'string' ||
    !/^[0-9a-f]{64}$/.test(v['digest'])
  )
    throw new StoredStateError('Stored audit head is malformed');
  return { count: v['count'] as number, digest: fromHex(v['digest']) };
}

/** Keeps the head of a whole-log read (never a writer's head: records below it are not re-checked against rosters). */
export function saveKeptAuditHead(store: ClientStore, head: AuditMark): Promise<void> {
  return store.putRecord(AUDIT_HEAD_RECORD, { count: head.count, digest: toHex(head.digest) });
}
