import {
  ByteReader,
  ByteWriter,
  ORG_ID_LENGTH,
  PUBLIC_KEY_LENGTH,
  SealchatError,
  bytesEqual,
  concatBytes,
  deviceIdFromSigningKey,
  formatOrgKey,
  fromBase64Url,
  labelledHash,
  orgIdFromRootKey,
  toBase64Url,
  toHex,
  utf8Encode,
  type DeviceRole,
  type PublicDevice,
} from '@sealchat/protocol';

/**
 * The two codes of an invitation (docs/team.md): the invite a supervisor hands to a new member
 * (`sci1…`), and the device request the member's browser hands back (`scj1…`). Both are
 * base64url with a 4-byte checksum, so a mistyped or truncated code is told apart from a forged one.
 * The request carries an HMAC-SHA-256 under a key derived (HKDF-SHA-256) from the invite's secret:
 * only whoever holds the invite can make a request the supervisor will accept for it.
 */

export const INVITE_CODE_PREFIX = 'sci1';
export const JOIN_REQUEST_PREFIX = 'scj1';
export const INVITE_ID_LENGTH = 16;
export const INVITE_SECRET_LENGTH = 32;
/** Names as certificates carry them; the certificate codec allows 256 bytes, people need far fewer. */
export const MAX_MEMBER_NAME_LENGTH = 64;

const FORMAT_VERSION = 1;
const CHECKSUM_LENGTH = 4;
const MAC_LENGTH = 32;
const ROLE_CODES: Record<DeviceRole, number> = { agent: 1, supervisor: 2 };
const INVITE_CHECKSUM_CONTEXT = 'sealchat/v1 invite-code-checksum';
const REQUEST_CHECKSUM_CONTEXT = 'sealchat/v1 join-request-checksum';
const REQUEST_MAC_INFO = utf8Encode('sealchat/v1 join-request-mac');
/** The longest code either parser reads; anything longer is not one of ours and is not decoded. */
const MAX_CODE_CHARS = 1024;

/** The text is not a well-formed invite code or device request: a typo, a truncation, the wrong kind of code. */
export class TeamCodeError extends SealchatError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('SEALCHAT_E_TEAM_CODE', message, options);
  }
}

/** What an invite code carries. `secret` must stay with the invitee: it is what makes a request acceptable. */
export interface InviteCode {
  readonly orgRootKey: Uint8Array<ArrayBuffer>;
  readonly orgId: Uint8Array<ArrayBuffer>;
  /** The org key (`sc1…`) for display and for pinning. */
  readonly orgKey: string;
  readonly inviteId: Uint8Array<ArrayBuffer>;
  readonly secret: Uint8Array<ArrayBuffer>;
  /** The name the supervisor chose; the certificate carries it. */
  readonly name: string;
  readonly role: DeviceRole;
  /** ms since the epoch. */
  readonly expiresAt: number;
}

/** What a device request carries, before its MAC is checked (that needs the invite's secret). */
export interface JoinRequest {
  readonly orgId: Uint8Array<ArrayBuffer>;
  readonly inviteId: Uint8Array<ArrayBuffer>;
  readonly name: string;
  readonly device: PublicDevice;
  /** The bytes the MAC covers, and the MAC. */
  readonly macInput: Uint8Array<ArrayBuffer>;
  readonly mac: Uint8Array<ArrayBuffer>;
}

/** @throws TypeError for a name that is empty, too long, or has control characters. */
export function checkMemberName(name: string): string {
  const trimmed = name.trim().normalize('NFC');
  if (trimmed.length === 0) throw new TypeError('Enter a name for the new member');
  if (trimmed.length > MAX_MEMBER_NAME_LENGTH)
    throw new TypeError(`A member's name is at most ${MAX_MEMBER_NAME_LENGTH} characters`);
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/.test(trimmed))
    throw new TypeError('A name cannot contain control characters');
  return trimmed;
}

