import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectKind, makeOrg, random, TestClient } from './testing/relay-harness.js';
import { buildRelayCli, LOOSE_LIMITS, RELAY_CLI } from './testing/cluster.js';

/**
 * The crash test: the built `sealchat-relay` CLI in a child process, loaded with pipelined posts,
 * killed with SIGKILL (no shutdown code runs), restarted on the same file. Every post it acked must
 * be stored exactly once with the acked seq; retries of everything sent must be idempotent.
 */
const cli = RELAY_CLI;
const children: ChildProcess[] = [];
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'sealchat-crash-'));
  // The test runs the built CLI; build it if it is missing or stale.
  buildRelayCli();
}, 70_000);

afterAll(() => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

function startCli(dbPath: string, orgKey: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [cli, '--port', '0', '--db', dbPath, '--org', orgKey, ...LOOSE_LIMITS], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(child);
  return new Promise((resolve, reject) => {
    let buffer = '';
    const timer = setTimeout(() => reject(new Error('The relay did not start')), 15_000);
    child.stdout?.setEncoding('utf8');
    child.stdout?.on('data', (chunk: string) => {
      buffer += chunk;
      for (const line of buffer.split('\n')) {
        if (!line.includes('"listening"')) continue;
        clearTimeout(timer);
        resolve({ child, url: (JSON.parse(line) as { url: string }).url });
      }
      buffer = buffer.slice(buffer.lastIndexOf('\n') + 1);
    });
    child.once('exit', (code) => reject(new Error(`The relay exited with ${code}`)));
  });
}

interface Sent {
  readonly conversation: number;
  readonly clientMessageId: Uint8Array<ArrayBuffer>;
  ackedSeq: number | undefined;
}

describe('crash safety', () => {
  it('SIGKILL under load loses no acked post and duplicates none', async () => {
    const org = await makeOrg();
    const dbPath = join(dir, 'relay.db');
    const first = await startCli(dbPath, org.orgKeyText);
    const conversations: { conversationId: Uint8Array<ArrayBuffer>; capability: Uint8Array<ArrayBuffer> }[] = [];
    const sockets: TestClient[] = [];
    for (let i = 0; i < 6; i++) {
      const socket = await TestClient.connect(first.url);
      sockets.push(socket);
      const opened = expectKind(
        await socket.request({ kind: 'open-conversation', orgId: org.orgId }),
        'conversation-opened',
      );
      conversations.push({ conversationId: opened.conversationId, capability: opened.capability });
    }
    const sent: Sent[] = [];
    let killed = false;
    // Each socket keeps 40 posts in flight to its own conversation until the kill.
    const loops = sockets.map(async (socket, index) => {
      const inflight = new Set<Promise<void>>();
      while (!killed) {
        const item: Sent = { conversation: index, clientMessageId: random(16), ackedSeq: undefined };
        sent.push(item);
        const p = socket
          .request({
            kind: 'post',
            conversationId: conversations[index]!.conversationId,
            clientMessageId: item.clientMessageId,
            envelope: random(200),
          })
          .then(
            (reply) => {
              if (reply.kind === 'ack') item.ackedSeq = reply.seq;
            },
            () => undefined,
          )
          .finally(() => inflight.delete(p));
        inflight.add(p);
        if (inflight.size >= 40) await Promise.race(inflight);
      }
    });
    await new Promise((r) => setTimeout(r, 800));
    const exited = new Promise((r) => first.child.once('exit', r));
    first.child.kill('SIGKILL');
    killed = true;
    await exited;
    await Promise.all(loops.map((loop) => Promise.race([loop, new Promise((r) => setTimeout(r, 6000))])));
    for (const socket of sockets) socket.ws.terminate();
    const acked = sent.filter((s) => s.ackedSeq !== undefined);
    expect(acked.length).toBeGreaterThan(100);
    expect(sent.length).toBeGreaterThan(acked.length);

    // Restart on the same file; retry everything that was sent, acked or not.
    const second = await startCli(dbPath, org.orgKeyText);
    const retrier = await TestClient.connect(second.url);
    for (const c of conversations) {
      expectKind(await retrier.request({ kind: 'attach-conversation', ...c, afterSeq: 1_000_000 }), 'attached');
    }
    const retries = await Promise.all(
      sent.map(async (s) => {
        const reply = await retrier.request({
          kind: 'post',
          conversationId: conversations[s.conversation]!.conversationId,
          clientMessageId: s.clientMessageId,
          envelope: random(200),
        });
        return { s, seq: expectKind(reply, 'ack').seq };
      }),
    );
    for (const { s, seq } of retries) if (s.ackedSeq !== undefined) expect(seq).toBe(s.ackedSeq);
    retrier.close();
    const stopped = new Promise((r) => second.child.once('exit', r));
    second.child.kill('SIGTERM');
    await stopped;

    const db = new Database(dbPath, { readonly: true });
    try {
      conversations.forEach((c, index) => {
        const rows = db
          .prepare('SELECT seq, client_message_id AS id FROM records WHERE conversation_id = ? ORDER BY seq')
          .all(Buffer.from(c.conversationId)) as { seq: number; id: Buffer }[];
        const mine = sent.filter((s) => s.conversation === index);
        // Exactly one row per message, seqs gapless from 1.
        expect(rows.map((r) => r.seq)).toEqual(Array.from({ length: mine.length }, (_, i) => i + 1));
        const bySeq = new Map(rows.map((r) => [r.seq, r.id.toString('hex')]));
        expect(new Set(bySeq.values()).size).toBe(mine.length);
        for (const s of mine) {
          if (s.ackedSeq !== undefined)
            expect(bySeq.get(s.ackedSeq)).toBe(Buffer.from(s.clientMessageId).toString('hex'));
        }
      });
    } finally {
      db.close();
    }
  }, 60_000);
});
