import {
  MAX_ADMINISTER_LIFETIME_MS,
  agentWire,
  bytesEqual,
  exportPublicKey,
  formatOrgKey,
  fromHex,
  issueCertificate,
  issueRoster,
  issueRosterHead,
  loadOrCreateIdentity,
  loadOrCreateKeyPair,
  orgIdFromRootKey,
  SealchatError,
  toHex,
  verifyHeldRoster,
  type AuditMark,
  type DeviceIdentity,
  type VerifiedCertificate,
  type VerifiedRoster,
} from '@sealchat/protocol';
import { fetchAuditFloor, higherMark, type RequestChannel } from './audit-floor.js';
import { RelayRequestError, StoredStateError } from './errors.js';
import type { ClientStore } from './client-store.js';
import { RelayConnection, type RelayConnectionOptions } from './relay-connection.js';

/**
 * An organisation created in this browser: its root key, a supervisor device certified by the
 * root, the archive key, and one agent device certified by the supervisor.
 *
 * Demo shortcut (docs/architecture.md §Demo shortcuts): here one browser holds all of them. The
 * agent console issue splits them across people and devices (invitations, approvals, backup);
 * the certificate and roster formats stay.
 */
export interface Organisation {
  readonly rootKey: CryptoKeyPair;
  readonly rootPublic: Uint8Array<ArrayBuffer>;
  readonly orgId: Uint8Array<ArrayBuffer>;
  /** The text form to pin in `<sealchat-widget org="...">`. */
  readonly orgKey: string;
  readonly supervisor: DeviceIdentity;
  /** The archive recipient's key pair (supervisors read history with it). */
  readonly archive: CryptoKeyPair;
  readonly agent: DeviceIdentity;
  readonly roster: Uint8Array<ArrayBuffer>;
  readonly rosterVersion: number;
}

export interface OrganisationOptions {
  /** The agent's display name, shown to visitors. Default "Agent". */
  readonly agentName?: string;
  /** Lifetime of certificates and roster. Default 30 days. */
  readonly lifetimeMs?: number;
  /** Re-issue the roster when less than this is left. Default 1 day. */
  readonly renewBeforeMs?: number;
  /**
   * The root and archive pairs, when they are kept outside this store's `org-root/signing` and
   * `org-archive/agreement` (an organisation created with a backup, or restored from one:
   * org-backup.ts). Default: load or generate them in the store.
   */
  readonly keys?: { readonly root: CryptoKeyPair; readonly archive: CryptoKeyPair };
  /**
   * Issue a new roster unless the saved one's version is above this, and give it a higher version.
   * A device that restores an organisation passes the version the relay (or the backup) already
   * has, since the relay refuses a roster that is not newer than its own. Default 0.
   */
  readonly rosterVersionAbove?: number;
  /**
   * The roster the next one must follow (the relay's, when it holds a newer one than this store):
   * the new roster gets its version + 1 and names its digest, without taking over anyone it lists
   * (docs/protocol.md §4.3). Implies `rosterVersionAbove: follows.version`.
   */
  readonly follows?: { readonly version: number; readonly digest: Uint8Array<ArrayBuffer> };
}

const DAY = 24 * 60 * 60 * 1000;

/**
 * Loads the organisation kept in `store`, or creates one; renews its roster when near expiry.
 * @throws TypeError when `options.rosterVersionAbove` is not a non-negative integer.
 */
