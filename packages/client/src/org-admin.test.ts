import type { ClientFrame, RelayFrame } from '@sealchat/protocol';
import { describe, expect, it } from 'vitest';
import { RelayRequestError } from './errors.js';
import { getOrgSettings, relayAuditTransport, setRetention, type OrgAdminChannel } from './org-admin.js';

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
