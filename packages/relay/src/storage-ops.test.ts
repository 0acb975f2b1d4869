import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { runAdminCommand } from './admin-commands.js';
import { backupDatabase, restoreDatabase } from './backup.js';
import { expectKind, random, startHarness, TestClient, type Harness } from './testing/relay-harness.js';
import { httpGet, httpUrl, openConversation, registerOrg, sleep } from './testing/scenarios.js';

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.stop();
  harness = undefined;
});

const DAY = 24 * 60 * 60 * 1000;

/** True if `needle` occurs in the database file or its WAL. */
function fileContains(dbPath: string, needle: Uint8Array): boolean {
  return ['', '-wal'].some((suffix) => {
    const path = dbPath + suffix;
    return existsSync(path) && readFileSync(path).includes(Buffer.from(needle));
  });
}

function recordsOf(dbPath: string, conversationId: Uint8Array): number {
  const db = new Database(dbPath, { readonly: true });
  try {
    const row = db
      .prepare('SELECT count(*) AS n FROM records WHERE conversation_id = ?')
      .get(Buffer.from(conversationId)) as { n: number };
    return row.n;
  } finally {
    db.close();
  }
}

describe('erasure', () => {
  it('deleting a conversation leaves none of its ciphertext in the database file or WAL', async () => {
    const h = (harness = await startHarness({ demo: true }));
    const org = await registerOrg(h);
    const visitor = await h.connect();
    const doomed = await openConversation(visitor, org);
    const kept = await openConversation(visitor, org);
    // A small envelope (inline cell) and a large one (overflow pages).
    const secrets = [random(500), random(20_000)];
    for (const envelope of secrets) {
      expectKind(
        await visitor.request({
          kind: 'post',
          conversationId: doomed.conversationId,
          clientMessageId: random(16),
          envelope,
        }),
        'ack',
      );
    }
    const keptEnvelope = random(500);
    expectKind(
      await visitor.request({
        kind: 'post',
        conversationId: kept.conversationId,
        clientMessageId: random(16),
        envelope: keptEnvelope,
      }),
      'ack',
    );
    for (const secret of secrets) expect(fileContains(h.dbPath, secret.subarray(0, 64))).toBe(true);
    expectKind(
      await visitor.request({
        kind: 'delete-conversation',
        conversationId: doomed.conversationId,
        capability: doomed.capability,
      }),
      'ok',
    );
    await sleep(20);
    for (const secret of secrets) {
      expect(fileContains(h.dbPath, secret.subarray(0, 64))).toBe(false);
      expect(fileContains(h.dbPath, secret.subarray(secret.length - 64))).toBe(false);
    }
    // The scan does find what was not deleted.
    expect(fileContains(h.dbPath, keptEnvelope.subarray(0, 64))).toBe(true);
    expect(recordsOf(h.dbPath, doomed.conversationId)).toBe(0);
  });
});

describe('retention', () => {
  it('sweeps records older than the org’s maximum age (set by the CLI while running), not other orgs’', async () => {
    const h = (harness = await startHarness({ demo: true, retentionSweepIntervalMs: 50 }));
    const org1 = await registerOrg(h);
    const org2 = await registerOrg(h);
    const visitor = await h.connect();
    expectKind(await visitor.request({ kind: 'hello', revision: 2 }), 'welcome');
    const c1 = await openConversation(visitor, org1);
    const c2 = await openConversation(visitor, org2);
    for (const c of [c1, c2]) {
      for (let i = 0; i < 3; i++) {
        expectKind(
          await visitor.request({
            kind: 'post',
            conversationId: c.conversationId,
            clientMessageId: random(16),
            envelope: random(30),
          }),
          'ack',
        );
      }
    }
    expectKind(await visitor.request({ kind: 'resume-conversation', ...c1, epoch: 0, afterSeq: 3 }), 'resumed');
    // Age everything by ten days through a second connection, as time would.
    const side = new Database(h.dbPath);
    side.prepare('UPDATE records SET stored_at = stored_at - ?').run(10 * DAY);
    side.prepare('UPDATE conversations SET created_at = created_at - ?').run(10 * DAY);
    side.close();
    await runAdminCommand(['org', 'add', org1.orgKeyText, '--retention-days', '5', '--db', h.dbPath], 'unused');
    await expect.poll(() => recordsOf(h.dbPath, c1.conversationId)).toBe(0);
    expect(recordsOf(h.dbPath, c2.conversationId)).toBe(3);
    const told = expectKind(await visitor.next((f) => f.kind === 'conversation-deleted'), 'conversation-deleted');
    expect(told.conversationId).toEqual(c1.conversationId);
  });
});

