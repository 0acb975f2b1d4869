import { describe, expect, it } from 'vitest';
import { DecodeError } from './errors.js';
import {
  MAX_AUDIT_PAGE,
  MAX_AUDIT_RECORD_BYTES,
  MAX_HISTORY_GRANTS_PAGE,
  MAX_HISTORY_GRANT_BYTES,
  MAX_RETENTION_DAYS,
  MAX_ROSTER_HISTORY_PAGE,
} from './wire-agent.js';
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

describe('history grant frames (revision 4)', () => {
  const grantFrames: [ClientFrame | RelayFrame, 'client' | 'relay'][] = [
    [
      { kind: 'put-history-grant', requestId: 1, deviceId: id16(1), conversationId: id16(2), grant: Uint8Array.of(7) },
      'client',
    ],
    [
      {
        kind: 'put-history-grant',
        requestId: 0xffffffff,
        deviceId: id16(3),
        conversationId: id16(4),
        grant: new Uint8Array(MAX_HISTORY_GRANT_BYTES).fill(5),
      },
      'client',
    ],
    [{ kind: 'get-history-grants', requestId: 2, after: id16(0), limit: 1 }, 'client'],
    [{ kind: 'get-history-grants', requestId: 3, after: id16(0xff), limit: MAX_HISTORY_GRANTS_PAGE }, 'client'],
    [{ kind: 'history-grants', requestId: 4, grants: [] }, 'relay'],
    [
      {
        kind: 'history-grants',
        requestId: 5,
        grants: [
          { conversationId: id16(1), grant: Uint8Array.of(1, 2) },
          { conversationId: id16(2), grant: new Uint8Array(MAX_HISTORY_GRANT_BYTES).fill(3) },
        ],
      },
      'relay',
    ],
    [{ kind: 'history-granted', conversationId: id16(6), grant: Uint8Array.of(9, 9, 9) }, 'relay'],
  ];

  it.each(grantFrames.map(([f, side]) => [f.kind, f, side] as const))('round-trips %s', (_kind, frame, side) => {
    if (side === 'client') expect(decodeClientFrame(encodeClientFrame(frame as ClientFrame))).toEqual(frame);
    else expect(decodeRelayFrame(encodeRelayFrame(frame as RelayFrame))).toEqual(frame);
  });

  it('has the documented layouts', () => {
    const put = { kind: 'put-history-grant', requestId: 1, deviceId: id16(0xaa), conversationId: id16(0xbb) } as const;
    expect(hex(encodeClientFrame({ ...put, grant: Uint8Array.of(0xcc, 0xdd) }))).toBe(
      '011300000001' + 'aa'.repeat(16) + 'bb'.repeat(16) + '00000002' + 'ccdd',
    );
    expect(hex(encodeClientFrame({ kind: 'get-history-grants', requestId: 2, after: id16(0), limit: 256 }))).toBe(
      '011400000002' + '00'.repeat(16) + '00000100',
    );
    const entry = { conversationId: id16(0x11), grant: Uint8Array.of(0x22) };
    expect(hex(encodeRelayFrame({ kind: 'history-grants', requestId: 3, grants: [entry] }))).toBe(
      '019300000003' + '00000001' + '11'.repeat(16) + '00000001' + '22',
    );
    expect(hex(encodeRelayFrame({ kind: 'history-granted', ...entry }))).toBe(
      '0194' + '11'.repeat(16) + '00000001' + '22',
    );
  });

  it('is an agent frame: the visitor’s core codec neither sends nor reads it', () => {
    const request = {
      kind: 'get-history-grants',
      requestId: 1,
      after: id16(0),
      limit: 1,
    } as unknown as CoreClientFrame;
    expect(() => encodeCoreClientFrame(request)).toThrow(TypeError);
    for (const frame of [
      encodeRelayFrame({ kind: 'history-grants', requestId: 1, grants: [] }),
      encodeRelayFrame({ kind: 'history-granted', conversationId: id16(1), grant: Uint8Array.of(1) }),
    ]) {
      expect(() => decodeCoreRelayFrame(frame)).toThrow(DecodeError);
      expect(agentWire.decodeRelayFrame(frame)).toEqual(decodeRelayFrame(frame));
    }
  });

  it('refuses a limit out of range, an empty or oversized grant, and a page over the limit', () => {
    const get = (limit: number) =>
      encodeClientFrame({ kind: 'get-history-grants', requestId: 1, after: id16(0), limit });
    expect(() => decodeClientFrame(get(0))).toThrow(/1 to 256, got 0/);
    expect(() => decodeClientFrame(get(MAX_HISTORY_GRANTS_PAGE + 1))).toThrow(/got 257/);
    expect(() => decodeClientFrame(get(0xffffffff))).toThrow(DecodeError);
    const put = (grant: Uint8Array<ArrayBuffer>) =>
      encodeClientFrame({ kind: 'put-history-grant', requestId: 1, deviceId: id16(1), conversationId: id16(2), grant });
    expect(() => decodeClientFrame(put(new Uint8Array()))).toThrow(/never empty/);
    expect(() => decodeClientFrame(put(new Uint8Array(MAX_HISTORY_GRANT_BYTES + 1)))).toThrow(/exceeds the limit/);
    const pushed = (grant: Uint8Array<ArrayBuffer>) =>
      encodeRelayFrame({ kind: 'history-granted', conversationId: id16(1), grant });
    expect(() => decodeRelayFrame(pushed(new Uint8Array()))).toThrow(/never empty/);
    expect(() => decodeRelayFrame(pushed(new Uint8Array(MAX_HISTORY_GRANT_BYTES + 1)))).toThrow(DecodeError);
    const page = (grant: Uint8Array<ArrayBuffer>) =>
      encodeRelayFrame({ kind: 'history-grants', requestId: 1, grants: [{ conversationId: id16(1), grant }] });
    expect(() => decodeRelayFrame(page(new Uint8Array()))).toThrow(/never empty/);
    expect(() => decodeRelayFrame(page(new Uint8Array(MAX_HISTORY_GRANT_BYTES + 1)))).toThrow(DecodeError);
    // count 257, no grants: refused on the count, before reading any.
    expect(() => decodeRelayFrame(Uint8Array.of(WIRE_VERSION, 0x93, 0, 0, 0, 1, 0, 0, 1, 1))).toThrow(/over the limit/);
    const tooMany = Array.from({ length: MAX_HISTORY_GRANTS_PAGE + 1 }, () => ({
      conversationId: id16(1),
      grant: Uint8Array.of(1),
    }));
    expect(() => encodeRelayFrame({ kind: 'history-grants', requestId: 1, grants: tooMany })).toThrow(RangeError);
  });

  it('refuses ids of the wrong length, truncated frames and trailing bytes', () => {
    const base = { kind: 'put-history-grant', requestId: 1, grant: Uint8Array.of(1) } as const;
    expect(() => encodeClientFrame({ ...base, deviceId: new Uint8Array(15), conversationId: id16(2) })).toThrow(
      RangeError,
    );
    expect(() => encodeClientFrame({ ...base, deviceId: id16(1), conversationId: new Uint8Array(17) })).toThrow(
      RangeError,
    );
    expect(() =>
      encodeClientFrame({ kind: 'get-history-grants', requestId: 1, after: new Uint8Array(8), limit: 1 }),
    ).toThrow(RangeError);
    expect(() =>
      encodeRelayFrame({ kind: 'history-granted', conversationId: new Uint8Array(4), grant: Uint8Array.of(1) }),
    ).toThrow(RangeError);
    // A device id one byte short: the grant's length prefix is read from the wrong place.
    const short = Uint8Array.of(WIRE_VERSION, 19, 0, 0, 0, 1, ...new Uint8Array(15), ...id16(2), 0, 0, 0, 1, 7);
    expect(() => decodeClientFrame(short)).toThrow(DecodeError);
    const frames = [
      encodeClientFrame({ ...base, deviceId: id16(1), conversationId: id16(2) }),
      encodeClientFrame({ kind: 'get-history-grants', requestId: 1, after: id16(0), limit: 5 }),
    ];
    for (const bytes of frames) {
      for (const cut of [bytes.length - 1, 6 + 8, 6]) {
        expect(() => decodeClientFrame(bytes.subarray(0, cut))).toThrow(DecodeError);
      }
      expect(() => decodeClientFrame(Uint8Array.of(...bytes, 0))).toThrow(DecodeError);
    }
    const relayFrames = [
      encodeRelayFrame({
        kind: 'history-grants',
        requestId: 1,
        grants: [{ conversationId: id16(1), grant: Uint8Array.of(1, 2) }],
      }),
      encodeRelayFrame({ kind: 'history-granted', conversationId: id16(1), grant: Uint8Array.of(1, 2) }),
    ];
    for (const bytes of relayFrames) {
      for (const cut of [bytes.length - 1, 2 + 10]) {
        expect(() => decodeRelayFrame(bytes.subarray(0, cut))).toThrow(DecodeError);
      }
      expect(() => decodeRelayFrame(Uint8Array.of(...bytes, 0))).toThrow(DecodeError);
    }
  });
});

