/**
 * The supervisor's side of enrolment: a new roster that lists the bot's device, signed by the
 * organisation's supervisor. `@sealchat/client`'s bootstrap issues a roster with exactly one agent
 * device; a bot is a second one, so this re-issues the roster with every device it already lists,
 * plus (or minus) one.
 */
import type { ClientStore, Organisation } from '@sealchat/client';
import {
  bytesEqual,
  exportPublicKey,
  issueCertificate,
  issueRoster,
  toHex,
  verifyRoster,
  type PublicDevice,
  type VerifiedCertificate,
} from '@sealchat/protocol';

const DAY = 24 * 60 * 60 * 1000;
/**
 * Where `loadOrCreateOrganisation` keeps the roster it issued. Written here too, so that the next
 * load (the console's, or this tool's) sees the new version instead of re-publishing an older one,
 * which the relay would refuse as a rollback.
 */
const ROSTER_RECORD = 'org/roster';

export interface RosterChangeOptions {
  /** Lifetime of the new roster and of every certificate on it. Default 30 days. */
  readonly lifetimeMs?: number;
}

export interface EnrolOptions extends RosterChangeOptions {
  /** The name visitors see on the bot's messages. Default "FAQ bot". */
  readonly displayName?: string;
}

/** A roster issued and saved in the organisation's store, ready for `publishRoster`. */
export interface IssuedRoster {
  readonly rootPublic: Uint8Array<ArrayBuffer>;
  readonly roster: Uint8Array<ArrayBuffer>;
  readonly version: number;
}

type Listed = Pick<VerifiedCertificate, 'deviceId' | 'signingPublic' | 'agreementPublic' | 'displayName'>;

/**
 * Issues a roster that lists `device` as an agent (replacing its entry if it is already listed),
 * with every other device of the current roster, and saves it in `store`. Publish it next.
 * @throws RosterError when the organisation's current roster does not verify (expired, say).
 */
export function enrolAgentDevice(
  store: ClientStore,
  org: Organisation,
  device: PublicDevice,
  options: EnrolOptions = {},
): Promise<IssuedRoster> {
  const displayName = options.displayName ?? 'FAQ bot';
  return reissue(
    store,
    org,
    (agents) => [...agents.filter((a) => !bytesEqual(a.deviceId, device.deviceId)), { ...device, displayName }],
    options,
  );
}

/**
 * Issues a roster without agent `deviceId` and saves it in `store`. Once published, the relay
 * closes the device's sockets and refuses it, and every client's next chain leaves it out.
 * @throws TypeError when no agent device has that id; RosterError as for {@link enrolAgentDevice}.
 */
export function removeAgentDevice(
  store: ClientStore,
  org: Organisation,
  deviceId: Uint8Array,
  options: RosterChangeOptions = {},
): Promise<IssuedRoster> {
  return reissue(
    store,
    org,
    (agents) => {
      const kept = agents.filter((a) => !bytesEqual(a.deviceId, deviceId));
      if (kept.length === agents.length) throw new TypeError(`No agent device ${toHex(deviceId)} on the roster`);
      return kept;
    },
    options,
  );
}

/**
 * Re-certifies everyone on the current roster (supervisors by the root, agents by the supervisor),
 * all valid for the same lifetime: a roster stops verifying as soon as any certificate on it
 * expires, so the roster must not outlive them.
 */
async function reissue(
  store: ClientStore,
  org: Organisation,
  change: (agents: readonly Listed[]) => readonly Listed[],
  options: RosterChangeOptions,
): Promise<IssuedRoster> {
  const now = Date.now();
  const current = await verifyRoster(org.roster, { orgRootKey: org.rootPublic, now });
  const agents = change(current.agents);
  const issuedAt = now - 60_000;
  const expiresAt = now + (options.lifetimeMs ?? 30 * DAY);
  const byRoot = { privateKey: org.rootKey.privateKey, publicKey: org.rootPublic };
  const bySupervisor = { privateKey: org.supervisor.signing.privateKey, publicKey: org.supervisor.signingPublic };
  const certify = (
    device: Listed,
    role: 'agent' | 'supervisor',
    issuer: typeof byRoot,
  ): Promise<Uint8Array<ArrayBuffer>> =>
    issueCertificate(
      {
        orgId: org.orgId,
        deviceId: device.deviceId,
        displayName: device.displayName,
        role,
        signingPublic: device.signingPublic,
        agreementPublic: device.agreementPublic,
        issuedAt,
        expiresAt,
      },
      issuer,
    );
  const version = current.version + 1;
  const roster = await issueRoster(
    {
      orgId: org.orgId,
      version,
      issuedAt,
      expiresAt,
      archivePublic: await exportPublicKey(org.archive.publicKey),
      supervisors: await Promise.all(current.supervisors.map((s) => certify(s, 'supervisor', byRoot))),
      agents: await Promise.all(agents.map((a) => certify(a, 'agent', bySupervisor))),
    },
    bySupervisor,
  );
  // Saved before it is published: a version the relay has must never be issued twice with other bytes.
  await store.putRecord(ROSTER_RECORD, { roster: toHex(roster), version, expiresAt });
  return { rootPublic: org.rootPublic, roster, version };
}
