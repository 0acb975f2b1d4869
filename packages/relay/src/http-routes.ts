import type { IncomingMessage, ServerResponse } from 'node:http';
import { formatOrgKey } from '@sealchat/protocol';
import type { OriginPolicy } from './origin-policy.js';
import type { RelayStore, StoredRecord } from './store.js';

/**
 * The HTTP side of the relay: liveness (`/healthz`), readiness (`/readyz`), Prometheus metrics, and in demo mode two endpoints behind the demo's
 * "what the relay sees" page. They expose only what the database holds anyway — ids, sizes,
 * ciphertext — which is the point of the page: to show that it is unreadable.
 */
/** Live state the operational endpoints report. */
export interface HttpProbes {
  /** True when the relay accepts work: not shutting down, database answering. */
  ready(): Promise<boolean>;
  /** The Prometheus text, or undefined when `/metrics` is switched off. */
  readonly metrics: (() => string) | undefined;
}

export class HttpRoutes {
  private readonly rowStreams = new Set<ServerResponse>();

  constructor(
    private readonly store: RelayStore,
    private readonly policy: OriginPolicy,
    private readonly demo: boolean,
    private readonly maxReplayRows: number,
    private readonly probes: HttpProbes,
  ) {}

  /** Answers one HTTP request. */
  handle(req: IncomingMessage, res: ServerResponse): void {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method === 'GET' && path === '/healthz') {
      res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' }).end('ok');
      return;
    }
    if (req.method === 'GET' && path === '/readyz') {
      const answer = (ready: boolean): void => {
        res
          .writeHead(ready ? 200 : 503, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' })
          .end(ready ? 'ready' : 'not ready');
      };
      this.probes.ready().then(answer, () => answer(false));
      return;
    }
    const metrics = this.probes.metrics;
    if (metrics && req.method === 'GET' && path === '/metrics') {
      res
        .writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8', 'cache-control': 'no-store' })
        .end(metrics());
      return;
    }
    if (this.demo && req.method === 'GET' && path === '/demo/org') {
      this.demoOrg(req, res).catch(() => res.writeHead(500).end());
      return;
    }
    if (this.demo && req.method === 'GET' && path === '/demo/rows') {
      this.demoRows(req, res).catch(() => res.end());
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found');
  }

  /** Pushes a newly committed row to every `/demo/rows` stream. */
  rowCommitted(record: StoredRecord): void {
    if (this.rowStreams.size === 0) return;
    const event = rowEvent(record);
    for (const res of this.rowStreams) res.write(event);
  }

  /** Ends every open stream, so the HTTP server can close. */
  closeStreams(): void {
    for (const res of this.rowStreams) res.end();
    this.rowStreams.clear();
  }

  private corsHeaders(req: IncomingMessage): Record<string, string> {
    const origin = req.headers.origin;
    if (origin === undefined || !this.policy.allows(origin)) return { vary: 'Origin' };
    return { 'access-control-allow-origin': origin, vary: 'Origin' };
  }

  private async demoOrg(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const org = await this.store.latestOrg();
    const headers = { ...this.corsHeaders(req), 'cache-control': 'no-store' };
    if (!org) {
      res
        .writeHead(404, { ...headers, 'content-type': 'application/json' })
        .end('{"error":"no organisation registered yet"}');
      return;
    }
    formatOrgKey(org.rootKey).then(
      (orgKey) =>
        res.writeHead(200, { ...headers, 'content-type': 'application/json' }).end(JSON.stringify({ orgKey })),
      () => res.writeHead(500, headers).end(),
    );
  }

  private async demoRows(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const replay = await this.store.recentRecords(this.maxReplayRows);
    res.writeHead(200, {
      ...this.corsHeaders(req),
      'content-type': 'text/event-stream',
      'cache-control': 'no-store',
      connection: 'keep-alive',
    });
    for (const record of replay) res.write(rowEvent(record));
    this.rowStreams.add(res);
    res.on('close', () => this.rowStreams.delete(res));
  }
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

function rowEvent(record: StoredRecord): string {
  const row = {
    conversationId: hex(record.conversationId),
    seq: record.seq,
    clientMessageId: hex(record.clientMessageId),
    bytes: record.envelope.length,
    envelopeHex: hex(record.envelope),
    storedAt: record.storedAt,
  };
  return `data: ${JSON.stringify(row)}\n\n`;
}
