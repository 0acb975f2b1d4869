import { ByteReader, MAX_RETENTION_DAYS, ORG_ID_LENGTH, SealchatError, type RelayFrame } from '@sealchat/protocol';
import type { AuditTransport } from './audit-log.js';
import type { RequestFrame } from './relay-connection.js';

/**
 * A supervisor's organisation settings and audit log, kept by the relay (wire revision 3,
 * docs/relay-protocol.md §Organisation settings and audit log). The relay answers only a socket
 * authenticated as a supervisor on the org's current roster; anyone else gets
 * SEALCHAT_E_UNAUTHORIZED. The org's roster history (revision 3 too) is open to any device on it.
 */

/** What these functions need of a session: an `AgentSession` started with a supervisor's identity fits. */
export interface OrgAdminChannel {
  request(frame: RequestFrame): Promise<RelayFrame>;
}

/** The org's settings on the relay, as `get-org-settings` answers. */
export interface OrgSettings {
  /** Days the org's records are kept; undefined when the org has none of its own and the relay's default applies. */
  readonly retentionDays: number | undefined;
  /** The relay's default (`--retention-days`); 0 keeps records forever. */
  readonly defaultRetentionDays: number;
  /** Records in the org's audit log: the index the next one takes. */
  readonly auditCount: number;
}

function expectAnswer<K extends RelayFrame['kind']>(frame: RelayFrame, kind: K): Extract<RelayFrame, { kind: K }> {
  if (frame.kind !== kind) throw new SealchatError('SEALCHAT_E_BAD_ANSWER', `Expected ${kind}, got ${frame.kind}`);
  return frame as Extract<RelayFrame, { kind: K }>;
}

/**
 * Sets how many days the relay keeps the org's records; 0 returns to the relay's default. The
 * relay's sweeper deletes older records within its sweep interval; the audit log is never swept.
 * @throws RangeError for a value that is not an integer from 0 to {@link MAX_RETENTION_DAYS}.
 * @throws RelayRequestError SEALCHAT_E_UNAUTHORIZED (not a supervisor), SEALCHAT_E_LIMIT (over the relay's `maxRetentionDays`).
 */
export async function setRetention(session: OrgAdminChannel, days: number): Promise<void> {
  if (!Number.isInteger(days) || days < 0 || days > MAX_RETENTION_DAYS) {
    throw new RangeError(`Retention must be an integer number of days from 0 to ${MAX_RETENTION_DAYS}`);
  }
  expectAnswer(await session.request({ kind: 'set-retention', days }), 'ok');
}

/**
 * Reads the org's retention and audit log length.
 * @throws RelayRequestError SEALCHAT_E_UNAUTHORIZED when the session is not a supervisor's.
 */
export async function getOrgSettings(session: OrgAdminChannel): Promise<OrgSettings> {
  const answer = expectAnswer(await session.request({ kind: 'get-org-settings' }), 'org-settings');
  return {
    retentionDays: answer.retentionDays === 0 ? undefined : answer.retentionDays,
    defaultRetentionDays: answer.defaultRetentionDays,
    auditCount: answer.auditCount,
  };
}

/**
 * The audit log's transport over the relay: `list` pages with `get-audit` (the relay returns at most
 * 1000 records and about 1 MiB per page), `append` is the relay's compare-and-set `append-audit`,
 * rejected with a RelayRequestError whose code is SEALCHAT_E_CONFLICT when `index` is not the log's
 * length (another supervisor appended first: re-read and retry).
 */
export function relayAuditTransport(session: OrgAdminChannel): AuditTransport {
  return {
    async list(from, limit) {
      if (!Number.isSafeInteger(from) || from < 0) throw new RangeError('from must be a non-negative integer');
      if (!Number.isInteger(limit) || limit < 1 || limit > 0xffffffff) throw new RangeError('limit must be positive');
      const page = expectAnswer(await session.request({ kind: 'get-audit', fromIndex: from, limit }), 'audit-page');
      return page.records.map(({ index, record }) => ({ index, record }));
    },
    async append(index, record) {
      expectAnswer(await session.request({ kind: 'append-audit', index, record }), 'ok');
    },
  };
}

