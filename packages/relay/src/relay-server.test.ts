import { readdirSync, readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import fc from 'fast-check';
import { encodeClientFrame, generateDeviceIdentity, MAX_ENVELOPE_BYTES, WIRE_VERSION } from '@sealchat/protocol';
import WebSocket from 'ws';
import { httpGet, httpUrl, rowCount } from './testing/scenarios.js';
import { describe, expect, it } from 'vitest';
import {
  expectKind,
  harnessPerTest,
  makeOrg,
  random,
  startHarness,
  TestClient,
  type Harness,
  type TestOrg,
} from './testing/relay-harness.js';

const newHarness = harnessPerTest();
const demoRelay = (options: Parameters<typeof startHarness>[0] = {}) => newHarness({ demo: true, ...options });

/** Registers an org (demo mode) with a roster of the given devices. */
async function registerOrg(
  h: Harness,
  devices = [] as Awaited<ReturnType<typeof generateDeviceIdentity>>[],
): Promise<TestOrg> {
  const org = await makeOrg();
  const admin = await h.connect();
  const reply = await admin.request({
    kind: 'publish-roster',
    orgRootKey: org.rootPublic,
    roster: await org.roster(1, devices),
  });
  expectKind(reply, 'ok');
  return org;
}

async function openConversation(client: TestClient, org: TestOrg) {
  const opened = expectKind(
    await client.request({ kind: 'open-conversation', orgId: org.orgId }),
    'conversation-opened',
  );
  return { conversationId: opened.conversationId, capability: opened.capability };
}

describe('posting', () => {
  it('acks only after the row is committed: another connection to the file sees it', async () => {
    const h = await demoRelay();
    const org = await registerOrg(h);
    const visitor = await h.connect();
    const { conversationId } = await openConversation(visitor, org);
    const envelope = random(300);
    const ack = expectKind(
      await visitor.request({ kind: 'post', conversationId, clientMessageId: random(16), envelope }),
      'ack',
    );
    expect(ack.seq).toBe(1);
    const db = new Database(h.dbPath, { readonly: true });
    const row = db
      .prepare('SELECT seq, envelope FROM records WHERE conversation_id = ?')
      .get(Buffer.from(conversationId)) as {
      seq: number;
      envelope: Buffer;
    };
    db.close();
    expect(row.seq).toBe(1);
    expect(new Uint8Array(row.envelope)).toEqual(envelope);
  });

  it('answers a retry of the same client message id with the original seq and stores one row', async () => {
    const h = await demoRelay();
    const org = await registerOrg(h);
    const visitor = await h.connect();
    const { conversationId } = await openConversation(visitor, org);
    const clientMessageId = random(16);
    const first = expectKind(
      await visitor.request({ kind: 'post', conversationId, clientMessageId, envelope: random(10) }),
      'ack',
    );
    await visitor.request({ kind: 'post', conversationId, clientMessageId: random(16), envelope: random(10) });
    const retry = expectKind(
      await visitor.request({ kind: 'post', conversationId, clientMessageId, envelope: random(10) }),
      'ack',
    );
    expect(retry.seq).toBe(first.seq);
    // Retries inside one group commit are deduplicated too.
    const id2 = random(16);
    const [a, b] = await Promise.all([
      visitor.request({ kind: 'post', conversationId, clientMessageId: id2, envelope: random(10) }),
      visitor.request({ kind: 'post', conversationId, clientMessageId: id2, envelope: random(10) }),
    ]);
    expect(expectKind(a, 'ack').seq).toBe(expectKind(b, 'ack').seq);
    expect(rowCount(h.dbPath)).toBe(3);
  });

  it('assigns gapless seqs in order under 200 concurrent posts from several sockets', async () => {
    const h = await demoRelay({ maxPendingPostsPerSocket: 200, capabilityBurst: 200 });
    const org = await registerOrg(h);
    const owner = await h.connect();
    const { conversationId, capability } = await openConversation(owner, org);
    const sockets = [owner];
    for (let i = 0; i < 3; i++) {
      const s = await h.connect();
      expectKind(await s.request({ kind: 'attach-conversation', conversationId, capability, afterSeq: 0 }), 'attached');
      sockets.push(s);
    }
    const watcher = await h.connect();
    expectKind(
      await watcher.request({ kind: 'attach-conversation', conversationId, capability, afterSeq: 0 }),
      'attached',
    );
    const perSocket = new Map<TestClient, number[]>();
    const acks = await Promise.all(
      Array.from({ length: 200 }, async (_, i) => {
        const socket = sockets[i % sockets.length]!;
        const ack = expectKind(
          await socket.request({ kind: 'post', conversationId, clientMessageId: random(16), envelope: random(20) }),
          'ack',
        );
        perSocket.set(socket, [...(perSocket.get(socket) ?? []), ack.seq]);
        return ack.seq;
      }),
    );
    expect([...acks].sort((x, y) => x - y)).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
    // Each socket's posts got rising seqs in the order it sent them.
    for (const seqs of perSocket.values()) expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
    await expect.poll(() => watcher.frames.filter((f) => f.kind === 'record').length).toBe(200);
    expect(watcher.takeRecords().map((r) => r.seq)).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
    expect(rowCount(h.dbPath)).toBe(200);
  });

  it('fans a committed record out to every attached socket, the sender included', async () => {
    const h = await demoRelay();
    const org = await registerOrg(h);
    const a = await h.connect();
    const { conversationId, capability } = await openConversation(a, org);
    expectKind(await a.request({ kind: 'attach-conversation', conversationId, capability, afterSeq: 0 }), 'attached');
    const b = await h.connect();
    expectKind(await b.request({ kind: 'attach-conversation', conversationId, capability, afterSeq: 0 }), 'attached');
    const envelope = random(40);
    expectKind(await a.request({ kind: 'post', conversationId, clientMessageId: random(16), envelope }), 'ack');
    for (const client of [a, b]) {
      const record = expectKind(await client.next((f) => f.kind === 'record'), 'record');
      expect(record.seq).toBe(1);
      expect(record.envelope).toEqual(envelope);
    }
  });
});

describe('resume', () => {
  it('attach with afterSeq=k sends exactly the records after k in order, then attached, then live ones', async () => {
    const h = await demoRelay();
    const org = await registerOrg(h);
    const writer = await h.connect();
    const { conversationId, capability } = await openConversation(writer, org);
    const envelopes = Array.from({ length: 10 }, () => random(16));
    for (const envelope of envelopes) {
      expectKind(await writer.request({ kind: 'post', conversationId, clientMessageId: random(16), envelope }), 'ack');
    }
    const reader = await h.connect();
    const attached = expectKind(
      await reader.request({ kind: 'attach-conversation', conversationId, capability, afterSeq: 6 }),
      'attached',
    );
    expect(attached.lastSeq).toBe(10);
    const history = reader.takeRecords();
    expect(history.map((r) => r.seq)).toEqual([7, 8, 9, 10]);
    expect(history.map((r) => r.envelope)).toEqual(envelopes.slice(6));
    const live = random(16);
    expectKind(
      await writer.request({ kind: 'post', conversationId, clientMessageId: random(16), envelope: live }),
      'ack',
    );
    const record = expectKind(await reader.next((f) => f.kind === 'record'), 'record');
    expect(record.seq).toBe(11);
    expect(record.envelope).toEqual(live);
  });

  it('keeps records across a restart of the relay on the same database file', async () => {
    const h = await demoRelay();
    const org = await registerOrg(h);
    const writer = await h.connect();
    const { conversationId, capability } = await openConversation(writer, org);
    expectKind(
      await writer.request({ kind: 'post', conversationId, clientMessageId: random(16), envelope: random(8) }),
      'ack',
    );
    await h.relay.close();
    const { startRelay } = await import('./relay-server.js');
    const again = await startRelay({ port: 0, dbPath: h.dbPath }, { logger: { log: () => undefined } });
    try {
      const reader = await TestClient.connect(again.url);
      const attached = expectKind(
        await reader.request({ kind: 'attach-conversation', conversationId, capability, afterSeq: 0 }),
        'attached',
      );
      expect(attached.lastSeq).toBe(1);
      expect(reader.takeRecords().map((r) => r.seq)).toEqual([1]);
      reader.close();
    } finally {
      await again.close();
    }
  });
});

describe('authorisation', () => {
  it('refuses visitor B on visitor A’s conversation with its own or a random capability', async () => {
    const h = await demoRelay();
    const org = await registerOrg(h);
    const a = await h.connect();
    const convA = await openConversation(a, org);
    const b = await h.connect();
    const convB = await openConversation(b, org);
    for (const capability of [convB.capability, random(32), new Uint8Array(0)]) {
      const reply = expectKind(
        await b.request({ kind: 'attach-conversation', conversationId: convA.conversationId, capability, afterSeq: 0 }),
        'error',
      );
      expect(reply.code).toBe('SEALCHAT_E_UNAUTHORIZED');
    }
    const post = expectKind(
      await b.request({
        kind: 'post',
        conversationId: convA.conversationId,
        clientMessageId: random(16),
        envelope: random(8),
      }),
      'error',
    );
    expect(post.code).toBe('SEALCHAT_E_UNAUTHORIZED');
    // Same answer for a conversation that does not exist.
    const missing = expectKind(
      await b.request({ kind: 'attach-conversation', conversationId: random(16), capability: random(32), afterSeq: 0 }),
      'error',
    );
    expect(missing.code).toBe('SEALCHAT_E_UNAUTHORIZED');
    expect(missing.message).toBe(
      expectKind(
        await b.request({
          kind: 'attach-conversation',
          conversationId: convA.conversationId,
          capability: random(32),
          afterSeq: 0,
        }),
        'error',
      ).message,
    );
    expect(rowCount(h.dbPath)).toBe(0);
  });

  it('authenticates an agent on the roster, who may then watch, attach without capability and post', async () => {
    const h = await demoRelay();
    const device = await generateDeviceIdentity();
    const org = await registerOrg(h, [device]);
    const agent = await h.connect();
    expectKind(await agent.authAgent(org.orgId, device), 'ok');
    const list = expectKind(await agent.request({ kind: 'watch-org' }), 'conversation-list');
    expect(list.conversations).toEqual([]);
    const visitor = await h.connect();
    const { conversationId } = await openConversation(visitor, org);
    const created = expectKind(await agent.next((f) => f.kind === 'conversation-created'), 'conversation-created');
    expect(created.conversation.conversationId).toEqual(conversationId);
    expectKind(
      await agent.request({ kind: 'attach-conversation', conversationId, capability: new Uint8Array(0), afterSeq: 0 }),
      'attached',
    );
    expectKind(
      await agent.request({ kind: 'post', conversationId, clientMessageId: random(16), envelope: random(8) }),
      'ack',
    );
  });

  it('refuses an agent with a bad signature, a device not on the roster, or a signature over another challenge', async () => {
    const h = await demoRelay();
    const device = await generateDeviceIdentity();
    const stranger = await generateDeviceIdentity();
    const org = await registerOrg(h, [device]);

    const badSig = await h.connect();
    const reply1 = expectKind(
      await badSig.request({ kind: 'auth-agent', orgId: org.orgId, deviceId: device.deviceId, signature: random(64) }),
      'error',
    );
    expect(reply1.code).toBe('SEALCHAT_E_UNAUTHORIZED');

    const notListed = await h.connect();
    expect(expectKind(await notListed.authAgent(org.orgId, stranger), 'error').code).toBe('SEALCHAT_E_UNAUTHORIZED');

    // A signature replayed from another connection's challenge.
    const first = await h.connect();
    const second = await h.connect();
    const { signRelayChallenge } = await import('@sealchat/protocol');
    const signature = await signRelayChallenge(
      device.signing.privateKey,
      first.challenge,
      org.orgId,
      device.deviceId,
      second.url,
    );
    const replay = expectKind(
      await second.request({ kind: 'auth-agent', orgId: org.orgId, deviceId: device.deviceId, signature }),
      'error',
    );
    expect(replay.code).toBe('SEALCHAT_E_UNAUTHORIZED');

    // Unauthenticated sockets cannot watch.
    expect(expectKind(await second.request({ kind: 'watch-org' }), 'error').code).toBe('SEALCHAT_E_UNAUTHORIZED');
  });

  it('keeps an agent of org 1 out of org 2’s conversations', async () => {
    const h = await demoRelay();
    const device1 = await generateDeviceIdentity();
    const org1 = await registerOrg(h, [device1]);
    const org2 = await registerOrg(h, [await generateDeviceIdentity()]);
    const visitor = await h.connect();
    const { conversationId } = await openConversation(visitor, org2);
    const agent = await h.connect();
    expectKind(await agent.authAgent(org1.orgId, device1), 'ok');
    const attach = expectKind(
      await agent.request({ kind: 'attach-conversation', conversationId, capability: new Uint8Array(0), afterSeq: 0 }),
      'error',
    );
    expect(attach.code).toBe('SEALCHAT_E_UNAUTHORIZED');
    const post = expectKind(
      await agent.request({ kind: 'post', conversationId, clientMessageId: random(16), envelope: random(8) }),
      'error',
    );
    expect(post.code).toBe('SEALCHAT_E_UNAUTHORIZED');
    // org 2's new conversations are not pushed to org 1's watcher.
    expectKind(await agent.request({ kind: 'watch-org' }), 'conversation-list');
    await openConversation(visitor, org2);
    await new Promise((r) => setTimeout(r, 50));
    expect(agent.frames.filter((f) => f.kind === 'conversation-created')).toEqual([]);
  });

  it('closes a revoked agent’s socket with 4003 when a roster without its device arrives', async () => {
    const h = await demoRelay();
    const kept = await generateDeviceIdentity();
    const revoked = await generateDeviceIdentity();
    const org = await registerOrg(h, [kept, revoked]);
    const keptSocket = await h.connect();
    expectKind(await keptSocket.authAgent(org.orgId, kept), 'ok');
    const revokedSocket = await h.connect();
    expectKind(await revokedSocket.authAgent(org.orgId, revoked), 'ok');
    const admin = await h.connect();
    expectKind(
      await admin.request({ kind: 'publish-roster', orgRootKey: org.rootPublic, roster: await org.roster(2, [kept]) }),
      'ok',
    );
    expect((await revokedSocket.closed).code).toBe(4003);
    expect(keptSocket.ws.readyState).toBe(WebSocket.OPEN);
    const again = await h.connect();
    expect(expectKind(await again.authAgent(org.orgId, revoked), 'error').code).toBe('SEALCHAT_E_UNAUTHORIZED');
  });
});

describe('rosters', () => {
  it('accepts a newer version and an identical re-publish, rejects a rollback and a different roster under the same version', async () => {
    const h = await demoRelay();
    const org = await makeOrg();
    const c = await h.connect();
    // Issued first, so the test organisation's version 3 follows the other version 2.
    const otherV2 = await org.roster(2, [await generateDeviceIdentity()]);
    const v2 = await org.roster(2, []);
    expectKind(await c.request({ kind: 'publish-roster', orgRootKey: org.rootPublic, roster: v2 }), 'ok');
    expectKind(await c.request({ kind: 'publish-roster', orgRootKey: org.rootPublic, roster: v2 }), 'ok');
    const rollback = expectKind(
      await c.request({ kind: 'publish-roster', orgRootKey: org.rootPublic, roster: await org.roster(1, []) }),
      'error',
    );
    expect(rollback.code).toBe('SEALCHAT_E_ROSTER_REJECTED');
    const sameVersion = expectKind(
      await c.request({ kind: 'publish-roster', orgRootKey: org.rootPublic, roster: otherV2 }),
      'error',
    );
    expect(sameVersion.code).toBe('SEALCHAT_E_ROSTER_FORK');
    const v3 = await org.roster(3, []);
    expectKind(await c.request({ kind: 'publish-roster', orgRootKey: org.rootPublic, roster: v3 }), 'ok');
    expect(expectKind(await c.request({ kind: 'get-roster', orgId: org.orgId }), 'roster').roster).toEqual(v3);
  });

  it('rejects a roster signed by another key, an expired one, and answers NOT_FOUND for an unknown org', async () => {
    const h = await demoRelay();
    const org = await makeOrg();
    const other = await makeOrg();
    const c = await h.connect();
    const forged = expectKind(
      await c.request({ kind: 'publish-roster', orgRootKey: org.rootPublic, roster: await other.roster(1, []) }),
      'error',
    );
    expect(forged.code).toBe('SEALCHAT_E_ROSTER_REJECTED');
    const expired = expectKind(
      await c.request({
        kind: 'publish-roster',
        orgRootKey: org.rootPublic,
        roster: await org.roster(1, [], Date.now() - 1),
      }),
      'error',
    );
    expect(expired.code).toBe('SEALCHAT_E_ROSTER_REJECTED');
    expect(expectKind(await c.request({ kind: 'get-roster', orgId: org.orgId }), 'error').code).toBe(
      'SEALCHAT_E_NOT_FOUND',
    );
  });

  it('refuses an unknown org outside demo mode, but serves one pre-registered with orgKeys', async () => {
    const known = await makeOrg();
    const h = await newHarness({ orgKeys: [known.orgKeyText] });
    const unknown = await makeOrg();
    const c = await h.connect();
    const publish = expectKind(
      await c.request({ kind: 'publish-roster', orgRootKey: unknown.rootPublic, roster: await unknown.roster(1, []) }),
      'error',
    );
    expect(publish.code).toBe('SEALCHAT_E_UNKNOWN_ORG');
    expect(expectKind(await c.request({ kind: 'open-conversation', orgId: unknown.orgId }), 'error').code).toBe(
      'SEALCHAT_E_UNKNOWN_ORG',
    );
    expectKind(
      await c.request({ kind: 'publish-roster', orgRootKey: known.rootPublic, roster: await known.roster(1, []) }),
      'ok',
    );
    expectKind(await c.request({ kind: 'open-conversation', orgId: known.orgId }), 'conversation-opened');
  });

  it('rejects a malformed orgKeys entry with a TypeError', async () => {
    await expect(startHarness({ orgKeys: ['sc1notakey'] })).rejects.toThrow(TypeError);
  });
});

describe('hostile input', () => {
  async function expectBadFrame(client: TestClient, send: () => void): Promise<void> {
    send();
    const reply = expectKind(await client.next((f) => f.kind === 'error'), 'error');
    expect(reply.code).toBe('SEALCHAT_E_BAD_FRAME');
  }

  it('answers truncated, wrong-version and text frames with BAD_FRAME, stores nothing, and keeps serving', async () => {
    const h = await demoRelay();
    const org = await registerOrg(h);
    const c = await h.connect();
    const { conversationId } = await openConversation(c, org);
    const good = encodeClientFrame({
      kind: 'post',
      requestId: 9,
      conversationId,
      clientMessageId: random(16),
      envelope: random(32),
    });
    await expectBadFrame(c, () => c.ws.send(good.slice(0, good.length - 1)));
    const wrongVersion = good.slice();
    wrongVersion[0] = WIRE_VERSION + 1;
    await expectBadFrame(c, () => c.ws.send(wrongVersion));
    await expectBadFrame(c, () => c.ws.send(new Uint8Array([...good, 0])));
    await expectBadFrame(c, () => c.ws.send(JSON.stringify({ kind: 'post' })));
    await expectBadFrame(c, () => c.ws.send(new Uint8Array(0)));
    expect(rowCount(h.dbPath)).toBe(0);
    expectKind(
      await c.request({ kind: 'post', conversationId, clientMessageId: random(16), envelope: random(8) }),
      'ack',
    );
  });

  it('survives random bytes (fast-check): no crash, no row, the socket keeps being served', async () => {
    const h = await demoRelay();
    await registerOrg(h);
    const c = await h.connect();
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 0, maxLength: 200 }), async (bytes) => {
        c.ws.send(bytes);
        // A ping round trip shows the relay read the frame and is still serving this socket.
        const reply = await c.request({ kind: 'get-roster', orgId: random(16) });
        expect(reply.kind).toBe('error');
      }),
      { numRuns: 200 },
    );
    expect(rowCount(h.dbPath)).toBe(0);
    expect(c.ws.readyState).toBe(WebSocket.OPEN);
    const fresh = await h.connect();
    expect(fresh.challenge.length).toBe(32);
  });

  it('closes a socket that sends a frame over maxFrameBytes with 1009', async () => {
    const h = await demoRelay({ maxFrameBytes: 4096 });
    const c = await h.connect();
    c.ws.send(new Uint8Array(5000));
    expect((await c.closed).code).toBe(1009);
    expect((await h.connect()).challenge.length).toBe(32);
  });

  it('carries a full-size envelope under the default frame limit', async () => {
    const h = await demoRelay();
    const org = await registerOrg(h);
    const c = await h.connect();
    const { conversationId } = await openConversation(c, org);
    const ack = await c.request({
      kind: 'post',
      conversationId,
      clientMessageId: random(16),
      envelope: random(MAX_ENVELOPE_BYTES),
    });
    expectKind(ack, 'ack');
  });

  it('refuses a browser origin that is not allowed with 403, and allows a listed one', async () => {
    const h = await newHarness({ allowedOrigins: ['https://shop.example'] });
    const refused = new WebSocket(h.relay.url, { headers: { origin: 'https://evil.example' } });
    const status = await new Promise<number>((resolve) => {
      refused.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      refused.on('error', () => undefined);
    });
    expect(status).toBe(403);
    const allowed = await h.connect({ origin: 'https://shop.example' });
    expect(allowed.challenge.length).toBe(32);
    // A non-browser client (no Origin) is always allowed.
    expect((await h.connect()).challenge.length).toBe(32);
  });

  it('refuses connections over maxConnections with 503', async () => {
    const h = await demoRelay({ maxConnections: 1 });
    await h.connect();
    const refused = new WebSocket(h.relay.url);
    const status = await new Promise<number>((resolve) => {
      refused.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      refused.on('error', () => undefined);
    });
    expect(status).toBe(503);
  });

  it('enforces per-socket limits with SEALCHAT_E_LIMIT', async () => {
    const h = await demoRelay({ maxOpensPerSocket: 2 });
    const org = await registerOrg(h);
    const c = await h.connect();
    await openConversation(c, org);
    await openConversation(c, org);
    expect(expectKind(await c.request({ kind: 'open-conversation', orgId: org.orgId }), 'error').code).toBe(
      'SEALCHAT_E_LIMIT',
    );
  });
});

