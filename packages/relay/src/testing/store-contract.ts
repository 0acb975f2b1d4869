/**
 * The storage contract: what every RelayStore must do, as one suite that each engine's test file
 * runs (sqlite-store.test.ts, postgres-store.test.ts). Engine-specific checks (pragmas, files,
 * MVCC) stay in those files.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StoreClosedError, UnknownConversationError, type RelayStore } from '../store.js';

export interface StoreFixture {
  /** Opens the store on a fresh, empty database; later calls (before `cleanup`) open the same one again. */
  open(): Promise<RelayStore>;
  /** Removes the database. */
  cleanup(): Promise<void>;
}

const random = (n: number): Uint8Array<ArrayBuffer> => crypto.getRandomValues(new Uint8Array(n));
const DAY = 24 * 60 * 60 * 1000;

export function describeStoreContract(engine: string, makeFixture: () => Promise<StoreFixture>): void {
  describe(`${engine}: the RelayStore contract`, () => {
    let fixture: StoreFixture;
    let store: RelayStore;
    const opened: RelayStore[] = [];
    let orgId: Uint8Array<ArrayBuffer>;
    let conversationId: Uint8Array<ArrayBuffer>;

    const open = async (): Promise<RelayStore> => {
      const s = await fixture.open();
      opened.push(s);
      return s;
    };
    const newConversation = async (createdAt = 2, org = orgId): Promise<Uint8Array<ArrayBuffer>> => {
      const id = random(16);
      await store.createConversation({ conversationId: id, orgId: org, capabilityHash: random(32), createdAt });
      return id;
    };

    beforeEach(async () => {
      fixture = await makeFixture();
      store = await open();
      orgId = random(16);
      await store.registerOrg(orgId, random(32), 1);
      conversationId = await newConversation();
    });

    afterEach(async () => {
      for (const s of opened.splice(0)) await s.close();
      await fixture.cleanup();
    });

    it('assigns gapless seqs in append order within one group commit, and reports the commit', async () => {
      const commits: number[] = [];
      store.onCommit((size) => commits.push(size));
      const envelopes = Array.from({ length: 50 }, () => random(8));
      const results = await Promise.all(envelopes.map((e) => store.append(conversationId, random(16), e)));
      expect(results.map((r) => r.record.seq)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
      expect(results.every((r) => !r.duplicate)).toBe(true);
      expect(commits.reduce((a, b) => a + b, 0)).toBe(50);
      expect(commits.length).toBeLessThan(50);
      expect((await store.getConversation(conversationId))?.lastSeq).toBe(50);
      const stored = await store.recordsAfter(conversationId, 0, 100);
      expect(stored.map((r) => r.envelope)).toEqual(envelopes);
    });

    it('returns the original record for a repeated client message id and writes nothing', async () => {
      const id = random(16);
      const envelope = random(8);
      const first = await store.append(conversationId, id, envelope);
      const again = await store.append(conversationId, id, random(8));
      expect(again.duplicate).toBe(true);
      expect(again.record.seq).toBe(first.record.seq);
      expect(again.record.envelope).toEqual(envelope);
      // A retry in the same batch as the original is a duplicate too.
      const id2 = random(16);
      const [a, b] = await Promise.all([
        store.append(conversationId, id2, random(8)),
        store.append(conversationId, id2, random(8)),
      ]);
      expect([a.duplicate, b.duplicate]).toEqual([false, true]);
      expect(b.record.seq).toBe(a.record.seq);
      expect((await store.recordsAfter(conversationId, 0, 10)).length).toBe(2);
      // The same client id in another conversation is a different message.
      const other = await newConversation(3);
      expect((await store.append(other, id, envelope)).duplicate).toBe(false);
    });

    it('fails only the append to a missing conversation, not its batch', async () => {
      const [good, bad] = await Promise.allSettled([
        store.append(conversationId, random(16), random(8)),
        store.append(random(16), random(16), random(8)),
      ]);
      expect(good.status).toBe('fulfilled');
      expect(bad.status === 'rejected' && bad.reason).toBeInstanceOf(UnknownConversationError);
    });

    it('commits queued appends on close, rejects later ones, and keeps them across a reopen', async () => {
      const queued = store.append(conversationId, random(16), random(8));
      await store.close();
      expect((await queued).record.seq).toBe(1);
      await expect(store.append(conversationId, random(16), random(8))).rejects.toBeInstanceOf(StoreClosedError);
      expect(await store.ping()).toBe(false);
      const again = await open();
      expect((await again.recordsAfter(conversationId, 0, 10)).map((r) => r.seq)).toEqual([1]);
      expect(again.epoch()).toBe(store.epoch());
      expect(again.epoch()).toBeGreaterThan(0);
      expect(await again.ping()).toBe(true);
    });

    it('pages records after and before a seq, and knows the first stored seq', async () => {
      expect(await store.firstSeq(conversationId)).toBe(1);
      for (let i = 0; i < 7; i++) await store.append(conversationId, random(16), random(8));
      expect((await store.recordsAfter(conversationId, 2, 3)).map((r) => r.seq)).toEqual([3, 4, 5]);
      expect((await store.recordsBefore(conversationId, 6, 2)).map((r) => r.seq)).toEqual([4, 5]);
      expect((await store.recordsBefore(conversationId, Number.MAX_SAFE_INTEGER, 3)).map((r) => r.seq)).toEqual([
        5, 6, 7,
      ]);
      expect(await store.firstSeq(conversationId)).toBe(1);
      const record = (await store.recordsAfter(conversationId, 0, 1))[0]!;
      expect(record.conversationId).toEqual(conversationId);
      expect(record.clientMessageId.length).toBe(16);
      expect(record.storedAt).toBeGreaterThan(0);
    });

    it('lists an org’s newest conversations oldest first, recent records in store order, the latest org', async () => {
      for (let i = 0; i < 3; i++) await newConversation(10 + i);
      expect((await store.listConversations(orgId, 2)).map((c) => c.createdAt)).toEqual([11, 12]);
      const other = await newConversation(20);
      await store.append(other, random(16), random(8));
      await store.append(conversationId, random(16), random(8));
      const recent = await store.recentRecords(10);
      expect(recent.map((r) => r.conversationId)).toEqual([other, conversationId]);
      expect((await store.recentRecords(1)).map((r) => r.conversationId)).toEqual([conversationId]);
      const later = random(16);
      await store.registerOrg(later, random(32), 5);
      expect((await store.latestOrg())?.orgId).toEqual(later);
      expect((await store.listOrgs()).map((o) => o.orgId)).toEqual([orgId, later]);
    });

    it('stores rosters and org policies; registering twice keeps the first', async () => {
      const rootKey = (await store.getOrg(orgId))!.rootKey;
      await store.registerOrg(orgId, random(32), 9);
      expect((await store.getOrg(orgId))?.rootKey).toEqual(rootKey);
      expect((await store.getOrg(orgId))?.roster).toBeUndefined();
      const roster = random(100);
      expect(await store.saveRoster(orgId, 3, roster, 10)).toBe(true);
      expect(await store.getOrg(orgId)).toMatchObject({ roster, rosterVersion: 3, registeredAt: 1 });
      const fresh = random(16);
      await store.setOrgPolicy(
        fresh,
        random(32),
        { origins: ['https://b.example', 'https://a.example'], retentionDays: 7 },
        4,
      );
      expect(await store.orgOrigins(fresh)).toEqual(['https://a.example', 'https://b.example']);
      expect(await store.originListed('https://a.example')).toBe(true);
      expect(await store.originListed('https://c.example')).toBe(false);
      expect((await store.getOrg(fresh))?.retentionDays).toBe(7);
      await store.setOrgPolicy(fresh, random(32), { origins: [], retentionDays: undefined }, 4);
      expect(await store.orgOrigins(fresh)).toEqual([]);
      expect((await store.getOrg(fresh))?.retentionDays).toBeUndefined();
    });

    it('keeps every roster it saves, in version order, and pages them from a version', async () => {
      const rosters = [random(50), random(60), random(70), random(80)];
      for (const [i, roster] of rosters.entries()) expect(await store.saveRoster(orgId, i + 1, roster, 100)).toBe(true);
      expect(await store.rosterHistory(orgId, 1, 100)).toEqual(
        rosters.map((roster, i) => ({ version: i + 1, roster })),
      );
      expect((await store.rosterHistory(orgId, 2, 2)).map((r) => r.version)).toEqual([2, 3]);
      expect((await store.rosterHistory(orgId, 0, 100)).length).toBe(4);
      expect(await store.rosterHistory(orgId, 5, 100)).toEqual([]);
      // Versions may skip; fromVersion between two kept ones starts at the next.
      expect(await store.saveRoster(orgId, 9, random(10), 100)).toBe(true);
      expect((await store.rosterHistory(orgId, 5, 100)).map((r) => r.version)).toEqual([9]);
      // Another org has its own history; an unknown org has none.
      const other = random(16);
      await store.registerOrg(other, random(32), 1);
      expect(await store.rosterHistory(other, 0, 100)).toEqual([]);
      expect(await store.saveRoster(random(16), 1, random(10), 100)).toBe(false);
    });

    it('stores nothing for a roster version already held or older (another relay published first)', async () => {
      const first = random(40);
      expect(await store.saveRoster(orgId, 2, first, 100)).toBe(true);
      expect(await store.saveRoster(orgId, 2, random(40), 100)).toBe(false);
      expect(await store.saveRoster(orgId, 1, random(40), 100)).toBe(false);
      expect(await store.getOrg(orgId)).toMatchObject({ roster: first, rosterVersion: 2 });
      expect(await store.rosterHistory(orgId, 0, 100)).toEqual([{ version: 2, roster: first }]);
      // Two stores on one database saving the same version at once: exactly one stores it.
      const other = await open();
      const results = await Promise.all([
        store.saveRoster(orgId, 3, random(40), 100),
        other.saveRoster(orgId, 3, random(40), 100),
      ]);
      expect(results.filter(Boolean)).toHaveLength(1);
      const [kept] = await other.rosterHistory(orgId, 3, 10);
      expect((await store.getOrg(orgId))?.roster).toEqual(kept?.roster);
    });

    it('keeps at most maxHistory rosters per org, dropping the oldest', async () => {
      for (let version = 1; version <= 5; version++) await store.saveRoster(orgId, version, random(20), 3);
      expect((await store.rosterHistory(orgId, 0, 100)).map((r) => r.version)).toEqual([3, 4, 5]);
      const other = random(16);
      await store.registerOrg(other, random(32), 1);
      await store.saveRoster(other, 1, random(20), 3);
      // A smaller bound applies at the next save; one is the current roster alone.
      await store.saveRoster(orgId, 6, random(20), 1);
      expect((await store.rosterHistory(orgId, 0, 100)).map((r) => r.version)).toEqual([6]);
      expect((await store.rosterHistory(other, 0, 100)).map((r) => r.version)).toEqual([1]);
      expect((await store.getOrg(orgId))?.rosterVersion).toBe(6);
    });

    it('erases a conversation with its records; appends queued before commit or fail, never resurrect it', async () => {
      await store.append(conversationId, random(16), random(8));
      const queued = store.append(conversationId, random(16), random(8));
      expect(await store.deleteConversation(conversationId)).toBe(true);
      await queued.then(
        (result) => expect(result.record.seq).toBe(2),
        (error: unknown) => expect(error).toBeInstanceOf(UnknownConversationError),
      );
      expect(await store.getConversation(conversationId)).toBeUndefined();
      expect(await store.recordsAfter(conversationId, 0, 10)).toEqual([]);
      await expect(store.append(conversationId, random(16), random(8))).rejects.toBeInstanceOf(
        UnknownConversationError,
      );
      expect(await store.deleteConversation(conversationId)).toBe(false);
      await store.erase();
    });

    it('removes an org with its conversations, records and roster history', async () => {
      await store.setOrgPolicy(orgId, random(32), { origins: ['https://a.example'], retentionDays: undefined }, 1);
      await store.append(conversationId, random(16), random(8));
      await store.saveRoster(orgId, 1, random(20), 10);
      await store.saveRoster(orgId, 2, random(20), 10);
      expect(await store.removeOrg(orgId)).toBe(true);
      expect(await store.getOrg(orgId)).toBeUndefined();
      expect(await store.getConversation(conversationId)).toBeUndefined();
      expect(await store.recentRecords(10)).toEqual([]);
      expect(await store.originListed('https://a.example')).toBe(false);
      expect(await store.rosterHistory(orgId, 0, 10)).toEqual([]);
      expect(await store.removeOrg(orgId)).toBe(false);
      // Registered again (same id), it starts a fresh history.
      await store.registerOrg(orgId, random(32), 2);
      expect(await store.saveRoster(orgId, 1, random(20), 10)).toBe(true);
      expect((await store.rosterHistory(orgId, 0, 10)).map((r) => r.version)).toEqual([1]);
    });

    it('sweeps records past their org’s retention in bounded steps, then empty old conversations', async () => {
      const now = Date.now();
      for (let i = 0; i < 5; i++) await store.append(conversationId, random(16), random(8));
      // Another org keeps records forever (no retention of its own, relay default 0).
      const keeper = random(16);
      await store.registerOrg(keeper, random(32), 1);
      const kept = await newConversation(2, keeper);
      await store.append(kept, random(16), random(8));
      await store.setOrgPolicy(orgId, random(32), { origins: [], retentionDays: 1 }, 1);
      // Nothing is old yet.
      expect(await store.sweep(now, 0, 100)).toEqual({ deletedRecords: 0, deletedConversations: [], more: false });
      const later = now + 2 * DAY;
      const step = await store.sweep(later, 0, 3);
      expect(step).toMatchObject({ deletedRecords: 3, more: true });
      const rest = await store.sweep(later, 0, 100);
      expect(rest.deletedRecords).toBe(2);
      expect(rest.deletedConversations).toEqual([conversationId]);
      expect(await store.getConversation(conversationId)).toBeUndefined();
      expect((await store.recordsAfter(kept, 0, 10)).length).toBe(1);
      // The relay-wide default applies to an org without its own.
      const swept = await store.sweep(later, 1, 100);
      expect(swept.deletedConversations).toEqual([kept]);
      await store.vacuum();
    });

    it('keeps the lastSeq when every record is swept, so seqs never restart', async () => {
      const now = Date.now();
      // Created "later" than its records, so the sweep empties it without erasing it.
      const young = await newConversation(now + 10 * DAY);
      for (let i = 0; i < 3; i++) await store.append(young, random(16), random(8));
      await store.setOrgPolicy(orgId, random(32), { origins: [], retentionDays: 1 }, 1);
      const swept = await store.sweep(now + 2 * DAY, 0, 100);
      expect(swept.deletedRecords).toBe(3);
      expect(swept.deletedConversations).not.toContainEqual(young);
      expect((await store.getConversation(young))?.lastSeq).toBe(3);
      expect(await store.firstSeq(young)).toBe(4);
      expect((await store.append(young, random(16), random(8))).record.seq).toBe(4);
    });

    it('sets an org’s retention without touching its origins, and clears it back to the default', async () => {
      await store.setOrgPolicy(orgId, random(32), { origins: ['https://a.example'], retentionDays: 7 }, 1);
      expect(await store.setRetention(orgId, 30)).toBe(true);
      expect((await store.getOrg(orgId))?.retentionDays).toBe(30);
      expect(await store.orgOrigins(orgId)).toEqual(['https://a.example']);
      expect(await store.setRetention(orgId, undefined)).toBe(true);
      expect((await store.getOrg(orgId))?.retentionDays).toBeUndefined();
      expect(await store.orgOrigins(orgId)).toEqual(['https://a.example']);
      expect(await store.setRetention(random(16), 5)).toBe(false);
    });

    it('keeps an append-only audit log per org: compare-and-set on the index, bounded, paged in order', async () => {
      const records = Array.from({ length: 5 }, (_, i) => random(10 + i));
      expect(await store.auditCount(orgId)).toBe(0);
      expect(await store.appendAudit(orgId, 1, records[0]!, 10, 100)).toBe('conflict');
      for (const [index, record] of records.entries()) {
        expect(await store.appendAudit(orgId, index, record, 10 + index, 100)).toBe('appended');
      }
      // The index already taken, and one past the end (a gap), are conflicts; nothing is written.
      expect(await store.appendAudit(orgId, 2, random(10), 20, 100)).toBe('conflict');
      expect(await store.appendAudit(orgId, 7, random(10), 20, 100)).toBe('conflict');
      expect(await store.auditCount(orgId)).toBe(5);
      const page = await store.auditRecords(orgId, 1, 3);
      expect(page.map((r) => r.index)).toEqual([1, 2, 3]);
      expect(page.map((r) => r.record)).toEqual(records.slice(1, 4));
      expect(page[0]?.storedAt).toBe(11);
      expect((await store.auditRecords(orgId, 4, 100)).map((r) => r.index)).toEqual([4]);
      expect(await store.auditRecords(orgId, 5, 100)).toEqual([]);
      // The bound: the next index is right, but the log is full.
      expect(await store.appendAudit(orgId, 5, random(10), 20, 5)).toBe('full');
      expect(await store.auditCount(orgId)).toBe(5);
      // Another org has its own log from 0.
      const other = random(16);
      await store.registerOrg(other, random(32), 1);
      expect(await store.appendAudit(other, 0, random(10), 20, 100)).toBe('appended');
      expect(await store.auditCount(orgId)).toBe(5);
      expect((await store.auditRecords(other, 0, 10)).length).toBe(1);
    });

    it('never sweeps or erases the audit log with conversations; removing the org does', async () => {
      const now = Date.now();
      await store.append(conversationId, random(16), random(8));
      await store.appendAudit(orgId, 0, random(32), 1, 100);
      await store.setRetention(orgId, 1);
      const swept = await store.sweep(now + 10 * DAY, 1, 100);
      expect(swept.deletedRecords).toBe(1);
      expect(await store.deleteConversation(conversationId)).toBe(false);
      expect(await store.auditCount(orgId)).toBe(1);
      expect(await store.removeOrg(orgId)).toBe(true);
      expect(await store.auditCount(orgId)).toBe(0);
      expect(await store.auditRecords(orgId, 0, 10)).toEqual([]);
    });

    it('two stores on one database appending the same audit index: exactly one wins each time', async () => {
      const other = await open();
      for (let index = 0; index < 20; index++) {
        const results = await Promise.all([
          store.appendAudit(orgId, index, random(16), 1, 1000),
          other.appendAudit(orgId, index, random(16), 1, 1000),
          store.appendAudit(orgId, index, random(16), 1, 1000),
          other.appendAudit(orgId, index, random(16), 1, 1000),
        ]);
        expect(results.filter((r) => r === 'appended')).toHaveLength(1);
        expect(results.filter((r) => r === 'conflict')).toHaveLength(3);
      }
      expect(await other.auditCount(orgId)).toBe(20);
      expect((await store.auditRecords(orgId, 0, 100)).map((r) => r.index)).toEqual(
        Array.from({ length: 20 }, (_, i) => i),
      );
    });

    it('two stores on one database (two relays) never hand out the same seq, and dedupe each other’s retries', async () => {
      const other = await open();
      const ids = Array.from({ length: 60 }, () => random(16));
      // Both stores append every id, interleaved: each message must be stored exactly once.
      const results = await Promise.all(
        ids.flatMap((id, i) => [
          (i % 2 ? store : other).append(conversationId, id, random(8)),
          (i % 2 ? other : store).append(conversationId, id, random(8)),
        ]),
      );
      const fresh = results.filter((r) => !r.duplicate);
      expect(fresh.length).toBe(ids.length);
      expect(fresh.map((r) => r.record.seq).sort((a, b) => a - b)).toEqual(
        Array.from({ length: ids.length }, (_, i) => i + 1),
      );
      for (let i = 0; i < ids.length; i++) {
        const pair = results.slice(2 * i, 2 * i + 2);
        expect(pair[0]!.record.seq).toBe(pair[1]!.record.seq);
      }
      expect((await other.getConversation(conversationId))?.lastSeq).toBe(ids.length);
      expect(other.epoch()).toBe(store.epoch());
    });
  });
}
