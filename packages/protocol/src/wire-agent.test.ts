import { describe, expect, it } from 'vitest';
import { DecodeError } from './errors.js';
import { MAX_AUDIT_PAGE, MAX_AUDIT_RECORD_BYTES, MAX_RETENTION_DAYS, MAX_ROSTER_HISTORY_PAGE } from './wire-agent.js';
import { WIRE_VERSION, decodeCoreRelayFrame, encodeCoreClientFrame, type CoreClientFrame } from './wire-core.js';
import {
  agentWire,
  decodeClientFrame,
  decodeRelayFrame,
  encodeClientFrame,
  encodeRelayFrame,
  type ClientFrame,
  type RelayFrame,
} from './wire.js';
import vectors from './wire-vectors.json';

const hex = (bytes: Uint8Array) => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
const unhex = (text: string) => Uint8Array.from(text.match(/../g) ?? [], (pair) => parseInt(pair, 16));
const id16 = (fill: number) => new Uint8Array(16).fill(fill);

describe('the split codec', () => {
  // The vectors were encoded by the one-module codec before the split: not a byte may change.
  it.each(Object.entries(vectors.client))('keeps the bytes of the client frame %s', (kind, bytes) => {
    const frame = decodeClientFrame(unhex(bytes));
    expect(frame.kind).toBe(kind);
    expect(hex(encodeClientFrame(frame))).toBe(bytes);
  });

  it.each(Object.entries(vectors.relay))('keeps the bytes of the relay frame %s', (kind, bytes) => {
    const frame = decodeRelayFrame(unhex(bytes));
    expect(frame.kind).toBe(kind);
    expect(hex(encodeRelayFrame(frame))).toBe(bytes);
    expect(agentWire.decodeRelayFrame(unhex(bytes))).toEqual(frame);
  });

  it('the core codec (a visitor’s) speaks its frames exactly as the full one does, and no others', () => {
    const core: CoreClientFrame = { kind: 'watch-presence', requestId: 3, orgId: id16(1), subscribe: true };
    expect(encodeCoreClientFrame(core)).toEqual(encodeClientFrame(core));
    const opened = unhex(vectors.relay['conversation-opened']);
    expect(decodeCoreRelayFrame(opened)).toEqual(decodeRelayFrame(opened));
    const agentOnly = { kind: 'auth-agent', requestId: 1 } as unknown as CoreClientFrame;
    expect(() => encodeCoreClientFrame(agentOnly)).toThrow(TypeError);
    for (const kind of ['conversation-list', 'welcome', 'history']) {
      expect(() => decodeCoreRelayFrame(unhex(vectors.relay[kind as keyof typeof vectors.relay]))).toThrow(DecodeError);
    }
  });
});

const clientFrames: ClientFrame[] = [
  { kind: 'set-retention', requestId: 1, days: 30 },
  { kind: 'set-retention', requestId: 2, days: 0 },
  { kind: 'get-org-settings', requestId: 3 },
  { kind: 'append-audit', requestId: 4, index: 2 ** 40, record: new Uint8Array(MAX_AUDIT_RECORD_BYTES).fill(9) },
  { kind: 'get-audit', requestId: 5, fromIndex: 17, limit: 0 },
  { kind: 'get-roster-history', requestId: 6, fromVersion: 1, limit: 0 },
  { kind: 'get-roster-history', requestId: 7, fromVersion: 2 ** 53 - 1, limit: 0xffffffff },
];

const relayFrames: RelayFrame[] = [
  { kind: 'org-settings', requestId: 1, retentionDays: 0, defaultRetentionDays: 90, auditCount: 12 },
  {
    kind: 'audit-page',
    requestId: 2,
    records: [
      { index: 0, record: new Uint8Array([1, 2, 3]) },
      { index: 1, record: new Uint8Array() },
    ],
  },
  { kind: 'audit-page', requestId: 3, records: [] },
  { kind: 'roster-history', requestId: 4, rosters: [new Uint8Array([1, 2]), new Uint8Array(60 * 1024).fill(5)] },
  { kind: 'roster-history', requestId: 5, rosters: [] },
];

