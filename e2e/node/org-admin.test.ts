import Database from 'better-sqlite3';
import {
  AuditLogTamperedError,
  enrolAgentDevice,
  fetchRosterHistory,
  getOrgSettings,
  loadOrCreateOrganisation,
  MemoryClientStore,
  OrgAdministration,
  publishRoster,
  RelayRequestError,
  relayAuditTransport,
  removeDevice,
  setRetention,
  type ClientStore,
  type Organisation,
} from '@sealchat/client';
import { bytesEqual, generateDeviceIdentity, verifyRoster } from '@sealchat/protocol';
import { describe, expect, it } from 'vitest';
import { hostileSocket } from './hostile-socket.js';
import { agentSession, startTestRelay, useClosers, WS } from './support.js';

/**
 * Issue 6, retention and the audit log's storage: a supervisor's session sets the org's retention on
 * the relay and reads it back, appends to and lists the audit log; an agent's session is refused.
 */
const closers = useClosers();

/** A relay, and an organisation that published its roster and a roster head to it; `store` is its console's. */
async function publishedOrganisation() {
  const running = await startTestRelay(closers);
  const store = new MemoryClientStore();
  const org = await loadOrCreateOrganisation(store, { agentName: 'Robin' });
  await publishRoster(running.url, org, { WebSocket: WS });
  return { running, store, org };
}

/** What the Organisation panel of a browser holding `store` runs for `org`; closed after the test. */
async function administration(relayUrl: string, org: Organisation, store: ClientStore, WebSocket = WS) {
  const admin = await OrgAdministration.connect({ relayUrl, organisation: org, store, WebSocket });
  closers.push(() => admin.close());
  return admin;
}

describe('a supervisor’s org settings over a real relay', { timeout: 30_000 }, () => {
  it('sets retention and reads it back, appends and lists audit records; an agent is refused', async () => {
    const { running, org } = await publishedOrganisation();
    const supervisor = await agentSession(running, org.rootPublic, org.supervisor, closers);

    expect(await getOrgSettings(supervisor)).toEqual({
      retentionDays: undefined,
      defaultRetentionDays: 0,
      auditCount: 0,
    });
    await setRetention(supervisor, 30);
    expect((await getOrgSettings(supervisor)).retentionDays).toBe(30);

    const log = relayAuditTransport(supervisor);
    const records = [crypto.getRandomValues(new Uint8Array(600)), crypto.getRandomValues(new Uint8Array(700))];
    await log.append(0, records[0]!);
    await log.append(1, records[1]!);
    const conflict = await log.append(1, records[0]!).catch((error: unknown) => error);
    expect(conflict).toBeInstanceOf(RelayRequestError);
    expect((conflict as RelayRequestError).code).toBe('SEALCHAT_E_CONFLICT');
    expect(await log.list(0, 100)).toEqual(records.map((record, index) => ({ index, record })));
    expect(await log.list(1, 100)).toEqual([{ index: 1, record: records[1] }]);
    expect((await getOrgSettings(supervisor)).auditCount).toBe(2);

    // The org's agent device is on the roster but is no supervisor.
    const agent = await agentSession(running, org.rootPublic, org.agent, closers);
    for (const attempt of [
      () => getOrgSettings(agent),
      () => setRetention(agent, 1),
      () => relayAuditTransport(agent).list(0, 10),
      () => relayAuditTransport(agent).append(2, records[0]!),
    ]) {
      const refused = await attempt().catch((error: unknown) => error);
      expect(refused).toBeInstanceOf(RelayRequestError);
      expect((refused as RelayRequestError).code).toBe('SEALCHAT_E_UNAUTHORIZED');
    }
    expect(await getOrgSettings(supervisor)).toMatchObject({ retentionDays: 30, auditCount: 2 });
  });
});