describe('HTTP', () => {
  it('serves /healthz and hides /demo/* outside demo mode', async () => {
    const h = await newHarness();
    expect(await httpGet(httpUrl(h, '/healthz'))).toMatchObject({ status: 200, body: 'ok' });
    expect((await httpGet(httpUrl(h, '/demo/org'))).status).toBe(404);
    expect((await httpGet(httpUrl(h, '/demo/rows'))).status).toBe(404);
  });

  it('in demo mode serves the latest org key and streams stored rows with CORS for localhost', async () => {
    const h = await demoRelay();
    expect((await httpGet(httpUrl(h, '/demo/org'))).status).toBe(404);
    const org = await registerOrg(h);
    const orgReply = await httpGet(httpUrl(h, '/demo/org'), { origin: 'http://localhost:5173' });
    expect(JSON.parse(orgReply.body)).toEqual({ orgKey: org.orgKeyText });
    expect(orgReply.headers['access-control-allow-origin']).toBe('http://localhost:5173');

    const c = await h.connect();
    const { conversationId } = await openConversation(c, org);
    const first = random(12);
    expectKind(await c.request({ kind: 'post', conversationId, clientMessageId: random(16), envelope: first }), 'ack');

    const events: Record<string, unknown>[] = [];
    let contentType = '';
    const req = httpRequest(httpUrl(h, '/demo/rows'), (res) => {
      contentType = String(res.headers['content-type']);
      let buffer = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffer += chunk;
        let end;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          events.push(JSON.parse(buffer.slice(0, end).replace(/^data: /, '')) as Record<string, unknown>);
          buffer = buffer.slice(end + 2);
        }
      });
      res.on('error', () => undefined);
    });
    req.on('error', () => undefined);
    req.end();
    await expect.poll(() => events.length).toBe(1);
    const second = random(20);
    expectKind(await c.request({ kind: 'post', conversationId, clientMessageId: random(16), envelope: second }), 'ack');
    await expect.poll(() => events.length).toBe(2);
    expect(contentType).toBe('text/event-stream');
    expect(events[1]).toMatchObject({
      conversationId: Buffer.from(conversationId).toString('hex'),
      seq: 2,
      bytes: 20,
      envelopeHex: Buffer.from(second).toString('hex'),
    });
    req.destroy();
  });
});

