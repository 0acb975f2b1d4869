import fc from 'fast-check';
import { WIRE_VERSION, generateDeviceIdentity, type DeviceIdentity } from '@sealchat/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  expectKind,
  random,
  startHarness,
  type Harness,
  type Request,
  type TestClient,
  type TestOrg,
} from './testing/relay-harness.js';
import { openConversation, registerOrg, rowCount } from './testing/scenarios.js';

/**
 * The authorisation matrix: five actors against one conversation of org 1. Each cell is what the
 * actor gets; `denied` is SEALCHAT_E_UNAUTHORIZED with no row written and nothing leaked.
 */
type Actor = 'visitorA' | 'visitorB' | 'agent' | 'revokedAgent' | 'otherOrgAgent';

let h: Harness;
let org1: TestOrg;
let actors: Record<Actor, TestClient>;
let conversationA: { conversationId: Uint8Array<ArrayBuffer>; capability: Uint8Array<ArrayBuffer> };
let capabilityB: Uint8Array<ArrayBuffer>;
let agentDevice: DeviceIdentity;

beforeAll(async () => {
  h = await startHarness({ demo: true });
  agentDevice = await generateDeviceIdentity();
  const revokedDevice = await generateDeviceIdentity();
  const otherDevice = await generateDeviceIdentity();
  org1 = await registerOrg(h, [agentDevice, revokedDevice]);
  const org2 = await registerOrg(h, [otherDevice]);
  const visitorA = await h.connect();
  conversationA = await openConversation(visitorA, org1);
  const visitorB = await h.connect();
  capabilityB = (await openConversation(visitorB, org1)).capability;
  const agent = await h.connect();
  expectKind(await agent.authAgent(org1.orgId, agentDevice), 'ok');
  const revokedOld = await h.connect();
  expectKind(await revokedOld.authAgent(org1.orgId, revokedDevice), 'ok');
  const admin = await h.connect();
  expectKind(
    await admin.request({
      kind: 'publish-roster',
      orgRootKey: org1.rootPublic,
      roster: await org1.roster(2, [agentDevice]),
    }),
    'ok',
  );
  expect((await revokedOld.closed).code).toBe(4003);
  const revokedAgent = await h.connect();
  expectKind(await revokedAgent.authAgent(org1.orgId, revokedDevice), 'error');
  const otherOrgAgent = await h.connect();
  expectKind(await otherOrgAgent.authAgent(org2.orgId, otherDevice), 'ok');
  actors = { visitorA, visitorB, agent, revokedAgent, otherOrgAgent };
  for (const client of Object.values(actors))
    expectKind(await client.request({ kind: 'hello', revision: 2 }), 'welcome');
});

afterAll(async () => {
  await h.stop();
});

/** The capability each actor presents: its own, if it has one. */
function capabilityOf(actor: Actor): Uint8Array<ArrayBuffer> {
  if (actor === 'visitorA') return conversationA.capability;
  if (actor === 'visitorB') return capabilityB;
  return new Uint8Array(0);
}

const allowed: Record<string, readonly Actor[]> = {
  attach: ['visitorA', 'agent'],
  resume: ['visitorA', 'agent'],
  history: ['visitorA', 'agent'],
  post: ['visitorA', 'agent'],
  watchOrg: ['agent', 'otherOrgAgent'],
  setPresence: ['agent', 'otherOrgAgent'],
  // Each device reads its own grants (none here); only a supervisor, of which there is none among
  // the actors, may store one.
  getHistoryGrants: ['agent', 'otherOrgAgent'],
  putHistoryGrant: [],
};

function requestFor(action: string, actor: Actor): Request {
  const { conversationId } = conversationA;
  const capability = capabilityOf(actor);
  switch (action) {
    case 'attach':
      return { kind: 'attach-conversation', conversationId, capability, afterSeq: 0 };
    case 'resume':
      return { kind: 'resume-conversation', conversationId, capability, epoch: 0, afterSeq: 0 };
    case 'history':
      return { kind: 'get-history', conversationId, capability, beforeSeq: 0, limit: 10 };
    case 'post':
      return { kind: 'post', conversationId, clientMessageId: random(16), envelope: random(8) };
    case 'watchOrg':
      return { kind: 'watch-org' };
    case 'getHistoryGrants':
      return { kind: 'get-history-grants', after: new Uint8Array(16), limit: 10 };
    case 'putHistoryGrant':
      return { kind: 'put-history-grant', deviceId: agentDevice.deviceId, conversationId, grant: random(8) };
    default:
      return { kind: 'set-presence', status: 'online' };
  }
}

const ACTORS: readonly Actor[] = ['visitorA', 'visitorB', 'agent', 'revokedAgent', 'otherOrgAgent'];

