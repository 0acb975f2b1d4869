// Scale-out benchmark: persisted posts/s of the PostgreSQL store against the SQLite store, and one
// relay against two relays on PostgreSQL + Redis, end to end over WebSockets. A report, not a test.
//
//   npm run build && node bench/scale-bench.mjs [--quick]
//
// Everything runs on this machine and talks to 127.0.0.1 only: the machine's PostgreSQL
// (SEALCHAT_BENCH_POSTGRES, default postgres://postgres@127.0.0.1:5432/test, in a fresh schema that is
// dropped afterwards) and a throwaway redis-server on a free port. Bounded: about 1 minute (--quick
// about 30 s). Writes its report between the scale-bench markers in docs/benchmarks.md and prints it.
//
// On a 2-core machine the loader, the relays, PostgreSQL and Redis share two cores: two relays cannot
// be faster than one here. What the relay comparison shows is the cost of the cross-relay path
// (publish, Redis, receive) and that nothing is lost or reordered on it; the ceilings are the
// machine's.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { cpus, release, tmpdir, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  decodeRelayFrame,
  encodeClientFrame,
  exportPublicKey,
  formatOrgKey,
  generateSigningKeyPair,
  orgIdFromRootKey,
} from '@sealchat/protocol';
import { PostgresStore, SqliteStore } from '@sealchat/relay';
import pg from 'pg';
import WebSocket from 'ws';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const cli = join(root, 'packages/relay/dist/cli.js');
const quick = process.argv.includes('--quick');
const POSTGRES = process.env.SEALCHAT_BENCH_POSTGRES || 'postgres://postgres@127.0.0.1:5432/test';

const STORE_MS = quick ? 2000 : 4000;
const STORE_REPEATS = quick ? 1 : 2;
const STORE_CONVERSATIONS = 1000;
const STORE_INFLIGHT = 2000;
const ENVELOPE = 256;
const ROOMS = 100; // 400 sockets: each room has a poster and 3 more readers, all get every record
const RATES = quick ? [1000, 2000] : [1000, 2000, 4000];
const WARM_MS = 1000;
const MEASURE_MS = quick ? 2000 : 3000;
const DRAIN_MS = 1500;

const RELAY_FLAGS = [
  '--max-connections-per-address',
  '30000',
  '--max-connections-per-org',
  '30000',
  '--max-new-conversations-per-address-per-hour',
  '1000000',
  '--max-opens-per-socket',
  '100000',
  '--connection-rate',
  '1000000',
  '--connection-burst',
  '1000000',
  '--capability-rate',
  '1000000',
  '--capability-burst',
  '1000000',
  '--max-pending-posts-per-socket',
  '1000000',
  '--idle-timeout-ms',
  '3600000',
];

// ---- services ---------------------------------------------------------------------------------

async function freshSchema(tag) {
  const name = `sealchat_bench_${tag}_${process.pid}`;
  const url = new URL(POSTGRES);
  url.searchParams.set('schema', name);
  return {
    name,
    url: url.toString(),
    async drop() {
      const client = new pg.Client({ connectionString: POSTGRES });
      await client.connect();
      await client.query(`DROP SCHEMA IF EXISTS "${name}" CASCADE`);
      await client.end();
    },
  };
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

async function startRedis() {
  const port = await freePort();
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    {
      stdio: 'ignore',
    },
  );
  for (let i = 0; i < 100; i++) {
    const up = await new Promise((resolve) => {
      const s = connect(port, '127.0.0.1');
      s.once('connect', () => (s.destroy(), resolve(true)));
      s.once('error', () => resolve(false));
    });
    if (up) return { url: `redis://127.0.0.1:${port}`, child };
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('redis-server did not start');
}

function startRelay(args) {
  const child = spawn(process.execPath, [cli, '--port', '0', ...args, ...RELAY_FLAGS], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    let buffer = '';
    const timer = setTimeout(() => reject(new Error('relay did not start')), 20000);
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk) => {
      buffer += chunk;
      const lines = buffer.split('\n');
      buffer = lines.pop() ?? '';
      for (const line of lines) {
        if (!line.includes('"listening"')) continue;
        clearTimeout(timer);
        resolve({ child, url: JSON.parse(line).url });
      }
    });
    child.once('exit', (code) => reject(new Error(`relay exited with ${code}`)));
  });
}

async function stop(child) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}

function machineBusyMs() {
  const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const total = cpu.reduce((a, b) => a + b, 0);
  return (total - cpu[3] - cpu[4]) * 10;
}