describe('roster head frames (revision 5)', () => {
  const head = new Uint8Array(165).fill(0x5a);

  it('round-trips get-roster-head and roster-head in the core codec (a visitor’s) and publish-roster-head in the full one', () => {
    const ask: CoreClientFrame = { kind: 'get-roster-head', requestId: 9, orgId: id16(3) };
    expect(hex(encodeCoreClientFrame(ask))).toBe('011500000009' + '03'.repeat(16));
    expect(encodeClientFrame(ask)).toEqual(encodeCoreClientFrame(ask));
    expect(decodeClientFrame(encodeCoreClientFrame(ask))).toEqual(ask);
    const answer = encodeRelayFrame({ kind: 'roster-head', requestId: 9, head });
    expect(hex(answer.slice(0, 10))).toBe('019500000009000000a5');
    expect(decodeCoreRelayFrame(answer)).toEqual({ kind: 'roster-head', requestId: 9, head });
    const publish: ClientFrame = { kind: 'publish-roster-head', requestId: 2, orgRootKey: new Uint8Array(32), head };
    const bytes = encodeClientFrame(publish);
    expect(hex(bytes.slice(0, 6))).toBe('011600000002');
    expect(decodeClientFrame(bytes)).toEqual(publish);
    expect(() => encodeCoreClientFrame(publish as unknown as CoreClientFrame)).toThrow(TypeError);
  });

  it('refuses a head over 256 bytes and trailing bytes', () => {
    const big = encodeRelayFrame({ kind: 'roster-head', requestId: 1, head: new Uint8Array(257) });
    expect(() => decodeRelayFrame(big)).toThrow(DecodeError);
    const publish = encodeClientFrame({
      kind: 'publish-roster-head',
      requestId: 1,
      orgRootKey: new Uint8Array(32),
      head: new Uint8Array(257),
    });
    expect(() => decodeClientFrame(publish)).toThrow(DecodeError);
    const ask = encodeClientFrame({ kind: 'get-roster-head', requestId: 1, orgId: id16(1) });
    expect(() => decodeClientFrame(Uint8Array.of(...ask, 0))).toThrow(DecodeError);
  });
});
