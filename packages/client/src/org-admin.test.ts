import { ByteWriter, type ClientFrame, type RelayFrame } from '@sealchat/protocol';
import { describe, expect, it } from 'vitest';
import { RelayRequestError } from './errors.js';
import {
  fetchRosterHistory,
  getOrgSettings,
  relayAuditTransport,
  setRetention,
  type OrgAdminChannel,
} from './org-admin.js';

type Sent = ClientFrame extends infer F ? (F extends ClientFrame ? Omit<F, 'requestId'> : never) : never;

/** A channel that records what is sent and answers from a script. */
function channel(answer: (frame: Sent) => RelayFrame | Error): OrgAdminChannel & { sent: Sent[] } {
  const sent: Sent[] = [];
  return {
    sent,
    request(frame) {
      sent.push(frame);
      const reply = answer(frame);
      return reply instanceof Error ? Promise.reject(reply) : Promise.resolve(reply);
    },
  };
}

describe('org-admin over a request channel', () => {
  it('sets retention, and refuses a value the wire cannot carry before sending', async () => {
    const c = channel(() => ({ kind: 'ok', requestId: 1 }));
    await setRetention(c, 30);
    await setRetention(c, 0);
    expect(c.sent).toEqual([
      { kind: 'set-retention', days: 30 },
      { kind: 'set-retention', days: 0 },
    ]);
    for (const bad of [-1, 1.5, 36_501, Number.NaN]) await expect(setRetention(c, bad)).rejects.toThrow(RangeError);
    expect(c.sent).toHaveLength(2);
  });

  it('reads the settings; 0 means the relay default', async () => {
    const c = channel(() => ({
      kind: 'org-settings',
      requestId: 1,
      retentionDays: 0,
      defaultRetentionDays: 90,
      auditCount: 4,
    }));
    expect(await getOrgSettings(c)).toEqual({ retentionDays: undefined, defaultRetentionDays: 90, auditCount: 4 });
  });

  it('the audit transport lists and appends; a conflict reaches the caller as SEALCHAT_E_CONFLICT', async () => {
    const record = Uint8Array.of(1, 2, 3);
    const c = channel((frame) => {
      if (frame.kind === 'get-audit') return { kind: 'audit-page', requestId: 1, records: [{ index: 5, record }] };
      if (frame.kind === 'append-audit' && frame.index === 6) return { kind: 'ok', requestId: 1 };
      return new RelayRequestError('SEALCHAT_E_CONFLICT', 'That audit index is not the next one');
    });
    const transport = relayAuditTransport(c);
    expect(await transport.list(5, 10)).toEqual([{ index: 5, record }]);
    await transport.append(6, record);
    const conflict = await transport.append(5, record).catch((error: unknown) => error);
    expect(conflict).toBeInstanceOf(RelayRequestError);
    expect((conflict as RelayRequestError).code).toBe('SEALCHAT_E_CONFLICT');
    expect(c.sent[0]).toEqual({ kind: 'get-audit', fromIndex: 5, limit: 10 });
    await expect(transport.list(-1, 10)).rejects.toThrow(RangeError);
  });

  it('a wrong answer kind is SEALCHAT_E_BAD_ANSWER', async () => {
    const c = channel(() => ({ kind: 'ok', requestId: 1 }));
    await expect(getOrgSettings(c)).rejects.toMatchObject({ code: 'SEALCHAT_E_BAD_ANSWER' });
    await expect(relayAuditTransport(c).list(0, 1)).rejects.toMatchObject({ code: 'SEALCHAT_E_BAD_ANSWER' });
  });
});

/** Bytes shaped like a roster up to its version (docs/protocol.md §4.3); fetchRosterHistory verifies nothing. */
function rosterBytes(version: number): Uint8Array<ArrayBuffer> {
  const tbs = new ByteWriter()
    .u8(1)
    .fixed(new Uint8Array(16).fill(version % 256), 16)
    .u64(version)
    .u8(version % 256);
  return new ByteWriter().bytes(tbs.finish()).fixed(new Uint8Array(64), 64).finish();
}

/** A relay holding these versions, answering pages of at most `pageSize` from `fromVersion` on. */
function historyRelay(versions: readonly number[], pageSize: number) {
  return channel((frame) => {
    if (frame.kind !== 'get-roster-history') return new Error('unexpected');
    const rosters = versions
      .filter((v) => v >= frame.fromVersion)
      .slice(0, pageSize)
      .map(rosterBytes);
    return { kind: 'roster-history', requestId: 1, rosters };
  });
}

describe('fetchRosterHistory', () => {
  it('pages from the version after the last one it got until a page is empty', async () => {
    const c = historyRelay([1, 2, 3, 5, 8], 2);
    expect(await fetchRosterHistory(c)).toEqual([1, 2, 3, 5, 8].map(rosterBytes));
    expect(c.sent).toEqual([1, 3, 6, 9].map((fromVersion) => ({ kind: 'get-roster-history', fromVersion, limit: 0 })));
    const later = historyRelay([1, 2, 3, 5, 8], 100);
    expect(await fetchRosterHistory(later, 4)).toEqual([5, 8].map(rosterBytes));
    expect(await fetchRosterHistory(historyRelay([], 100))).toEqual([]);
  });

  it('refuses a bad fromVersion before sending', async () => {
    const c = historyRelay([1], 10);
    for (const bad of [-1, 1.5, Number.NaN, 2 ** 53])
      await expect(fetchRosterHistory(c, bad)).rejects.toThrow(RangeError);
    await expect(fetchRosterHistory(c, 1, { maxRosters: 0 })).rejects.toThrow(RangeError);
    expect(c.sent).toEqual([]);
  });

  it('a relay that goes back, repeats, sends garbage or the wrong frame is SEALCHAT_E_BAD_ANSWER', async () => {
    const answers: RelayFrame[] = [
      { kind: 'roster-history', requestId: 1, rosters: [rosterBytes(1)] },
      { kind: 'roster-history', requestId: 1, rosters: [rosterBytes(3), rosterBytes(3)] },
      { kind: 'roster-history', requestId: 1, rosters: [Uint8Array.of(0, 0, 0, 9, 1)] },
      { kind: 'ok', requestId: 1 },
    ];
    for (const answer of answers) {
      await expect(
        fetchRosterHistory(
          channel(() => answer),
          2,
        ),
      ).rejects.toMatchObject({
        code: 'SEALCHAT_E_BAD_ANSWER',
      });
    }
  });

  it('stops with SEALCHAT_E_LIMIT past maxRosters, and passes the relay’s refusal on', async () => {
    await expect(fetchRosterHistory(historyRelay([1, 2, 3, 4], 2), 1, { maxRosters: 3 })).rejects.toMatchObject({
      code: 'SEALCHAT_E_LIMIT',
    });
    expect(await fetchRosterHistory(historyRelay([1, 2, 3], 2), 1, { maxRosters: 3 })).toHaveLength(3);
    const refused = channel(() => new RelayRequestError('SEALCHAT_E_UNAUTHORIZED', 'Not allowed'));
    await expect(fetchRosterHistory(refused)).rejects.toBeInstanceOf(RelayRequestError);
  });
});