function processCpuMs(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

// ---- 1. store: persisted posts/s --------------------------------------------------------------

async function storeRun(store) {
  const orgId = randomBytes(16);
  await store.registerOrg(orgId, randomBytes(32), Date.now());
  const conversations = [];
  for (let i = 0; i < STORE_CONVERSATIONS; i++) {
    const conversationId = new Uint8Array(randomBytes(16));
    await store.createConversation({ conversationId, orgId, capabilityHash: randomBytes(32), createdAt: Date.now() });
    conversations.push(conversationId);
  }
  let commits = 0;
  store.onCommit(() => commits++);
  let persisted = 0;
  let running = true;
  let next = 0;
  const loop = async () => {
    while (running) {
      const conversationId = conversations[next++ % conversations.length];
      await store.append(conversationId, new Uint8Array(randomBytes(16)), new Uint8Array(ENVELOPE));
      persisted++;
    }
  };
  const started = performance.now();
  const loops = Array.from({ length: STORE_INFLIGHT }, loop);
  await new Promise((r) => setTimeout(r, STORE_MS));
  running = false;
  const counted = persisted;
  const seconds = (performance.now() - started) / 1000;
  await Promise.all(loops);
  return { perSecond: counted / seconds, batch: counted / Math.max(1, commits) };
}

async function storeBench() {
  const results = { sqlite: [], postgres: [] };
  for (let i = 0; i < STORE_REPEATS; i++) {
    const dir = mkdtempSync(join(tmpdir(), 'sealchat-scale-'));
    const sqlite = new SqliteStore(join(dir, 'bench.db'));
    results.sqlite.push(await storeRun(sqlite));
    await sqlite.close();
    rmSync(dir, { recursive: true, force: true });
    const schema = await freshSchema(`store${i}`);
    const postgres = await PostgresStore.open(schema.url, { poolSize: 4 });
    results.postgres.push(await storeRun(postgres));
    await postgres.close();
    await schema.drop();
    process.stderr.write(`store run ${i + 1}: ${JSON.stringify(results)}\n`);
  }
  const best = (runs) => runs.reduce((a, b) => (b.perSecond > a.perSecond ? b : a));
  return { sqlite: best(results.sqlite), postgres: best(results.postgres), all: results };
}

// ---- 2. relays: one vs two on PostgreSQL + Redis ----------------------------------------------

class Client {
  constructor(url, stats) {
    this.ws = new WebSocket(url, { perMessageDeflate: false });
    this.stats = stats;
    this.lastSeq = 0;
    this.nextId = 1;
    this.waiters = new Map();
    this.ready = new Promise((resolve, reject) => {
      this.ws.once('error', reject);
      this.onChallenge = resolve;
    });
    this.ws.on('error', () => undefined);
    this.ws.on('message', (data) => this.onMessage(new Uint8Array(data)));
  }
  onMessage(bytes) {
    const frame = decodeRelayFrame(bytes);
    if (frame.kind === 'challenge') return this.onChallenge();
    if (frame.kind === 'record') {
      if (frame.seq <= this.lastSeq) this.stats.duplicates++;
      else {
        if (frame.seq > this.lastSeq + 1) this.stats.gaps += frame.seq - this.lastSeq - 1;
        this.lastSeq = frame.seq;
      }
      const sentAt = Buffer.from(frame.envelope.buffer, frame.envelope.byteOffset, 8).readDoubleBE(0);
      this.stats.delivered(sentAt);
      return;
    }
    if (frame.kind === 'error') this.stats.errors++;
    const waiter = this.waiters.get(frame.requestId);
    if (waiter) {
      this.waiters.delete(frame.requestId);
      waiter(frame);
    }
  }
  request(frame) {
    const requestId = this.nextId++;
    return new Promise((resolve) => {
      this.waiters.set(requestId, resolve);
      this.ws.send(encodeClientFrame({ ...frame, requestId }));
    });
  }
  post(conversationId) {
    const envelope = new Uint8Array(ENVELOPE);
    Buffer.from(envelope.buffer).writeDoubleBE(performance.now(), 0);
    this.ws.send(
      encodeClientFrame({
        kind: 'post',
        requestId: this.nextId++,
        conversationId,
        clientMessageId: new Uint8Array(randomBytes(16)),
        envelope,
      }),
    );
  }
}

function newStats() {
  return {
    gaps: 0,
    duplicates: 0,
    errors: 0,
    window: undefined,
    latencies: [],
    inWindow: 0,
    delivered(sentAt) {
      const w = this.window;
      if (!w || sentAt < w.start || sentAt >= w.end) return;
      this.inWindow++;
      this.latencies.push(performance.now() - sentAt);
    },
  };
}

const percentile = (sorted, p) =>
  sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] : NaN;

