import {
  SealchatError,
  bytesEqual,
  fromBase64Url,
  fromHex,
  randomBytes,
  toBase64Url,
  toHex,
  type DeviceRole,
  type PublicDevice,
} from '@sealchat/protocol';
import type { ClientStore } from './client-store.js';
import { StoredStateError } from './errors.js';
import type { Organisation } from './organisation-bootstrap.js';
import {
  INVITE_ID_LENGTH,
  INVITE_SECRET_LENGTH,
  checkMemberName,
  formatDeviceId,
  formatInviteCode,
  parseJoinRequest,
  verifyJoinRequestMac,
} from './team-codes.js';
import {
  currentRoster,
  enrolDevice,
  removeDevice,
  type IssuedRoster,
  type RosterChangeOptions,
} from './team-roster.js';

/**
 * A team of people and devices under one organisation: a supervisor invites someone (a one-time,
 * expiring code), the invitee's browser makes its keys and answers with a device request bound to
 * the invite, the supervisor approves it onto the roster, and later revokes it. docs/team.md.
 */

const HOUR = 60 * 60 * 1000;
const DAY = 24 * HOUR;
const INVITES_RECORD = 'team/invites';
const INVITES_FORMAT = 'sealchat-team-invites';
/** Used and expired invites are kept this long, for the list, then dropped. */
const KEEP_SETTLED_MS = 7 * DAY;

// --- errors -------------------------------------------------------------------------------------

/** No invite with this id in this store: never made here, cancelled, or long settled. */
export class InviteNotFoundError extends SealchatError {
  constructor(message = 'No such invite in this browser: it was cancelled, or made elsewhere') {
    super('SEALCHAT_E_INVITE_NOT_FOUND', message);
  }
}

/** The invite was already used to approve a device; an invite admits one device only. */
export class InviteUsedError extends SealchatError {
  constructor(message = 'This invite was already used; make a new one') {
    super('SEALCHAT_E_INVITE_USED', message);
  }
}

/** The invite's time is up. */
export class InviteExpiredError extends SealchatError {
  constructor(message = 'This invite has expired; ask for a new one') {
    super('SEALCHAT_E_INVITE_EXPIRED', message);
  }
}

/** The device request's MAC does not match the invite's secret: it was not made with this invite, or was altered. */
export class InviteMacError extends SealchatError {
  constructor(message = 'This device request was not made with this invite, or was altered; do not approve it') {
    super('SEALCHAT_E_INVITE_MAC', message);
  }
}

/** The code or request belongs to another organisation than the one it was given to. */
export class WrongOrganisationError extends SealchatError {
  constructor(message = 'This device request is for another organisation') {
    super('SEALCHAT_E_WRONG_ORG', message);
  }
}

/** Too many invites are pending at once (`maxPendingInvites`). */
export class TooManyInvitesError extends SealchatError {
  constructor(limit: number) {
    super('SEALCHAT_E_LIMIT', `At most ${limit} invites can be pending at once; cancel some first`);
  }
}

// --- supervisor side: invites -------------------------------------------------------------------

export type InviteState = 'pending' | 'used' | 'expired';

/** An invite as the supervisor's list shows it. Never holds the secret. */
export interface InviteInfo {
  /** Hex. */
  readonly id: string;
  readonly name: string;
  readonly role: DeviceRole;
  readonly createdAt: number;
  readonly expiresAt: number;
  readonly state: InviteState;
  /** The device approved with it, once used (grouped hex, {@link formatDeviceId}). */
  readonly device?: string;
}

export interface CreateInviteOptions {
  /** The new member's name, as the certificate and visitors will show it; 1 to 64 characters. */
  readonly name: string;
  /** Default `agent`. */
  readonly role?: DeviceRole;
  /** How long the invite can be used. Default 24 hours; from 1 minute to 30 days. */
  readonly expiresInMs?: number;
  /** Pending invites allowed at once. Default 50. */
  readonly maxPendingInvites?: number;
  /** For tests: the current time, ms since the epoch. */
  readonly now?: number;
}

