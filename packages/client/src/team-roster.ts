import {
  bytesEqual,
  exportPublicKey,
  fromHex,
  issueCertificate,
  issueRoster,
  MAX_ADMINISTER_LIFETIME_MS,
  toHex,
  verifyHeldRoster,
  type DeviceRole,
  type PublicDevice,
  type VerifiedCertificate,
  type VerifiedRoster,
} from '@sealchat/protocol';
import type { ClientStore } from './client-store.js';
import { StoredStateError } from './errors.js';
import type { Organisation } from './organisation-bootstrap.js';

/**
 * Changing who is on the organisation's roster: enrolling a device (a bot, an invited person) and
 * revoking one. `loadOrCreateOrganisation` issues a roster with exactly its own supervisor and agent;
 * everything here re-issues the current roster with every device it already lists, plus or minus one.
 * Moved from examples/faq-bot, which enrols bots with it.
 */

const DAY = 24 * 60 * 60 * 1000;
/**
 * Where `loadOrCreateOrganisation` keeps the roster it issued. Written here too, so the next load
 * (the console's, a bot tool's) sees the new version instead of re-publishing an older one, which
 * the relay would refuse as a rollback.
 */
const ROSTER_RECORD = 'org/roster';
/** A newer roster the relay holds that {@link adoptRoster} would not take over: the next change follows it. */
const FOLLOW_RECORD = 'org/roster-follows';

export interface RosterChangeOptions {
  /** Lifetime of the new roster and of every certificate on it. Default 30 days. */
  readonly lifetimeMs?: number;
}

export interface EnrolOptions extends RosterChangeOptions {
  /** The name visitors see on the device's messages. Default "FAQ bot". */
  readonly displayName?: string;
}

export interface EnrolDeviceOptions extends RosterChangeOptions {
  /**
   * Let a supervisor administer: sign roster heads and the next roster (docs/protocol.md §4.2, §4.4),
   * as a keeper device does (docs/operations.md). Its certificate then lives at most 7 days and is
   * renewed, with the capability, whenever a console re-issues the roster. Default false; ignored
   * for an agent.
   */
  readonly administer?: boolean;
}

/**
 * A roster issued and saved in the organisation's store, ready for `publishRoster`, which also
 * publishes a fresh roster head for it with `rootKey` (docs/protocol.md §4.4).
 */
export interface IssuedRoster {
  readonly rootPublic: Uint8Array<ArrayBuffer>;
  readonly rootKey: CryptoKeyPair;
  readonly roster: Uint8Array<ArrayBuffer>;
  readonly version: number;
}

/** One device as a roster lists it. */
export interface ListedDevice extends PublicDevice {
  readonly displayName: string;
  readonly role: DeviceRole;
  /** Whether its certificate administers (supervisors only); a newly enrolled device never does. */
  readonly administer?: boolean;
}

/**
 * The organisation's current roster, verified: the one saved in `store` when it is newer than the
 * one `org` was loaded with (a roster issued since, by this module), else `org`'s.
 * @throws RosterError when it does not verify (expired, say).
 * @throws StoredStateError when the saved roster record is malformed.
 */
export async function currentRoster(
  store: ClientStore,
  org: Pick<Organisation, 'roster' | 'rosterVersion' | 'rootPublic'>,
  now = Date.now(),
): Promise<VerifiedRoster> {
  const saved = await store.getRecord(ROSTER_RECORD);
  let bytes = org.roster;
  if (saved !== undefined) {
    const v = saved as Record<string, unknown>;
    if (
      typeof saved !== 'object' ||
      saved === null ||
      typeof v['roster'] !== 'string' ||
      typeof v['version'] !== 'number'
    )
      throw new StoredStateError('Stored organisation roster is malformed');
    if (v['version'] > org.rosterVersion) bytes = fromHex(v['roster']);
  }
  return verifyHeldRoster(bytes, org.rootPublic, now);
}

/**
 * Keeps a newer roster of this organisation, issued elsewhere (by another supervisor's browser, or
 * this organisation restored in another browser) and read from the relay, as the one the next change
 * starts from: a change issued from an older one would drop whoever that roster added, and the relay
 * would refuse its version anyway. Does nothing when `roster` is not newer than the one saved here,
 * unless it has the same version with other bytes (the relay took another supervisor's roster first).
 *
 * Whatever is adopted is re-certified by the root at the next change, so only the root's own word is
 * taken over (another console of this organisation signed it), and only while it is current: a
 * roster signed by a device (a revoked administrator may still hold a key that signed one) or an
 * expired one is only *followed*: the next change gets the version after it and names its digest,
 * but nobody it lists is re-certified (docs/security.md, finding 2).
 * @param roster verified by the caller under this organisation's root key (`fetchRelayRoster` does).
 * @returns whether it was adopted (false when only followed, or not newer).
 * @throws TypeError when `roster` is another organisation's.
 * @throws StoredStateError when the saved roster record is malformed.
 */