describe('OrgAdministration: what the console’s Organisation panel runs', { timeout: 30_000 }, () => {
  it('records retention in the audit log, reads it verified, and catches a relay that rewinds it', async () => {
    const { running, store, org } = await publishedOrganisation();
    const admin = await administration(running.url, org, store);
    const recorded: number[] = [];
    admin.addEventListener('recorded', (event) => recorded.push(event.detail));

    await admin.setRetention(30);
    expect((await admin.settings()).retentionDays).toBe(30);
    await admin.record({ action: 'org-created', name: 'Harbour' });
    expect(recorded).toEqual([0, 1]);

    // A second supervisor browser of the same organisation (a restore elsewhere) writes to the same
    // log; the chain stays one chain.
    const other = await administration(running.url, org, new MemoryClientStore());
    await Promise.all([
      admin.record({ action: 'roster-published', version: 2 }),
      other.record({ action: 'roster-published', version: 3 }),
    ]);

    const entries = await admin.readAuditLog();
    expect(entries.map((e) => e.index)).toEqual([0, 1, 2, 3]);
    expect(entries.slice(0, 2).map((e) => e.event)).toEqual([
      { action: 'retention-set', days: 30 },
      { action: 'org-created', name: 'Harbour' },
    ]);
    expect(entries.every((e) => e.signer.displayName === 'Supervisor')).toBe(true);
    // The relay holds ciphertext only: the organisation's name is nowhere in its database.
    const db = new Database(running.dbPath);
    closers.push(() => void db.close());
    const rows = db.prepare('SELECT record FROM audit_records ORDER BY audit_index').all() as { record: Buffer }[];
    expect(rows).toHaveLength(4);
    expect(rows.some((r) => r.record.includes(Buffer.from('Harbour')))).toBe(false);

    // The relay drops the newest record: this browser remembers the head it verified, and refuses.
    db.prepare('DELETE FROM audit_records WHERE audit_index = 3').run();
    const rewound = await admin.readAuditLog().catch((error: unknown) => error);
    expect(rewound).toBeInstanceOf(AuditLogTamperedError);
  });

  it('F8a: a fresh console refuses a log the relay cut before the head the organisation signed', async () => {
    const { running, store, org } = await publishedOrganisation();
    const admin = await administration(running.url, org, store);
    await admin.setHistoryPolicy(true);
    await admin.setHistoryPolicy(false);

    // A second browser of the organisation (a restore elsewhere) has kept nothing; the relay hides
    // the last entry from it, so sharing history with the next approved agent would look allowed.
    const hiding = hostileSocket((frame) =>
      frame.kind === 'audit-page' ? { ...frame, records: frame.records.filter((r) => r.index < 1) } : frame,
    );
    const fresh = await administration(running.url, org, new MemoryClientStore(), hiding);
    const refused = await fresh.historyPolicy().catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(AuditLogTamperedError);
    expect((refused as Error).message).toMatch(/ends before the head the organisation signed \(1 of 2 records\)/);
    // Nor does it write after the cut: its first entry would follow the log the relay chose.
    await expect(fresh.setHistoryPolicy(true)).rejects.toBeInstanceOf(AuditLogTamperedError);

    // The whole log, served honestly, reads as it was written.
    const honest = await administration(running.url, org, new MemoryClientStore());
    expect(await honest.historyPolicy()).toBe(false);
  });

  it('F8a: with no roster head yet, reads the log as served and says so; its next entry publishes one', async () => {
    const running = await startTestRelay(closers);
    const store = new MemoryClientStore();
    const org = await loadOrCreateOrganisation(store, { agentName: 'Robin' });
    // Without the root key: a roster and no head (an organisation from before heads, say).
    await publishRoster(running.url, { rootPublic: org.rootPublic, roster: org.roster }, { WebSocket: WS });
    const admin = await administration(running.url, org, store);
    expect(await admin.readAuditLog()).toEqual([]);
    expect(admin.auditWarning).toMatch(
      /No roster head vouches for the audit log's length \(the relay holds no roster head\)/,
    );
    await admin.record({ action: 'org-created', name: 'Harbour' });
    expect(await admin.readAuditLog()).toHaveLength(1);
    expect(admin.auditWarning).toBeUndefined();
  });

  it('refuses to connect for a device the roster does not list as a supervisor', async () => {
    const { running, store, org } = await publishedOrganisation();
    const impostor = { ...org, supervisor: org.agent };
    const refused = await OrgAdministration.connect({
      relayUrl: running.url,
      organisation: impostor,
      store,
      WebSocket: WS,
    }).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(RelayRequestError);
    expect((refused as RelayRequestError).code).toBe('SEALCHAT_E_UNAUTHORIZED');
  });
});

describe('the roster history: what a reader of old conversations checks senders against', { timeout: 30_000 }, () => {
  it('an agent-role device reads every roster the org published, the revoked device on the old ones only', async () => {
    const { running, store, org } = await publishedOrganisation();
    const bot = await generateDeviceIdentity();
    const enrolled = await enrolAgentDevice(store, org, bot);
    await publishRoster(running.url, { rootPublic: org.rootPublic, roster: enrolled.roster }, { WebSocket: WS });
    const revoked = await removeDevice(store, org, bot.deviceId);
    await publishRoster(running.url, { rootPublic: org.rootPublic, roster: revoked.roster }, { WebSocket: WS });

    // The console's own device, an agent: no supervisor rights, but on the roster.
    const agent = await agentSession(running, org.rootPublic, org.agent, closers);
    const history = await fetchRosterHistory(agent);
    expect(history).toEqual([org.roster, enrolled.roster, revoked.roster]);
    const verified = await Promise.all(
      history.map((roster) => verifyRoster(roster, { orgRootKey: org.rootPublic, now: Date.now() })),
    );
    expect(verified.map((r) => r.version)).toEqual([1, 2, 3]);
    expect(verified.map((r) => r.devices.some((d) => bytesEqual(d.deviceId, bot.deviceId)))).toEqual([
      false,
      true,
      false,
    ]);
    expect(await fetchRosterHistory(agent, 2)).toEqual([enrolled.roster, revoked.roster]);
    expect(await fetchRosterHistory(agent, 4)).toEqual([]);
  });
});
