import { SealchatError } from '@sealchat/protocol';
import { loadKeptAuditHead } from './audit-floor.js';
import type { ClientStore } from './client-store.js';
import { toSealchatError } from './errors.js';
import { publishRosterHead, type Organisation } from './organisation-bootstrap.js';
import type { RelayConnectionOptions } from './relay-connection.js';
import { currentRoster } from './team-roster.js';

/** How often an open console renews the roster head: well inside the visitors' 4-day limit. */
export const HEAD_RENEWAL_INTERVAL_MS = 6 * 60 * 60 * 1000;
/**
 * A head this old makes the console warn: visitors refuse one past 4 days by default
 * (docs/protocol.md §4.4), so supervisors hear of it with two days to spare.
 */
export const HEAD_WARNING_AGE_MS = 2 * 24 * 60 * 60 * 1000;
const HEAD_RECORD = 'org/roster-head';

export interface RosterHeadRenewalOptions extends RelayConnectionOptions {
  /** Renewal period. Default {@link HEAD_RENEWAL_INTERVAL_MS}. */
  readonly intervalMs?: number;
  /** Age of the last published head past which {@link RosterHeadRenewal.warning} speaks. Default {@link HEAD_WARNING_AGE_MS}. */
  readonly warnAfterMs?: number;
}

/**
 * Keeps the organisation's roster head fresh while a console is open (docs/protocol.md §4.4): signs
 * one with the root key for the roster this store holds, carrying the audit floor forward (the
 * higher of the relay's head's mark and the audit head this console verified, docs/audit-log.md
 * §Heads), at {@link start} and every
 * {@link HEAD_RENEWAL_INTERVAL_MS}, and says in words when visitors may soon stop writing. A
 * `change` event follows every attempt. When the last head it published was signed is kept in the
 * store, so a reloaded console still knows.
 */
export class RosterHeadRenewal extends EventTarget {
  private _signedAt: number | undefined;
  private _error: SealchatError | undefined;
  private _timer: ReturnType<typeof setInterval> | undefined;
  private _running: Promise<void> | undefined;

  constructor(
    private readonly relayUrl: string,
    private readonly store: ClientStore,
    private readonly org: Organisation,
    private readonly options: RosterHeadRenewalOptions = {},
  ) {
    super();
  }

  /** When the last head this console published was signed (ms); undefined before the first. */
  get signedAt(): number | undefined {
    return this._signedAt;
  }

  /** Why the last renewal failed; undefined after a success. */
  get error(): SealchatError | undefined {
    return this._error;
  }

  /** Renews now, then every `intervalMs` until {@link stop}. */
  start(): void {
    if (this._timer) return;
    this._timer = setInterval(() => void this.renew(), this.options.intervalMs ?? HEAD_RENEWAL_INTERVAL_MS);
    void this.renew();
  }

  stop(): void {
    clearInterval(this._timer);
    this._timer = undefined;
  }

  /** Signs and publishes a head for the store's current roster; never throws (see {@link error}). */
  renew(): Promise<void> {
    return (this._running ??= this._renew().finally(() => (this._running = undefined)));
  }

  /**
   * What to tell supervisors, or undefined while the head is fresh: the last renewal failed, or the
   * last head published is older than `warnAfterMs`.
   */
  warning(now = Date.now()): string | undefined {
    const age = this._signedAt === undefined ? undefined : now - this._signedAt;
    const when = age === undefined ? 'not yet' : `${Math.floor(age / 3_600_000)} hours ago`;
    const why = 'Visitors send nothing once it is 4 days old: keep a console open, or run a keeper device.';
    if (this._error)
      return `The roster head could not be renewed (${this._error.message}). It was last renewed ${when}. ${why}`;
    if (age !== undefined && age > (this.options.warnAfterMs ?? HEAD_WARNING_AGE_MS))
      return `The roster head was last renewed ${when}. ${why}`;
    return undefined;
  }

  private async _renew(): Promise<void> {
    if (this._signedAt === undefined) {
      const saved = (await this.store.getRecord(HEAD_RECORD).catch(() => undefined)) as
        { signedAt?: unknown } | undefined;
      if (typeof saved?.signedAt === 'number') this._signedAt = saved.signedAt;
    }
    try {
      const roster = await currentRoster(this.store, this.org);
      // What this console verified of the audit log, if it read it: the head never names less.
      const auditHead = await loadKeptAuditHead(this.store);
      this._signedAt = await publishRosterHead(
        this.relayUrl,
        { ...this.org, roster: roster.encoded },
        { ...this.options, auditHead },
      );
      this._error = undefined;
      await this.store.putRecord(HEAD_RECORD, { signedAt: this._signedAt });
    } catch (error) {
      this._error = toSealchatError(error);
    }
    this.dispatchEvent(new Event('change'));
  }
}