interface StoredInvite {
  readonly id: string;
  readonly name: string;
  readonly role: DeviceRole;
  readonly createdAt: number;
  readonly expiresAt: number;
  readonly used: boolean;
  readonly usedAt?: number;
  readonly device?: string;
  /** base64url; only while pending. Dropped as soon as the invite is used or expires. */
  readonly secret?: string;
}

/**
 * Creates a one-time invite: a random 32-byte secret, kept in `store` until the invite is used or
 * expires, and the code to hand to the invitee (`sci1…`; put it in a link's fragment, which
 * browsers do not send to servers). The code carries the org key, so it also tells the invitee
 * which organisation to trust: send it over a channel you trust.
 * @throws TypeError for a bad name, role or expiry.
 * @throws TooManyInvitesError when `maxPendingInvites` are pending.
 */
export async function createInvite(
  store: ClientStore,
  org: Pick<Organisation, 'rootPublic'>,
  options: CreateInviteOptions,
): Promise<{ invite: InviteInfo; code: string }> {
  const now = options.now ?? Date.now();
  const name = checkMemberName(options.name);
  const role = options.role ?? 'agent';
  if (role !== 'agent' && role !== 'supervisor') throw new TypeError('An invite is for an agent or a supervisor');
  const lifetime = options.expiresInMs ?? DAY;
  if (!Number.isSafeInteger(lifetime) || lifetime < 60_000 || lifetime > 30 * DAY)
    throw new TypeError('An invite expires between 1 minute and 30 days after it is made');
  const limit = options.maxPendingInvites ?? 50;
  const invites = await loadInvites(store, now);
  if (invites.filter((i) => stateOf(i, now) === 'pending').length >= limit) throw new TooManyInvitesError(limit);
  const inviteId = randomBytes(INVITE_ID_LENGTH);
  const secret = randomBytes(INVITE_SECRET_LENGTH);
  const stored: StoredInvite = {
    id: toHex(inviteId),
    name,
    role,
    createdAt: now,
    expiresAt: now + lifetime,
    used: false,
    secret: toBase64Url(secret),
  };
  await saveInvites(store, [...invites, stored], now);
  const code = await formatInviteCode({
    orgRootKey: org.rootPublic,
    inviteId,
    secret,
    name,
    role,
    expiresAt: stored.expiresAt,
  });
  secret.fill(0);
  return { invite: infoOf(stored, now), code };
}

/**
 * The invites in `store`, newest first: pending, used (with the device), expired.
 * @throws StoredStateError when the record is malformed.
 */
export async function listInvites(store: ClientStore, now = Date.now()): Promise<InviteInfo[]> {
  return (await loadInvites(store, now)).map((i) => infoOf(i, now)).reverse();
}

/**
 * The code of a pending invite again (to copy it once more).
 * @throws InviteNotFoundError, InviteUsedError, InviteExpiredError.
 */
export async function inviteCodeOf(
  store: ClientStore,
  org: Pick<Organisation, 'rootPublic'>,
  inviteId: string,
  now = Date.now(),
): Promise<string> {
  const invite = pendingInvite(await loadInvites(store, now), inviteId, now);
  const secret = fromBase64Url(invite.secret!);
  const code = await formatInviteCode({
    orgRootKey: org.rootPublic,
    inviteId: fromHex(invite.id),
    secret,
    name: invite.name,
    role: invite.role,
    expiresAt: invite.expiresAt,
  });
  secret.fill(0);
  return code;
}

/** Cancels an invite: its secret is deleted, so no request made with it can be approved. No-op for an unknown id. */
export async function cancelInvite(store: ClientStore, inviteId: string, now = Date.now()): Promise<void> {
  const invites = await loadInvites(store, now);
  await saveInvites(
    store,
    invites.filter((i) => i.id !== inviteId),
    now,
  );
}

// --- supervisor side: approval ------------------------------------------------------------------

/** A device request that passed every check, ready to show for approval. */
export interface ReviewedRequest {
  readonly inviteId: string;
  /** The name from the invite, which the certificate will carry. */
  readonly name: string;
  /** The name the request carried (the same unless the invitee's software changed it). */
  readonly requestedName: string;
  readonly role: DeviceRole;
  readonly device: PublicDevice;
  /** The device id grouped for reading aloud: compare it with the one the invitee's screen shows. */
  readonly fingerprint: string;
}

