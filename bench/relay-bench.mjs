// Relay benchmark: the relay (durable, SQLite WAL + synchronous=FULL) against a bare `ws` forwarder
// speaking the same frames, in the same run, alternating, on 127.0.0.1 only. A report, not a test.
//
//   npm run build && node bench/relay-bench.mjs [--quick]
//
//   node bench/relay-bench.mjs --from-log run.jsonl   (re-render the report from a run's stderr)
//
// Server under test on core 0, this loader on core 1 (taskset), so on a 2-core machine the numbers
// are ratios between the two servers, not ceilings: the loader costs about as much CPU as a server.
// Writes its report between the relay-bench markers in docs/benchmarks.md and prints it.
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem, release } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatOrgKey, exportPublicKey, generateSigningKeyPair, orgIdFromRootKey } from '@sealchat/protocol';
import WebSocket from 'ws';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const cli = join(root, 'packages/relay/dist/cli.js');
const quick = process.argv.includes('--quick');
const hasTaskset = (() => {
  try {
    execFileSync('taskset', ['-p', String(process.pid)], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

// ---- settings ---------------------------------------------------------------------------------

const ROOMS = 250; // 1000 sockets: 1 visitor + 3 agent sockets per room
const ENVELOPE = 256;
const RATES = quick ? [2500, 10000] : [2500, 5000, 10000, 15000, 20000];
const WARM_MS = quick ? 1000 : 2000;
const MEASURE_MS = quick ? 2000 : 5000;
const DRAIN_MS = 1500;
const REPEATS = quick ? 1 : 3;
const IDLE_CONNECTIONS = quick ? 2000 : 10000;
const CATCH_UP_CLIENTS = quick ? 200 : 1000;
const CATCH_UP_BEHIND = 100;

/** The relay's per-socket and per-address limits are for the open internet; the loader is one address. */
const RELAY_FLAGS = [
  '--max-connections',
  '30000',
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
  '--idle-timeout-ms',
  '3600000',
];

// ---- servers ----------------------------------------------------------------------------------

function pinned(args) {
  return hasTaskset && cpus().length >= 2 ? ['taskset', ['-c', '0', ...args]] : [args[0], args.slice(1)];
}

function waitForLine(child, test) {
  return new Promise((resolve, reject) => {
    let buffer = '';
    const timer = setTimeout(() => reject(new Error('server did not start')), 20000);
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk) => {
      buffer += chunk;
      const lines = buffer.split('\n');
      buffer = lines.pop() ?? '';
      for (const line of lines) {
        const value = test(line);
        if (value !== undefined) {
          clearTimeout(timer);
          resolve(value);
        }
      }
    });
    child.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
  });
}

async function startBare() {
  const [cmd, args] = pinned([process.execPath, join(root, 'bench/bare-forwarder.mjs')]);
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await waitForLine(child, (line) => (line.startsWith('{"port"') ? JSON.parse(line).port : undefined));
  return { name: 'bare ws', kind: 'bare', child, url: `ws://127.0.0.1:${port}`, pid: await serverPid(child) };
}

async function startRelay(dir, orgKey) {
  const dbPath = join(dir, `relay-${Date.now()}.db`);
  const [cmd, args] = pinned([process.execPath, cli, '--port', '0', '--db', dbPath, '--org', orgKey, ...RELAY_FLAGS]);
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await waitForLine(child, (line) => (line.includes('"listening"') ? JSON.parse(line).url : undefined));
  child.stdout.resume();
  return { name: 'relay', kind: 'relay', child, url, dbPath, pid: await serverPid(child) };
}

/** With taskset the child is taskset's exec'd image, so its pid is the server's. */
async function serverPid(child) {
  return child.pid;
}

async function stop(server) {
  const exited = new Promise((resolve) => server.child.once('exit', resolve));
  server.child.kill('SIGTERM');
  await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
  if (server.child.exitCode === null) server.child.kill('SIGKILL');
}

/** Busy and total jiffies of the whole machine, to tell how much CPU other processes took. */
function machineStat() {
  const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const idle = cpu[3] + cpu[4];
  const total = cpu.reduce((a, b) => a + b, 0);
  return { busyMs: (total - idle) * 10, totalMs: total * 10 };
}

function procStat(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const cpuTicks = Number(fields[11]) + Number(fields[12]);
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return { cpuMs: cpuTicks * 10, rss: rssKb * 1024 };
}

// ---- a minimal client speaking the relay frames ------------------------------------------------

let nextRequestId = 1;
const cmidPrefix = randomBytes(8);
let cmidCounter = 0;

class Socket {
  constructor(url, stats) {
    this.ws = new WebSocket(url, { perMessageDeflate: false });
    this.stats = stats;
    this.waiters = new Map();
    this.lastSeq = 0;
    this.records = 0;
    this.ready = new Promise((resolve, reject) => {
      this.onChallenge = resolve;
      this.ws.once('error', reject);
    });
    this.ws.on('error', () => undefined);
    this.ws.on('message', (data) => this.onMessage(data));
  }

  onMessage(data) {
    const kind = data[1];
    if (kind === 0x86) {
      const seq = Number(data.readBigUInt64BE(18));
      if (seq <= this.lastSeq) this.stats.duplicates++;
      else {
        if (seq > this.lastSeq + 1) this.stats.gaps += seq - this.lastSeq - 1;
        this.lastSeq = seq;
      }
      this.records++;
      const sentAt = data.readDoubleBE(30);
      this.stats.onDelivery(sentAt, seq, this);
      return;
    }
    if (kind === 0x81) return this.onChallenge();
    const requestId = data.readUInt32BE(2);
    if (kind === 0x87) this.stats.onAck(requestId);
    if (kind === 0x83) this.stats.onError(requestId, data);
    const waiter = this.waiters.get(requestId);
    if (waiter) {
      this.waiters.delete(requestId);
      waiter(data);
    }
  }

  request(frame) {
    const requestId = nextRequestId++;
    frame.writeUInt32BE(requestId, 2);
    return new Promise((resolve) => {
      this.waiters.set(requestId, resolve);
      this.ws.send(frame);
    });
  }

  open(orgId) {
    return this.request(Buffer.concat([Buffer.of(1, 1, 0, 0, 0, 0), orgId])).then((reply) => {
      if (reply[1] !== 0x84) throw new Error(`open failed: ${reply.subarray(0, 80).toString('latin1')}`);
      return { conversationId: reply.subarray(6, 22), capability: reply.subarray(22, 54) };
    });
  }

  attach(conversationId, capability, afterSeq = 0) {
    const frame = Buffer.alloc(6 + 16 + 4 + capability.length + 8);
    frame[0] = 1;
    frame[1] = 2;
    conversationId.copy(frame, 6);
    frame.writeUInt32BE(capability.length, 22);
    capability.copy(frame, 26);
    frame.writeBigUInt64BE(BigInt(afterSeq), 26 + capability.length);
    return this.request(frame);
  }

  resume(conversationId, capability, afterSeq) {
    const frame = Buffer.alloc(6 + 16 + 4 + capability.length + 16);
    frame[0] = 1;
    frame[1] = 9;
    frame.writeUInt32BE(nextRequestId++, 2);
    conversationId.copy(frame, 6);
    frame.writeUInt32BE(capability.length, 22);
    capability.copy(frame, 26);
    frame.writeBigUInt64BE(0n, 26 + capability.length);
    frame.writeBigUInt64BE(BigInt(afterSeq), 34 + capability.length);
    this.ws.send(frame);
  }

  /** Open-loop post: not awaited; the ack is counted by request id. */
  post(conversationId, envelopeBytes = ENVELOPE) {
    const requestId = nextRequestId++;
    const frame = Buffer.alloc(42 + envelopeBytes);
    frame[0] = 1;
    frame[1] = 5;
    frame.writeUInt32BE(requestId, 2);
    conversationId.copy(frame, 6);
    cmidPrefix.copy(frame, 22);
    frame.writeDoubleBE(cmidCounter++, 30);
    frame.writeUInt32BE(envelopeBytes, 38);
    frame.writeDoubleBE(performance.now(), 42);
    this.ws.send(frame);
    return requestId;
  }

  close() {
    this.ws.terminate();
  }
}

function newStats() {
  return {
    gaps: 0,
    duplicates: 0,
    errors: 0,
    errorCodes: new Map(),
    window: undefined,
    latencies: [],
    delivered: 0,
    acked: 0,
    onDelivery(sentAt) {
      const w = this.window;
      if (w && sentAt >= w.start && sentAt < w.end) {
        this.delivered++;
        this.latencies.push(performance.now() - sentAt);
      }
    },
    onAck(requestId) {
      const w = this.window;
      if (w && requestId >= w.firstId && requestId <= w.lastId) this.acked++;
    },
    onError(_requestId, data) {
      this.errors++;
      const length = data.readUInt32BE(6);
      const code = data.subarray(10, 10 + length).toString('utf8');
      this.errorCodes.set(code, (this.errorCodes.get(code) ?? 0) + 1);
    },
  };
}

async function connectAll(url, count, stats, concurrency = 200) {
  const sockets = [];
  for (let i = 0; i < count; i += concurrency) {
    const batch = Array.from({ length: Math.min(concurrency, count - i) }, () => new Socket(url, stats));
    await Promise.all(batch.map((s) => s.ready));
    sockets.push(...batch);
  }
  return sockets;
}

/** Rooms of one visitor and three agent sockets, all attached; the visitor posts. */
async function setupRooms(server, orgId, rooms, stats) {
  const sockets = await connectAll(server.url, rooms * 4, stats);
  const result = [];
  for (let r = 0; r < rooms; r++) {
    const members = sockets.slice(r * 4, r * 4 + 4);
    const conversation =
      server.kind === 'relay'
        ? await members[0].open(orgId)
        : { conversationId: randomBytes(16), capability: Buffer.alloc(32) };
    await Promise.all(members.map((m) => m.attach(conversation.conversationId, conversation.capability)));
    result.push({ ...conversation, members });
  }
  return result;
}

function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function runRate(server, orgId, rate) {
  const stats = newStats();
  const rooms = await setupRooms(server, orgId, ROOMS, stats);
  let sent = 0;
  let roomIndex = 0;
  const started = performance.now();
  const timer = setInterval(() => {
    const due = Math.floor((rate * (performance.now() - started)) / 1000) - sent;
    for (let i = 0; i < due; i++) {
      const room = rooms[roomIndex++ % rooms.length];
      room.members[0].post(room.conversationId);
      sent++;
    }
  }, 2);
  await new Promise((r) => setTimeout(r, WARM_MS));
  const before = procStat(server.pid);
  const machineBefore = machineStat();
  const loaderBefore = process.cpuUsage();
  const window = { start: performance.now(), end: Infinity, firstId: nextRequestId, lastId: Infinity };
  stats.window = window;
  const sentAtStart = sent;
  await new Promise((r) => setTimeout(r, MEASURE_MS));
  window.end = performance.now();
  window.lastId = nextRequestId - 1;
  const after = procStat(server.pid);
  const machineAfter = machineStat();
  const loader = process.cpuUsage(loaderBefore);
  const posted = sent - sentAtStart;
  clearInterval(timer);
  await new Promise((r) => setTimeout(r, DRAIN_MS));
  for (const room of rooms) for (const m of room.members) m.close();
  const seconds = (window.end - window.start) / 1000;
  const sorted = Float64Array.from(stats.latencies).sort();
  return {
    server: server.name,
    rate,
    postsPerSec: posted / seconds,
    deliveriesPerSec: stats.delivered / seconds,
    persistedPerSec: server.kind === 'relay' ? stats.acked / seconds : NaN,
    undelivered: posted * 4 - stats.delivered,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    p999: percentile(sorted, 99.9),
    max: sorted.length ? sorted[sorted.length - 1] : NaN,
    gaps: stats.gaps,
    duplicates: stats.duplicates,
    errors: stats.errors,
    errorCodes: [...stats.errorCodes].map(([c, n]) => `${c}×${n}`).join(' '),
    serverCpu: (after.cpuMs - before.cpuMs) / (window.end - window.start),
    loaderCpu: (loader.user + loader.system) / 1000 / (window.end - window.start),
    // CPU the rest of the machine used meanwhile (other processes): high values mean a noisy run.
    otherCpu: Math.max(
      0,
      (machineAfter.busyMs -
        machineBefore.busyMs -
        (after.cpuMs - before.cpuMs) -
        (loader.user + loader.system) / 1000) /
        (window.end - window.start),
    ),
    serverRss: after.rss,
  };
}

async function idle(server, orgId) {
  const stats = newStats();
  await new Promise((r) => setTimeout(r, 500));
  const before = procStat(server.pid).rss;
  const started = performance.now();
  const rooms = await setupRooms(server, orgId, IDLE_CONNECTIONS / 4, stats);
  const connectSeconds = (performance.now() - started) / 1000;
  await new Promise((r) => setTimeout(r, 2000));
  const after = procStat(server.pid).rss;
  for (const room of rooms) for (const m of room.members) m.close();
  return {
    server: server.name,
    connections: IDLE_CONNECTIONS,
    setupPerSec: IDLE_CONNECTIONS / connectSeconds,
    bytesPerConnection: (after - before) / IDLE_CONNECTIONS,
    rssBefore: before,
    rssAfter: after,
  };
}

async function catchUp(server, orgId) {
  const stats = newStats();
  const writers = await connectAll(server.url, 50, stats);
  const conversations = [];
  for (let i = 0; i < CATCH_UP_CLIENTS; i++) conversations.push(await writers[i % writers.length].open(orgId));
  // Fill: CATCH_UP_BEHIND records per conversation, a bounded number in flight per writer.
  const fillStarted = performance.now();
  await Promise.all(
    writers.map(async (writer, w) => {
      const mine = conversations.filter((_, i) => i % writers.length === w);
      for (let round = 0; round < CATCH_UP_BEHIND; round++) {
        const acks = mine.map((c) => {
          const id = writer.post(c.conversationId);
          return new Promise((resolve) => writer.waiters.set(id, resolve));
        });
        await Promise.all(acks);
      }
    }),
  );
  const fillSeconds = (performance.now() - fillStarted) / 1000;
  for (const w of writers) w.close();
  const readers = await connectAll(server.url, CATCH_UP_CLIENTS, stats);
  const before = procStat(server.pid);
  const started = performance.now();
  const done = readers.map(
    (reader) =>
      new Promise((resolve) => {
        const check = setInterval(() => {
          if (reader.lastSeq >= CATCH_UP_BEHIND) {
            clearInterval(check);
            resolve(performance.now());
          }
        }, 2);
      }),
  );
  readers.forEach((reader, i) => reader.resume(conversations[i].conversationId, conversations[i].capability, 0));
  const finished = await Promise.all(done);
  const elapsed = Math.max(...finished) - started;
  const after = procStat(server.pid);
  for (const r of readers) r.close();
  return {
    clients: CATCH_UP_CLIENTS,
    behind: CATCH_UP_BEHIND,
    seconds: elapsed / 1000,
    serverCpuMs: after.cpuMs - before.cpuMs,
    records: readers.reduce((n, r) => n + r.records, 0),
    gaps: stats.gaps,
    duplicates: stats.duplicates,
    fillPerSec: (CATCH_UP_CLIENTS * CATCH_UP_BEHIND) / fillSeconds,
  };
}

// ---- report -----------------------------------------------------------------------------------

const ms = (v) => (Number.isFinite(v) ? v.toFixed(1) : '–');
const int = (v) => (Number.isFinite(v) ? Math.round(v).toLocaleString('en-US') : '–');

function machine() {
  let ulimit = 'unknown';
  try {
    ulimit = execFileSync('sh', ['-c', 'ulimit -n'], { encoding: 'utf8' }).trim();
  } catch {
    // keep unknown
  }
  return {
    cpu: `${cpus()[0]?.model ?? 'unknown'} × ${cpus().length}`,
    memory: `${Math.round(totalmem() / 2 ** 30)} GiB`,
    kernel: release(),
    node: process.version,
    ulimit,
    pinning: hasTaskset && cpus().length >= 2 ? 'server on core 0, loader on core 1 (taskset)' : 'not pinned',
  };
}

function report(facts, rates, idles, catchUpResult) {
  const date = new Date().toISOString().slice(0, 10);
  const lines = [];
  lines.push(`## Relay vs bare \`ws\` forwarder (${date}${quick ? ', --quick' : ''})`, '');
  lines.push(
    `Machine: ${facts.cpu}, ${facts.memory}, Linux ${facts.kernel}, Node ${facts.node}, \`ulimit -n\` ${facts.ulimit}; ${facts.pinning}.`,
    '',
    'Reproduce: `npm run build && node bench/relay-bench.mjs` (about 6 minutes; `--quick` for a 1-minute smoke run).',
    '',
    `Workload: ${ROOMS} rooms of 1 visitor + 3 agent sockets (${ROOMS * 4} sockets), ${ENVELOPE} B envelopes, the visitor`,
    'posts open-loop at a fixed total rate; every post is delivered to all 4 room members (sender included, as the',
    `relay does). Per step: ${WARM_MS / 1000} s warm-up, ${MEASURE_MS / 1000} s measured, fresh sockets; bare and relay alternate at each`,
    `rate, ${REPEATS} time(s) each; the row shown is the run with the median p99 (all p99s in the last column).`,
    'Latency is post → delivery at each receiver (same clock). The relay runs with durable storage (SQLite WAL,',
    '`synchronous=FULL`, group commit per tick) and its per-address/per-capability limits raised, since the loader',
    'is one address posting far faster than any visitor; everything else is default. "Server CPU" is the server',
    'process\'s CPU time over the window (1.0 = one core); "other" is what the rest of the machine used meanwhile —',
    'when it is high, another workload shared the cores and that run is noisy. The loader shares the machine, so these',
    'are ratios, not ceilings.',
    '',
    '| rate (posts/s) | server | posts/s | deliveries/s | persisted/s | p50 ms | p99 ms | p99.9 ms | max ms | gaps | dups | undelivered | errors | CPU server / loader / other | p99 of each run |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
  );
  for (const r of rates) {
    lines.push(
      `| ${int(r.rate)} | ${r.server} | ${int(r.postsPerSec)} | ${int(r.deliveriesPerSec)} | ${int(r.persistedPerSec)} | ${ms(r.p50)} | ${ms(r.p99)} | ${ms(r.p999)} | ${ms(r.max)} | ${r.gaps} | ${r.duplicates} | ${r.undelivered} | ${r.errors}${r.errorCodes ? ` (${r.errorCodes})` : ''} | ${r.serverCpu.toFixed(2)} / ${r.loaderCpu.toFixed(2)} / ${r.otherCpu.toFixed(2)} | ${r.p99s.map(ms).join(', ')} |`,
    );
  }
  // Best of the repeats: on a shared machine the least disturbed run is closest to the server's own cost.
  const knee = (name) =>
    Math.max(
      0,
      ...rates
        .filter((r) => r.server === name && Math.min(...r.p99s) <= 25 && r.undelivered === 0 && r.errors === 0)
        .map((r) => r.rate),
    );
  const cpuPerDelivery = (name) => {
    const list = rates.filter((r) => r.server === name && r.deliveriesPerSec > 0);
    const costs = list.map((r) => (r.serverCpu * 1e6) / r.deliveriesPerSec).sort((x, y) => x - y);
    return costs[Math.floor(costs.length / 2)] ?? NaN;
  };
  const bareKnee = knee('bare ws');
  const relayKnee = knee('relay');
  lines.push(
    '',
    `**Highest step where the best run had p99 ≤ 25 ms, nothing undelivered, no errors:** bare ${int(bareKnee)} posts/s, relay ${int(relayKnee)} posts/s` +
      (bareKnee > 0 ? ` (**${(relayKnee / bareKnee).toFixed(2)}×**).` : '.'),
    `**Server CPU per delivery** (median over steps): bare ${cpuPerDelivery('bare ws').toFixed(1)} µs, relay ${cpuPerDelivery('relay').toFixed(1)} µs ` +
      `(**${(cpuPerDelivery('bare ws') / cpuPerDelivery('relay')).toFixed(2)}×** the bare forwarder's throughput per core).`,
  );
  const others = rates.map((r) => r.otherCpu).sort((x, y) => x - y);
  const otherMedian = others[Math.floor(others.length / 2)] ?? 0;
  if (otherMedian > 0.2) {
    lines.push(
      '',
      `**Noisy run:** other processes used a median ${otherMedian.toFixed(2)} cores during the measured windows, on a`,
      '2-core machine where server and loader each need one. Latency columns and the step limit above mostly measure',
      'that contention; server CPU per delivery is the figure that holds up. Re-run on a quiet machine for latencies.',
    );
  }
  lines.push('', 'Relay / bare deliveries per second at each rate:', '');
  for (const rate of RATES) {
    const bare = rates.find((r) => r.rate === rate && r.server === 'bare ws');
    const relay = rates.find((r) => r.rate === rate && r.server === 'relay');
    if (bare && relay) {
      lines.push(
        `- ${int(rate)} posts/s: ${(relay.deliveriesPerSec / bare.deliveriesPerSec).toFixed(2)}× (p99 ${ms(relay.p99)} ms vs ${ms(bare.p99)} ms; server CPU ${relay.serverCpu.toFixed(2)} vs ${bare.serverCpu.toFixed(2)})`,
      );
    }
  }
  lines.push('', `### Idle connections (${int(IDLE_CONNECTIONS)} sockets, each attached to a room)`, '');
  lines.push(
    '| server | RSS before | RSS after | bytes per connection | connect + attach rate |',
    '|---|---|---|---|---|',
  );
  for (const i of idles) {
    lines.push(
      `| ${i.server} | ${(i.rssBefore / 2 ** 20).toFixed(1)} MiB | ${(i.rssAfter / 2 ** 20).toFixed(1)} MiB | ${(i.bytesPerConnection / 1024).toFixed(1)} KiB | ${int(i.setupPerSec)}/s |`,
    );
  }
  lines.push(
    '',
    'RSS counts user-space memory only (kernel socket buffers are not in it). For the relay each room also opened a',
    'conversation (a row in SQLite), so its "connect" includes an insert.',
    '',
    `### Catch-up: ${int(catchUpResult.clients)} clients, each ${catchUpResult.behind} records behind`,
    '',
    `All ${int(catchUpResult.clients)} clients send \`resume-conversation\` at once (each its own conversation, afterSeq 0);`,
    `time until the last one holds all ${catchUpResult.behind} records: **${catchUpResult.seconds.toFixed(2)} s** ` +
      `(${int(catchUpResult.records)} records, relay CPU ${int(catchUpResult.serverCpuMs)} ms, gaps ${catchUpResult.gaps}, duplicates ${catchUpResult.duplicates}).`,
    `Filling the ${int(catchUpResult.clients * catchUpResult.behind)} records beforehand, ${catchUpResult.clients} conversations in lock-step rounds from 50 sockets, ran at ${int(catchUpResult.fillPerSec)} persisted posts/s.`,
  );
  return lines.join('\n');
}

function writeReport(text) {
  const path = join(root, 'docs/benchmarks.md');
  const start = '<!-- relay-bench:start -->';
  const end = '<!-- relay-bench:end -->';
  let doc = existsSync(path) ? readFileSync(path, 'utf8') : `# Benchmarks\n\n${start}\n${end}\n`;
  if (!doc.includes(start) || !doc.includes(end)) doc = `${doc.trimEnd()}\n\n${start}\n${end}\n`;
  const before = doc.slice(0, doc.indexOf(start) + start.length);
  const after = doc.slice(doc.indexOf(end));
  writeFileSync(path, `${before}\n\n${text}\n\n${after}`);
}

/** Groups per-run results into one row per (rate, server): the run with the median p99. */
function summarise(results) {
  const rows = [];
  for (const rate of RATES) {
    for (const kind of ['bare ws', 'relay']) {
      const list = results.filter((r) => r.rate === rate && r.server === kind);
      if (list.length === 0) continue;
      const sorted = [...list].sort((a, b) => a.p99 - b.p99);
      rows.push({ ...sorted[Math.floor(sorted.length / 2)], p99s: list.map((r) => r.p99) });
    }
  }
  return rows;
}

/** `--from-log file`: re-renders the report from the JSON lines a run printed on stderr. */
function fromLog(path) {
  const lines = readFileSync(path, 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line));
  const facts = lines[0];
  const rates = summarise(lines.filter((l) => 'rate' in l));
  const idles = lines.filter((l) => 'connections' in l);
  const catchUpResult = lines.find((l) => 'clients' in l);
  const text = report(facts, rates, idles, catchUpResult);
  writeReport(text);
  process.stdout.write(`${text}\n`);
}

async function main() {
  const logIndex = process.argv.indexOf('--from-log');
  if (logIndex > 0) {
    fromLog(process.argv[logIndex + 1]);
    return;
  }
  if (!existsSync(cli)) {
    process.stderr.write('Build first: npm run build (bench runs packages/relay/dist/cli.js)\n');
    process.exit(1);
  }
  const facts = machine();
  process.stderr.write(`${JSON.stringify(facts)}\n`);
  const dir = mkdtempSync(join(tmpdir(), 'sealchat-bench-'));
  const rootKey = await exportPublicKey((await generateSigningKeyPair()).publicKey);
  const orgKey = await formatOrgKey(rootKey);
  const orgId = Buffer.from(await orgIdFromRootKey(rootKey));
  try {
    const bare = await startBare();
    const relay = await startRelay(dir, orgKey);
    const results = [];
    for (const rate of RATES) {
      for (let repeat = 0; repeat < REPEATS; repeat++) {
        for (const server of [bare, relay]) {
          const result = await runRate(server, orgId, rate);
          process.stderr.write(`${JSON.stringify(result)}\n`);
          results.push(result);
        }
      }
    }
    // The run with the median p99 stands for the step, so each row's numbers belong together.
    const rates = summarise(results);
    await stop(bare);
    await stop(relay);

    const idles = [];
    for (const start of [() => startBare(), () => startRelay(dir, orgKey)]) {
      const server = await start();
      const result = await idle(server, orgId);
      process.stderr.write(`${JSON.stringify(result)}\n`);
      idles.push(result);
      await stop(server);
    }

    const catchUpRelay = await startRelay(dir, orgKey);
    const catchUpResult = await catchUp(catchUpRelay, orgId);
    process.stderr.write(`${JSON.stringify(catchUpResult)}\n`);
    await stop(catchUpRelay);

    const text = report(facts, rates, idles, catchUpResult);
    writeReport(text);
    process.stdout.write(`${text}\n`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  process.exit(0);
}

// Re-run this script pinned to core 1 (once), so the server child can own core 0.
if (hasTaskset && cpus().length >= 2 && process.env.SEALCHAT_BENCH_PINNED !== '1') {
  const child = spawn('taskset', ['-c', '1', process.execPath, ...process.argv.slice(1)], {
    stdio: 'inherit',
    env: { ...process.env, SEALCHAT_BENCH_PINNED: '1' },
  });
  child.on('exit', (code) => process.exit(code ?? 1));
} else {
  await main();
}
