import Database from 'better-sqlite3';
import { WIRE_VERSION, generateDeviceIdentity, type DeviceIdentity, type RelayFrame } from '@sealchat/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRelay, type RunningRelay } from './relay-server.js';
import { startThrowawayRedis, type ThrowawayRedis } from './testing/cluster.js';
import {
  TestClient,
  expectKind,
  harnessPerTest,
  makeOrg,
  random,
  type Harness,
  type TestOrg,
} from './testing/relay-harness.js';
import { openConversation, registerOrg, sleep } from './testing/scenarios.js';
import { freshSchema, queryTest, type TestSchema } from './testing/services.js';

/**
 * Revision 4: history grants. A supervisor stores, per device of the org's current roster and per
 * conversation of the org, an opaque grant; the relay pushes it to that device's revision-4 sockets
 * and hands the device its own grants, and only its own, in pages. Grants go with their conversation
 * and with the device's removal from the roster.
 */
const newHarness = harnessPerTest();

const DAY = 24 * 60 * 60 * 1000;
const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');
const zeros = new Uint8Array(16);

interface Setup {
  h: Harness;
  org: TestOrg;
  agentDevice: DeviceIdentity;
  colleague: DeviceIdentity;
  supervisor: TestClient;
  visitor: TestClient;
}

async function setup(options: Parameters<typeof newHarness>[0] = {}): Promise<Setup> {
  const h = await newHarness({ demo: true, ...options });
  const [agentDevice, colleague] = await Promise.all([generateDeviceIdentity(), generateDeviceIdentity()]);
  const org = await registerOrg(h, [agentDevice, colleague]);
  const supervisor = await h.connect();
  expectKind(await supervisor.authAgent(org.orgId, org.supervisor), 'ok');
  const visitor = await h.connect();
  return { h, org, agentDevice, colleague, supervisor, visitor };
}

/** An authenticated socket of `device` that said `hello` with `revision`. */
async function agentOf(
  connect: () => Promise<TestClient>,
  org: TestOrg,
  device: DeviceIdentity,
  revision = 4,
): Promise<TestClient> {
  const client = await connect();
  expectKind(await client.authAgent(org.orgId, device), 'ok');
  expect(expectKind(await client.request({ kind: 'hello', revision }), 'welcome').revision).toBe(revision);
  return client;
}

const put = (
  client: TestClient,
  device: DeviceIdentity | Uint8Array<ArrayBuffer>,
  conversationId: Uint8Array<ArrayBuffer>,
  grant = random(80),
) =>
  client.request({
    kind: 'put-history-grant',
    deviceId: device instanceof Uint8Array ? device : device.deviceId,
    conversationId,
    grant,
  });

async function page(client: TestClient, after: Uint8Array<ArrayBuffer> = zeros, limit = 256) {
  return expectKind(await client.request({ kind: 'get-history-grants', after, limit }), 'history-grants').grants;
}

const granted = async (client: TestClient) =>
  expectKind(await client.next((f) => f.kind === 'history-granted'), 'history-granted');

const errorOf = (frame: RelayFrame) => expectKind(frame, 'error');

function storedGrants(h: Harness): { device: string; conversation: string }[] {
  const db = new Database(h.dbPath, { readonly: true });
  try {
    const rows = db.prepare('SELECT device_id, conversation_id FROM history_grants').all() as {
      device_id: Buffer;
      conversation_id: Buffer;
    }[];
    return rows.map((row) => ({ device: hex(row.device_id), conversation: hex(row.conversation_id) }));
  } finally {
    db.close();
  }
}

