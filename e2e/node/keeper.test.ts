import {
  enrolDevice,
  loadOrCreateOrganisation,
  MemoryClientStore,
  OrgAdministration,
  publishRoster,
  RelayConnection,
  RosterHeadRenewal,
  type ChatMessage,
} from '@sealchat/client';
import {
  EMPTY_AUDIT_MARK,
  agentWire,
  generateDeviceIdentity,
  issueRosterHead,
  verifyRoster,
  verifyRosterHead,
  type DeviceIdentity,
} from '@sealchat/protocol';
import { describe, expect, it } from 'vitest';
import { NotAdministeringError, renewRosterHead, startKeeper } from '../../examples/keeper/src/keeper.js';
import { startTestRelay, until, useClosers, visitorSession, WS } from './support.js';

/**
 * The keeper (examples/keeper, docs/operations.md): an administering supervisor device that keeps
 * the roster head fresh while no console is open (docs/protocol.md §4.4).
 */
const closers = useClosers();
const DAY = 24 * 60 * 60 * 1000;

async function ask(url: string, frame: Parameters<RelayConnection['request']>[0]) {
  const connection = new RelayConnection(url, { WebSocket: WS, wire: agentWire });
  await new Promise<void>((resolve) => {
    connection.addEventListener('connected', () => resolve());
    connection.open();
  });
  try {
    return await connection.request(frame).then(
      (answer) => answer,
      (error: unknown) => error as { code: string },
    );
  } finally {
    connection.close();
  }
}

async function orgWith(url: string, device: DeviceIdentity, administer: boolean) {
  const store = new MemoryClientStore();
  const org = await loadOrCreateOrganisation(store, { agentName: 'Robin' });
  const issued = await enrolDevice(store, org, device, 'supervisor', 'Keeper', { administer });
  await publishRoster(url, issued, { WebSocket: WS });
  const roster = await verifyRoster(issued.roster, { orgRootKey: org.rootPublic, now: Date.now() });
  return { store, org, roster };
}

describe('the keeper', () => {
  it('enrolled to administer (7 days at most), publishes a head the relay keeps and visitors accept', async () => {
    const relay = await startTestRelay(closers);
    const keeper = await generateDeviceIdentity();
    const { org, roster } = await orgWith(relay.url, keeper, true);
    const cert = roster.supervisors.find((s) => s.displayName === 'Keeper')!;
    expect(cert.administer).toBe(true);
    expect(cert.expiresAt - cert.issuedAt).toBeLessThanOrEqual(7 * DAY);

    const logged: unknown[] = [];
    const running = startKeeper({
      relayUrl: relay.url,
      orgRootKey: org.rootPublic,
      identity: keeper,
      store: new MemoryClientStore(),
      WebSocket: WS,
      log: (entry) => logged.push(entry),
    });
    closers.push(() => running.close());
    await running.first;
    expect(logged).toEqual([
      { event: 'head-published', rosterVersion: roster.version, signedAt: expect.any(Number), auditCount: 0 },
    ]);
    const answer = await ask(relay.url, { kind: 'get-roster-head', orgId: org.orgId });
    if (!('kind' in answer) || answer.kind !== 'roster-head') throw new Error(`no head: ${JSON.stringify(answer)}`);
    const head = await verifyRosterHead(answer.head, { orgRootKey: org.rootPublic, roster, now: Date.now() });
    expect(head.signerKey).toEqual(keeper.signingPublic);
    const visitor = await visitorSession(relay, org.orgKey, closers);
    const sent = await visitor.send('Anyone there on Sunday?');
    await until<ChatMessage>(visitor, 'message', (m) => m.id === sent.id && m.state === 'sent');
  });

  it('F8a: carries the audit mark of the relay’s head forward, never naming fewer records', async () => {
    const relay = await startTestRelay(closers);
    const keeper = await generateDeviceIdentity();
    const { store, org, roster } = await orgWith(relay.url, keeper, true);
    const admin = await OrgAdministration.connect({ relayUrl: relay.url, organisation: org, store, WebSocket: WS });
    closers.push(() => admin.close());
    await admin.setHistoryPolicy(true);
    await admin.setHistoryPolicy(false);
    const headNow = async () => {
      const answer = await ask(relay.url, { kind: 'get-roster-head', orgId: org.orgId });
      if (!('kind' in answer) || answer.kind !== 'roster-head') throw new Error(`no head: ${JSON.stringify(answer)}`);
      return verifyRosterHead(answer.head, { orgRootKey: org.rootPublic, roster, now: Date.now() });
    };
    // The console's head after its last entry names both records.
    const byConsole = await headNow();
    expect(byConsole.signerKey).toEqual(org.rootPublic);
    expect(byConsole.audit.count).toBe(2);

    const renewed = await renewRosterHead({
      relayUrl: relay.url,
      orgRootKey: org.rootPublic,
      identity: keeper,
      store: new MemoryClientStore(),
      WebSocket: WS,
    });
    expect(renewed.auditCount).toBe(2);
    const kept = await headNow();
    expect(kept.signerKey).toEqual(keeper.signingPublic);
    expect(kept.audit).toEqual(byConsole.audit);
    expect(kept.signedAt).toBeGreaterThanOrEqual(byConsole.signedAt);
  });

  it('a supervisor that does not administer: the keeper will not sign, and the relay refuses its head', async () => {
    const relay = await startTestRelay(closers);
    const colleague = await generateDeviceIdentity();
    const { org, roster } = await orgWith(relay.url, colleague, false);
    const options = { relayUrl: relay.url, orgRootKey: org.rootPublic, identity: colleague, WebSocket: WS };
    await expect(renewRosterHead({ ...options, store: new MemoryClientStore() })).rejects.toBeInstanceOf(
      NotAdministeringError,
    );
    const head = await issueRosterHead(
      roster,
      { privateKey: colleague.signing.privateKey, publicKey: colleague.signingPublic },
      Date.now() + 1000,
      EMPTY_AUDIT_MARK,
    );
    const refused = await ask(relay.url, { kind: 'publish-roster-head', orgRootKey: org.rootPublic, head });
    expect((refused as { code: string }).code).toBe('SEALCHAT_E_ROSTER_HEAD_REJECTED');
  });

  it('a console’s renewal says in words when its last head is over 2 days old', async () => {
    const relay = await startTestRelay(closers);
    const store = new MemoryClientStore();
    const org = await loadOrCreateOrganisation(store);
    await publishRoster(relay.url, org, { WebSocket: WS });
    const renewal = new RosterHeadRenewal(relay.url, store, org, { WebSocket: WS });
    await renewal.renew();
    expect(renewal.error).toBeUndefined();
    expect(renewal.warning()).toBeUndefined();
    expect(renewal.warning(renewal.signedAt! + 2 * DAY + 3_600_000)).toMatch(/last renewed 49 hours ago/);
  });
});
