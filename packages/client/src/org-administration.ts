import {
  agentWire,
  bytesEqual,
  exportPublicKey,
  SealchatError,
  signRelayChallenge,
  verifyRosterHistory,
  type RelayFrame,
  type VerifiedRoster,
} from '@sealchat/protocol';
import type { AgentSession } from './agent-session.js';
import type { AuditEvent } from './audit-entry.js';
import { fetchAuditFloor, higherMark, loadKeptAuditHead, saveKeptAuditHead } from './audit-floor.js';
import { AuditLogWriter, readAuditLog, type AuditHead, type AuditLogEntry, type AuditTransport } from './audit-log.js';
import type { ClientStore } from './client-store.js';
import { toSealchatError } from './errors.js';
import {
  fetchRosterHistory,
  getOrgSettings,
  relayAuditTransport,
  setRetention,
  type OrgSettings,
} from './org-admin.js';
import { sendRosterHead, type Organisation } from './organisation-bootstrap.js';
import { RelayConnection, type RelayConnectionOptions, type RequestFrame } from './relay-connection.js';
import { currentRoster } from './team-roster.js';

/**
 * A supervisor browser's administration of its organisation: one socket authenticated as the
 * organisation's **supervisor device** (the relay answers settings and audit frames only for a
 * supervisor on the current roster), the retention setting, and the audit log — every entry signed
 * by this supervisor and sealed to the archive key, and read back verified against the head this
 * browser saw last (kept in its store) and the audit floor of the relay's roster head (so a relay
 * that truncates or rewrites the log is caught, on a first read too). After each entry it appends,
 * it publishes a roster head naming the longer log. docs/audit-log.md and docs/agent-console.md
 * describe both.
 */

export interface OrgAdministrationOptions extends RelayConnectionOptions {
  readonly relayUrl: string;
  /** This browser's organisation: its supervisor device signs, its archive key reads. */
  readonly organisation: Organisation;
  /** The organisation's store: the audit head read last is kept there. */
  readonly store: ClientStore;
}

export interface OrgAdministrationEventMap {
  /** An entry was appended to the audit log from this browser; `detail` is its index. */
  recorded: CustomEvent<number>;
}

export class OrgAdministration extends EventTarget {
  readonly #connection: RelayConnection;
  readonly #organisation: Organisation;
  readonly #store: ClientStore;
  readonly #transport: AuditTransport;
  #writer: AuditLogWriter | undefined;
  #ready: Promise<void>;
  #auditWarning: string | undefined;