export async function loadOrCreateOrganisation(
  store: ClientStore,
  options: OrganisationOptions = {},
): Promise<Organisation> {
  const lifetime = options.lifetimeMs ?? 30 * DAY;
  const renewBefore = options.renewBeforeMs ?? DAY;
  const above = Math.max(options.rosterVersionAbove ?? 0, options.follows?.version ?? 0);
  if (!Number.isSafeInteger(above) || above < 0)
    throw new TypeError(`rosterVersionAbove must be a non-negative integer`);
  // The store generates both pairs (or org-backup.ts imported them), so their private keys are
  // non-extractable in every store.
  const rootKey = options.keys?.root ?? (await loadOrCreateKeyPair(store, 'org-root/signing', 'Ed25519'));
  const archive = options.keys?.archive ?? (await loadOrCreateKeyPair(store, 'org-archive/agreement', 'X25519'));
  const rootPublic = await exportPublicKey(rootKey.publicKey);
  const orgId = await orgIdFromRootKey(rootPublic);
  const supervisor = await loadOrCreateIdentity(store, 'supervisor');
  const agent = await loadOrCreateIdentity(store, 'agent');
  const saved = parseSavedRoster(await store.getRecord('org/roster'));
  const previous = saved ? await ownPastRoster(saved.roster, rootPublic) : undefined;
  const now = Date.now();
  let roster = saved?.roster;
  let rosterVersion = saved?.version ?? 0;
  // This console's supervisor administers for days at a time (docs/protocol.md §4.2): renewed with
  // the roster while at least two days are left.
  const ownAdmin = previous?.supervisors.find((s) => bytesEqual(s.deviceId, supervisor.deviceId));
  const adminDue = !ownAdmin?.administer || ownAdmin.expiresAt - now < ADMIN_RENEW_BEFORE;
  // A saved roster that does not extend the one followed (a restore issued it before it saw the
  // relay's, naming no predecessor) is issued again right after the followed one.
  const { follows } = options;
  const offChain =
    follows !== undefined &&
    !(
      previous &&
      (bytesEqual(previous.digest, follows.digest) ||
        (previous.version === follows.version + 1 && bytesEqual(previous.previousDigest, follows.digest)))
    );
  if (!saved || saved.expiresAt - now < renewBefore || saved.version <= above || adminDue || offChain) {
    const issuedAt = now - 60_000;
    const expiresAt = now + lifetime;
    const byRoot = { privateKey: rootKey.privateKey, publicKey: rootPublic };
    const bySupervisor = { privateKey: supervisor.signing.privateKey, publicKey: supervisor.signingPublic };
    const supervisorCertificate = await issueCertificate(
      {
        orgId,
        deviceId: supervisor.deviceId,
        displayName: 'Supervisor',
        role: 'supervisor',
        administer: true,
        signingPublic: supervisor.signingPublic,
        agreementPublic: supervisor.agreementPublic,
        issuedAt,
        expiresAt: Math.min(expiresAt, issuedAt + MAX_ADMINISTER_LIFETIME_MS),
      },
      byRoot,
    );
    const agentCertificate = await issueCertificate(
      {
        orgId,
        deviceId: agent.deviceId,
        displayName: options.agentName ?? 'Agent',
        role: 'agent',
        signingPublic: agent.signingPublic,
        agreementPublic: agent.agreementPublic,
        issuedAt,
        expiresAt,
      },
      bySupervisor,
    );
    // Devices enrolled since (team.ts, a bot) stay on: renewing must not revoke anyone. Only this
    // store's own roster is carried over, never one a relay served (docs/security.md, finding 2).
    const own = [supervisor.deviceId, agent.deviceId];
    const other = (c: VerifiedCertificate) => !own.some((id) => bytesEqual(id, c.deviceId));
    const recertify = (c: VerifiedCertificate) =>
      issueCertificate(
        {
          orgId,
          deviceId: c.deviceId,
          displayName: c.displayName,
          role: c.role,
          administer: c.administer,
          signingPublic: c.signingPublic,
          agreementPublic: c.agreementPublic,
          issuedAt,
          expiresAt: c.administer ? Math.min(expiresAt, issuedAt + MAX_ADMINISTER_LIFETIME_MS) : expiresAt,
        },
        c.role === 'supervisor' ? byRoot : bySupervisor,
      );
    rosterVersion =
      offChain && (options.rosterVersionAbove ?? 0) <= follows.version
        ? follows.version + 1
        : Math.max(rosterVersion, above) + 1;
    roster = await issueRoster(
      {
        orgId,
        version: rosterVersion,
        previousDigest: predecessorDigest(rosterVersion, previous, follows),
        issuedAt,
        expiresAt,
        archivePublic: await exportPublicKey(archive.publicKey),
        supervisors: [
          supervisorCertificate,
          ...(await Promise.all((previous?.supervisors ?? []).filter(other).map(recertify))),
        ],
        agents: [agentCertificate, ...(await Promise.all((previous?.agents ?? []).filter(other).map(recertify)))],
      },
      byRoot,
    );
    await store.putRecord('org/roster', { roster: toHex(roster), version: rosterVersion, expiresAt });
  }
  return {
    rootKey,
    rootPublic,
    orgId,
    orgKey: await formatOrgKey(rootPublic),
    supervisor,
    archive,
    agent,
    roster: roster!,
    rosterVersion,
  };
}

