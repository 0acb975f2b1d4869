import { ByteReader, ByteWriter, DecodeError, utf8Encode, type DeviceRole } from '@sealchat/protocol';

/**
 * What an audit log entry says happened, and its one canonical encoding (docs/audit-log.md §Entry).
 * The entry is the plaintext a record seals; the chain, signature and encryption are audit-log.ts.
 */

/** Version byte of an entry (docs/audit-log.md §Entry). */
export const AUDIT_ENTRY_VERSION = 1;
/** Longest text field (a name), in UTF-8 bytes; certificates allow display names of the same size. */
export const MAX_AUDIT_TEXT_BYTES = 256;
/** Invite, device and conversation ids are 16 bytes. */
export const AUDIT_ID_LENGTH = 16;
const MAX_ACTION_BYTES = 32;

type Id = Uint8Array<ArrayBuffer>;

/**
 * One team or organisation action. `name` is always what the console showed at the time (the
 * organisation's name, or the member's or bot's name); ids are raw bytes.
 */
export type AuditEvent =
  | { readonly action: 'org-created'; readonly name: string }
  | { readonly action: 'org-restored'; readonly name: string }
  | {
      readonly action: 'invite-created';
      readonly inviteId: Id;
      readonly name: string;
      readonly role: DeviceRole;
      /** Milliseconds since the epoch. */
      readonly expiresAt: number;
    }
  | { readonly action: 'invite-cancelled'; readonly inviteId: Id; readonly name: string }
  | { readonly action: 'device-approved'; readonly deviceId: Id; readonly name: string; readonly role: DeviceRole }
  | { readonly action: 'device-revoked'; readonly deviceId: Id; readonly name: string; readonly role: DeviceRole }
  | { readonly action: 'bot-enrolled'; readonly deviceId: Id; readonly name: string }
  | { readonly action: 'bot-removed'; readonly deviceId: Id; readonly name: string }
  | { readonly action: 'roster-published'; readonly version: number }
  /** `days` = 0: back to the relay's default. */
  | { readonly action: 'retention-set'; readonly days: number }
  | { readonly action: 'conversation-erased'; readonly conversationId: Id }
  | { readonly action: 'transcript-exported'; readonly conversationId: Id }
  /** The org's policy on agents reading conversations from before they joined: 1 on, 0 off. */
  | { readonly action: 'history-policy-set'; readonly enabled: number }
  /** Past conversations shared with an agent device by history grants (docs/protocol.md §14). */
  | { readonly action: 'history-shared'; readonly deviceId: Id; readonly name: string; readonly conversations: number };

export type AuditAction = AuditEvent['action'];

type FieldKind = 'id' | 'text' | 'role' | 'u64';
type KindOf<T> = [T] extends [DeviceRole]
  ? 'role'
  : [T] extends [string]
    ? 'text'
    : [T] extends [number]
      ? 'u64'
      : 'id';
type FieldsOf<E> = Exclude<keyof E, 'action'>;
type FieldSpec<E> = { [K in FieldsOf<E>]: readonly [K, KindOf<E[K]>] }[FieldsOf<E>];

/**
 * The fields of each action, in wire order. Typed against {@link AuditEvent}, so a field named here
 * exists on its event with this kind; audit-log.test.ts checks every field is listed.
 */
const SCHEMA: { readonly [A in AuditAction]: readonly FieldSpec<Extract<AuditEvent, { action: A }>>[] } = {
  'org-created': [['name', 'text']],
  'org-restored': [['name', 'text']],
  'invite-created': [
    ['inviteId', 'id'],
    ['name', 'text'],
    ['role', 'role'],
    ['expiresAt', 'u64'],
  ],
  'invite-cancelled': [
    ['inviteId', 'id'],
    ['name', 'text'],
  ],
  'device-approved': [
    ['deviceId', 'id'],
    ['name', 'text'],
    ['role', 'role'],
  ],
  'device-revoked': [
    ['deviceId', 'id'],
    ['name', 'text'],
    ['role', 'role'],
  ],
  'bot-enrolled': [
    ['deviceId', 'id'],
    ['name', 'text'],
  ],
  'bot-removed': [
    ['deviceId', 'id'],
    ['name', 'text'],
  ],
  'roster-published': [['version', 'u64']],
  'retention-set': [['days', 'u64']],
  'conversation-erased': [['conversationId', 'id']],
  'transcript-exported': [['conversationId', 'id']],
  'history-policy-set': [['enabled', 'u64']],
  'history-shared': [
    ['deviceId', 'id'],
    ['name', 'text'],
    ['conversations', 'u64'],
  ],
};