async function relayBench(relayCount, orgKey, orgId, redisUrl) {
  const schema = await freshSchema(`relays${relayCount}`);
  const relays = [];
  try {
    for (let i = 0; i < relayCount; i++) {
      relays.push(await startRelay(['--db', schema.url, '--fanout', redisUrl, '--org', orgKey]));
    }
    const rows = [];
    for (const rate of RATES) {
      const stats = newStats();
      const rooms = [];
      // Room i: the poster on relay i % n, the readers on the other relays in turn.
      for (let i = 0; i < ROOMS; i++) {
        const members = [0, 1, 2, 3].map((m) => new Client(relays[(i + m) % relayCount].url, stats));
        await Promise.all(members.map((m) => m.ready));
        for (const m of members) await m.request({ kind: 'hello', revision: 2 });
        const opened = await members[0].request({ kind: 'open-conversation', orgId });
        if (opened.kind !== 'conversation-opened') throw new Error(`open failed: ${JSON.stringify(opened)}`);
        for (const m of members) {
          await m.request({
            kind: 'resume-conversation',
            conversationId: opened.conversationId,
            capability: opened.capability,
            epoch: 0,
            afterSeq: 0,
          });
        }
        rooms.push({ poster: members[0], members, conversationId: opened.conversationId });
      }
      let posted = 0;
      let postedInWindow = 0;
      const start = performance.now();
      const window = { start: start + WARM_MS, end: start + WARM_MS + MEASURE_MS };
      stats.window = window;
      const busyBefore = { at: 0, busy: 0, relays: [] };
      let room = 0;
      await new Promise((resolve) => {
        const tick = setInterval(() => {
          const now = performance.now();
          if (busyBefore.at === 0 && now >= window.start) {
            busyBefore.at = now;
            busyBefore.busy = machineBusyMs();
            busyBefore.relays = relays.map((r) => processCpuMs(r.child.pid));
          }
          if (now >= window.end) {
            clearInterval(tick);
            resolve();
            return;
          }
          const due = Math.floor(((now - start) / 1000) * rate) - posted;
          for (let k = 0; k < due; k++) {
            const r = rooms[room++ % rooms.length];
            r.poster.post(r.conversationId);
            posted++;
            const t = performance.now();
            if (t >= window.start && t < window.end) postedInWindow++;
          }
        }, 5);
      });
      const seconds = (performance.now() - busyBefore.at) / 1000;
      const machineCores = (machineBusyMs() - busyBefore.busy) / 1000 / seconds;
      const relayCores = relays.map((r, i) => (processCpuMs(r.child.pid) - busyBefore.relays[i]) / 1000 / seconds);
      await new Promise((r) => setTimeout(r, DRAIN_MS));
      const sorted = stats.latencies.sort((a, b) => a - b);
      const expected = postedInWindow * 4;
      rows.push({
        relays: relayCount,
        rate,
        postsPerSecond: postedInWindow / (MEASURE_MS / 1000),
        deliveriesPerSecond: stats.inWindow / (MEASURE_MS / 1000),
        p50: percentile(sorted, 0.5),
        p99: percentile(sorted, 0.99),
        max: sorted.at(-1) ?? NaN,
        undelivered: Math.max(0, expected - stats.inWindow),
        gaps: stats.gaps,
        duplicates: stats.duplicates,
        errors: stats.errors,
        relayCores,
        machineCores,
      });
      process.stderr.write(`${JSON.stringify(rows.at(-1))}\n`);
      for (const r of rooms) for (const m of r.members) m.ws.terminate();
    }
    return rows;
  } finally {
    for (const relay of relays) await stop(relay.child);
    await schema.drop();
  }
}

// ---- report ------------------------------------------------------------------------------------

const fmt = (n, digits = 0) =>
  Number.isFinite(n)
    ? n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })
    : '–';

