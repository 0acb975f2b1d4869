import { MAX_RETENTION_DAYS, SealchatError, type RelayFrame } from '@sealchat/protocol';
import type { AuditTransport } from './audit-log.js';
import type { RequestFrame } from './relay-connection.js';

/**
 * A supervisor's organisation settings and audit log, kept by the relay (wire revision 3,
 * docs/relay-protocol.md §Organisation settings and audit log). The relay answers only a socket
 * authenticated as a supervisor on the org's current roster; anyone else gets
 * SEALCHAT_E_UNAUTHORIZED.
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
