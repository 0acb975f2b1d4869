import {
  AgentSession,
  getOrgSettings,
  loadOrCreateOrganisation,
  MemoryClientStore,
  publishRoster,
  RelayRequestError,
  relayAuditTransport,
  setRetention,
} from '@sealchat/client';
import type { DeviceIdentity } from '@sealchat/protocol';
import type { RunningRelay } from '@sealchat/relay';
import { describe, expect, it } from 'vitest';
import { startTestRelay, useClosers, WS } from './support.js';

/**
 * Issue 6, retention and the audit log's storage: a supervisor's session sets the org's retention on
 * the relay and reads it back, appends to and lists the audit log; an agent's session is refused.
 */
const closers = useClosers();

async function session(running: RunningRelay, orgRootKey: Uint8Array<ArrayBuffer>, identity: DeviceIdentity) {
  const started = await AgentSession.start({
    relayUrl: running.url,
    orgRootKey,
    identity,
    store: new MemoryClientStore(),
    WebSocket: WS,
  });
  closers.push(() => started.close());
  return started;
}

describe('a supervisor’s org settings over a real relay', { timeout: 30_000 }, () => {
  it('sets retention and reads it back, appends and lists audit records; an agent is refused', async () => {
    const running = await startTestRelay(closers);
    const org = await loadOrCreateOrganisation(new MemoryClientStore(), { agentName: 'Robin' });
    await publishRoster(running.url, org, { WebSocket: WS });
    const supervisor = await session(running, org.rootPublic, org.supervisor);

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
    const agent = await session(running, org.rootPublic, org.agent);
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
