import Database from 'better-sqlite3';
import {
  MAX_ROSTER_HISTORY_PAGE,
  WIRE_VERSION,
  bytesEqual,
  generateDeviceIdentity,
  verifyRoster,
  type DeviceIdentity,
} from '@sealchat/protocol';
import { describe, expect, it } from 'vitest';
import { startRelay } from './relay-server.js';
import {
  TestClient,
  expectKind,
  harnessPerTest,
  makeOrg,
  random,
  startHarness,
  type Harness,
  type TestOrg,
} from './testing/relay-harness.js';
import { openConversation, registerOrg, rowCount } from './testing/scenarios.js';

/**
 * Revision 3: a supervisor's settings and audit log, and the org's roster history. Only an
 * authenticated socket of a supervisor on its org's current roster may use the former, any device on
 * it the latter; they act on that org alone.
 */
const newHarness = harnessPerTest();

const DAY = 24 * 60 * 60 * 1000;

interface Setup {
  h: Harness;
  org: TestOrg;
  agentDevice: DeviceIdentity;
  supervisor: TestClient;
}

async function setup(options: Parameters<typeof startHarness>[0] = {}): Promise<Setup> {
  const h = await newHarness({ demo: true, ...options });
  const agentDevice = await generateDeviceIdentity();
  const org = await registerOrg(h, [agentDevice]);
  const supervisor = await h.connect();
  expectKind(await supervisor.authAgent(org.orgId, org.supervisor), 'ok');
  return { h, org, agentDevice, supervisor };
}

const append = (client: TestClient, index: number, record: Uint8Array<ArrayBuffer>) =>
  client.request({ kind: 'append-audit', index, record });

async function settings(client: TestClient) {
  return expectKind(await client.request({ kind: 'get-org-settings' }), 'org-settings');
}

function errorCode(frame: Awaited<ReturnType<TestClient['request']>>): string {
  return expectKind(frame, 'error').code;
}

describe('org settings: retention', () => {
  it('a supervisor sets the org’s retention, reads it back, and 0 returns to the relay default', async () => {
    const { supervisor } = await setup({ retentionDays: 90, maxRetentionDays: 365 });
    expect(await settings(supervisor)).toMatchObject({ retentionDays: 0, defaultRetentionDays: 90, auditCount: 0 });
    expectKind(await supervisor.request({ kind: 'set-retention', days: 30 }), 'ok');
    expect(await settings(supervisor)).toMatchObject({ retentionDays: 30, defaultRetentionDays: 90 });
    expectKind(await supervisor.request({ kind: 'set-retention', days: 0 }), 'ok');
    expect((await settings(supervisor)).retentionDays).toBe(0);
    // Over the operator's cap: a limit error, and the setting is unchanged.
    const over = await supervisor.request({ kind: 'set-retention', days: 366 });
    expect(errorCode(over)).toBe('SEALCHAT_E_LIMIT');
    expect(expectKind(over, 'error').message).toMatch(/365 days/);
    expect((await settings(supervisor)).retentionDays).toBe(0);
  });

  it('a retention over the wire’s bound does not decode', async () => {
    const { supervisor } = await setup();
    // set-retention, requestId 0x10000001, days 36 501.
    supervisor.ws.send(Uint8Array.of(WIRE_VERSION, 14, 0x10, 0, 0, 1, 0, 0, 0x8e, 0x95));
    const refused = expectKind(await supervisor.next((f) => f.kind === 'error'), 'error');
    expect(refused.code).toBe('SEALCHAT_E_BAD_FRAME');
  });

  it('the sweeper honours the supervisor’s retention: older records go, newer ones and the audit log stay', async () => {
    const { h, org, supervisor } = await setup({ retentionSweepIntervalMs: 50 });
    const other = await registerOrg(h);
    const visitor = await h.connect();
    const mine = await openConversation(visitor, org);
    const theirs = await openConversation(visitor, other);
    const post = async (conversationId: Uint8Array<ArrayBuffer>) =>
      expectKind(
        await visitor.request({ kind: 'post', conversationId, clientMessageId: random(16), envelope: random(30) }),
        'ack',
      ).seq;
    for (let i = 0; i < 4; i++) await post(mine.conversationId);
    for (let i = 0; i < 2; i++) await post(theirs.conversationId);
    expectKind(await append(supervisor, 0, random(64)), 'ok');
    // The clock, moved for the records: seqs 1–2 of each conversation were stored ten days ago.
    const side = new Database(h.dbPath);
    side.prepare('UPDATE records SET stored_at = stored_at - ? WHERE seq <= 2').run(10 * DAY);
    side.close();
    expectKind(await supervisor.request({ kind: 'set-retention', days: 7 }), 'ok');
    const seqs = (conversationId: Uint8Array) => {
      const db = new Database(h.dbPath, { readonly: true });
      try {
        return db
          .prepare('SELECT seq FROM records WHERE conversation_id = ? ORDER BY seq')
          .all(Buffer.from(conversationId))
          .map((row) => (row as { seq: number }).seq);
      } finally {
        db.close();
      }
    };
    await expect.poll(() => seqs(mine.conversationId), { timeout: 3000 }).toEqual([3, 4]);
    // The other org has no retention of its own and the relay keeps forever by default.
    expect(seqs(theirs.conversationId)).toEqual([1, 2]);
    expect((await settings(supervisor)).auditCount).toBe(1);
  });
});

