import { describe, expect, it } from 'vitest';
import { DecodeError } from './errors.js';
import {
  MAX_HISTORY_PAGE,
  WIRE_VERSION,
  decodeClientFrame,
  decodeRelayFrame,
  encodeClientFrame,
  encodeRelayFrame,
  type ClientFrame,
  type RelayFrame,
} from './wire.js';

const id16 = (fill: number) => new Uint8Array(16).fill(fill);

const clientFrames: ClientFrame[] = [
  { kind: 'hello', requestId: 1, revision: 2 },
  {
    kind: 'resume-conversation',
    requestId: 2,
    conversationId: id16(1),
    capability: new Uint8Array(32).fill(7),
    epoch: 2 ** 48 + 5,
    afterSeq: 42,
  },
  { kind: 'get-history', requestId: 3, conversationId: id16(2), capability: new Uint8Array(), beforeSeq: 0, limit: 50 },
  { kind: 'delete-conversation', requestId: 4, conversationId: id16(3), capability: new Uint8Array(32) },
  { kind: 'set-presence', requestId: 5, status: 'away' },
  { kind: 'watch-presence', requestId: 6, orgId: id16(4), subscribe: true },
];

const relayFrames: RelayFrame[] = [
  { kind: 'welcome', requestId: 1, revision: 2, epoch: 123456789 },
  { kind: 'resumed', requestId: 2, epoch: 9, lastSeq: 10, firstSeq: 1, reset: true },
  {
    kind: 'history',
    requestId: 3,
    conversationId: id16(5),
    firstSeq: 4,
    records: [
      { seq: 4, envelope: new Uint8Array([1, 2, 3]) },
      { seq: 5, envelope: new Uint8Array() },
    ],
  },
  { kind: 'conversation-deleted', conversationId: id16(6) },
  {
    kind: 'presence',
    requestId: 0,
    orgId: id16(7),
    anyoneOnline: true,
    devices: [
      { deviceId: id16(8), status: 'online' },
      { deviceId: id16(9), status: 'offline' },
    ],
  },
];

describe('wire revision 2 frames', () => {
  it.each(clientFrames.map((f) => [f.kind, f] as const))('round-trips the client frame %s', (_kind, frame) => {
    expect(decodeClientFrame(encodeClientFrame(frame))).toEqual(frame);
  });

  it.each(relayFrames.map((f) => [f.kind, f] as const))('round-trips the relay frame %s', (_kind, frame) => {
    expect(decodeRelayFrame(encodeRelayFrame(frame))).toEqual(frame);
  });

  it('refuses an unknown presence status, a flag other than 0/1, and trailing bytes', () => {
    const presence = encodeClientFrame({ kind: 'set-presence', requestId: 1, status: 'online' });
    presence[presence.length - 1] = 3;
    expect(() => decodeClientFrame(presence)).toThrow(DecodeError);
    const watch = encodeClientFrame({ kind: 'watch-presence', requestId: 1, orgId: id16(1), subscribe: false });
    watch[watch.length - 1] = 2;
    expect(() => decodeClientFrame(watch)).toThrow(DecodeError);
    const hello = encodeClientFrame({ kind: 'hello', requestId: 1, revision: 2 });
    expect(() => decodeClientFrame(Uint8Array.of(...hello, 0))).toThrow(DecodeError);
  });

  it('bounds capability length and history page size', () => {
    const resume = encodeClientFrame({
      kind: 'delete-conversation',
      requestId: 1,
      conversationId: id16(1),
      capability: new Uint8Array(33),
    });
    expect(() => decodeClientFrame(resume)).toThrow(DecodeError);
    const page = Uint8Array.of(WIRE_VERSION, 0x8d, 0, 0, 0, 1, ...id16(1), 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0x27, 0x11);
    expect(MAX_HISTORY_PAGE).toBeLessThan(0x2711);
    expect(() => decodeRelayFrame(page)).toThrow(/over the limit/);
  });
});
