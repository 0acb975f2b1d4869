import { Context } from './contexts.js';
import { labelledHash } from './keys.js';

/** Length of an audit link digest (docs/audit-log.md §Record). */
export const AUDIT_DIGEST_LENGTH = 32;

/**
 * How far an organisation's audit log reaches (docs/audit-log.md §Heads): its number of records and
 * the link digest of the last one, 32 zero bytes for an empty log. A roster head carries one
 * (docs/protocol.md §4.4), so a reader with nothing kept knows how long the log must be at least.
 */
export interface AuditMark {
  readonly count: number;
  readonly digest: Uint8Array<ArrayBuffer>;
}

/** The mark of an empty log: no records, and the digest before the first one. */
export const EMPTY_AUDIT_MARK: AuditMark = Object.freeze({
  count: 0,
  digest: new Uint8Array(AUDIT_DIGEST_LENGTH),
});

/**
 * The digest that links an audit record to the next one, and a mark to its last record:
 * `H("sealchat/v1 audit-link", record)` (docs/audit-log.md §Record). Here, not in the client, because
 * the relay checks a roster head's mark against the records it holds.
 */
export function auditLinkDigest(record: Uint8Array): Promise<Uint8Array<ArrayBuffer>> {
  return labelledHash(Context.auditLink, record);
}