describe('org audit log', () => {
  it('appends at exactly the next index, refuses a taken or skipped one, and pages in order', async () => {
    const { h, supervisor } = await setup();
    const records = [random(100), random(200), random(300)];
    expectKind(await append(supervisor, 0, records[0]!), 'ok');
    const taken = await append(supervisor, 0, random(100));
    expect(errorCode(taken)).toBe('SEALCHAT_E_CONFLICT');
    expect(errorCode(await append(supervisor, 2, random(100)))).toBe('SEALCHAT_E_CONFLICT');
    expectKind(await append(supervisor, 1, records[1]!), 'ok');
    expectKind(await append(supervisor, 2, records[2]!), 'ok');
    expect((await settings(supervisor)).auditCount).toBe(3);
    const all = expectKind(await supervisor.request({ kind: 'get-audit', fromIndex: 0, limit: 0 }), 'audit-page');
    expect(all.records).toEqual(records.map((record, index) => ({ index, record })));
    const tail = expectKind(await supervisor.request({ kind: 'get-audit', fromIndex: 1, limit: 1 }), 'audit-page');
    expect(tail.records).toEqual([{ index: 1, record: records[1] }]);
    const past = expectKind(await supervisor.request({ kind: 'get-audit', fromIndex: 3, limit: 10 }), 'audit-page');
    expect(past.records).toEqual([]);
    // The log is ciphertext to the relay: none of it reaches the log lines.
    const logged = h.logs.join('\n');
    for (const record of records) expect(logged).not.toContain(Buffer.from(record.subarray(0, 16)).toString('hex'));
    expect(logged).toContain('"audit-appended"');
  });

  it('bounds a page to about 1 MiB and the log to maxAuditRecords; deleting a conversation leaves it', async () => {
    const { h, org, supervisor } = await setup({ maxAuditRecords: 70, connectionBurst: 1000, connectionRate: 1000 });
    const big = () => random(16 * 1024);
    for (let index = 0; index < 70; index++) expectKind(await append(supervisor, index, big()), 'ok');
    const full = await append(supervisor, 70, big());
    expect(errorCode(full)).toBe('SEALCHAT_E_LIMIT');
    const page = expectKind(await supervisor.request({ kind: 'get-audit', fromIndex: 0, limit: 0 }), 'audit-page');
    expect(page.records.length).toBe(64);
    expect(page.records.at(-1)?.index).toBe(63);
    const rest = expectKind(await supervisor.request({ kind: 'get-audit', fromIndex: 64, limit: 0 }), 'audit-page');
    expect(rest.records.map((r) => r.index)).toEqual([64, 65, 66, 67, 68, 69]);
    const visitor = await h.connect();
    const conversation = await openConversation(visitor, org);
    expectKind(await visitor.request({ kind: 'delete-conversation', ...conversation }), 'ok');
    expect((await settings(supervisor)).auditCount).toBe(70);
  });

  it('two supervisor sockets racing for one index: exactly one wins', async () => {
    const { h, org, supervisor } = await setup();
    const second = await h.connect();
    expectKind(await second.authAgent(org.orgId, org.supervisor), 'ok');
    for (let index = 0; index < 10; index++) {
      const answers = await Promise.all([append(supervisor, index, random(20)), append(second, index, random(20))]);
      expect(answers.map((a) => a.kind).sort()).toEqual(['error', 'ok']);
    }
    expect((await settings(second)).auditCount).toBe(10);
  });
});