  private constructor(options: OrgAdministrationOptions) {
    super();
    this.#organisation = options.organisation;
    this.#store = options.store;
    this.#connection = new RelayConnection(options.relayUrl, { ...options, wire: agentWire });
    this.#transport = relayAuditTransport(this);
    let settle: { resolve: () => void; reject: (error: unknown) => void };
    this.#ready = new Promise((resolve, reject) => (settle = { resolve, reject }));
    // Every (re)connect authenticates again; requests wait for the first.
    this.#connection.addEventListener('connected', (event) => {
      const { organisation } = this;
      const { supervisor, orgId } = organisation;
      const relayUrl = this.#connection.url;
      signRelayChallenge(supervisor.signing.privateKey, event.detail.challenge, orgId, supervisor.deviceId, relayUrl)
        .then((signature) =>
          this.#connection.request({ kind: 'auth-agent', orgId, deviceId: supervisor.deviceId, signature }),
        )
        .then(
          () => settle.resolve(),
          (error: unknown) => settle.reject(error),
        );
    });
  }

  /**
   * Connects to the relay and authenticates as the organisation's supervisor device.
   * @throws RelayRequestError `SEALCHAT_E_UNAUTHORIZED` when the relay does not list that device as
   *   a supervisor on the organisation's current roster.
   * @throws ConnectionLostError when the relay cannot be reached.
   */
  static async connect(options: OrgAdministrationOptions): Promise<OrgAdministration> {
    const administration = new OrgAdministration(options);
    administration.#connection.open();
    try {
      await administration.#ready;
      // Any roster device may authenticate; only a supervisor's settings request is answered.
      await administration.settings();
    } catch (error) {
      administration.close();
      throw error;
    }
    return administration;
  }

  get organisation(): Organisation {
    return this.#organisation;
  }

  /** Sends one request on the supervisor's socket (the channel `org-admin.ts` works over). */
  async request(frame: RequestFrame): Promise<RelayFrame> {
    await this.#ready;
    return this.#connection.request(frame);
  }

  /** @throws RelayRequestError when the relay refuses. */
  settings(): Promise<OrgSettings> {
    return getOrgSettings(this);
  }

  /**
   * Sets how many days the relay keeps the organisation's conversations (0: the relay's default),
   * and records it in the audit log.
   * @throws RangeError for a bad number of days; RelayRequestError when the relay refuses.
   */
  async setRetention(days: number): Promise<void> {
    await setRetention(this, days);
    await this.record({ action: 'retention-set', days });
  }

  /**
   * What supervisors should know about the last audit read or write, in words, or undefined: no
   * roster head vouched for the log's length (a relay could have left out its newest entries), or
   * the head naming a new entry could not be published.
   */
  get auditWarning(): string | undefined {
    return this.#auditWarning;
  }

  /**
   * Appends an entry to the audit log, signed by this browser's supervisor device, then publishes
   * a roster head naming the log with it (docs/audit-log.md §Heads), so a console reading the log
   * for the first time knows it must reach this entry. That head failing does not undo the entry:
   * {@link auditWarning} says so, and the next head renewal carries the mark forward.
   * @returns its index.
   * @throws as `AuditLogWriter.append`.
   */
  async record(event: AuditEvent): Promise<number> {
    this.#writer ??= await this.#newWriter();
    const index = await this.#writer.append(event);
    await this.#raiseFloor(this.#writer.head);
    this.dispatchEvent(new CustomEvent('recorded', { detail: index }));
    return index;
  }

  /**
   * Reads the whole audit log, verified, and opens it with the archive key. The log must extend
   * the one read here last time, and the audit mark of the relay's roster head (verified against
   * this browser's roster; any age, since an old head is still a true floor). Without such a head
   * the log is read as served, and {@link auditWarning} says so. The new head is kept for the next
   * read.
   * @throws AuditLogTamperedError, AuditLogKeyError as `readAuditLog`.
   */
  async readAuditLog(): Promise<AuditLogEntry[]> {
    const known = await loadKeptAuditHead(this.#store);
    const rosters = await this.#rosterChain();
    const floor = await fetchAuditFloor(this, this.#organisation.rootPublic, rosters[rosters.length - 1]!);
    const { head, entries } = await readAuditLog({
      transport: this.#transport,
      orgRootKey: this.#organisation.rootPublic,
      archiveKey: this.#organisation.archive,
      rosters,
      ...(known ? { known } : {}),
      ...(floor.mark ? { floor: floor.mark } : {}),
    });
    this.#auditWarning = floor.mark
      ? undefined
      : `No roster head vouches for the audit log's length (${floor.why}), so this console cannot tell whether the relay left out its newest entries.`;
    await saveKeptAuditHead(this.#store, head);
    return entries;
  }

  /**
   * The organisation's policy on agents reading conversations from before they joined
   * (docs/agent-console.md): the latest `history-policy-set` entry of the verified audit log, off
   * when there is none. Kept there, not in a relay setting, so a relay cannot switch it on.
   * @throws as {@link readAuditLog}.
   */
  async historyPolicy(): Promise<boolean> {
    let enabled = false;
    for (const { event } of await this.readAuditLog())
      if (event.action === 'history-policy-set') enabled = event.enabled === 1;
    return enabled;
  }

  /** Sets that policy, by recording it in the audit log. @throws as {@link record}. */
  async setHistoryPolicy(enabled: boolean): Promise<void> {
    await this.record({ action: 'history-policy-set', enabled: enabled ? 1 : 0 });
  }

  /**
   * Shares the organisation's past conversations with one device: `session` (this browser's console,
   * holding the archive key) seals each conversation's chain seeds to the device, this supervisor
   * device hands the grants to the relay, and the audit log records how many (docs/protocol.md §14).
   * Ephemeral conversations have nothing to share. Grants already given are replaced, so sharing
   * again after more conversations is safe.
   * @returns how many conversations were shared, and how many were too large for one grant.
   * @throws ArchiveKeyError when `session` has no archive key; TypeError when the device is not on
   *   the roster; RelayRequestError when the relay refuses a grant.
   */
  async shareHistory(
    session: AgentSession,
    member: { readonly deviceId: Uint8Array<ArrayBuffer>; readonly name: string },
  ): Promise<{ shared: number; skipped: number }> {
    const { grants, skipped } = await session.historyGrantsFor(member.deviceId);
    for (const { conversationId, grant } of grants)
      await this.request({ kind: 'put-history-grant', deviceId: member.deviceId, conversationId, grant });
    await this.record({
      action: 'history-shared',
      deviceId: member.deviceId,
      name: member.name,
      conversations: grants.length,
    });
    return { shared: grants.length, skipped };
  }

  close(): void {
    this.#connection.close();
  }

  override addEventListener<K extends keyof OrgAdministrationEventMap>(
    type: K,
    listener: (event: OrgAdministrationEventMap[K]) => void,
  ): void;
  override addEventListener(type: string, listener: EventListenerOrEventListenerObject | null): void;
  override addEventListener(type: string, listener: EventListenerOrEventListenerObject | null): void {
    super.addEventListener(type, listener);
  }

  override removeEventListener<K extends keyof OrgAdministrationEventMap>(
    type: K,
    listener: (event: OrgAdministrationEventMap[K]) => void,
  ): void;
  override removeEventListener(type: string, listener: EventListenerOrEventListenerObject | null): void;
  override removeEventListener(type: string, listener: EventListenerOrEventListenerObject | null): void {
    super.removeEventListener(type, listener);
  }

  async #newWriter(): Promise<AuditLogWriter> {
    const organisation = this.#organisation;
    const roster = await currentRoster(this.#store, organisation);
    const own = roster.supervisors.find((s) => bytesEqual(s.deviceId, organisation.supervisor.deviceId));
    if (!own) throw new SealchatError('SEALCHAT_E_NOT_FOUND', "This browser's supervisor device is not on the roster");
    // The first append reads the whole log: it must reach what this browser verified and what the
    // organisation's roster head names, or the entry would extend a log cut short (docs/audit-log.md §Heads).
    const vouched = await fetchAuditFloor(this, organisation.rootPublic, roster);
    return new AuditLogWriter({
      transport: this.#transport,
      orgRootKey: organisation.rootPublic,
      signer: organisation.supervisor,
      certificate: own.encoded,
      archivePublic: await exportPublicKey(organisation.archive.publicKey),
      floor: higherMark(await loadKeptAuditHead(this.#store), vouched.mark),
    });
  }

  /**
   * The organisation's rosters as far back as the relay keeps them, chain-verified from this
   * browser's current roster backwards, for checking who administered when.
   */
  async #rosterChain(): Promise<VerifiedRoster[]> {
    const current = await currentRoster(this.#store, this.#organisation);
    const history = await verifyRosterHistory(await fetchRosterHistory(this, 1), {
      orgRootKey: this.#organisation.rootPublic,
      known: [current],
    });
    // Only what links, unbroken, back from the current roster counts as the chain.
    const chain = [current];
    for (const roster of [...history.rosters].reverse()) {
      const next = chain[0]!;
      if (roster.version === next.version - 1 && bytesEqual(next.previousDigest, roster.digest)) chain.unshift(roster);
    }
    return chain;
  }

  /**
   * Publishes a roster head, signed with the root key, naming at least `written` (the log as this
   * browser's writer just extended it and verified its chain). Never throws: a failure is kept in
   * {@link auditWarning}.
   */
  async #raiseFloor(written: AuditHead): Promise<void> {
    try {
      const organisation = this.#organisation;
      const roster = await currentRoster(this.#store, organisation);
      const mark = higherMark(await loadKeptAuditHead(this.#store), written);
      await sendRosterHead(this, { ...organisation, roster: roster.encoded }, Date.now(), mark);
    } catch (error) {
      this.#auditWarning = `The roster head naming the new audit entry could not be published (${toSealchatError(error).message}): a console reading the log for the first time may not see it until the next head.`;
    }
  }
}