/** `sci1` + base64url(body ‖ checksum). */
export async function formatInviteCode(invite: Omit<InviteCode, 'orgId' | 'orgKey'>): Promise<string> {
  const body = new ByteWriter()
    .u8(FORMAT_VERSION)
    .fixed(invite.orgRootKey, PUBLIC_KEY_LENGTH)
    .fixed(invite.inviteId, INVITE_ID_LENGTH)
    .fixed(invite.secret, INVITE_SECRET_LENGTH)
    .u8(ROLE_CODES[invite.role])
    .u64(invite.expiresAt)
    .string(invite.name)
    .finish();
  return INVITE_CODE_PREFIX + toBase64Url(concatBytes(body, await checksum(INVITE_CHECKSUM_CONTEXT, body)));
}

/**
 * Parses an invite code, or a link holding one (`…#invite=sci1…`).
 * @throws TeamCodeError when it is not one, is mistyped (checksum) or truncated.
 */
export async function parseInviteCode(text: string): Promise<InviteCode> {
  const body = await unwrap(extractCode(text, 'invite'), INVITE_CODE_PREFIX, INVITE_CHECKSUM_CONTEXT, 'invite code');
  try {
    const r = new ByteReader(body);
    if (r.u8() !== FORMAT_VERSION) throw new TeamCodeError('This invite code is from another Sealchat version');
    const orgRootKey = r.fixed(PUBLIC_KEY_LENGTH);
    const inviteId = r.fixed(INVITE_ID_LENGTH);
    const secret = r.fixed(INVITE_SECRET_LENGTH);
    const role = roleOf(r.u8());
    const expiresAt = r.u64();
    const name = checkMemberName(r.string(4 * MAX_MEMBER_NAME_LENGTH));
    r.end();
    const [orgId, orgKey] = await Promise.all([orgIdFromRootKey(orgRootKey), formatOrgKey(orgRootKey)]);
    return { orgRootKey, orgId, orgKey, inviteId, secret, name, role, expiresAt };
  } catch (error) {
    throw asCodeError(error, 'invite code');
  }
}

/**
 * The device request for `invite`: the invite id, the name, the device's public keys, all under an
 * HMAC keyed from the invite's secret; `scj1` + base64url(body ‖ mac ‖ checksum).
 */
export async function formatJoinRequest(invite: InviteCode, device: PublicDevice): Promise<string> {
  const body = new ByteWriter()
    .u8(FORMAT_VERSION)
    .fixed(invite.orgId, ORG_ID_LENGTH)
    .fixed(invite.inviteId, INVITE_ID_LENGTH)
    .string(invite.name)
    .fixed(device.signingPublic, PUBLIC_KEY_LENGTH)
    .fixed(device.agreementPublic, PUBLIC_KEY_LENGTH)
    .finish();
  const key = await requestMacKey(invite.secret, invite.inviteId, ['sign']);
  const mac = new Uint8Array(await crypto.subtle.sign('HMAC', key, body));
  const signed = concatBytes(body, mac);
  return JOIN_REQUEST_PREFIX + toBase64Url(concatBytes(signed, await checksum(REQUEST_CHECKSUM_CONTEXT, signed)));
}

/**
 * Parses a device request. Its MAC is not checked here: {@link verifyJoinRequestMac} does that with
 * the invite's secret.
 * @throws TeamCodeError when it is not one, is mistyped (checksum) or truncated.
 */
export async function parseJoinRequest(text: string): Promise<JoinRequest> {
  const signed = await unwrap(
    extractCode(text, 'request'),
    JOIN_REQUEST_PREFIX,
    REQUEST_CHECKSUM_CONTEXT,
    'device request',
  );
  try {
    if (signed.length < MAC_LENGTH) throw new TeamCodeError('This device request is truncated');
    const macInput = signed.slice(0, signed.length - MAC_LENGTH);
    const mac = signed.slice(signed.length - MAC_LENGTH);
    const r = new ByteReader(macInput);
    if (r.u8() !== FORMAT_VERSION) throw new TeamCodeError('This device request is from another Sealchat version');
    const orgId = r.fixed(ORG_ID_LENGTH);
    const inviteId = r.fixed(INVITE_ID_LENGTH);
    const name = checkMemberName(r.string(4 * MAX_MEMBER_NAME_LENGTH));
    const signingPublic = r.fixed(PUBLIC_KEY_LENGTH);
    const agreementPublic = r.fixed(PUBLIC_KEY_LENGTH);
    r.end();
    const deviceId = await deviceIdFromSigningKey(signingPublic);
    return { orgId, inviteId, name, device: { deviceId, signingPublic, agreementPublic }, macInput, mac };
  } catch (error) {
    throw asCodeError(error, 'device request');
  }
}