describe('authorisation of the supervisor frames', () => {
  it('refuses a visitor socket and an agent-role device, with one message whatever the reason', async () => {
    const { h, org, agentDevice, supervisor } = await setup();
    expectKind(await append(supervisor, 0, random(10)), 'ok');
    const visitor = await h.connect();
    await openConversation(visitor, org);
    const agent = await h.connect();
    expectKind(await agent.authAgent(org.orgId, agentDevice), 'ok');
    const requests = [
      { kind: 'set-retention', days: 1 },
      { kind: 'get-org-settings' },
      { kind: 'append-audit', index: 1, record: random(10) },
      { kind: 'get-audit', fromIndex: 0, limit: 0 },
    ] as const;
    const messages = new Set<string>();
    for (const client of [visitor, agent]) {
      for (const request of requests) {
        const refused = expectKind(await client.request(request), 'error');
        expect(refused.code).toBe('SEALCHAT_E_UNAUTHORIZED');
        messages.add(refused.message);
      }
    }
    expect(messages.size).toBe(1);
    expect((await settings(supervisor)).retentionDays).toBe(0);
    expect((await settings(supervisor)).auditCount).toBe(1);
    expect(rowCount(h.dbPath)).toBe(0);
  });

  it('another org’s supervisor acts on its own org only: it neither reads nor writes this one’s', async () => {
    const { h, supervisor } = await setup();
    const secret = random(50);
    expectKind(await append(supervisor, 0, secret), 'ok');
    expectKind(await supervisor.request({ kind: 'set-retention', days: 3 }), 'ok');
    const otherOrg = await registerOrg(h);
    const otherSupervisor = await h.connect();
    expectKind(await otherSupervisor.authAgent(otherOrg.orgId, otherOrg.supervisor), 'ok');
    expect(await settings(otherSupervisor)).toMatchObject({ retentionDays: 0, auditCount: 0 });
    const page = expectKind(await otherSupervisor.request({ kind: 'get-audit', fromIndex: 0, limit: 0 }), 'audit-page');
    expect(page.records).toEqual([]);
    // Index 1 is this org's next, not the other's: refused, and nothing lands in this org's log.
    expect(errorCode(await append(otherSupervisor, 1, random(10)))).toBe('SEALCHAT_E_CONFLICT');
    expectKind(await otherSupervisor.request({ kind: 'set-retention', days: 9 }), 'ok');
    expect(await settings(supervisor)).toMatchObject({ retentionDays: 3, auditCount: 1 });
    expect(await settings(otherSupervisor)).toMatchObject({ retentionDays: 9, auditCount: 0 });
  });
});