/**
 * Checks a device request against this organisation and its invites, in this order: it parses
 * (checksum), it is for this organisation, its invite exists here, is not used, has not expired, and
 * its MAC is right under the invite's secret. Changes nothing.
 * @throws TeamCodeError, WrongOrganisationError, InviteNotFoundError, InviteUsedError,
 *   InviteExpiredError, InviteMacError — one per failed check.
 */
export async function reviewJoinRequest(
  store: ClientStore,
  org: Pick<Organisation, 'orgId'>,
  text: string,
  now = Date.now(),
): Promise<ReviewedRequest> {
  const request = await parseJoinRequest(text);
  if (!bytesEqual(request.orgId, org.orgId)) throw new WrongOrganisationError();
  const invite = pendingInvite(await loadInvites(store, now), toHex(request.inviteId), now);
  if (!(await verifyJoinRequestMac(request, fromBase64Url(invite.secret!)))) throw new InviteMacError();
  return {
    inviteId: invite.id,
    name: invite.name,
    requestedName: request.name,
    role: invite.role,
    device: request.device,
    fingerprint: formatDeviceId(request.device.deviceId),
  };
}

/**
 * Approves a device request: checks it again ({@link reviewJoinRequest}), issues its certificate in
 * the invite's role and name on a new roster (saved in `store`), and marks the invite used, which
 * deletes its secret. Publish the roster next (`publishRoster`); the invitee's browser is waiting for it.
 * @throws as {@link reviewJoinRequest}; TypeError when the request names this organisation's own
 *   supervisor device; RosterError when the current roster does not verify.
 */
export async function approveJoinRequest(
  store: ClientStore,
  org: Organisation,
  text: string,
  options: RosterChangeOptions & { readonly now?: number } = {},
): Promise<{ member: ReviewedRequest; roster: IssuedRoster }> {
  const now = options.now ?? Date.now();
  const member = await reviewJoinRequest(store, org, text, now);
  if (bytesEqual(member.device.deviceId, org.supervisor.deviceId))
    throw new TypeError("This is the supervisor device's own key; it is on the roster already");
  const roster = await enrolDevice(store, org, member.device, member.role, member.name, options);
  const invites = await loadInvites(store, now);
  await saveInvites(
    store,
    invites.map((i): StoredInvite => {
      if (i.id !== member.inviteId) return i;
      return { ...withoutSecret(i), used: true, usedAt: now, device: toHex(member.device.deviceId) };
    }),
    now,
  );
  return { member, roster };
}

// --- supervisor side: the roster ----------------------------------------------------------------

/** A device on the roster, as the team list shows it. */
export interface TeamMember {
  readonly deviceId: Uint8Array<ArrayBuffer>;
  readonly fingerprint: string;
  readonly name: string;
  readonly role: DeviceRole;
  /** One of this browser's own devices (the supervisor, or its console's agent): not revocable here. */
  readonly self: boolean;
}

/**
 * Everyone on the organisation's current roster (the one saved in `store` if newer than `org`'s).
 * @throws RosterError when it does not verify; StoredStateError for a malformed record.
 */
export async function listTeam(
  store: ClientStore,
  org: Organisation,
): Promise<{ version: number; members: TeamMember[] }> {
  const roster = await currentRoster(store, org);
  return {
    version: roster.version,
    members: roster.devices.map((d) => ({
      deviceId: d.deviceId,
      fingerprint: formatDeviceId(d.deviceId),
      name: d.displayName,
      role: d.role,
      self: isOwnDevice(org, d.deviceId),
    })),
  };
}

/**
 * Revokes a device: a new roster without it, saved in `store`. Publish it next: the relay then closes
 * the device's sockets and refuses it, and every chain begun after that leaves it out.
 * @throws TypeError for this browser's own devices, or a device not on the roster; RosterError.
 */
export function revokeDevice(
  store: ClientStore,
  org: Organisation,
  deviceId: Uint8Array,
  options: RosterChangeOptions = {},
): Promise<IssuedRoster> {
  if (isOwnDevice(org, deviceId))
    return Promise.reject(new TypeError("This browser's own devices cannot be revoked here"));
  return removeDevice(store, org, deviceId, options);
}

