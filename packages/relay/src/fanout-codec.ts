import type { FanoutEvent } from './fanout.js';

/**
 * The bytes relays exchange through the broker: a u32 header length, a JSON header, then the
 * envelope for a record (binary, so ciphertext is not inflated). Only ids (of orgs, conversations
 * and, for a history grant, the device it is for), seqs, times and envelopes cross the broker, which
 * is no more than the database already holds.
 */
const VERSION = 1;
const ID_LENGTH = 16;

/** A broker message this relay cannot read (another version, corruption); it is counted and dropped. */
export class FanoutDecodeError extends Error {
  readonly code = 'SEALCHAT_E_FANOUT_DECODE';
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

/** Encodes an event from relay `from` (hex id). */
export function encodeFanoutMessage(from: string, event: FanoutEvent): Buffer {
  let header: Record<string, unknown>;
  let payload: Uint8Array = new Uint8Array(0);
  switch (event.kind) {
    case 'record': {
      const r = event.record;
      header = {
        conversationId: hex(r.conversationId),
        seq: r.seq,
        clientMessageId: hex(r.clientMessageId),
        storedAt: r.storedAt,
      };
      payload = r.envelope;
      break;
    }
    case 'committed':
      header = { conversationId: hex(event.conversationId), seq: event.seq };
      break;
    case 'conversation-created':
      header = {
        orgId: hex(event.orgId),
        conversationId: hex(event.conversation.conversationId),
        lastSeq: event.conversation.lastSeq,
        createdAt: event.conversation.createdAt,
      };
      break;
    case 'conversation-deleted':
      header = { conversationId: hex(event.conversationId), orgId: event.orgId ? hex(event.orgId) : null };
      break;
    case 'roster':
      header = { orgId: hex(event.orgId), version: event.version };
      break;
    case 'history-granted':
      header = {
        orgId: hex(event.orgId),
        deviceId: hex(event.deviceId),
        conversationId: hex(event.conversationId),
      };
      break;
  }
  const json = Buffer.from(JSON.stringify({ v: VERSION, from, kind: event.kind, ...header }));
  const out = Buffer.allocUnsafe(4 + json.length + payload.byteLength);
  out.writeUInt32BE(json.length, 0);
  json.copy(out, 4);
  out.set(payload, 4 + json.length);
  return out;
}

function id(value: unknown, name: string): Uint8Array<ArrayBuffer> {
  if (typeof value !== 'string' || !/^[0-9a-f]*$/.test(value) || value.length !== ID_LENGTH * 2) {
    throw new FanoutDecodeError(`Bad ${name}`);
  }
  return new Uint8Array(Buffer.from(value, 'hex'));
}

function count(value: unknown, name: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0)
    throw new FanoutDecodeError(`Bad ${name}`);
  return value;
}

/**
 * Decodes a broker message into its sender and event.
 * @throws FanoutDecodeError for anything but a well-formed message of this version.
 */
export function decodeFanoutMessage(message: Buffer): { from: string; event: FanoutEvent } {
  if (message.length < 4) throw new FanoutDecodeError('Short message');
  const length = message.readUInt32BE(0);
  if (4 + length > message.length) throw new FanoutDecodeError('Truncated header');
  let header: unknown;
  try {
    header = JSON.parse(message.subarray(4, 4 + length).toString('utf8'));
  } catch {
    throw new FanoutDecodeError('Header is not JSON');
  }
  if (typeof header !== 'object' || header === null) throw new FanoutDecodeError('Header is not an object');
  const h = header as Record<string, unknown>;
  if (h['v'] !== VERSION) throw new FanoutDecodeError('Unknown version');
  const from = h['from'];
  if (typeof from !== 'string' || from.length === 0 || from.length > 64) throw new FanoutDecodeError('Bad sender');
  const payload = new Uint8Array(message.subarray(4 + length));
  switch (h['kind']) {
    case 'record':
      return {
        from,
        event: {
          kind: 'record',
          record: {
            conversationId: id(h['conversationId'], 'conversationId'),
            seq: count(h['seq'], 'seq'),
            clientMessageId: id(h['clientMessageId'], 'clientMessageId'),
            envelope: payload,
            storedAt: count(h['storedAt'], 'storedAt'),
          },
        },
      };
    case 'committed':
      return {
        from,
        event: {
          kind: 'committed',
          conversationId: id(h['conversationId'], 'conversationId'),
          seq: count(h['seq'], 'seq'),
        },
      };
    case 'conversation-created':
      return {
        from,
        event: {
          kind: 'conversation-created',
          orgId: id(h['orgId'], 'orgId'),
          conversation: {
            conversationId: id(h['conversationId'], 'conversationId'),
            lastSeq: count(h['lastSeq'], 'lastSeq'),
            createdAt: count(h['createdAt'], 'createdAt'),
          },
        },
      };
    case 'conversation-deleted':
      return {
        from,
        event: {
          kind: 'conversation-deleted',
          conversationId: id(h['conversationId'], 'conversationId'),
          orgId: h['orgId'] === null ? undefined : id(h['orgId'], 'orgId'),
        },
      };
    case 'roster':
      return {
        from,
        event: { kind: 'roster', orgId: id(h['orgId'], 'orgId'), version: count(h['version'], 'version') },
      };
    case 'history-granted':
      return {
        from,
        event: {
          kind: 'history-granted',
          orgId: id(h['orgId'], 'orgId'),
          deviceId: id(h['deviceId'], 'deviceId'),
          conversationId: id(h['conversationId'], 'conversationId'),
        },
      };
    default:
      throw new FanoutDecodeError('Unknown kind');
  }
}