describe('logging', () => {
  it('logs listening and connections, but never envelopes, capabilities or keys', async () => {
    const h = await demoRelay();
    const device = await generateDeviceIdentity();
    const org = await registerOrg(h, [device]);
    const visitor = await h.connect();
    const { conversationId, capability } = await openConversation(visitor, org);
    const envelope = random(64);
    expectKind(await visitor.request({ kind: 'post', conversationId, clientMessageId: random(16), envelope }), 'ack');
    const agent = await h.connect();
    expectKind(await agent.authAgent(org.orgId, device), 'ok');
    await visitor.request({ kind: 'attach-conversation', conversationId: random(16), capability, afterSeq: 0 });
    visitor.ws.send(envelope); // garbage frame carrying the envelope bytes
    await visitor.next((f) => f.kind === 'error' && f.requestId === 0);
    const clientPort = (visitor.ws as unknown as { _socket: { localPort: number } })._socket.localPort;
    visitor.close();
    await visitor.closed;
    await expect.poll(() => h.logs.some((l) => l.includes('connection-close'))).toBe(true);

    const text = h.logs.join('\n');
    expect(text).toContain('"msg":"listening"');
    expect(text).toContain('"demo":true');
    expect(text).toContain('connection-open');
    expect(text).toContain('SEALCHAT_E_UNAUTHORIZED');
    const secrets = [envelope, capability, org.rootPublic, device.signingPublic];
    for (const secret of secrets) {
      const b = Buffer.from(secret);
      for (const encoded of [b.toString('hex'), b.toString('base64'), b.toString('base64url')]) {
        expect(text).not.toContain(encoded.slice(0, 24));
      }
    }
    // No peer address: the client's ephemeral port appears nowhere.
    expect(text).not.toContain(`:${clientPort}`);
    expect(text).not.toMatch(/remoteAddress|::ffff:/);
  });
});

