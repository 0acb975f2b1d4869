/**
 * The keeper: a supervisor device whose certificate administers, run by Node, that signs and
 * publishes a fresh roster head every few hours (docs/protocol.md §4.4), so visitors keep writing
 * while no console is open. It vouches only for the newest roster the relay shows it (never a lower
 * version than one it saw before), and only while that roster lists it as administering: its
 * certificate lives at most 7 days and is renewed whenever a console re-issues the roster. It covers
 * a long weekend or a week's holiday, not an organisation nobody looks after.
 *
 * It never reads the audit log: each head carries forward the audit mark of the relay's current
 * head, after verifying that head (docs/audit-log.md §Heads). So it vouches for a count it did not
 * check itself; an administrator signed that count, and the keeper only renews it.
 */
import {
  fetchAuditFloor,
  loadRosterMark,
  RelayConnection,
  saveRosterMark,
  type ClientStore,
  type RelayConnectionOptions,
} from '@sealchat/client';
import {
  EMPTY_AUDIT_MARK,
  agentWire,
  bytesEqual,
  issueRosterHead,
  orgIdFromRootKey,
  SealchatError,
  verifyRoster,
  type DeviceIdentity,
} from '@sealchat/protocol';

/** How often the keeper renews by default: four chances inside a day, far inside the visitors' 4 days. */
export const DEFAULT_KEEPER_INTERVAL_MS = 6 * 60 * 60 * 1000;

/** The keeper cannot vouch: the relay's roster does not list it as administering (now). */
export class NotAdministeringError extends SealchatError {
  constructor(message: string) {
    super('SEALCHAT_E_NOT_ADMINISTERING', message);
  }
}

export interface KeeperOptions extends RelayConnectionOptions {
  readonly relayUrl: string;
  readonly orgRootKey: Uint8Array<ArrayBuffer>;
  /** The keeper's device: enrolled as a supervisor that administers. */
  readonly identity: DeviceIdentity;
  /** Where the keeper remembers the newest roster it saw, so a relay cannot roll it back. */
  readonly store: ClientStore;
}

/** One line per renewal; never a key. */
export type KeeperLogEntry =
  | {
      readonly event: 'head-published';
      readonly rosterVersion: number;
      readonly signedAt: number;
      /** The audit log length the head names, carried forward from the relay's head. */
      readonly auditCount: number;
    }
  | { readonly event: 'head-failed'; readonly code: string; readonly message: string };

/**
 * Fetches the organisation's roster from the relay, verifies it (against the newest this keeper saw),
 * and publishes a head for it signed by the keeper's device, naming the audit mark of the relay's
 * verified head for that roster (none: the empty log's, which the relay refuses if it holds a head
 * naming more).
 * @returns the roster version vouched for, when, and the audit log length named.
 * @throws NotAdministeringError when the roster does not list this device as administering now;
 *   RosterError for a roster that does not verify or rolls back; RelayRequestError when the relay refuses.
 */
export async function renewRosterHead(
  options: KeeperOptions,
): Promise<{ rosterVersion: number; signedAt: number; auditCount: number }> {
  const { relayUrl, orgRootKey, identity, store } = options;
  const orgId = await orgIdFromRootKey(orgRootKey);
  const connection = new RelayConnection(relayUrl, { ...options, wire: agentWire });
  try {
    await new Promise<void>((resolve) => {
      connection.addEventListener('connected', () => resolve());
      connection.open();
    });
    const answer = await connection.request({ kind: 'get-roster', orgId });
    if (answer.kind !== 'roster')
      throw new SealchatError('SEALCHAT_E_BAD_ANSWER', `Expected a roster, got ${answer.kind}`);
    const mark = await loadRosterMark(store, orgId);
    const now = Date.now();
    const roster = await verifyRoster(answer.roster, {
      orgRootKey,
      now,
      previous: mark.digest ? { version: mark.version, digest: mark.digest } : undefined,
    });
    if (roster.version > mark.version) await saveRosterMark(store, orgId, roster);
    const self = roster.supervisors.find((s) => bytesEqual(s.signingPublic, identity.signingPublic));
    if (!self?.administer || now < self.issuedAt || now >= self.expiresAt) {
      throw new NotAdministeringError(
        `Roster version ${roster.version} does not list this device as administering now: ask a supervisor to enrol it with administer, or to re-issue the roster`,
      );
    }
    // The floor an administrator signed into the relay's head; never lowered here (docs/audit-log.md §Heads).
    const audit = (await fetchAuditFloor(connection, orgRootKey, roster)).mark ?? EMPTY_AUDIT_MARK;
    const head = await issueRosterHead(
      roster,
      { privateKey: identity.signing.privateKey, publicKey: identity.signingPublic },
      now,
      audit,
    );
    await connection.request({ kind: 'publish-roster-head', orgRootKey, head });
    return { rosterVersion: roster.version, signedAt: now, auditCount: audit.count };
  } finally {
    connection.close();
  }
}

/**
 * Renews at once and then every `intervalMs` (default {@link DEFAULT_KEEPER_INTERVAL_MS}); a failure
 * is logged and the next turn tries again. `close()` stops it.
 */
export function startKeeper(
  options: KeeperOptions & { readonly intervalMs?: number; readonly log?: (entry: KeeperLogEntry) => void },
): { close(): void; readonly first: Promise<void> } {
  const log = options.log ?? (() => undefined);
  const turn = async (): Promise<void> => {
    try {
      log({ event: 'head-published', ...(await renewRosterHead(options)) });
    } catch (error) {
      const { code = 'SEALCHAT_E_INTERNAL', message = String(error) } = error as { code?: string; message?: string };
      log({ event: 'head-failed', code, message });
    }
  };
  const timer = setInterval(() => void turn(), options.intervalMs ?? DEFAULT_KEEPER_INTERVAL_MS);
  return { close: () => clearInterval(timer), first: turn() };
}