/** Whether the request's MAC is right for the invite secret; compared inside WebCrypto (`verify`). */
export async function verifyJoinRequestMac(request: JoinRequest, secret: Uint8Array<ArrayBuffer>): Promise<boolean> {
  const key = await requestMacKey(secret, request.inviteId, ['verify']);
  return crypto.subtle.verify('HMAC', key, request.mac, request.macInput);
}

/** The device id as people compare it: hex, in groups of four. */
export function formatDeviceId(deviceId: Uint8Array): string {
  return toHex(deviceId).replace(/(.{4})(?=.)/g, '$1 ');
}

/** HKDF-SHA-256(secret, salt = invite id, info) → a non-extractable HMAC-SHA-256 key. */
async function requestMacKey(
  secret: Uint8Array<ArrayBuffer>,
  inviteId: Uint8Array<ArrayBuffer>,
  usages: KeyUsage[],
): Promise<CryptoKey> {
  const master = await crypto.subtle.importKey('raw', secret, 'HKDF', false, ['deriveKey']);
  return crypto.subtle.deriveKey(
    { name: 'HKDF', hash: 'SHA-256', salt: inviteId, info: REQUEST_MAC_INFO },
    master,
    { name: 'HMAC', hash: 'SHA-256', length: 256 },
    false,
    usages,
  );
}

function checksum(context: string, body: Uint8Array): Promise<Uint8Array<ArrayBuffer>> {
  return labelledHash(context, body, CHECKSUM_LENGTH);
}

/** Takes the code out of a link (`#invite=…`, `?request=…`) or returns the trimmed text. */
function extractCode(text: string, param: string): string {
  const trimmed = text.trim();
  const match = new RegExp(`[#?&]${param}=([^&#\\s]*)`).exec(trimmed);
  return match ? decodeURIComponent(match[1]!) : trimmed.replace(/\s+/g, '');
}

async function unwrap(code: string, prefix: string, context: string, what: string): Promise<Uint8Array<ArrayBuffer>> {
  if (code.length > MAX_CODE_CHARS) throw new TeamCodeError(`This is too long to be a ${what}`);
  if (!code.startsWith(prefix)) {
    const other = code.startsWith(INVITE_CODE_PREFIX)
      ? ': this is an invite code'
      : code.startsWith(JOIN_REQUEST_PREFIX)
        ? ': this is a device request'
        : '';
    throw new TeamCodeError(`A ${what} starts with "${prefix}"${other}`);
  }
  let raw: Uint8Array<ArrayBuffer>;
  try {
    raw = fromBase64Url(code.slice(prefix.length));
  } catch (cause) {
    throw new TeamCodeError(`This ${what} has characters that cannot be in one; check for a typo`, { cause });
  }
  if (raw.length <= CHECKSUM_LENGTH) throw new TeamCodeError(`This ${what} is truncated`);
  const body = raw.slice(0, raw.length - CHECKSUM_LENGTH);
  const expected = await checksum(context, body);
  if (!bytesEqual(expected, raw.slice(raw.length - CHECKSUM_LENGTH)))
    throw new TeamCodeError(`This ${what} is mistyped or incomplete (its checksum does not match); copy it again`);
  return body;
}

function roleOf(code: number): DeviceRole {
  const role = (Object.keys(ROLE_CODES) as DeviceRole[]).find((name) => ROLE_CODES[name] === code);
  if (!role) throw new TeamCodeError('This code names an unknown role');
  return role;
}

function asCodeError(error: unknown, what: string): TeamCodeError {
  if (error instanceof TeamCodeError) return error;
  return new TeamCodeError(`This ${what} does not decode: ${error instanceof Error ? error.message : String(error)}`, {
    cause: error,
  });
}