describe('roster history', () => {
  interface History {
    h: Harness;
    org: TestOrg;
    agentDevice: DeviceIdentity;
    revoked: DeviceIdentity;
    published: Uint8Array<ArrayBuffer>[];
  }

  async function publish(h: Harness, org: TestOrg, roster: Uint8Array<ArrayBuffer>): Promise<void> {
    const admin = await h.connect();
    expectKind(await admin.request({ kind: 'publish-roster', orgRootKey: org.rootPublic, roster }), 'ok');
    admin.close();
  }

  /** Versions 1 and 2 list both devices; version 3 revokes one. */
  async function threeVersions(options: Parameters<typeof startHarness>[0] = {}): Promise<History> {
    const h = await newHarness({ demo: true, ...options });
    const org = await makeOrg();
    const agentDevice = await generateDeviceIdentity();
    const revoked = await generateDeviceIdentity();
    const published = [
      await org.roster(1, [agentDevice, revoked]),
      await org.roster(2, [revoked, agentDevice]),
      await org.roster(3, [agentDevice]),
    ];
    for (const roster of published) await publish(h, org, roster);
    return { h, org, agentDevice, revoked, published };
  }

  const page = async (client: TestClient, fromVersion: number, limit = 0) =>
    expectKind(await client.request({ kind: 'get-roster-history', fromVersion, limit }), 'roster-history').rosters;

  async function agentOf(h: Harness, org: TestOrg, device: DeviceIdentity): Promise<TestClient> {
    const client = await h.connect();
    expectKind(await client.authAgent(org.orgId, device), 'ok');
    return client;
  }

  it('an agent-role device reads every roster the relay accepted, ascending, from a version', async () => {
    const { h, org, agentDevice, revoked, published } = await threeVersions();
    const agent = await agentOf(h, org, agentDevice);
    const all = await page(agent, 1);
    expect(all).toEqual(published);
    // The relay serves them as signed: each verifies, and the revoked device is on 1 and 2 only.
    const verified = await Promise.all(
      all.map((roster) => verifyRoster(roster, { orgRootKey: org.rootPublic, now: Date.now() })),
    );
    expect(verified.map((r) => r.version)).toEqual([1, 2, 3]);
    const listsRevoked = verified.map((r) => r.devices.some((d) => bytesEqual(d.deviceId, revoked.deviceId)));
    expect(listsRevoked).toEqual([true, true, false]);
    expect(await page(agent, 2)).toEqual(published.slice(1));
    expect(await page(agent, 0)).toEqual(published);
    expect(await page(agent, 4)).toEqual([]);
    // A supervisor may read them too.
    const supervisor = await agentOf(h, org, org.supervisor);
    expect(await page(supervisor, 3)).toEqual(published.slice(2));
  });

  it('pages with a small limit, and caps a page at MAX_ROSTER_HISTORY_PAGE and about 1 MiB', async () => {
    const { h, org, agentDevice, published } = await threeVersions();
    const agent = await agentOf(h, org, agentDevice);
    expect(await page(agent, 1, 2)).toEqual(published.slice(0, 2));
    expect(await page(agent, 3, 2)).toEqual(published.slice(2));
    expect(await page(agent, 1, 1)).toEqual(published.slice(0, 1));
    // Older rosters put in by hand, 100 KiB each (the relay serves what it stored; clients verify).
    const side = new Database(h.dbPath);
    const insert = side.prepare('INSERT INTO roster_history (org_id, version, roster) VALUES (?, ?, ?)');
    const orgId = Buffer.from(org.orgId);
    const big = Buffer.alloc(100 * 1024, 7);
    side.transaction(() => {
      for (let version = 100; version < 220; version++) insert.run(orgId, version, big);
    })();
    side.close();
    const bytesCapped = await page(agent, 100);
    expect(bytesCapped.length).toBe(10);
    const small = new Database(h.dbPath);
    small.prepare('UPDATE roster_history SET roster = ? WHERE version >= 100').run(Buffer.of(1));
    small.close();
    expect((await page(agent, 100)).length).toBe(MAX_ROSTER_HISTORY_PAGE);
    expect((await page(agent, 100, 1000)).length).toBe(MAX_ROSTER_HISTORY_PAGE);
    // Two rosters of 600 KiB (a roster is at most MAX_ROSTER_BYTES, 1 MiB): one page each.
    const halves = new Database(h.dbPath);
    halves.prepare('UPDATE roster_history SET roster = ? WHERE version IN (150, 151)').run(Buffer.alloc(600 * 1024, 1));
    halves.close();
    expect((await page(agent, 150)).map((r) => r.length)).toEqual([600 * 1024]);
    expect((await page(agent, 151)).slice(0, 2).map((r) => r.length)).toEqual([600 * 1024, 1]);
  });

  it('refuses a visitor, an unauthenticated socket and a device off the roster; another org sees only its own', async () => {
    const { h, org, agentDevice, revoked, published } = await threeVersions();
    const visitor = await h.connect();
    await openConversation(visitor, org);
    const stranger = await h.connect();
    expect(errorCode(await stranger.authAgent(org.orgId, revoked))).toBe('SEALCHAT_E_UNAUTHORIZED');
    const messages = new Set<string>();
    for (const client of [visitor, stranger]) {
      const refused = expectKind(
        await client.request({ kind: 'get-roster-history', fromVersion: 1, limit: 0 }),
        'error',
      );
      expect(refused.code).toBe('SEALCHAT_E_UNAUTHORIZED');
      messages.add(refused.message);
    }
    expect(messages.size).toBe(1);
    // The frame names no org: another org's agent gets its own org's rosters, never this one's.
    const otherOrg = await makeOrg();
    const otherDevice = await generateDeviceIdentity();
    const otherRoster = await otherOrg.roster(1, [otherDevice]);
    await publish(h, otherOrg, otherRoster);
    const otherAgent = await agentOf(h, otherOrg, otherDevice);
    expect(await page(otherAgent, 1)).toEqual([otherRoster]);
    expect(await page(await agentOf(h, org, agentDevice), 1)).toEqual(published);
  });

  it('a device revoked while connected loses its socket, so it reads nothing more', async () => {
    const h = await newHarness({ demo: true });
    const org = await makeOrg();
    const leaving = await generateDeviceIdentity();
    await publish(h, org, await org.roster(1, [leaving]));
    const socket = await agentOf(h, org, leaving);
    expect((await page(socket, 1)).length).toBe(1);
    await publish(h, org, await org.roster(2, []));
    expect((await socket.closed).code).toBe(4003);
  });

  it('survives a relay restart on the same SQLite file', async () => {
    const { h, org, agentDevice, published } = await threeVersions();
    await h.relay.close();
    const again = await startRelay({ port: 0, dbPath: h.dbPath }, { logger: { log: () => undefined } });
    try {
      const agent = await TestClient.connect(again.url);
      expectKind(await agent.authAgent(org.orgId, agentDevice), 'ok');
      expect(await page(agent, 1)).toEqual(published);
      agent.close();
    } finally {
      await again.close();
    }
  });

  it('keeps at most maxRosterHistory rosters per org, dropping the oldest', async () => {
    const { h, org, agentDevice, published } = await threeVersions({ maxRosterHistory: 2 });
    const agent = await agentOf(h, org, agentDevice);
    expect(await page(agent, 1)).toEqual(published.slice(1));
    const fourth = await org.roster(4, [agentDevice]);
    await publish(h, org, fourth);
    expect(await page(agent, 1)).toEqual([published[2], fourth]);
    // Re-publishing the current roster is an idempotent ok and keeps nothing twice.
    await publish(h, org, fourth);
    expect(await page(agent, 1)).toEqual([published[2], fourth]);
  });
});