function isOwnDevice(org: Pick<Organisation, 'supervisor' | 'agent'>, deviceId: Uint8Array): boolean {
  return bytesEqual(deviceId, org.supervisor.deviceId) || bytesEqual(deviceId, org.agent.deviceId);
}

// --- the invites record -------------------------------------------------------------------------

function stateOf(invite: StoredInvite, now: number): InviteState {
  return invite.used ? 'used' : invite.expiresAt <= now ? 'expired' : 'pending';
}

function infoOf(invite: StoredInvite, now: number): InviteInfo {
  return {
    id: invite.id,
    name: invite.name,
    role: invite.role,
    createdAt: invite.createdAt,
    expiresAt: invite.expiresAt,
    state: stateOf(invite, now),
    ...(invite.device ? { device: formatDeviceId(fromHex(invite.device)) } : {}),
  };
}

function withoutSecret(invite: StoredInvite): StoredInvite {
  const copy: { -readonly [K in keyof StoredInvite]: StoredInvite[K] } = { ...invite };
  delete copy.secret;
  return copy;
}

/** @throws InviteNotFoundError, InviteUsedError, InviteExpiredError. */
function pendingInvite(invites: readonly StoredInvite[], id: string, now: number): StoredInvite {
  const invite = invites.find((i) => i.id === id);
  if (!invite) throw new InviteNotFoundError();
  const state = stateOf(invite, now);
  if (state === 'used') throw new InviteUsedError();
  if (state === 'expired' || invite.secret === undefined) throw new InviteExpiredError();
  return invite;
}

/** Drops secrets of invites no longer pending, and settled invites older than a week. */
async function saveInvites(store: ClientStore, invites: readonly StoredInvite[], now: number): Promise<void> {
  const kept = invites
    .filter((i) => stateOf(i, now) === 'pending' || Math.max(i.usedAt ?? 0, i.expiresAt) + KEEP_SETTLED_MS > now)
    .map((i) => {
      return stateOf(i, now) === 'pending' ? i : withoutSecret(i);
    });
  await store.putRecord(INVITES_RECORD, { format: INVITES_FORMAT, version: 1, invites: kept });
}

async function loadInvites(store: ClientStore, now: number): Promise<StoredInvite[]> {
  const value = await store.getRecord(INVITES_RECORD);
  if (value === undefined) return [];
  const malformed = () => new StoredStateError('Stored team invites are malformed');
  if (typeof value !== 'object' || value === null) throw malformed();
  const v = value as Record<string, unknown>;
  if (v['format'] !== INVITES_FORMAT || v['version'] !== 1 || !Array.isArray(v['invites'])) throw malformed();
  const invites = (v['invites'] as unknown[]).map((entry): StoredInvite => {
    if (typeof entry !== 'object' || entry === null) throw malformed();
    const e = entry as Record<string, unknown>;
    const { id, name, role, createdAt, expiresAt, used, usedAt, device, secret } = e;
    if (
      typeof id !== 'string' ||
      !/^[0-9a-f]{32}$/.test(id) ||
      typeof name !== 'string' ||
      (role !== 'agent' && role !== 'supervisor') ||
      typeof createdAt !== 'number' ||
      typeof expiresAt !== 'number' ||
      typeof used !== 'boolean' ||
      (usedAt !== undefined && typeof usedAt !== 'number') ||
      (device !== undefined && (typeof device !== 'string' || !/^[0-9a-f]{32}$/.test(device))) ||
      (secret !== undefined && typeof secret !== 'string')
    )
      throw malformed();
    if (secret !== undefined && fromBase64Url(secret).length !== INVITE_SECRET_LENGTH) throw malformed();
    return {
      id,
      name,
      role,
      createdAt,
      expiresAt,
      used,
      ...(usedAt === undefined ? {} : { usedAt }),
      ...(device === undefined ? {} : { device }),
      ...(secret === undefined ? {} : { secret }),
    };
  });
  // Expired invites lose their secret on the next write; make sure that write happens.
  if (invites.some((i) => i.secret !== undefined && stateOf(i, now) !== 'pending'))
    await saveInvites(store, invites, now);
  return invites;
}