describe('authorisation matrix', () => {
  for (const action of Object.keys(allowed)) {
    for (const actor of ACTORS) {
      const ok = allowed[action]!.includes(actor);
      it(`${action} by ${actor}: ${ok ? 'allowed' : 'denied'}`, async () => {
        const before = rowCount(h.dbPath);
        const reply = await actors[actor].request(requestFor(action, actor));
        if (ok) {
          expect(reply.kind).not.toBe('error');
        } else {
          expect(expectKind(reply, 'error').code).toBe('SEALCHAT_E_UNAUTHORIZED');
          expect(rowCount(h.dbPath)).toBe(before);
        }
        if (action === 'getHistoryGrants' && ok) expect(expectKind(reply, 'history-grants').grants).toEqual([]);
        if (action === 'watchOrg' && actor === 'otherOrgAgent') {
          const list = expectKind(reply, 'conversation-list');
          expect(list.conversations.map((c) => Buffer.from(c.conversationId).toString('hex'))).not.toContain(
            Buffer.from(conversationA.conversationId).toString('hex'),
          );
        }
      });
    }
  }

  it('presence: visitors and other orgs learn one bit; the org’s agent sees its devices', async () => {
    for (const actor of ACTORS) {
      const reply = expectKind(
        await actors[actor].request({ kind: 'watch-presence', orgId: org1.orgId, subscribe: false }),
        'presence',
      );
      expect(reply.anyoneOnline).toBe(true);
      if (actor === 'agent') expect(reply.devices).toEqual([{ deviceId: agentDevice.deviceId, status: 'online' }]);
      else expect(reply.devices).toEqual([]);
    }
  });

  it('delete: denied to visitor B, the revoked and the other org’s agent; allowed to visitor A and the agent', async () => {
    for (const actor of ['visitorB', 'revokedAgent', 'otherOrgAgent'] as const) {
      const reply = await actors[actor].request({
        kind: 'delete-conversation',
        conversationId: conversationA.conversationId,
        capability: capabilityOf(actor),
      });
      expect(expectKind(reply, 'error').code).toBe('SEALCHAT_E_UNAUTHORIZED');
    }
    const spare = await openConversation(actors.visitorB, org1);
    expectKind(
      await actors.agent.request({
        kind: 'delete-conversation',
        conversationId: spare.conversationId,
        capability: new Uint8Array(0),
      }),
      'ok',
    );
    const watcher = actors.agent;
    expectKind(
      await actors.visitorA.request({
        kind: 'delete-conversation',
        conversationId: conversationA.conversationId,
        capability: conversationA.capability,
      }),
      'ok',
    );
    // The agent was subscribed (attach + resume above) with revision 2: it is told.
    const told = expectKind(await watcher.next((f) => f.kind === 'conversation-deleted'), 'conversation-deleted');
    expect(told.conversationId).toBeInstanceOf(Uint8Array);
    const gone = await actors.visitorA.request(requestFor('resume', 'visitorA'));
    expect(expectKind(gone, 'error').code).toBe('SEALCHAT_E_UNAUTHORIZED');
  });
});

describe('hostile frames of every kind (fast-check)', () => {
  it('answer an error frame or a normal answer, never crash, never store a row', async () => {
    const relay = await startHarness({ demo: true, connectionBurst: 100_000, connectionRate: 100_000 });
    try {
      const client = await relay.connect();
      const frame = fc
        .tuple(
          fc.integer({ min: 0, max: 20 }),
          // Hostile request ids stay clear of the small ids the test client numbers its own requests with;
          // otherwise an error answering a hostile frame could be taken for the answer to the client's `hello`.
          fc.integer({ min: 0x1000_0000, max: 0xffffffff }),
          fc.uint8Array({ maxLength: 120 }),
        )
        .map(([kind, requestId, tail]) =>
          Uint8Array.of(
            WIRE_VERSION,
            kind,
            requestId >>> 24,
            (requestId >>> 16) & 255,
            (requestId >>> 8) & 255,
            requestId & 255,
            ...tail,
          ),
        );
      await fc.assert(
        fc.asyncProperty(frame, async (bytes) => {
          client.ws.send(bytes);
          // A well-formed request afterwards is still served: the socket and the relay are alive.
          const reply = await client.request({ kind: 'hello', revision: 2 });
          expect(reply.kind).toBe('welcome');
        }),
        { numRuns: 300 },
      );
      expect(rowCount(relay.dbPath)).toBe(0);
      expect(client.frames.filter((f) => f.kind === 'error' && f.code === 'SEALCHAT_E_INTERNAL')).toEqual([]);
    } finally {
      await relay.stop();
    }
  });
});