describe('backup and restore', () => {
  it('backs up online, restores with a new epoch, and resuming clients are told to reset', async () => {
    const h = await startHarness({ demo: true });
    const org = await registerOrg(h);
    const visitor = await h.connect();
    const conversation = await openConversation(visitor, org);
    const post = async () =>
      expectKind(
        await visitor.request({
          kind: 'post',
          conversationId: conversation.conversationId,
          clientMessageId: random(16),
          envelope: random(30),
        }),
        'ack',
      ).seq;
    for (let i = 0; i < 10; i++) await post();
    const { epoch } = expectKind(await visitor.request({ kind: 'hello', revision: 2 }), 'welcome');
    const out = join(h.dir, 'backup.db');
    const backup = await backupDatabase(h.dbPath, out);
    expect(backup.epoch).toBe(epoch);
    for (let i = 0; i < 5; i++) await post();
    await expect(runAdminCommand(['restore', '--from', out, '--db', h.dbPath], 'unused')).rejects.toThrow(/stop it/);
    await expect(backupDatabase(h.dbPath, out)).rejects.toThrow(/exists/);
    // Stop the relay (keep the directory), restore, start again on the same file.
    visitor.close();
    await h.relay.close();
    const restored = await restoreDatabase(out, h.dbPath);
    expect(restored.epoch).not.toBe(epoch);
    harness = await startHarness({ demo: true, dbPath: h.dbPath });
    const client = await TestClient.connect(harness.relay.url);
    harness.clients.push(client);
    expect(expectKind(await client.request({ kind: 'hello', revision: 2 }), 'welcome').epoch).toBe(restored.epoch);
    const resumed = expectKind(
      await client.request({ kind: 'resume-conversation', ...conversation, epoch, afterSeq: 15 }),
      'resumed',
    );
    expect(resumed).toMatchObject({ reset: true, lastSeq: 10, epoch: restored.epoch });
    await expect.poll(() => client.frames.filter((f) => f.kind === 'record').length).toBe(10);
  });
});

describe('org management', () => {
  it('adds, lists and removes orgs with origins; an org’s origin list is enforced on its requests', async () => {
    const h = (harness = await startHarness({}));
    const { makeOrg } = await import('./testing/relay-harness.js');
    const org = await makeOrg();
    const added = await runAdminCommand(
      ['org', 'add', org.orgKeyText, '--origin', 'https://shop.example', '--db', h.dbPath],
      'unused',
    );
    expect(JSON.parse(added)).toMatchObject({ origins: ['https://shop.example'] });
    const listed = (await runAdminCommand(['org', 'list', '--db', h.dbPath], 'unused')).trim().split('\n');
    expect(listed.map((line) => JSON.parse(line) as { org: string; origins: string[] })).toEqual([
      expect.objectContaining({ org: org.orgKeyText, origins: ['https://shop.example'] }),
    ]);
    // The listed origin may connect and open; another origin is refused at the upgrade.
    const shop = await h.connect({ origin: 'https://shop.example' });
    expectKind(await shop.request({ kind: 'open-conversation', orgId: org.orgId }), 'conversation-opened');
    await expect(
      Promise.race([
        TestClient.connect(h.relay.url, { origin: 'https://evil.example' }),
        sleep(500).then(() => 'timeout'),
      ]),
    ).resolves.toBe('timeout');
    // An origin another org lists passes the upgrade but may not use this org.
    const other = await makeOrg();
    await runAdminCommand(
      ['org', 'add', other.orgKeyText, '--origin', 'https://other.example', '--db', h.dbPath],
      'unused',
    );
    const otherPage = await h.connect({ origin: 'https://other.example' });
    expect(expectKind(await otherPage.request({ kind: 'open-conversation', orgId: org.orgId }), 'error').code).toBe(
      'SEALCHAT_E_FORBIDDEN_ORIGIN',
    );
    expect(JSON.parse(await runAdminCommand(['org', 'remove', org.orgKeyText, '--db', h.dbPath], 'unused'))).toEqual({
      removed: org.orgKeyText,
    });
    expect(expectKind(await shop.request({ kind: 'open-conversation', orgId: org.orgId }), 'error').code).toBe(
      'SEALCHAT_E_UNKNOWN_ORG',
    );
    await expect(runAdminCommand(['org', 'add', 'sc1nope', '--db', h.dbPath], 'unused')).rejects.toThrow(/Invalid/);
  });
});

describe('HTTP operations', () => {
  it('serves /readyz and Prometheus /metrics with commits, frames and errors; /metrics can be switched off', async () => {
    const h = (harness = await startHarness({ demo: true }));
    const org = await registerOrg(h);
    const visitor = await h.connect();
    const { conversationId } = await openConversation(visitor, org);
    for (let i = 0; i < 3; i++) {
      expectKind(
        await visitor.request({ kind: 'post', conversationId, clientMessageId: random(16), envelope: random(9) }),
        'ack',
      );
    }
    await visitor.request({ kind: 'watch-org' });
    expect(await httpGet(httpUrl(h, '/readyz'))).toMatchObject({ status: 200, body: 'ready' });
    const metrics = await httpGet(httpUrl(h, '/metrics'));
    expect(metrics.status).toBe(200);
    expect(metrics.headers['content-type']).toContain('text/plain; version=0.0.4');
    expect(metrics.body).toContain('sealchat_relay_connections 1');
    expect(metrics.body).toMatch(/sealchat_relay_commits_total [1-9]/);
    expect(metrics.body).toContain('sealchat_relay_frames_in_total{kind="post"} 3');
    expect(metrics.body).toContain('sealchat_relay_frames_out_total{kind="ack"} 3');
    expect(metrics.body).toContain('sealchat_relay_errors_total{code="SEALCHAT_E_UNAUTHORIZED"} 1');
    expect(metrics.body).toContain('sealchat_relay_commit_batch_size_bucket{le="+Inf"}');
    expect(metrics.body).toContain('sealchat_relay_commit_seconds_count');
    await h.stop();
    harness = await startHarness({ metrics: false });
    expect((await httpGet(httpUrl(harness, '/metrics'))).status).toBe(404);
  });
});