/** Renew this console's administering certificate while at least this much of it is left. */
const ADMIN_RENEW_BEFORE = 2 * DAY;

/**
 * This store's own saved roster, verified under this root as of its own issue time (it may have
 * expired: that is why it is being renewed); undefined when it does not verify.
 */
async function ownPastRoster(
  bytes: Uint8Array<ArrayBuffer>,
  orgRootKey: Uint8Array<ArrayBuffer>,
): Promise<VerifiedRoster | undefined> {
  try {
    return await verifyHeldRoster(bytes, orgRootKey);
  } catch {
    return undefined;
  }
}

/**
 * The digest a new roster at `version` names as its predecessor: the roster it follows when that is
 * at hand (the relay's, or this store's), else {@link UNKNOWN_PREDECESSOR} (a restore before the
 * relay was asked; the root alone may sign such a roster, and a verifier holding the version
 * before refuses it as a fork, so `registerOrganisation` re-issues it once it sees the relay's).
 */
function predecessorDigest(
  version: number,
  previous: VerifiedRoster | undefined,
  follows: OrganisationOptions['follows'],
): Uint8Array<ArrayBuffer> | undefined {
  if (version === 1) return undefined;
  if (follows && follows.version === version - 1) return follows.digest;
  if (previous && previous.version === version - 1) return previous.digest;
  return UNKNOWN_PREDECESSOR;
}

/** A predecessor digest that names no roster: 32 bytes of 0xff. */
export const UNKNOWN_PREDECESSOR: Uint8Array<ArrayBuffer> = new Uint8Array(32).fill(0xff);

function parseSavedRoster(
  value: unknown,
): { roster: Uint8Array<ArrayBuffer>; version: number; expiresAt: number } | undefined {
  if (value === undefined) return undefined;
  const v = value as Record<string, unknown>;
  if (
    typeof value !== 'object' ||
    value === null ||
    typeof v['roster'] !== 'string' ||
    typeof v['version'] !== 'number' ||
    typeof v['expiresAt'] !== 'number'
  ) {
    throw new StoredStateError('Stored organisation roster is malformed');
  }
  return { roster: fromHex(v['roster']), version: v['version'], expiresAt: v['expiresAt'] };
}

export interface RosterHeadOptions extends RelayConnectionOptions {
  /**
   * The audit head this device verified by reading the whole log (a console's is kept in its store:
   * `loadKeptAuditHead`). The head names the higher of it and the audit mark of the relay's own
   * verified head, so signing never lowers the organisation's audit floor (docs/audit-log.md §Heads).
   */
  readonly auditHead?: AuditMark | undefined;
}

/**
 * Publishes the organisation's roster to the relay, and, given the root key, a fresh roster head for
 * it ({@link publishRosterHead}): the new roster makes the relay's head stale, and visitors write
 * only under a fresh one. The audit mark of the relay's head is read before the roster goes out
 * (the new head carries it forward). A relay in demo mode registers an unknown organisation this
 * way; otherwise the operator registers it first.
 * @throws RelayRequestError when the relay refuses the roster (unknown org, rollback) or the head.
 * @throws AuditLogTamperedError when `options.auditHead` and the relay's head name one count with
 *   two digests (nothing is published).
 */