describe('history grants on one relay', () => {
  it('the target device is pushed its grant live and pages its grants; a later grant replaces one', async () => {
    const { h, org, agentDevice, supervisor, visitor } = await setup();
    const agent = await agentOf(() => h.connect(), org, agentDevice);
    // The same device on a socket that speaks revision 3 is never sent a kind it cannot decode.
    const older = await agentOf(() => h.connect(), org, agentDevice, 3);
    const first = await openConversation(visitor, org);
    const second = await openConversation(visitor, org);
    const grant = random(120);
    expectKind(await put(supervisor, agentDevice, first.conversationId, grant), 'ok');
    expect(await granted(agent)).toEqual({ kind: 'history-granted', conversationId: first.conversationId, grant });
    expectKind(await put(supervisor, agentDevice, second.conversationId), 'ok');
    await granted(agent);

    const sorted = [first.conversationId, second.conversationId].sort((x, y) => Buffer.compare(x, y));
    const all = await page(agent);
    expect(all.map((g) => g.conversationId)).toEqual(sorted);
    expect(all.find((g) => hex(g.conversationId) === hex(first.conversationId))?.grant).toEqual(grant);
    // One at a time: strictly after `after`; a short (here empty) page is the end.
    const one = await page(agent, zeros, 1);
    expect(one.map((g) => g.conversationId)).toEqual(sorted.slice(0, 1));
    const two = await page(agent, one[0]!.conversationId, 1);
    expect(two.map((g) => g.conversationId)).toEqual(sorted.slice(1));
    expect(await page(agent, two[0]!.conversationId, 1)).toEqual([]);

    const replacement = random(40);
    expectKind(await put(supervisor, agentDevice, first.conversationId, replacement), 'ok');
    expect((await granted(agent)).grant).toEqual(replacement);
    const after = await page(agent);
    expect(after.length).toBe(2);
    expect(after.find((g) => hex(g.conversationId) === hex(first.conversationId))?.grant).toEqual(replacement);

    expectKind(await older.request({ kind: 'hello', revision: 3 }), 'welcome');
    expect(older.frames.filter((f) => f.kind === 'history-granted')).toEqual([]);
    // It can still ask for its grants: requests are answered at any revision.
    expect((await page(older)).length).toBe(2);
  });

  it('another device neither reads nor is pushed them; neither does another org’s device', async () => {
    const { h, org, agentDevice, colleague, supervisor, visitor } = await setup();
    const other = await agentOf(() => h.connect(), org, colleague);
    const conversation = await openConversation(visitor, org);
    expectKind(await put(supervisor, agentDevice, conversation.conversationId), 'ok');
    expect(await page(other)).toEqual([]);
    expect(await page(supervisor)).toEqual([]);
    const otherOrgDevice = await generateDeviceIdentity();
    const otherOrg = await registerOrg(h, [otherOrgDevice]);
    const stranger = await agentOf(() => h.connect(), otherOrg, otherOrgDevice);
    expect(await page(stranger)).toEqual([]);
    expectKind(await other.request({ kind: 'hello', revision: 4 }), 'welcome');
    expect(other.frames.filter((f) => f.kind === 'history-granted')).toEqual([]);
    expect(stranger.frames.filter((f) => f.kind === 'history-granted')).toEqual([]);
    // A supervisor may grant to itself (any role on the roster); it reads only that.
    expectKind(await put(supervisor, org.supervisor, conversation.conversationId), 'ok');
    expect((await page(supervisor)).map((g) => g.conversationId)).toEqual([conversation.conversationId]);
    expect((await page(await agentOf(() => h.connect(), org, agentDevice))).length).toBe(1);
  });

  it('refuses a non-supervisor, a target off the roster and a conversation the org does not have', async () => {
    const { h, org, agentDevice, supervisor, visitor } = await setup();
    const conversation = await openConversation(visitor, org);
    const agent = await agentOf(() => h.connect(), org, agentDevice);
    const retention = errorOf(await agent.request({ kind: 'set-retention', days: 1 }));
    for (const client of [agent, visitor]) {
      const refused = errorOf(await put(client, agentDevice, conversation.conversationId));
      // The same refusal as every supervisor frame, whatever the reason.
      expect(refused).toMatchObject({ code: 'SEALCHAT_E_UNAUTHORIZED', message: retention.message });
    }
    expect(errorOf(await visitor.request({ kind: 'get-history-grants', after: zeros, limit: 1 })).code).toBe(
      'SEALCHAT_E_UNAUTHORIZED',
    );
    const offRoster = errorOf(await put(supervisor, random(16), conversation.conversationId));
    expect(offRoster).toMatchObject({ code: 'SEALCHAT_E_NOT_FOUND', message: expect.stringMatching(/roster/) });
    const unknown = errorOf(await put(supervisor, agentDevice, random(16)));
    expect(unknown).toMatchObject({ code: 'SEALCHAT_E_NOT_FOUND', message: expect.stringMatching(/conversation/) });
    const otherOrg = await registerOrg(h);
    const theirs = await openConversation(visitor, otherOrg);
    expect(errorOf(await put(supervisor, agentDevice, theirs.conversationId))).toMatchObject({
      code: unknown.code,
      message: unknown.message,
    });
    // Another org's supervisor cannot grant into this org's conversations either.
    const otherSupervisor = await agentOf(() => h.connect(), otherOrg, otherOrg.supervisor);
    expect(errorOf(await put(otherSupervisor, otherOrg.supervisor, conversation.conversationId)).code).toBe(
      'SEALCHAT_E_NOT_FOUND',
    );
    expect(storedGrants(h)).toEqual([]);
    expect(agent.frames.filter((f) => f.kind === 'history-granted')).toEqual([]);
  });

  it('a limit out of range or an empty grant does not decode', async () => {
    const { org, agentDevice, supervisor, visitor, h } = await setup();
    const conversation = await openConversation(visitor, org);
    const header = [WIRE_VERSION, 20, 0x10, 0, 0, 1, ...zeros];
    for (const limit of [
      [0, 0, 0, 0],
      [0, 0, 1, 1],
    ]) {
      supervisor.ws.send(Uint8Array.of(...header, ...limit));
      expect(errorOf(await supervisor.next((f) => f.kind === 'error')).code).toBe('SEALCHAT_E_BAD_FRAME');
    }
    const empty = [
      WIRE_VERSION,
      19,
      0x10,
      0,
      0,
      2,
      ...agentDevice.deviceId,
      ...conversation.conversationId,
      0,
      0,
      0,
      0,
    ];
    supervisor.ws.send(Uint8Array.of(...empty));
    expect(errorOf(await supervisor.next((f) => f.kind === 'error')).code).toBe('SEALCHAT_E_BAD_FRAME');
    expect(storedGrants(h)).toEqual([]);
  });

  it('bounds the grants one device may hold (maxHistoryGrantsPerDevice); replacing one is always allowed', async () => {
    const { org, agentDevice, colleague, supervisor, visitor } = await setup({ maxHistoryGrantsPerDevice: 1 });
    const [a, b] = [await openConversation(visitor, org), await openConversation(visitor, org)];
    expectKind(await put(supervisor, agentDevice, a.conversationId), 'ok');
    expect(errorOf(await put(supervisor, agentDevice, b.conversationId)).code).toBe('SEALCHAT_E_LIMIT');
    expectKind(await put(supervisor, agentDevice, a.conversationId), 'ok');
    expectKind(await put(supervisor, colleague, b.conversationId), 'ok');
  });

  it('a roster that drops the target deletes its grants; they do not come back with the device', async () => {
    const { h, org, agentDevice, colleague, supervisor, visitor } = await setup();
    const agent = await agentOf(() => h.connect(), org, agentDevice);
    const conversation = await openConversation(visitor, org);
    for (const device of [agentDevice, colleague])
      expectKind(await put(supervisor, device, conversation.conversationId), 'ok');
    expect(storedGrants(h).length).toBe(2);
    const admin = await h.connect();
    const publish = async (version: number, devices: DeviceIdentity[]) =>
      expectKind(
        await admin.request({
          kind: 'publish-roster',
          orgRootKey: org.rootPublic,
          roster: await org.roster(version, devices),
        }),
        'ok',
      );
    await publish(2, [colleague]);
    expect((await agent.closed).code).toBe(4003);
    expect(storedGrants(h)).toEqual([
      { device: hex(colleague.deviceId), conversation: hex(conversation.conversationId) },
    ]);
    expect(errorOf(await put(supervisor, agentDevice, conversation.conversationId)).code).toBe('SEALCHAT_E_NOT_FOUND');
    await publish(3, [colleague, agentDevice]);
    expect(await page(await agentOf(() => h.connect(), org, agentDevice))).toEqual([]);
  });

  it('grants go with their conversation: the visitor’s deletion and the retention sweep', async () => {
    const { h, org, agentDevice, supervisor, visitor } = await setup({ retentionSweepIntervalMs: 50 });
    const agent = await agentOf(() => h.connect(), org, agentDevice);
    const deleted = await openConversation(visitor, org);
    const swept = await openConversation(visitor, org);
    const kept = await openConversation(visitor, org);
    for (const c of [deleted, swept, kept]) expectKind(await put(supervisor, agentDevice, c.conversationId), 'ok');
    expectKind(await visitor.request({ kind: 'delete-conversation', ...deleted }), 'ok');
    expect((await page(agent)).map((g) => hex(g.conversationId)).sort()).toEqual(
      [swept, kept].map((c) => hex(c.conversationId)).sort(),
    );
    // The clock, moved for one conversation: opened ten days ago, with no records.
    const side = new Database(h.dbPath);
    side
      .prepare('UPDATE conversations SET created_at = created_at - ? WHERE conversation_id = ?')
      .run(10 * DAY, Buffer.from(swept.conversationId));
    side.close();
    expectKind(await supervisor.request({ kind: 'set-retention', days: 7 }), 'ok');
    await expect.poll(() => storedGrants(h).length, { timeout: 3000 }).toBe(1);
    expect((await page(agent)).map((g) => g.conversationId)).toEqual([kept.conversationId]);
  });

  it('logs neither the grant nor the ids it concerns', async () => {
    const { h, org, agentDevice, supervisor, visitor } = await setup();
    const conversation = await openConversation(visitor, org);
    const grant = random(64);
    expectKind(await put(supervisor, agentDevice, conversation.conversationId, grant), 'ok');
    errorOf(await put(supervisor, random(16), conversation.conversationId, grant));
    const logged = h.logs.join('\n');
    expect(logged).toContain('"history-grant-stored"');
    for (const secret of [grant.subarray(0, 16), agentDevice.deviceId, conversation.conversationId]) {
      expect(logged).not.toContain(hex(secret));
      expect(logged).not.toContain(Buffer.from(secret).toString('base64'));
    }
  });
});

