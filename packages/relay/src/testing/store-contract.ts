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
      expect(await store.saveRoster(orgId, 3, roster, 10, [])).toBe(true);
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
      for (const [i, roster] of rosters.entries())
        expect(await store.saveRoster(orgId, i + 1, roster, 100, [])).toBe(true);
      expect(await store.rosterHistory(orgId, 1, 100)).toEqual(
        rosters.map((roster, i) => ({ version: i + 1, roster })),
      );
      expect((await store.rosterHistory(orgId, 2, 2)).map((r) => r.version)).toEqual([2, 3]);
      expect((await store.rosterHistory(orgId, 0, 100)).length).toBe(4);
      expect(await store.rosterHistory(orgId, 5, 100)).toEqual([]);
      // Versions may skip; fromVersion between two kept ones starts at the next.
      expect(await store.saveRoster(orgId, 9, random(10), 100, [])).toBe(true);
      expect((await store.rosterHistory(orgId, 5, 100)).map((r) => r.version)).toEqual([9]);
      // Another org has its own history; an unknown org has none.
      const other = random(16);
      await store.registerOrg(other, random(32), 1);
      expect(await store.rosterHistory(other, 0, 100)).toEqual([]);
      expect(await store.saveRoster(random(16), 1, random(10), 100, [])).toBe(false);
    });

    it('keeps one roster head per org, only for its current roster and never over a newer one', async () => {
      const head = (rosterVersion: number, signedAt: number, auditCount = 0) => ({
        rosterVersion,
        signedAt,
        auditCount,
        head: random(165),
      });
      expect(await store.rosterHead(orgId)).toBeUndefined();
      // No roster yet, or a head naming another version than the org's: nothing stored.
      expect(await store.saveRosterHead(orgId, head(1, 10))).toBe(false);
      expect(await store.saveRoster(orgId, 2, random(40), 100, [])).toBe(true);
      expect(await store.saveRosterHead(orgId, head(1, 10))).toBe(false);
      expect(await store.saveRosterHead(random(16), head(2, 10))).toBe(false);
      const first = head(2, 100);
      expect(await store.saveRosterHead(orgId, first)).toBe(true);
      expect(await store.rosterHead(orgId)).toEqual(first);
      // An older head for the same roster is refused; the same time again (a retry) and a newer one replace it.
      expect(await store.saveRosterHead(orgId, head(2, 99))).toBe(false);
      expect(await store.saveRosterHead(orgId, head(2, 100))).toBe(true);
      const later = head(2, 200);
      expect(await store.saveRosterHead(orgId, later)).toBe(true);
      expect(await open().then((again) => again.rosterHead(orgId))).toEqual(later);
      // A new roster leaves the old head in place (it names the old roster) until one names the new roster,
      // even one signed earlier than the old head.
      expect(await store.saveRoster(orgId, 3, random(40), 100, [])).toBe(true);
      expect(await store.rosterHead(orgId)).toEqual(later);
      const forNew = head(3, 150);
      expect(await store.saveRosterHead(orgId, forNew)).toBe(true);
      expect(await store.rosterHead(orgId)).toEqual(forNew);
      // The head goes with its org.
      expect(await store.removeOrg(orgId)).toBe(true);
      expect(await store.rosterHead(orgId)).toBeUndefined();
    });

    it('never lowers the audit count a roster head names, across rosters too', async () => {
      const head = (rosterVersion: number, signedAt: number, auditCount: number) => ({
        rosterVersion,
        signedAt,
        auditCount,
        head: random(165),
      });
      expect(await store.saveRoster(orgId, 1, random(40), 100, [])).toBe(true);
      const five = head(1, 100, 5);
      expect(await store.saveRosterHead(orgId, five)).toBe(true);
      expect(await store.rosterHead(orgId)).toEqual(five);
      // Newer, but naming fewer records: refused. As many, or more: taken.
      expect(await store.saveRosterHead(orgId, head(1, 200, 4))).toBe(false);
      expect(await store.rosterHead(orgId)).toEqual(five);
      expect(await store.saveRosterHead(orgId, head(1, 200, 5))).toBe(true);
      expect(await store.saveRosterHead(orgId, head(1, 300, 9))).toBe(true);
      // A new roster does not reset it: its first head names at least as many.
      expect(await store.saveRoster(orgId, 2, random(40), 100, [])).toBe(true);
      expect(await store.saveRosterHead(orgId, head(2, 400, 8))).toBe(false);
      const nine = head(2, 400, 9);
      expect(await store.saveRosterHead(orgId, nine)).toBe(true);
      expect(await open().then((again) => again.rosterHead(orgId))).toEqual(nine);
    });

    it('stores nothing for a roster version already held or older (another relay published first)', async () => {
      const first = random(40);
      expect(await store.saveRoster(orgId, 2, first, 100, [])).toBe(true);
      expect(await store.saveRoster(orgId, 2, random(40), 100, [])).toBe(false);
      expect(await store.saveRoster(orgId, 1, random(40), 100, [])).toBe(false);
      expect(await store.getOrg(orgId)).toMatchObject({ roster: first, rosterVersion: 2 });
      expect(await store.rosterHistory(orgId, 0, 100)).toEqual([{ version: 2, roster: first }]);
      // Two stores on one database saving the same version at once: exactly one stores it.
      const other = await open();
      const results = await Promise.all([
        store.saveRoster(orgId, 3, random(40), 100, []),
        other.saveRoster(orgId, 3, random(40), 100, []),
      ]);
      expect(results.filter(Boolean)).toHaveLength(1);
      const [kept] = await other.rosterHistory(orgId, 3, 10);
      expect((await store.getOrg(orgId))?.roster).toEqual(kept?.roster);
    });

    it('keeps at most maxHistory rosters per org, dropping the oldest', async () => {
      for (let version = 1; version <= 5; version++) await store.saveRoster(orgId, version, random(20), 3, []);
      expect((await store.rosterHistory(orgId, 0, 100)).map((r) => r.version)).toEqual([3, 4, 5]);
      const other = random(16);
      await store.registerOrg(other, random(32), 1);
      await store.saveRoster(other, 1, random(20), 3, []);
      // A smaller bound applies at the next save; one is the current roster alone.
      await store.saveRoster(orgId, 6, random(20), 1, []);
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
      await store.saveRoster(orgId, 1, random(20), 10, []);
      await store.saveRoster(orgId, 2, random(20), 10, []);
      expect(await store.removeOrg(orgId)).toBe(true);
      expect(await store.getOrg(orgId)).toBeUndefined();
      expect(await store.getConversation(conversationId)).toBeUndefined();
      expect(await store.recentRecords(10)).toEqual([]);
      expect(await store.originListed('https://a.example')).toBe(false);
      expect(await store.rosterHistory(orgId, 0, 10)).toEqual([]);
      expect(await store.removeOrg(orgId)).toBe(false);
      // Registered again (same id), it starts a fresh history.
      await store.registerOrg(orgId, random(32), 2);
      expect(await store.saveRoster(orgId, 1, random(20), 10, [])).toBe(true);
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

    describe('history grants', () => {
      const deviceA = random(16);
      const deviceB = random(16);
      const grant = (
        conversation: Uint8Array,
        device = deviceA,
        options: { rosterVersion?: number; maxPerDevice?: number; org?: Uint8Array; bytes?: Uint8Array } = {},
      ) =>
        store.putHistoryGrant({
          orgId: options.org ?? orgId,
          deviceId: device,
          conversationId: conversation,
          grant: options.bytes ?? random(40),
          rosterVersion: options.rosterVersion ?? 1,
          maxPerDevice: options.maxPerDevice ?? 100,
        });
      const page = async (device = deviceA, after = new Uint8Array(16), limit = 100, org = orgId) =>
        (await store.historyGrants(org, device, after, limit)).map((g) =>
          Buffer.from(g.conversationId).toString('hex'),
        );
      const conversationWithId = async (id: Uint8Array<ArrayBuffer>, org = orgId) => {
        await store.createConversation({ conversationId: id, orgId: org, capabilityHash: random(32), createdAt: 2 });
        return id;
      };

      beforeEach(async () => {
        expect(await store.saveRoster(orgId, 1, random(20), 10, [deviceA, deviceB])).toBe(true);
      });

      it('keeps one grant per device and conversation: a later one replaces it', async () => {
        const first = random(50);
        expect(await grant(conversationId, deviceA, { bytes: first })).toBe('stored');
        expect(await store.historyGrant(orgId, deviceA, conversationId)).toEqual(first);
        const second = random(70);
        expect(await grant(conversationId, deviceA, { bytes: second })).toBe('stored');
        expect(await store.historyGrant(orgId, deviceA, conversationId)).toEqual(second);
        expect(await store.historyGrants(orgId, deviceA, new Uint8Array(16), 10)).toEqual([
          { conversationId, grant: second },
        ]);
        expect(await store.historyGrant(orgId, deviceB, conversationId)).toBeUndefined();
      });

      it('pages a device’s own grants by conversation id, as unsigned bytes, strictly after `after`', async () => {
        const ids = [0x00, 0x7f, 0x80, 0xff].map((b) => Uint8Array.from({ length: 16 }, (_, i) => (i === 0 ? b : 1)));
        for (const id of ids) await grant(await conversationWithId(id));
        await grant(conversationId);
        await grant(conversationId, deviceB);
        const sorted = [...ids, conversationId].map((id) => Buffer.from(id).toString('hex')).sort();
        expect(await page()).toEqual(sorted);
        expect(await page(deviceA, new Uint8Array(16), 2)).toEqual(sorted.slice(0, 2));
        expect(await page(deviceA, Buffer.from(sorted[1]!, 'hex'), 2)).toEqual(sorted.slice(2, 4));
        expect(await page(deviceA, Buffer.from(sorted[3]!, 'hex'), 2)).toEqual(sorted.slice(4));
        expect(await page(deviceA, new Uint8Array(16).fill(0xff))).toEqual([]);
        // Only the device's own: B has one, another device none, and the same device in another org
        // holds that org's grants only.
        expect(await page(deviceB)).toEqual([Buffer.from(conversationId).toString('hex')]);
        expect(await page(random(16))).toEqual([]);
        const other = random(16);
        await store.registerOrg(other, random(32), 1);
        await store.saveRoster(other, 1, random(20), 10, [deviceA]);
        const theirs = await newConversation(3, other);
        expect(await grant(theirs, deviceA, { org: other })).toBe('stored');
        expect(await page(deviceA, new Uint8Array(16), 100, other)).toEqual([Buffer.from(theirs).toString('hex')]);
        expect(await page()).toEqual(sorted);
      });

      it('stores nothing under a stale roster, for a conversation not the org’s, or past the device’s bound', async () => {
        expect(await grant(conversationId, deviceA, { rosterVersion: 2 })).toBe('stale-roster');
        expect(await grant(conversationId, deviceA, { rosterVersion: 0 })).toBe('stale-roster');
        const unlisted = random(16);
        await store.registerOrg(unlisted, random(32), 1);
        expect(await grant(await newConversation(3, unlisted), deviceA, { org: unlisted, rosterVersion: 0 })).toBe(
          'stale-roster',
        );
        expect(await grant(conversationId, deviceA, { org: random(16) })).toBe('stale-roster');
        expect(await grant(random(16))).toBe('unknown-conversation');
        expect(await grant(await newConversation(3, unlisted))).toBe('unknown-conversation');
        expect(await page()).toEqual([]);
        const [a, b, c] = [await newConversation(4), await newConversation(5), await newConversation(6)];
        expect(await grant(a, deviceA, { maxPerDevice: 2 })).toBe('stored');
        expect(await grant(b, deviceA, { maxPerDevice: 2 })).toBe('stored');
        expect(await grant(c, deviceA, { maxPerDevice: 2 })).toBe('full');
        // Replacing one it holds is never over the bound; another device has its own.
        expect(await grant(b, deviceA, { maxPerDevice: 2 })).toBe('stored');
        expect(await grant(c, deviceB, { maxPerDevice: 2 })).toBe('stored');
        expect(await grant(a, deviceB, { maxPerDevice: 0 })).toBe('full');
        expect((await page()).length).toBe(2);
      });

      it('deletes grants with their conversation: erasure, the retention sweep, and the org’s removal', async () => {
        const kept = await newConversation(Date.now());
        for (const device of [deviceA, deviceB]) {
          await grant(conversationId, device);
          await grant(kept, device);
        }
        const swept = await newConversation(3);
        await grant(swept);
        expect(await store.deleteConversation(conversationId)).toBe(true);
        expect(await store.historyGrant(orgId, deviceA, conversationId)).toBeUndefined();
        expect(await store.historyGrant(orgId, deviceB, conversationId)).toBeUndefined();
        expect(await page(deviceB)).toEqual([Buffer.from(kept).toString('hex')]);
        await store.setRetention(orgId, 1);
        const result = await store.sweep(Date.now(), 0, 100);
        expect(result.deletedConversations).toEqual([swept]);
        expect(await page()).toEqual([Buffer.from(kept).toString('hex')]);
        expect(await store.removeOrg(orgId)).toBe(true);
        expect(await page()).toEqual([]);
        expect(await page(deviceB)).toEqual([]);
      });

      it('a roster that drops a device deletes its grants in that org, in the same save', async () => {
        const second = await newConversation(3);
        for (const device of [deviceA, deviceB]) for (const id of [conversationId, second]) await grant(id, device);
        const other = random(16);
        await store.registerOrg(other, random(32), 1);
        await store.saveRoster(other, 1, random(20), 10, [deviceA]);
        await grant(await newConversation(3, other), deviceA, { org: other });
        expect(await store.saveRoster(orgId, 2, random(20), 10, [deviceB])).toBe(true);
        expect(await page()).toEqual([]);
        expect((await page(deviceB)).length).toBe(2);
        expect((await page(deviceA, new Uint8Array(16), 100, other)).length).toBe(1);
        // A save that stores nothing (a version already held) drops nothing either.
        expect(await store.saveRoster(orgId, 2, random(20), 10, [])).toBe(false);
        expect((await page(deviceB)).length).toBe(2);
        expect(await store.saveRoster(orgId, 3, random(20), 10, [])).toBe(true);
        expect(await page(deviceB)).toEqual([]);
      });

      it('two stores on one database: a grant racing a roster that drops its device never outlives it', async () => {
        const other = await open();
        for (let round = 0; round < 15; round++) {
          const version = 2 + 2 * round;
          expect(await store.saveRoster(orgId, version, random(20), 10, [deviceA])).toBe(true);
          const conversation = await newConversation(3 + round);
          const [put] = await Promise.all([
            grant(conversation, deviceA, { rosterVersion: version }),
            other.saveRoster(orgId, version + 1, random(20), 10, []),
          ]);
          expect(['stored', 'stale-roster']).toContain(put);
          expect(await page()).toEqual([]);
        }
      });
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
