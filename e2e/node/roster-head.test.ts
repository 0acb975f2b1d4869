import {
  enrolAgentDevice,
  loadOrCreateOrganisation,
  MemoryClientStore,
  publishRoster,
  RelayConnection,
  revokeDevice,
  type ChatMessage,
  type IssuedRoster,
} from '@sealchat/client';
import {
  EMPTY_AUDIT_MARK,
  agentWire,
  generateDeviceIdentity,
  issueRosterHead,
  RosterHeadError,
  StaleRosterHeadError,
  verifyRoster,
} from '@sealchat/protocol';
import { describe, expect, it } from 'vitest';
import { agentSession, startTestRelay, until, useClosers, visitorSession, WS } from './support.js';

/**
 * Issue 11, finding 3: a first-time visitor took any unexpired roster, so a relay colluding with a
 * revoked agent served the roster from before the revocation (valid up to 30 days) and every new
 * visitor's chain was shared with the revoked device. Now a visitor writes only under a roster head
 * younger than its limit (docs/protocol.md §4.4).
 */
const closers = useClosers();
const DAY = 24 * 60 * 60 * 1000;

/** Publishes `issued` without a head, then a head for it signed `age` ms ago: what a relay kept from back then. */
async function publishAsOf(url: string, issued: IssuedRoster, age: number | undefined): Promise<void> {
  await publishRoster(url, { rootPublic: issued.rootPublic, roster: issued.roster }, { WebSocket: WS });
  if (age === undefined) return;
  const roster = await verifyRoster(issued.roster, { orgRootKey: issued.rootPublic, now: Date.now() });
  const head = await issueRosterHead(
    roster,
    { privateKey: issued.rootKey.privateKey, publicKey: issued.rootPublic },
    Date.now() - age,
    EMPTY_AUDIT_MARK,
  );
  const connection = new RelayConnection(url, { WebSocket: WS, wire: agentWire });
  await new Promise<void>((resolve) => {
    connection.addEventListener('connected', () => resolve());
    connection.open();
  });
  try {
    await connection.request({ kind: 'publish-roster-head', orgRootKey: issued.rootPublic, head });
  } finally {
    connection.close();
  }
}

async function teamWithSam() {
  const store = new MemoryClientStore();
  const org = await loadOrCreateOrganisation(store, { agentName: 'Robin' });
  const samIdentity = await generateDeviceIdentity();
  const withSam = await enrolAgentDevice(store, org, samIdentity, { displayName: 'Sam' });
  return { store, org, samIdentity, withSam };
}

describe('roster heads: first-time visitors', () => {
  it('F3: a relay serving the roster from before a revocation, with its 5-day-old head, gets no message and no key', async () => {
    const { store, org, samIdentity, withSam } = await teamWithSam();
    // The colluding relay: it stored the roster listing Sam and the head the console signed back then...
    const hostile = await startTestRelay(closers);
    await publishAsOf(hostile.url, withSam, 5 * DAY);
    // ...and withholds the revocation the console issued since (published to an honest relay only).
    const withoutSam = await revokeDevice(store, org, samIdentity.deviceId);
    const honest = await startTestRelay(closers);
    await publishRoster(honest.url, withoutSam, { WebSocket: WS });

    const sam = await agentSession(hostile, org.rootPublic, samIdentity, closers);
    const refused = await visitorSession(hostile, org.orgKey, closers).then(
      async (visitor) => {
        // The old behaviour: the visitor writes, and Sam reads it.
        await visitor.send('My card number is 4111 1111 1111 1111');
        return undefined;
      },
      (error: unknown) => error,
    );
    expect(refused).toBeInstanceOf(StaleRosterHeadError);
    expect((refused as StaleRosterHeadError).code).toBe('SEALCHAT_E_ROSTER_HEAD_STALE');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(sam.conversationList).toHaveLength(0);

    // On the honest relay the same visitor writes under the fresh head, and Sam is no reader.
    const visitor = await visitorSession(honest, org.orgKey, closers);
    const sent = await visitor.send('Where is my parcel?');
    await until<ChatMessage>(visitor, 'message', (m) => m.id === sent.id && m.state === 'sent');
  });

  it('a relay holding a roster but no head for it gets nothing either', async () => {
    const { withSam, org } = await teamWithSam();
    const relay = await startTestRelay(closers);
    await publishAsOf(relay.url, withSam, undefined);
    const error = await visitorSession(relay, org.orgKey, closers).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RosterHeadError);
    expect(error).not.toBeInstanceOf(StaleRosterHeadError);
  });

  it('a head 3.6 days old (a long weekend) still lets visitors write; `maxRosterHeadAgeMs` can ask for less', async () => {
    const { withSam, org } = await teamWithSam();
    const relay = await startTestRelay(closers);
    await publishAsOf(relay.url, withSam, 3.6 * DAY);
    const visitor = await visitorSession(relay, org.orgKey, closers);
    const sent = await visitor.send('Hello after the weekend');
    await until<ChatMessage>(visitor, 'message', (m) => m.id === sent.id && m.state === 'sent');
    const strict = await visitorSession(relay, org.orgKey, closers, { maxRosterHeadAgeMs: DAY }).catch(
      (e: unknown) => e,
    );
    expect(strict).toBeInstanceOf(StaleRosterHeadError);
  });
});