/** Default bound on the rosters {@link fetchRosterHistory} collects: ten times the relay's default history. */
const MAX_FETCHED_ROSTERS = 100_000;

/**
 * The version a roster claims, read from its header without verifying it (docs/protocol.md §4.3):
 * only to ask for the next page. The caller verifies every roster anyway.
 */
function claimedVersion(roster: Uint8Array<ArrayBuffer>): number {
  try {
    const header = new ByteReader(new ByteReader(roster).bytes());
    header.u8();
    header.fixed(ORG_ID_LENGTH);
    return header.u64();
  } catch (error) {
    if (error instanceof SealchatError) {
      throw new SealchatError('SEALCHAT_E_BAD_ANSWER', 'The relay sent a roster that does not decode', {
        cause: error,
      });
    }
    throw error;
  }
}

/**
 * Every roster the relay kept for the session's organisation with a version of at least
 * `fromVersion`, as published, ascending by version: what a reader of old conversations needs to
 * check a sender against the roster of its time (a device revoked since is on none of today's). Pages
 * with `get-roster-history` until the relay has no more. Any device on the org's current roster may
 * ask. The relay cannot forge a roster but may leave some out or serve garbage: verify each one under
 * the org's root key (`verifyRosterHistory` in @sealchat/protocol); nothing here is verified. The
 * relay keeps at most its `maxRosterHistory` newest rosters per org.
 * @param options.maxRosters most rosters to collect before giving up (default 100 000), so a relay
 *   cannot make the reader page forever.
 * @throws RangeError when `fromVersion` is not a non-negative safe integer, or `maxRosters` not a positive one.
 * @throws RelayRequestError SEALCHAT_E_UNAUTHORIZED when the session's device is not on the org's roster.
 * @throws SealchatError SEALCHAT_E_BAD_ANSWER when the relay answers with another frame, a roster
 *   that does not decode, or one below the version asked for; SEALCHAT_E_LIMIT past `maxRosters`.
 */
export async function fetchRosterHistory(
  session: OrgAdminChannel,
  fromVersion = 1,
  options: { readonly maxRosters?: number } = {},
): Promise<Uint8Array<ArrayBuffer>[]> {
  if (!Number.isSafeInteger(fromVersion) || fromVersion < 0) {
    throw new RangeError('fromVersion must be a non-negative integer');
  }
  const maxRosters = options.maxRosters ?? MAX_FETCHED_ROSTERS;
  if (!Number.isSafeInteger(maxRosters) || maxRosters < 1)
    throw new RangeError('maxRosters must be a positive integer');
  const rosters: Uint8Array<ArrayBuffer>[] = [];
  let from = fromVersion;
  for (;;) {
    const page = expectAnswer(
      await session.request({ kind: 'get-roster-history', fromVersion: from, limit: 0 }),
      'roster-history',
    );
    if (page.rosters.length === 0) return rosters;
    let last = from - 1;
    for (const roster of page.rosters) {
      const version = claimedVersion(roster);
      // Ascending and from `from` on: a relay that repeats or goes back would have us page forever.
      if (version <= last) {
        throw new SealchatError(
          'SEALCHAT_E_BAD_ANSWER',
          'The relay sent rosters out of order or below the version asked for',
        );
      }
      last = version;
    }
    if (rosters.length + page.rosters.length > maxRosters) {
      throw new SealchatError(
        'SEALCHAT_E_LIMIT',
        `The relay holds more than ${maxRosters} rosters for this organisation`,
      );
    }
    rosters.push(...page.rosters);
    if (last >= Number.MAX_SAFE_INTEGER) return rosters;
    from = last + 1;
  }
}