export async function publishRoster(
  relayUrl: string,
  org: Pick<Organisation, 'rootPublic' | 'roster'> & { readonly rootKey?: CryptoKeyPair | undefined },
  options: RosterHeadOptions = {},
): Promise<void> {
  const { rootKey } = org;
  const connection = await openOneOff(relayUrl, rootKey ? { ...options, wire: agentWire } : options);
  try {
    let audit = options.auditHead;
    if (rootKey) {
      const ours = await verifyHeldRoster(org.roster, org.rootPublic);
      audit = higherMark(audit, (await fetchAuditFloor(connection, org.rootPublic, ours)).mark);
    }
    await connection.request({ kind: 'publish-roster', orgRootKey: org.rootPublic, roster: org.roster });
    if (rootKey) await sendRosterHead(connection, { ...org, rootKey }, Date.now(), audit);
  } finally {
    connection.close();
  }
}

/**
 * Signs a roster head for the organisation's own roster with its root key, "this roster is current
 * now, and the audit log reaches at least this far", and publishes it (docs/protocol.md §4.4).
 * Visitors refuse a head older than their limit (4 days by default), so consoles call this after
 * every roster publish, on load and every few hours while open. The relay refuses the head when it
 * holds a newer roster than `org.roster`, or a head naming more audit records.
 * @returns when the head was signed (ms since the epoch).
 * @throws RelayRequestError when the relay refuses (`SEALCHAT_E_ROSTER_HEAD_REJECTED`, unknown org).
 * @throws RosterError when `org.roster` no longer verifies (expired).
 * @throws AuditLogTamperedError as {@link publishRoster}.
 */
export async function publishRosterHead(
  relayUrl: string,
  org: Pick<Organisation, 'rootKey' | 'rootPublic' | 'roster'>,
  options: RosterHeadOptions = {},
): Promise<number> {
  const connection = await openOneOff(relayUrl, { ...options, wire: agentWire });
  try {
    return await sendRosterHead(connection, org, Date.now(), options.auditHead);
  } finally {
    connection.close();
  }
}

/**
 * Signs and publishes a head for `org.roster` naming the higher of `audit` and the relay's own
 * head's mark. Refused once (another console raised the mark meanwhile), it reads the relay's mark
 * again and tries once more.
 */
export async function sendRosterHead(
  channel: RequestChannel,
  org: Pick<Organisation, 'rootKey' | 'rootPublic' | 'roster'>,
  signedAt: number,
  audit: AuditMark | undefined,
): Promise<number> {
  // The console's own roster, from its own storage: never one the relay served (docs/security.md F2).
  const roster = await verifyHeldRoster(org.roster, org.rootPublic, signedAt);
  const signer = { privateKey: org.rootKey.privateKey, publicKey: org.rootPublic };
  for (let attempt = 1; ; attempt++) {
    const mark = higherMark(audit, (await fetchAuditFloor(channel, org.rootPublic, roster)).mark);
    const head = await issueRosterHead(roster, signer, signedAt, mark);
    try {
      await channel.request({ kind: 'publish-roster-head', orgRootKey: org.rootPublic, head });
      return signedAt;
    } catch (error) {
      const rejected = error instanceof RelayRequestError && error.code === 'SEALCHAT_E_ROSTER_HEAD_REJECTED';
      if (attempt >= 2 || !rejected) throw error;
    }
  }
}

/**
 * A connection for one or two requests (publishing or fetching a roster), open once the relay sent
 * its challenge. Close it when done.
 * @throws SealchatError `SEALCHAT_E_CONNECTION_LOST` when the relay does not answer within 10 s.
 */
export async function openOneOff(relayUrl: string, options: RelayConnectionOptions = {}): Promise<RelayConnection> {
  const connection = new RelayConnection(relayUrl, options);
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new SealchatError('SEALCHAT_E_CONNECTION_LOST', 'Relay unreachable')),
        10_000,
      );
      connection.addEventListener('connected', () => {
        clearTimeout(timer);
        resolve();
      });
      connection.open();
    });
  } catch (error) {
    connection.close();
    throw error;
  }
  return connection;
}
