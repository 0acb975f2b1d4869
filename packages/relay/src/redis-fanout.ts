import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import type { Fanout, FanoutEvent, FanoutSink } from './fanout.js';
import { decodeFanoutMessage, encodeFanoutMessage, FanoutDecodeError } from './fanout-codec.js';
import type { RelayLogger } from './logger.js';

/** Conversations whose commits could not be published, remembered until the broker is back. */
const MAX_MISSED = 100_000;
/** Announcements since this long before a broker outage are repeated after it (clock skew, in-flight events). */
const RESYNC_MARGIN_MS = 5_000;
const CHANNEL_NAME = /^[A-Za-z0-9_.:-]{1,100}$/;

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

/** Where to fan out: the Redis URL for ioredis, and the pub/sub channel (pub/sub ignores the db number). */
export function parseRedisUrl(text: string): { url: string; channel: string } {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new TypeError('The fanout URL is not a valid URL');
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
    throw new TypeError('The fanout URL must start with redis:// or rediss://');
  }
  const channel = url.searchParams.get('channel') ?? 'sealchat';
  if (!CHANNEL_NAME.test(channel)) throw new TypeError('The fanout channel must be 1-100 of A-Z a-z 0-9 _ . : -');
  url.searchParams.delete('channel');
  return { url: url.toString(), channel };
}

/**
 * Fan-out across relays through Redis pub/sub: after each commit the relay publishes the record (or
 * a notice) on one channel; every other relay pushes it to its own subscribers.
 *
 * Redis pub/sub is at most once, and that is enough because PostgreSQL is the stream:
 * - a relay that receives seq n+2 while its socket is at n repairs n+1 from the database (relay.ts);
 * - when the subscriber connection comes back after a drop (Redis restart, network), the relay
 *   resubscribes and only then repairs every live subscription from the database, so a commit made
 *   during the outage is fetched and one made after it is received;
 * - commits that could not be published while the publisher was disconnected are remembered per
 *   conversation (highest seq) and announced as `committed` notices when it reconnects.
 */
export class RedisFanout implements Fanout {
  readonly kind = 'redis';
  /** Random per process: a relay ignores its own messages, which it delivered locally already. */
  readonly relayId = randomBytes(8).toString('hex');
  private readonly pub: Redis;
  private readonly sub: Redis;
  private readonly channel: string;
  private sink: FanoutSink | undefined;
  private subscribed = false;
  private downSince: number | undefined;
  private readonly missedSeqs = new Map<string, FanoutEvent & { kind: 'committed' }>();
  private missedOther: FanoutEvent[] = [];
  private overflowed = false;
  private closing = false;
  /** Messages dropped because they did not decode (another relay version, corruption). */
  undecodable = 0;

  /** @throws TypeError for a URL that is not redis:// or rediss://. */
  constructor(
    text: string,
    private readonly logger: RelayLogger,
  ) {
    const { url, channel } = parseRedisUrl(text);
    this.channel = channel;
    const common = {
      lazyConnect: true,
      // Reconnect forever, backing off to 2 s: a relay outlives a Redis restart.
      retryStrategy: (times: number) => Math.min(100 * times, 2000),
      connectionName: 'sealchat-relay',
    };
    // Publishing never queues: a failed publish is remembered per conversation instead (bounded).
    this.pub = new Redis(url, { ...common, enableOfflineQueue: false, maxRetriesPerRequest: 0 });
    // The subscription is renewed by hand, so the repair runs only after it is in place again.
    this.sub = new Redis(url, { ...common, autoResubscribe: false, maxRetriesPerRequest: null });
    for (const [name, client] of [
      ['publisher', this.pub],
      ['subscriber', this.sub],
    ] as const) {
      client.on('error', (error: Error & { code?: string }) => {
        this.logger.log('warn', 'fanout-error', { client: name, code: error.code ?? error.name });
      });
    }
  }

  /**
   * Connects both clients and subscribes.
   * @throws Error if Redis cannot be reached at startup (a relay without its fan-out would
   * deliver nothing across relays, so it does not start).
   */
  async start(sink: FanoutSink): Promise<void> {
    this.sink = sink;
    this.sub.on('messageBuffer', (_channel: Buffer, message: Buffer) => this.receive(message));
    this.sub.on('close', () => {
      if (this.subscribed) this.downSince ??= Date.now();
      this.subscribed = false;
      if (!this.closing) this.logger.log('warn', 'fanout-disconnected', { client: 'subscriber' });
    });
    await Promise.all([this.pub.connect(), this.sub.connect()]);
    await this.sub.subscribe(this.channel);
    this.subscribed = true;
    // Registered after the first connection, so they run on reconnections only.
    this.sub.on('ready', () => void this.resubscribe());
    this.pub.on('ready', () => this.replayMissed());
  }

  publish(event: FanoutEvent): void {
    if (this.closing) return;
    if (this.pub.status !== 'ready') return this.remember(event);
    this.pub.publish(this.channel, encodeFanoutMessage(this.relayId, event)).catch(() => this.remember(event));
  }

  connected(): boolean {
    return this.subscribed && this.pub.status === 'ready';
  }

  async close(): Promise<void> {
    this.closing = true;
    for (const client of [this.pub, this.sub]) {
      if (client.status === 'ready') await client.quit();
      else client.disconnect();
    }
  }

  private receive(message: Buffer): void {
    let decoded;
    try {
      decoded = decodeFanoutMessage(message);
    } catch (error) {
      if (!(error instanceof FanoutDecodeError)) throw error;
      this.undecodable++;
      this.logger.log('warn', 'fanout-undecodable', { error: error.message });
      return;
    }
    if (decoded.from === this.relayId) return;
    this.sink?.deliver(decoded.event);
  }

  private async resubscribe(): Promise<void> {
    if (this.subscribed || this.closing || !this.sink) return;
    try {
      await this.sub.subscribe(this.channel);
    } catch {
      return; // The connection dropped again; the next 'ready' tries again.
    }
    this.subscribed = true;
    const since = (this.downSince ?? Date.now()) - RESYNC_MARGIN_MS;
    this.downSince = undefined;
    this.logger.log('info', 'fanout-reconnected', {});
    this.sink.resync(since);
  }

  private remember(event: FanoutEvent): void {
    if (event.kind === 'record' || event.kind === 'committed') {
      const conversationId = event.kind === 'record' ? event.record.conversationId : event.conversationId;
      const seq = event.kind === 'record' ? event.record.seq : event.seq;
      const key = hex(conversationId);
      const known = this.missedSeqs.get(key);
      if (known && known.seq >= seq) return;
      if (!known && this.missedSeqs.size >= MAX_MISSED) {
        this.overflowed = true;
        return;
      }
      this.missedSeqs.set(key, { kind: 'committed', conversationId, seq });
      return;
    }
    if (this.missedOther.length >= MAX_MISSED) this.overflowed = true;
    else this.missedOther.push(event);
  }

  /**
   * Announces what could not be published. Subscribers that were connected throughout repair from
   * the store on these notices; those that were not resync anyway. After an overflow the notices
   * are incomplete, which is logged: the affected sockets catch up on their next commit or reconnect.
   */
  private replayMissed(): void {
    const notices = [...this.missedSeqs.values(), ...this.missedOther];
    this.missedSeqs.clear();
    this.missedOther = [];
    if (this.overflowed) this.logger.log('warn', 'fanout-missed-overflow', { kept: notices.length });
    this.overflowed = false;
    for (const event of notices) this.publish(event);
  }
}
