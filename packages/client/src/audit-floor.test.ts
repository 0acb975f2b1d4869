import {
  EMPTY_AUDIT_MARK,
  exportPublicKey,
  issueRosterHead,
  verifyRoster,
  verifyRosterHead,
  type AuditMark,
  type RelayFrame,
  type VerifiedRoster,
} from '@sealchat/protocol';
import { createTestOrganisation, type TestOrganisation } from '@sealchat/protocol/testing';
import { describe, expect, it } from 'vitest';
import {
  fetchAuditFloor,
  higherMark,
  loadKeptAuditHead,
  saveKeptAuditHead,
  type RequestChannel,
} from './audit-floor.js';
import { AuditLogTamperedError } from './audit-record.js';
import { MemoryClientStore } from './client-store.js';
import { RelayRequestError, StoredStateError } from './errors.js';
import { sendRosterHead } from './organisation-bootstrap.js';
import type { RequestFrame } from './relay-connection.js';

/**
 * The audit floor (docs/audit-log.md §Heads; issue 11, finding 8a): the mark a roster head carries,
 * how a reader or a signer gets it from the relay, and how a signer never names less.
 */

const DAY = 24 * 60 * 60 * 1000;
const mark = (count: number, fill: number): AuditMark => ({ count, digest: new Uint8Array(32).fill(fill) });

/** A relay that answers `get-roster-head` and `get-roster` from what it holds, and keeps published heads. */
function relay(held: { head?: Uint8Array<ArrayBuffer>; roster?: Uint8Array<ArrayBuffer> }) {
  const sent: RequestFrame[] = [];
  let refusals = 0;
  const channel: RequestChannel & { sent: RequestFrame[]; refuseNext(n: number): void } = {
    sent,
    refuseNext: (n) => (refusals = n),
    request(frame) {
      sent.push(frame);
      const none = (what: string) => Promise.reject(new RelayRequestError('SEALCHAT_E_NOT_FOUND', `No ${what}`));
      switch (frame.kind) {
        case 'get-roster-head':
          return held.head ? Promise.resolve({ kind: 'roster-head', requestId: 1, head: held.head }) : none('head');
        case 'get-roster':
          return held.roster ? Promise.resolve({ kind: 'roster', requestId: 1, roster: held.roster }) : none('roster');
        case 'publish-roster-head':
          if (refusals-- > 0)
            return Promise.reject(new RelayRequestError('SEALCHAT_E_ROSTER_HEAD_REJECTED', 'Roster head rejected'));
          held.head = frame.head;
          return Promise.resolve({ kind: 'ok', requestId: 1 } satisfies RelayFrame);
        default:
          return Promise.reject(new Error(`unexpected ${frame.kind}`));
      }
    },
  };
  return channel;
}

interface Org {
  org: TestOrganisation;
  v1bytes: Uint8Array<ArrayBuffer>;
  v1: VerifiedRoster;
  v2bytes: Uint8Array<ArrayBuffer>;
  v2: VerifiedRoster;
}

async function twoRosters(): Promise<Org> {
  const org = await createTestOrganisation();
  const v1bytes = await org.roster(1, []);
  const v2bytes = await org.roster(2, []);
  const v1 = await verifyRoster(v1bytes, { orgRootKey: org.rootPublic, now: Date.now() });
  const v2 = await verifyRoster(v2bytes, { orgRootKey: org.rootPublic, now: Date.now(), previous: v1 });
  return { org, v1bytes, v1, v2bytes, v2 };
}

const byRoot = (org: TestOrganisation) => ({ privateKey: org.root.privateKey, publicKey: org.rootPublic });