export async function adoptRoster(
  store: ClientStore,
  org: Pick<Organisation, 'orgId' | 'rosterVersion'>,
  roster: VerifiedRoster,
): Promise<boolean> {
  if (!bytesEqual(roster.orgId, org.orgId)) throw new TypeError("That roster is another organisation's");
  const saved = await store.getRecord(ROSTER_RECORD);
  const savedVersion =
    saved !== undefined && typeof (saved as Record<string, unknown>)['version'] === 'number'
      ? ((saved as Record<string, unknown>)['version'] as number)
      : 0;
  if (saved !== undefined && savedVersion === 0) throw new StoredStateError('Stored organisation roster is malformed');
  const savedBytes = (saved as Record<string, unknown> | undefined)?.['roster'];
  // Same version, other bytes: this browser's roster lost the race for that version at the relay
  // (another supervisor published first), so the relay's is the one everyone else holds.
  const lostRace = roster.version === savedVersion && savedBytes !== toHex(roster.encoded);
  if (!lostRace && roster.version <= Math.max(savedVersion, org.rosterVersion)) return false;
  if (!roster.signedByRoot || Date.now() >= roster.expiresAt) {
    await store.putRecord(FOLLOW_RECORD, { version: roster.version, digest: toHex(roster.digest) });
    return false;
  }
  await store.putRecord(ROSTER_RECORD, {
    roster: toHex(roster.encoded),
    version: roster.version,
    expiresAt: roster.expiresAt,
  });
  return true;
}

/** The roster {@link adoptRoster} followed without taking it over, if newer than `current`. */
async function followed(
  store: ClientStore,
  current: VerifiedRoster,
): Promise<{ version: number; digest: Uint8Array<ArrayBuffer> } | undefined> {
  const value = await store.getRecord(FOLLOW_RECORD);
  if (value === undefined) return undefined;
  const v = value as Record<string, unknown>;
  if (
    typeof value !== 'object' ||
    value === null ||
    typeof v['version'] !== 'number' ||
    typeof v['digest'] !== 'string'
  )
    throw new StoredStateError('Stored followed roster is malformed');
  return v['version'] >= current.version ? { version: v['version'], digest: fromHex(v['digest']) } : undefined;
}

/**
 * Issues a roster that lists `device` in `role` (replacing its entry if it is already listed, in
 * either role), with every other device of the current roster, and saves it in `store`. Publish it
 * next. A supervisor is certified by the root key, an agent by this organisation's supervisor.
 * @throws RosterError when the organisation's current roster does not verify (expired, say).
 */
export function enrolDevice(
  store: ClientStore,
  org: Organisation,
  device: PublicDevice,
  role: DeviceRole,
  displayName: string,
  options: EnrolDeviceOptions = {},
): Promise<IssuedRoster> {
  const entry: ListedDevice = {
    deviceId: device.deviceId,
    signingPublic: device.signingPublic,
    agreementPublic: device.agreementPublic,
    displayName,
    role,
    ...(role === 'supervisor' && options.administer === true ? { administer: true } : {}),
  };
  return reissueRoster(
    store,
    org,
    (devices) => [...devices.filter((d) => !bytesEqual(d.deviceId, device.deviceId)), entry],
    options,
  );
}

/**
 * Issues a roster that lists `device` as an agent; see {@link enrolDevice}.
 * @throws RosterError when the organisation's current roster does not verify (expired, say).
 */
export function enrolAgentDevice(
  store: ClientStore,
  org: Organisation,
  device: PublicDevice,
  options: EnrolOptions = {},
): Promise<IssuedRoster> {
  return enrolDevice(store, org, device, 'agent', options.displayName ?? 'FAQ bot', options);
}

/**
 * Issues a roster without device `deviceId` (agent or supervisor) and saves it in `store`. Once
 * published, the relay closes the device's sockets and refuses it, and every client's next chain
 * leaves it out. Refuses to drop the supervisor device that signs the roster.
 * @throws TypeError when no device has that id, or it is this organisation's signing supervisor.
 * @throws RosterError as for {@link enrolDevice}.
 */
export function removeDevice(
  store: ClientStore,
  org: Organisation,
  deviceId: Uint8Array,
  options: RosterChangeOptions = {},
): Promise<IssuedRoster> {
  if (bytesEqual(deviceId, org.supervisor.deviceId))
    throw new TypeError('The supervisor device that signs the roster cannot remove itself');
  return reissueRoster(
    store,
    org,
    (devices) => {
      const kept = devices.filter((d) => !bytesEqual(d.deviceId, deviceId));
      if (kept.length === devices.length) throw new TypeError(`No device ${toHex(deviceId)} on the roster`);
      return kept;
    },
    options,
  );
}