describe('history grants across relays (PostgreSQL and Redis)', () => {
  let schema: TestSchema;
  let redis: ThrowawayRedis;
  const relays: RunningRelay[] = [];
  const clients: TestClient[] = [];

  beforeAll(async () => {
    schema = await freshSchema();
    redis = await startThrowawayRedis();
  });

  afterAll(async () => {
    for (const client of clients) client.ws.terminate();
    for (const relay of relays) await relay.close();
    await redis?.kill();
    await schema?.drop();
  });

  it('a grant stored through one relay is pushed to the device on another; a roster there drops it', async () => {
    const org = await makeOrg();
    const [agentDevice, colleague] = await Promise.all([generateDeviceIdentity(), generateDeviceIdentity()]);
    const options = { port: 0, dbPath: schema.url, fanout: redis.url, orgKeys: [org.orgKeyText] };
    for (let i = 0; i < 2; i++) relays.push(await startRelay(options, { logger: { log: () => undefined } }));
    const [a, b] = relays as [RunningRelay, RunningRelay];
    const connect = (relay: RunningRelay) => async () => {
      const client = await TestClient.connect(relay.url);
      clients.push(client);
      return client;
    };
    const admin = await connect(a)();
    const roster = await org.roster(1, [agentDevice, colleague]);
    expectKind(await admin.request({ kind: 'publish-roster', orgRootKey: org.rootPublic, roster }), 'ok');
    const supervisor = await agentOf(connect(a), org, org.supervisor);
    const agent = await agentOf(connect(b), org, agentDevice);
    const bystander = await agentOf(connect(b), org, colleague);
    const visitor = await connect(b)();
    const conversation = await openConversation(visitor, org);

    const grant = random(200);
    expectKind(await put(supervisor, agentDevice, conversation.conversationId, grant), 'ok');
    expect(await granted(agent)).toEqual({
      kind: 'history-granted',
      conversationId: conversation.conversationId,
      grant,
    });
    expect((await page(agent)).map((g) => g.grant)).toEqual([grant]);
    await sleep(100);
    expect(bystander.frames.filter((f) => f.kind === 'history-granted')).toEqual([]);

    // A roster published through A without the device revokes its socket on B and deletes its grants
    // in the shared database.
    expectKind(
      await admin.request({
        kind: 'publish-roster',
        orgRootKey: org.rootPublic,
        roster: await org.roster(2, [colleague]),
      }),
      'ok',
    );
    expect((await agent.closed).code).toBe(4003);
    const rows = await queryTest<{ n: string }>(schema.name, 'SELECT count(*) AS n FROM history_grants');
    expect(Number(rows[0]?.n)).toBe(0);
  }, 30_000);
});