describe('fetchAuditFloor', () => {
  it('takes the mark of the relay’s head for this roster, however old (an old head is a lower floor, never a false one)', async () => {
    const t = await twoRosters();
    const head = await issueRosterHead(t.v2, byRoot(t.org), Date.now() - 30 * DAY, mark(4, 4));
    const floor = await fetchAuditFloor(relay({ head }), t.org.rootPublic, t.v2);
    expect(floor).toEqual({ mark: mark(4, 4), signedAt: expect.any(Number) });
  });

  it('takes the mark of a head for the roster just before, when the relay still holds that one (before a publish)', async () => {
    const t = await twoRosters();
    const head = await issueRosterHead(t.v1, byRoot(t.org), Date.now(), mark(3, 3));
    const channel = relay({ head, roster: t.v1bytes });
    expect((await fetchAuditFloor(channel, t.org.rootPublic, t.v2)).mark).toEqual(mark(3, 3));
    expect(channel.sent.map((f) => f.kind)).toEqual(['get-roster-head', 'get-roster']);
  });

  it('says in words why nothing vouches: no head, a head that does not verify, one for a roster off the chain', async () => {
    const t = await twoRosters();
    const none = await fetchAuditFloor(relay({}), t.org.rootPublic, t.v2);
    expect(none).toEqual({ mark: undefined, why: 'the relay holds no roster head' });
    const head = await issueRosterHead(t.v2, byRoot(t.org), Date.now(), mark(4, 4));
    const forged = head.slice();
    forged[forged.length - 1]! ^= 1;
    const bad = await fetchAuditFloor(relay({ head: forged }), t.org.rootPublic, t.v2);
    expect(bad.mark).toBeUndefined();
    expect(bad).toMatchObject({ why: expect.stringMatching(/^the relay's roster head does not verify/) });
    // A head for version 1, with a relay roster that is not the one version 2 follows (another org's).
    const other = await twoRosters();
    const stray = await issueRosterHead(t.v1, byRoot(t.org), Date.now(), mark(9, 9));
    const off = await fetchAuditFloor(relay({ head: stray, roster: other.v1bytes }), t.org.rootPublic, t.v2);
    expect(off.mark).toBeUndefined();
  });
});

describe('higherMark', () => {
  it('names the higher count, the empty log’s when there is none, and refuses one count with two digests', () => {
    expect(higherMark(undefined, undefined)).toEqual(EMPTY_AUDIT_MARK);
    expect(higherMark(mark(2, 2), undefined)).toEqual(mark(2, 2));
    expect(higherMark(undefined, mark(2, 2))).toEqual(mark(2, 2));
    expect(higherMark(mark(2, 2), mark(5, 5))).toEqual(mark(5, 5));
    expect(higherMark(mark(5, 5), mark(2, 2))).toEqual(mark(5, 5));
    expect(higherMark(mark(5, 5), mark(5, 5))).toEqual(mark(5, 5));
    const fork = (() => {
      try {
        return higherMark(mark(5, 5), mark(5, 6));
      } catch (error) {
        return error;
      }
    })();
    expect(fork).toBeInstanceOf(AuditLogTamperedError);
    expect(fork).toMatchObject({ index: 4 });
  });
});

describe('the kept audit head', () => {
  it('round-trips, and a malformed record is StoredStateError', async () => {
    const store = new MemoryClientStore();
    expect(await loadKeptAuditHead(store)).toBeUndefined();
    await saveKeptAuditHead(store, mark(7, 0xab));
    expect(await loadKeptAuditHead(store)).toEqual(mark(7, 0xab));
    for (const bad of [null, 'x', { count: -1, digest: 'ab'.repeat(32) }, { count: 1, digest: 'AB'.repeat(32) }]) {
      await store.putRecord('org/audit-head', bad);
      await expect(loadKeptAuditHead(store)).rejects.toBeInstanceOf(StoredStateError);
    }
  });
});

/** The head in the last `publish-roster-head` sent. */
function lastHead(sent: readonly RequestFrame[]): Uint8Array<ArrayBuffer> {
  const heads = sent.flatMap((f) => (f.kind === 'publish-roster-head' ? [f.head] : []));
  return heads[heads.length - 1]!;
}

describe('sendRosterHead', () => {
  async function signer(t: Org) {
    return { rootKey: t.org.root, rootPublic: await exportPublicKey(t.org.root.publicKey), roster: t.v2bytes };
  }

  it('F8a: never names less than the relay’s head, nor less than what this device verified', async () => {
    const t = await twoRosters();
    const channel = relay({ head: await issueRosterHead(t.v2, byRoot(t.org), Date.now() - DAY, mark(6, 6)) });
    const published = async () =>
      (
        await verifyRosterHead(lastHead(channel.sent), {
          orgRootKey: t.org.rootPublic,
          roster: t.v2,
          now: Date.now(),
        })
      ).audit;
    await sendRosterHead(channel, await signer(t), Date.now(), mark(2, 2));
    expect(await published()).toEqual(mark(6, 6));
    await sendRosterHead(channel, await signer(t), Date.now() + 1, mark(8, 8));
    expect(await published()).toEqual(mark(8, 8));
    await sendRosterHead(channel, await signer(t), Date.now() + 2, undefined);
    expect(await published()).toEqual(mark(8, 8));
  });

  it('refused once (another console raised the mark meanwhile), reads the relay’s mark again and retries once', async () => {
    const t = await twoRosters();
    const channel = relay({ head: await issueRosterHead(t.v2, byRoot(t.org), Date.now() - DAY, mark(1, 1)) });
    channel.refuseNext(1);
    await sendRosterHead(channel, await signer(t), Date.now(), undefined);
    expect(channel.sent.map((f) => f.kind)).toEqual([
      'get-roster-head',
      'publish-roster-head',
      'get-roster-head',
      'publish-roster-head',
    ]);
    channel.refuseNext(2);
    await expect(sendRosterHead(channel, await signer(t), Date.now(), undefined)).rejects.toMatchObject({
      code: 'SEALCHAT_E_ROSTER_HEAD_REJECTED',
    });
  });
});