/**
 * Issues a roster without agent `deviceId`; see {@link removeDevice}.
 * @throws TypeError when no agent device has that id; RosterError as for {@link enrolDevice}.
 */
export async function removeAgentDevice(
  store: ClientStore,
  org: Organisation,
  deviceId: Uint8Array,
  options: RosterChangeOptions = {},
): Promise<IssuedRoster> {
  const roster = await currentRoster(store, org);
  if (!roster.agents.some((a) => bytesEqual(a.deviceId, deviceId)))
    throw new TypeError(`No agent device ${toHex(deviceId)} on the roster`);
  return removeDevice(store, org, deviceId, options);
}

/**
 * Re-certifies everyone on the current roster after `change` (supervisors by the root, agents by
 * the supervisor), all valid for the same lifetime: a roster stops verifying as soon as any
 * certificate on it expires, so the roster must not outlive them. The organisation's own supervisor
 * stays first and stays on, whatever `change` returns, since it signs the roster.
 */
async function reissueRoster(
  store: ClientStore,
  org: Organisation,
  change: (devices: readonly ListedDevice[]) => readonly ListedDevice[],
  options: RosterChangeOptions,
): Promise<IssuedRoster> {
  const now = Date.now();
  const current = await currentRoster(store, org, now);
  const listed = (c: VerifiedCertificate): ListedDevice => ({
    deviceId: c.deviceId,
    signingPublic: c.signingPublic,
    agreementPublic: c.agreementPublic,
    displayName: c.displayName,
    role: c.role,
    administer: c.administer,
  });
  const listedNow = current.devices.map(listed);
  // Likewise this browser's console device, when a roster adopted from elsewhere left it out.
  if (!listedNow.some((d) => bytesEqual(d.deviceId, org.agent.deviceId)))
    listedNow.push({
      deviceId: org.agent.deviceId,
      signingPublic: org.agent.signingPublic,
      agreementPublic: org.agent.agreementPublic,
      displayName: 'Agent',
      role: 'agent',
    });
  const changed = change(listedNow);
  // This browser's supervisor signs the roster, so it is always on it; a roster adopted from
  // elsewhere that dropped it (issued before rosters were carried over) puts it back.
  const onRoster = current.supervisors.find((s) => bytesEqual(s.deviceId, org.supervisor.deviceId));
  const self: ListedDevice = onRoster
    ? listed(onRoster)
    : {
        deviceId: org.supervisor.deviceId,
        signingPublic: org.supervisor.signingPublic,
        agreementPublic: org.supervisor.agreementPublic,
        displayName: 'Supervisor',
        role: 'supervisor',
      };
  const others = changed.filter((d) => !bytesEqual(d.deviceId, org.supervisor.deviceId));
  const issuedAt = now - 60_000;
  const expiresAt = now + (options.lifetimeMs ?? 30 * DAY);
  const byRoot = { privateKey: org.rootKey.privateKey, publicKey: org.rootPublic };
  const bySupervisor = { privateKey: org.supervisor.signing.privateKey, publicKey: org.supervisor.signingPublic };
  // Administering certificates live days (docs/protocol.md §4.2): this console's own always, and
  // a colleague's only when the roster held here already lets it administer.
  const administers = (device: ListedDevice): boolean =>
    bytesEqual(device.deviceId, org.supervisor.deviceId) || device.administer === true;
  const certify = (device: ListedDevice): Promise<Uint8Array<ArrayBuffer>> =>
    issueCertificate(
      {
        orgId: org.orgId,
        deviceId: device.deviceId,
        displayName: device.displayName,
        role: device.role,
        administer: device.role === 'supervisor' && administers(device),
        signingPublic: device.signingPublic,
        agreementPublic: device.agreementPublic,
        issuedAt,
        expiresAt:
          device.role === 'supervisor' && administers(device)
            ? Math.min(expiresAt, issuedAt + MAX_ADMINISTER_LIFETIME_MS)
            : expiresAt,
      },
      device.role === 'supervisor' ? byRoot : bySupervisor,
    );
  const follows = await followed(store, current);
  const version = (follows?.version ?? current.version) + 1;
  const roster = await issueRoster(
    {
      orgId: org.orgId,
      version,
      previousDigest: follows?.digest ?? current.digest,
      issuedAt,
      expiresAt,
      archivePublic: await exportPublicKey(org.archive.publicKey),
      supervisors: await Promise.all([self, ...others.filter((d) => d.role === 'supervisor')].map(certify)),
      agents: await Promise.all(others.filter((d) => d.role === 'agent').map(certify)),
    },
    byRoot,
  );
  // Saved before it is published: a version the relay has must never be issued twice with other bytes.
  await store.putRecord(ROSTER_RECORD, { roster: toHex(roster), version, expiresAt });
  return { rootPublic: org.rootPublic, rootKey: org.rootKey, roster, version };
}