describe('storage and shutdown', () => {
  it('never writes the capability itself to the database files', async () => {
    const h = await demoRelay();
    const org = await registerOrg(h);
    const c = await h.connect();
    const { capability } = await openConversation(c, org);
    expectKind(await c.request({ kind: 'get-roster', orgId: org.orgId }), 'roster');
    const folder = dirname(h.dbPath);
    const files = readdirSync(folder).map((name) => readFileSync(join(folder, name)));
    expect(files.length).toBeGreaterThan(0);
    for (const file of files) expect(file.includes(Buffer.from(capability))).toBe(false);
  });

  it('on close, acknowledges what it committed, then closes sockets with 1001', async () => {
    const h = await demoRelay();
    const org = await registerOrg(h);
    const c = await h.connect();
    const { conversationId } = await openConversation(c, org);
    const replies = Array.from({ length: 20 }, () =>
      c
        .request({ kind: 'post', conversationId, clientMessageId: random(16), envelope: random(8) })
        .catch(() => undefined),
    );
    await new Promise((r) => setTimeout(r, 5));
    const closing = h.relay.close();
    expect((await c.closed).code).toBe(1001);
    await closing;
    const acked = (
      await Promise.race([Promise.all(replies), new Promise<undefined[]>((r) => setTimeout(() => r([]), 200))])
    ).filter((f) => f?.kind === 'ack').length;
    // Every ack the client saw is a row on disk (and posts admitted before close were committed).
    expect(rowCount(h.dbPath)).toBeGreaterThanOrEqual(acked);
    expect(acked).toBeGreaterThan(0);
  });
});