/** Every action this version knows, in the order docs/audit-log.md lists them. */
export const AUDIT_ACTIONS = Object.keys(SCHEMA) as readonly AuditAction[];

/** The same codes as a certificate's role byte (docs/protocol.md §4.2). */
const ROLE_CODES: Record<DeviceRole, number> = { agent: 1, supervisor: 2 };

function fieldsOf(action: string): readonly (readonly [string, FieldKind])[] | undefined {
  // Own keys only: "toString" and friends are on every object's prototype, not actions.
  return Object.hasOwn(SCHEMA, action) ? SCHEMA[action as AuditAction] : undefined;
}

/**
 * The canonical encoding of `event`: `u8 version ‖ string action ‖ its fields in schema order`.
 * @throws TypeError when the action is unknown or a field is missing, of the wrong type, or out of
 *   range (a name over {@link MAX_AUDIT_TEXT_BYTES} bytes, an id not 16 bytes, a negative number).
 */
export function encodeAuditEvent(event: AuditEvent): Uint8Array<ArrayBuffer> {
  const fields = fieldsOf(event.action);
  if (!fields) throw new TypeError(`Unknown audit action ${JSON.stringify(event.action)}`);
  const w = new ByteWriter().u8(AUDIT_ENTRY_VERSION).string(event.action);
  const values = event as unknown as Record<string, unknown>;
  for (const [name, kind] of fields) {
    const value = values[name];
    const bad = (why: string) => new TypeError(`Audit ${event.action}: ${name} ${why}`);
    switch (kind) {
      case 'id':
        if (!(value instanceof Uint8Array) || value.length !== AUDIT_ID_LENGTH) throw bad('must be 16 bytes');
        w.fixed(value, AUDIT_ID_LENGTH);
        break;
      case 'text': {
        if (typeof value !== 'string') throw bad('must be a string');
        const text = utf8Encode(value);
        if (text.length > MAX_AUDIT_TEXT_BYTES) throw bad(`is longer than ${MAX_AUDIT_TEXT_BYTES} UTF-8 bytes`);
        w.bytes(text);
        break;
      }
      case 'role':
        if (value !== 'agent' && value !== 'supervisor') throw bad('must be "agent" or "supervisor"');
        w.u8(ROLE_CODES[value]);
        break;
      case 'u64':
        if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
          throw bad('must be a non-negative safe integer');
        }
        w.u64(value);
        break;
    }
  }
  return w.finish();
}

/**
 * Decodes exactly one entry.
 * @throws DecodeError for another version, an unknown action, an unknown role code, a name over
 *   {@link MAX_AUDIT_TEXT_BYTES} bytes, invalid UTF-8, truncation or trailing bytes.
 */
export function decodeAuditEvent(bytes: Uint8Array): AuditEvent {
  const r = new ByteReader(bytes);
  const version = r.u8();
  if (version !== AUDIT_ENTRY_VERSION) throw new DecodeError(`Unsupported audit entry version ${version}`);
  const action = r.string(MAX_ACTION_BYTES);
  const fields = fieldsOf(action);
  if (!fields) throw new DecodeError(`Unknown audit action ${JSON.stringify(action)}`);
  const out: Record<string, unknown> = { action };
  for (const [name, kind] of fields) {
    switch (kind) {
      case 'id':
        out[name] = r.fixed(AUDIT_ID_LENGTH);
        break;
      case 'text':
        out[name] = r.string(MAX_AUDIT_TEXT_BYTES);
        break;
      case 'role': {
        const code = r.u8();
        const role = (Object.keys(ROLE_CODES) as DeviceRole[]).find((k) => ROLE_CODES[k] === code);
        if (!role) throw new DecodeError(`Unknown role code ${code}`);
        out[name] = role;
        break;
      }
      case 'u64':
        out[name] = r.u64();
        break;
    }
  }
  r.end();
  return out as unknown as AuditEvent;
}
