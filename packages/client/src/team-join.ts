import {
  bytesEqual,
  fromBase64Url,
  loadOrCreateIdentity,
  orgIdFromRootKey,
  toBase64Url,
  verifyRoster,
  type DeviceIdentity,
  type DeviceRole,
} from '@sealchat/protocol';
import type { ClientStore } from './client-store.js';
import { StoredStateError } from './errors.js';
import { RelayConnection, type RelayConnectionOptions } from './relay-connection.js';
import { formatDeviceId, formatJoinRequest, parseInviteCode } from './team-codes.js';
import { InviteExpiredError } from './team.js';

/**
 * The invitee's side of joining a team (docs/team.md): accept the invite code, which makes this
 * browser's device keys and the device request for the supervisor; then wait until a roster of the
 * organisation lists the device.
 */

const MEMBERSHIP_RECORD = 'team/membership';
const MEMBERSHIP_FORMAT = 'sealchat-team-membership';
/** Key pairs `member/signing` and `member/agreement` in the invitee's store. */
const MEMBER_IDENTITY = 'member';

/** The invitee's side, kept in its store: which organisation, its device, its request, and whether it is on the roster yet. */
export interface Membership {
  readonly orgRootKey: Uint8Array<ArrayBuffer>;
  readonly orgKey: string;
  readonly name: string;
  readonly role: DeviceRole;
  readonly expiresAt: number;
  /** The `scj1…` code to hand to the supervisor. */
  readonly request: string;
  readonly identity: DeviceIdentity;
  readonly fingerprint: string;
  /** Seen on a verified roster of the organisation. */
  readonly joined: boolean;
}

/**
 * Accepts an invite in this browser: the store generates the device's keys (private halves
 * non-extractable), and the device request for the supervisor is made and kept. The invite's secret
 * is used once, here, and not stored. Accepting again (the same or a new invite) keeps the device.
 * @throws TeamCodeError for a code that does not parse; InviteExpiredError when it has expired.
 */
export async function acceptInvite(store: ClientStore, text: string, now = Date.now()): Promise<Membership> {
  const invite = await parseInviteCode(text);
  if (invite.expiresAt <= now) throw new InviteExpiredError();
  const identity = await loadOrCreateIdentity(store, MEMBER_IDENTITY);
  const request = await formatJoinRequest(invite, identity);
  invite.secret.fill(0);
  await store.putRecord(MEMBERSHIP_RECORD, {
    format: MEMBERSHIP_FORMAT,
    version: 1,
    orgRootKey: toBase64Url(invite.orgRootKey),
    orgKey: invite.orgKey,
    name: invite.name,
    role: invite.role,
    expiresAt: invite.expiresAt,
    request,
    joined: false,
  });
  return {
    orgRootKey: invite.orgRootKey,
    orgKey: invite.orgKey,
    name: invite.name,
    role: invite.role,
    expiresAt: invite.expiresAt,
    request,
    identity,
    fingerprint: formatDeviceId(identity.deviceId),
    joined: false,
  };
}

/**
 * The membership kept in `store`, or `undefined` when this browser never accepted an invite.
 * @throws StoredStateError when the record is malformed or the device's keys are gone.
 */
