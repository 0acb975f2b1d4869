/**
 * Prometheus metrics in the text exposition format (version 0.0.4), without a client library: the
 * relay needs a handful of counters, two gauges and two histograms, and increments on the hot path
 * must be an array write, not a map lookup with label hashing.
 */
const RELAY_FRAME_NAMES: Readonly<Record<number, string>> = {
  0x81: 'challenge',
  0x82: 'ok',
  0x83: 'error',
  0x84: 'conversation-opened',
  0x85: 'attached',
  0x86: 'record',
  0x87: 'ack',
  0x88: 'conversation-list',
  0x89: 'conversation-created',
  0x8a: 'roster',
  0x8b: 'welcome',
  0x8c: 'resumed',
  0x8d: 'history',
  0x8e: 'conversation-deleted',
  0x8f: 'presence',
  0x90: 'org-settings',
  0x91: 'audit-page',
  0x92: 'roster-history',
  0x93: 'history-grants',
  0x94: 'history-granted',
};

class Histogram {
  readonly counts: number[];
  sum = 0;
  count = 0;

  constructor(readonly bounds: readonly number[]) {
    this.counts = bounds.map(() => 0);
  }

  observe(value: number): void {
    this.sum += value;
    this.count++;
    for (let i = 0; i < this.bounds.length; i++) {
      if (value <= (this.bounds[i] ?? Infinity)) {
        this.counts[i] = (this.counts[i] ?? 0) + 1;
        return;
      }
    }
  }

  render(name: string, help: string): string {
    let out = `# HELP ${name} ${help}\n# TYPE ${name} histogram\n`;
    let cumulative = 0;
    this.bounds.forEach((bound, i) => {
      cumulative += this.counts[i] ?? 0;
      out += `${name}_bucket{le="${bound}"} ${cumulative}\n`;
    });
    out += `${name}_bucket{le="+Inf"} ${this.count}\n${name}_sum ${this.sum}\n${name}_count ${this.count}\n`;
    return out;
  }
}

/** What the relay counts. Label values are fixed names (frame kinds, error codes), never input. */
export class RelayMetrics {
  connections = 0;
  subscriptions = 0;
  private readonly framesIn = new Map<string, number>();
  private readonly framesOut = new Array<number>(256).fill(0);
  private readonly errors = new Map<string, number>();
  private readonly closes = new Map<number, number>();
  private readonly refusedUpgrades = new Map<string, number>();
  commits = 0;
  committedRecords = 0;
  /** Subscriptions that finished paging stored records (attach, resume and gap repairs). */
  catchUps = 0;
  /** Live subscriptions that saw a seq gap (or a resync) and re-read the store. */
  gapRepairs = 0;
  fanoutReceived = 0;
  /** Subscriptions the fan-out audit found stuck behind the database and repaired. */
  auditRepairs = 0;
  fanoutResyncs = 0;
  fanoutConnected: () => boolean = () => true;
  readonly commitBatch = new Histogram([1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000]);
  readonly commitSeconds = new Histogram([0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1]);

  frameIn(kind: string): void {
    this.framesIn.set(kind, (this.framesIn.get(kind) ?? 0) + 1);
  }

  /** Counts an encoded relay frame by its kind byte (byte 1). */
  frameOut(bytes: Uint8Array): void {
    const code = bytes[1] ?? 0;
    this.framesOut[code] = (this.framesOut[code] ?? 0) + 1;
  }

  error(code: string): void {
    this.errors.set(code, (this.errors.get(code) ?? 0) + 1);
  }

  close(code: number): void {
    this.closes.set(code, (this.closes.get(code) ?? 0) + 1);
  }

  upgradeRefused(reason: string): void {
    this.refusedUpgrades.set(reason, (this.refusedUpgrades.get(reason) ?? 0) + 1);
  }

  commit(batchSize: number, seconds: number): void {
    this.commits++;
    this.committedRecords += batchSize;
    this.commitBatch.observe(batchSize);
    this.commitSeconds.observe(seconds);
  }

  /** The whole registry in Prometheus text format. */
  render(): string {
    const lines: string[] = [];
    const gauge = (name: string, help: string, value: number): void => {
      lines.push(`# HELP ${name} ${help}\n# TYPE ${name} gauge\n${name} ${value}\n`);
    };
    const counter = (name: string, help: string, label: string, values: Iterable<[string | number, number]>) => {
      let out = `# HELP ${name} ${help}\n# TYPE ${name} counter\n`;
      for (const [key, value] of values) out += `${name}{${label}="${key}"} ${value}\n`;
      lines.push(out);
    };
    gauge('sealchat_relay_connections', 'Open WebSocket connections.', this.connections);
    gauge('sealchat_relay_subscriptions', 'Conversation subscriptions across all sockets.', this.subscriptions);
    counter('sealchat_relay_frames_in_total', 'Client frames received, by kind.', 'kind', this.framesIn);
    const out: [string, number][] = [];
    this.framesOut.forEach((count, code) => {
      if (count > 0) out.push([RELAY_FRAME_NAMES[code] ?? `0x${code.toString(16)}`, count]);
    });
    counter('sealchat_relay_frames_out_total', 'Relay frames sent, by kind.', 'kind', out);
    counter('sealchat_relay_errors_total', 'Error frames sent, by code.', 'code', this.errors);
    counter('sealchat_relay_closes_total', 'WebSocket closes, by close code.', 'code', this.closes);
    counter(
      'sealchat_relay_upgrades_refused_total',
      'WebSocket upgrades refused, by reason.',
      'reason',
      this.refusedUpgrades,
    );
    lines.push(
      `# HELP sealchat_relay_commits_total Group commits (one transaction each).\n# TYPE sealchat_relay_commits_total counter\nsealchat_relay_commits_total ${this.commits}\n`,
      `# HELP sealchat_relay_committed_records_total Posts committed (duplicates included).\n# TYPE sealchat_relay_committed_records_total counter\nsealchat_relay_committed_records_total ${this.committedRecords}\n`,
      this.commitBatch.render('sealchat_relay_commit_batch_size', 'Posts per group commit.'),
      this.commitSeconds.render('sealchat_relay_commit_seconds', 'Duration of one group commit, fsync included.'),
    );
    const plain = (name: string, type: string, help: string, value: number): void => {
      lines.push(`# HELP ${name} ${help}\n# TYPE ${name} ${type}\n${name} ${value}\n`);
    };
    plain('sealchat_relay_catch_ups_total', 'counter', 'Subscriptions caught up from storage.', this.catchUps);
    plain(
      'sealchat_relay_gap_repairs_total',
      'counter',
      'Live subscriptions that found a seq gap and re-read storage (cross-relay events late or lost).',
      this.gapRepairs,
    );
    plain('sealchat_relay_fanout_received_total', 'counter', 'Events received from other relays.', this.fanoutReceived);
    plain(
      'sealchat_relay_fanout_resyncs_total',
      'counter',
      'Times the fan-out broker connection came back and every subscription was repaired.',
      this.fanoutResyncs,
    );
    plain(
      'sealchat_relay_fanout_audit_repairs_total',
      'counter',
      'Subscriptions found behind the database for a whole audit interval and repaired.',
      this.auditRepairs,
    );
    gauge(
      'sealchat_relay_fanout_connected',
      '1 while the cross-relay fan-out is connected.',
      this.fanoutConnected() ? 1 : 0,
    );
    gauge('process_resident_memory_bytes', 'Resident set size of the relay process.', process.memoryUsage.rss());
    return lines.join('');
  }
}