function report(store, relayRows, pgVersion) {
  const date = new Date().toISOString().slice(0, 10);
  const lines = [
    `### PostgreSQL + Redis scale-out (${date})`,
    '',
    `Machine: ${cpus()[0]?.model.trim() ?? 'cpu'} × ${cpus().length}, ${Math.round(totalmem() / 2 ** 30)} GiB, Linux ${release()}, Node ${process.version}, ${pgVersion}, Redis (throwaway \`redis-server\`, no persistence). Everything on one machine: loader, relays, PostgreSQL and Redis share the cores.`,
    '',
    `Reproduce: \`npm run build && node bench/scale-bench.mjs\` (about 1 minute; \`--quick\` for a shorter run).`,
    '',
    '**Persisted posts/s, store only** (no sockets): ' +
      `${STORE_INFLIGHT} appends kept in flight over ${STORE_CONVERSATIONS} conversations, ${ENVELOPE} B envelopes, ${STORE_MS / 1000} s, best of ${STORE_REPEATS}. ` +
      'Both durable: SQLite WAL + `synchronous=FULL`, group commit per event-loop turn; PostgreSQL default `synchronous_commit=on`, one `append_batch` statement (one transaction) per round trip, one batch in flight.',
    '',
    '| store | persisted posts/s | posts per commit (mean) |',
    '|---|---|---|',
    `| SQLite | ${fmt(store.sqlite.perSecond)} | ${fmt(store.sqlite.batch, 1)} |`,
    `| PostgreSQL | ${fmt(store.postgres.perSecond)} | ${fmt(store.postgres.batch, 1)} |`,
    '',
    `PostgreSQL / SQLite: **${fmt(store.postgres.perSecond / store.sqlite.perSecond, 2)}×**.`,
    '',
    `**One relay vs two**, both on PostgreSQL with the Redis fan-out: ${ROOMS} rooms of 4 sockets (a poster and three readers; every member gets every record, sender included), ${ENVELOPE} B envelopes, open-loop posting at a fixed total rate, ${WARM_MS / 1000} s warm-up, ${MEASURE_MS / 1000} s measured, latency post → delivery at each member. With two relays each room's members alternate between the relays, so three of every four deliveries cross Redis.`,
    '',
    '| relays | rate (posts/s) | posts/s | deliveries/s | p50 ms | p99 ms | max ms | undelivered | gaps | dups | errors | relay CPU (cores) | machine busy (cores) |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|',
    ...relayRows.map(
      (r) =>
        `| ${r.relays} | ${fmt(r.rate)} | ${fmt(r.postsPerSecond)} | ${fmt(r.deliveriesPerSecond)} | ${fmt(r.p50, 1)} | ${fmt(r.p99, 1)} | ${fmt(r.max, 1)} | ${r.undelivered} | ${r.gaps} | ${r.duplicates} | ${r.errors} | ${r.relayCores.map((c) => fmt(c, 2)).join(' + ')} | ${fmt(r.machineCores, 2)} |`,
    ),
    '',
    'Read this as the cost of the cross-relay path on a shared 2-core machine, not as a scaling curve: a second relay process adds work (publish, Redis, decode) on the same two cores. Scaling out pays when each relay, PostgreSQL and Redis have cores of their own; the store table above is the PostgreSQL ceiling every relay shares.',
  ];
  return lines.join('\n');
}

function writeReport(text) {
  const path = join(root, 'docs/benchmarks.md');
  let doc = readFileSync(path, 'utf8');
  const start = '<!-- scale-bench:start -->';
  const end = '<!-- scale-bench:end -->';
  if (!doc.includes(start)) {
    if (!/^## Scale-out$/m.test(doc)) doc = `${doc.trimEnd()}\n\n## Scale-out\n`;
    doc = `${doc.trimEnd()}\n\n${start}\n${end}\n`;
  }
  const before = doc.slice(0, doc.indexOf(start) + start.length);
  const after = doc.slice(doc.indexOf(end));
  writeFileSync(path, `${before}\n\n${text}\n\n${after}`);
}

async function main() {
  const client = new pg.Client({ connectionString: POSTGRES });
  await client.connect();
  const pgVersion = `PostgreSQL ${(await client.query('SHOW server_version')).rows[0].server_version.split(' ')[0]}`;
  await client.end();
  const store = await storeBench();
  const rootKey = await exportPublicKey((await generateSigningKeyPair()).publicKey);
  const orgKey = await formatOrgKey(rootKey);
  const orgId = await orgIdFromRootKey(rootKey);
  const redis = await startRedis();
  let relayRows = [];
  try {
    for (const count of [1, 2]) relayRows = relayRows.concat(await relayBench(count, orgKey, orgId, redis.url));
  } finally {
    await stop(redis.child);
  }
  const text = report(store, relayRows, pgVersion);
  writeReport(text);
  process.stdout.write(`${text}\n`);
}

main().catch((error) => {
  process.stderr.write(`${error.stack ?? error}\n`);
  process.exitCode = 1;
});