export async function loadMembership(store: ClientStore): Promise<Membership | undefined> {
  const value = await store.getRecord(MEMBERSHIP_RECORD);
  if (value === undefined) return undefined;
  const malformed = () => new StoredStateError('Stored team membership is malformed');
  if (typeof value !== 'object' || value === null) throw malformed();
  const v = value as Record<string, unknown>;
  const { orgRootKey, orgKey, name, role, expiresAt, request, joined } = v;
  if (
    v['format'] !== MEMBERSHIP_FORMAT ||
    v['version'] !== 1 ||
    typeof orgRootKey !== 'string' ||
    typeof orgKey !== 'string' ||
    typeof name !== 'string' ||
    (role !== 'agent' && role !== 'supervisor') ||
    typeof expiresAt !== 'number' ||
    typeof request !== 'string' ||
    typeof joined !== 'boolean'
  )
    throw malformed();
  const [signing, agreement] = await Promise.all([
    store.getKeyPair(`${MEMBER_IDENTITY}/signing`),
    store.getKeyPair(`${MEMBER_IDENTITY}/agreement`),
  ]);
  if (!signing || !agreement) throw new StoredStateError("This browser's team device keys are gone");
  let root: Uint8Array<ArrayBuffer>;
  try {
    root = fromBase64Url(orgRootKey);
  } catch {
    throw malformed();
  }
  const identity = await loadOrCreateIdentity(store, MEMBER_IDENTITY);
  return {
    orgRootKey: root,
    orgKey,
    name,
    role,
    expiresAt,
    request,
    identity,
    fingerprint: formatDeviceId(identity.deviceId),
    joined,
  };
}

/** Forgets the membership (not the device keys): to accept an invite of another organisation. */
export function forgetMembership(store: ClientStore): Promise<void> {
  return store.deleteRecord(MEMBERSHIP_RECORD);
}

export interface WaitForApprovalOptions extends RelayConnectionOptions {
  /** Between two looks at the roster. Default 3 s; at least 250 ms. */
  readonly intervalMs?: number;
  /** Stops waiting (the promise rejects with the signal's reason). */
  readonly signal?: AbortSignal;
}

/**
 * Polls the relay for the organisation's roster until one that verifies under the pinned org key
 * lists this device, then records the membership as joined. Start an `AgentSession` next. The relay
 * cannot hurry this along: it cannot sign a roster.
 * @throws DOMException `AbortError` when `options.signal` aborts.
 */
export async function waitForApproval(
  relayUrl: string,
  store: ClientStore,
  membership: Membership,
  options: WaitForApprovalOptions = {},
): Promise<Membership> {
  const interval = Math.max(250, options.intervalMs ?? 3000);
  const { signal } = options;
  const connection = new RelayConnection(relayUrl, options);
  const opened = new Promise<void>((resolve) => connection.addEventListener('connected', () => resolve()));
  connection.open();
  try {
    await Promise.race([opened, aborted(signal)]);
    for (;;) {
      if (signal?.aborted) throw new DOMException('Stopped waiting for approval', 'AbortError');
      if (await listedOnRelay(connection, membership)) break;
      await Promise.race([new Promise((resolve) => setTimeout(resolve, interval)), aborted(signal)]);
    }
  } finally {
    connection.close();
  }
  const value = await store.getRecord(MEMBERSHIP_RECORD);
  if (typeof value === 'object' && value !== null) await store.putRecord(MEMBERSHIP_RECORD, { ...value, joined: true });
  return { ...membership, joined: true };
}

async function listedOnRelay(connection: RelayConnection, membership: Membership): Promise<boolean> {
  let roster: Uint8Array<ArrayBuffer>;
  try {
    const answer = await connection.request({
      kind: 'get-roster',
      orgId: await orgIdFromRootKey(membership.orgRootKey),
    });
    if (answer.kind !== 'roster') return false;
    roster = answer.roster;
  } catch {
    // Not published yet, or the connection dropped (it reconnects): look again next time.
    return false;
  }
  try {
    const verified = await verifyRoster(roster, { orgRootKey: membership.orgRootKey, now: Date.now() });
    return verified.devices.some((d) => bytesEqual(d.deviceId, membership.identity.deviceId));
  } catch {
    return false;
  }
}

/** Rejects when `signal` aborts, with an Error (`throwIfAborted` rethrows its reason). */
function aborted(signal: AbortSignal | undefined): Promise<never> {
  return new Promise((_, reject) => {
    if (!signal) return;
    const fail = () => reject(new DOMException('Stopped waiting for approval', 'AbortError'));
    if (signal.aborted) fail();
    else signal.addEventListener('abort', fail, { once: true });
  });
}