describe('wire revision 3 frames', () => {
  it.each(clientFrames.map((f) => [f.kind, f] as const))('round-trips the client frame %s', (_kind, frame) => {
    expect(decodeClientFrame(encodeClientFrame(frame))).toEqual(frame);
  });

  it.each(relayFrames.map((f) => [f.kind, f] as const))('round-trips the relay frame %s', (_kind, frame) => {
    expect(decodeRelayFrame(encodeRelayFrame(frame))).toEqual(frame);
  });

  it('has the documented layouts', () => {
    expect(hex(encodeClientFrame({ kind: 'set-retention', requestId: 1, days: 30 }))).toBe('010e000000010000001e');
    expect(hex(encodeClientFrame({ kind: 'get-org-settings', requestId: 2 }))).toBe('010f00000002');
    expect(hex(encodeClientFrame({ kind: 'append-audit', requestId: 3, index: 5, record: Uint8Array.of(7) }))).toBe(
      '011000000003' + '0000000000000005' + '00000001' + '07',
    );
    expect(hex(encodeClientFrame({ kind: 'get-audit', requestId: 4, fromIndex: 6, limit: 10 }))).toBe(
      '011100000004' + '0000000000000006' + '0000000a',
    );
    expect(
      hex(
        encodeRelayFrame({
          kind: 'org-settings',
          requestId: 1,
          retentionDays: 7,
          defaultRetentionDays: 0,
          auditCount: 3,
        }),
      ),
    ).toBe('019000000001' + '00000007' + '00000000' + '0000000000000003');
    expect(
      hex(encodeRelayFrame({ kind: 'audit-page', requestId: 2, records: [{ index: 1, record: Uint8Array.of(8) }] })),
    ).toBe('019100000002' + '00000001' + '0000000000000001' + '00000001' + '08');
  });

  it('refuses a retention over the limit, an oversized record, an oversized page, and trailing bytes', () => {
    const retention = encodeClientFrame({ kind: 'set-retention', requestId: 1, days: MAX_RETENTION_DAYS + 1 });
    expect(() => decodeClientFrame(retention)).toThrow(/over 36500/);
    expect(
      decodeClientFrame(encodeClientFrame({ kind: 'set-retention', requestId: 1, days: MAX_RETENTION_DAYS })),
    ).toMatchObject({ days: MAX_RETENTION_DAYS });
    const record = new Uint8Array(MAX_AUDIT_RECORD_BYTES + 1);
    const append = encodeClientFrame({ kind: 'append-audit', requestId: 1, index: 0, record });
    expect(() => decodeClientFrame(append)).toThrow(DecodeError);
    const page = Uint8Array.of(WIRE_VERSION, 0x91, 0, 0, 0, 1, 0, 0, 0x03, 0xe9);
    expect(MAX_AUDIT_PAGE).toBe(1000);
    expect(() => decodeRelayFrame(page)).toThrow(/over the limit/);
    const tooMany = Array.from({ length: MAX_AUDIT_PAGE + 1 }, (_, index) => ({ index, record: new Uint8Array() }));
    expect(() => encodeRelayFrame({ kind: 'audit-page', requestId: 1, records: tooMany })).toThrow(RangeError);
    const settings = encodeClientFrame({ kind: 'get-org-settings', requestId: 1 });
    expect(() => decodeClientFrame(Uint8Array.of(...settings, 0))).toThrow(DecodeError);
  });
});

describe('roster history frames (revision 3)', () => {
  it('has the documented layouts', () => {
    expect(hex(encodeClientFrame({ kind: 'get-roster-history', requestId: 5, fromVersion: 2, limit: 3 }))).toBe(
      '011200000005' + '0000000000000002' + '00000003',
    );
    expect(
      hex(encodeRelayFrame({ kind: 'roster-history', requestId: 6, rosters: [Uint8Array.of(0xaa), Uint8Array.of()] })),
    ).toBe('019200000006' + '00000002' + '00000001' + 'aa' + '00000000');
  });

  it('is an agent frame: the visitor’s core codec neither sends nor reads it', () => {
    const request = {
      kind: 'get-roster-history',
      requestId: 1,
      fromVersion: 1,
      limit: 0,
    } as unknown as CoreClientFrame;
    expect(() => encodeCoreClientFrame(request)).toThrow(TypeError);
    const page = encodeRelayFrame({ kind: 'roster-history', requestId: 1, rosters: [Uint8Array.of(1)] });
    expect(() => decodeCoreRelayFrame(page)).toThrow(DecodeError);
    expect(agentWire.decodeRelayFrame(page)).toEqual(decodeRelayFrame(page));
  });

  it('refuses a page over MAX_ROSTER_HISTORY_PAGE, a truncated roster, and trailing bytes', () => {
    expect(MAX_ROSTER_HISTORY_PAGE).toBe(100);
    const tooMany = Array.from({ length: MAX_ROSTER_HISTORY_PAGE + 1 }, () => new Uint8Array());
    expect(() => encodeRelayFrame({ kind: 'roster-history', requestId: 1, rosters: tooMany })).toThrow(RangeError);
    // count 101, no rosters: refused on the count, before reading any.
    expect(() => decodeRelayFrame(Uint8Array.of(WIRE_VERSION, 0x92, 0, 0, 0, 1, 0, 0, 0, 101))).toThrow(
      /over the limit/,
    );
    const full = Array.from({ length: MAX_ROSTER_HISTORY_PAGE }, (_, i) => Uint8Array.of(i));
    expect(decodeRelayFrame(encodeRelayFrame({ kind: 'roster-history', requestId: 1, rosters: full }))).toMatchObject({
      rosters: full,
    });
    const page = encodeRelayFrame({ kind: 'roster-history', requestId: 1, rosters: [Uint8Array.of(1, 2, 3)] });
    expect(() => decodeRelayFrame(page.subarray(0, page.length - 1))).toThrow(DecodeError);
    expect(() => decodeRelayFrame(Uint8Array.of(...page, 0))).toThrow(DecodeError);
    const request = encodeClientFrame({ kind: 'get-roster-history', requestId: 1, fromVersion: 1, limit: 0 });
    expect(() => decodeClientFrame(Uint8Array.of(...request, 0))).toThrow(DecodeError);
    expect(() => decodeClientFrame(request.subarray(0, request.length - 1))).toThrow(DecodeError);
  });
});
