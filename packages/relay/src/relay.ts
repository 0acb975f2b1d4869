import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import {
  CAPABILITY_LENGTH,
  MAX_AUDIT_PAGE,
  MAX_ROSTER_HISTORY_PAGE,
  SealchatError,
  auditLinkDigest,
  bytesEqual,
  decodeClientFrame,
  encodeRelayFrame,
  orgIdFromRootKey,
  relayOrigin,
  verifyRelayChallenge,
  verifyHeldRoster,
  verifyRoster,
  verifyRosterHead,
  type ClientFrame,
  type ConversationSummary,
  type RelayFrame,
  type VerifiedRoster,
} from '@sealchat/protocol';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import { Connection, type Subscription } from './connection.js';
import { InProcessFanout, type Fanout, type FanoutEvent, type FanoutSink } from './fanout.js';
import { HttpRoutes } from './http-routes.js';
import { Counter, KeyedBuckets, TokenBucket } from './limits.js';
import type { RelayLogger } from './logger.js';
import { RelayMetrics } from './metrics.js';
import type { RelayOptions } from './options.js';
import type { OriginPolicy } from './origin-policy.js';
import { PresenceBoard } from './presence.js';
import { RelayCloseCode, RelayErrorCode, RelayRequestError, type RelayErrorCodeValue } from './relay-error.js';
import {
  StoreClosedError,
  UnknownConversationError,
  type RelayStore,
  type StoredConversation,
  type StoredRecord,
} from './store.js';

/** The feature revision this relay speaks (wire.ts `WIRE_REVISION`); see docs/relay-protocol.md §Versioning. */
export const RELAY_WIRE_REVISION = 5;
/** The revision that brought `history-granted`: only sockets that said `hello` with it are pushed one. */
const HISTORY_GRANT_REVISION = 4;
/** A `history` page stops adding records past this many envelope bytes (it always carries at least one). */
const MAX_HISTORY_PAGE_BYTES = 1024 * 1024;
/** An `audit-page` stops adding records past this many record bytes (it always carries at least one). */
const MAX_AUDIT_PAGE_BYTES = 1024 * 1024;
/** Refusals of a roster that breaks the chain, passed to the publisher under their own codes. */
const CHAIN_CODES = new Map<string, RelayErrorCodeValue>([
  ['SEALCHAT_E_ROSTER_JUMP', RelayErrorCode.rosterJump],
  ['SEALCHAT_E_ROSTER_FORK', RelayErrorCode.rosterFork],
  ['SEALCHAT_E_ROSTER_SIGNER', RelayErrorCode.rosterSigner],
]);

/** A `roster-history` page stops adding rosters past this many bytes (it always carries at least one). */
const MAX_ROSTER_HISTORY_PAGE_BYTES = 1024 * 1024;
/** Records removed per retention sweep step; the sweep yields to the event loop between steps. */
const SWEEP_BATCH = 5000;
/** A catch-up that cannot send for this long (the socket does not read) is closed as a slow consumer. */
const CATCH_UP_STALL_MS = 30_000;
/** Bounded cache of conversation → org, so the post path does not read the conversation row each time. */
const CONVERSATION_CACHE_SIZE = 50_000;

type Frame<K extends ClientFrame['kind']> = Extract<ClientFrame, { kind: K }>;

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

function sha256(bytes: Uint8Array): Buffer {
  return createHash('sha256').update(bytes).digest();
}

function summary(c: StoredConversation): ConversationSummary {
  return { conversationId: c.conversationId, lastSeq: c.lastSeq, createdAt: c.createdAt };
}

/** Plain Uint8Array view of a ws message, so the decoder's slices are copies, not views into ws buffers. */
function messageBytes(data: RawData): Uint8Array {
  if (Array.isArray(data)) return new Uint8Array(Buffer.concat(data));
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

function refusal(status: string): string {
  return `HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`;
}

const notAllowed = (what: string) => new RelayRequestError(RelayErrorCode.unauthorized, `Not allowed to ${what}`);

/**
 * The relay: stores and forwards envelopes it cannot read. It checks who may read and write which
 * conversation (capabilities for visitors, roster certificates for agents), orders each
 * conversation's records, acknowledges a post only once it is durable, and bounds what every socket
 * may cost.
 */
export class Relay implements FanoutSink {
  private readonly connections = new Set<Connection>();
  private readonly subscribers = new Map<string, Set<Connection>>();
  private readonly watchers = new Map<string, Set<Connection>>();
  private readonly agents = new Map<string, Set<Connection>>();
  private readonly presenceWatchers = new Map<string, Set<Connection>>();
  private readonly presence = new PresenceBoard<Connection>();
  /** Verified current roster per org; verifying up to 1000 certificates per login would be wasteful. */
  private readonly rosters = new Map<string, VerifiedRoster>();
  /** Serialises roster publication per org, so two publishers cannot both pass the version check. */
  private readonly rosterLocks = new Map<string, Promise<void>>();
  private readonly perAddress = new Counter();
  private readonly perOrg = new Counter();
  private readonly capabilityBuckets: KeyedBuckets;
  private readonly openBuckets: KeyedBuckets;
  private readonly conversationOrgs = new Map<string, string>();
  /** What the last fan-out audit read: conversation → committed lastSeq. */
  private audited = new Map<string, number>();
  /** Watchers whose `conversation-list` is being read: announcements wait for it. */
  private readonly listing = new Map<Connection, ConversationSummary[]>();
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly epoch: number;
  private closing = false;
  readonly metrics = new RelayMetrics();
  readonly wss: WebSocketServer;
  readonly routes: HttpRoutes;

  constructor(
    readonly options: RelayOptions,
    readonly store: RelayStore,
    readonly logger: RelayLogger,
    readonly policy: OriginPolicy,
    readonly fanout: Fanout = new InProcessFanout(),
  ) {
    this.wss = new WebSocketServer({ noServer: true, maxPayload: options.maxFrameBytes, perMessageDeflate: false });
    this.routes = new HttpRoutes(store, policy, options.demo, options.maxDemoReplayRows, {
      ready: async () => !this.closing && (await this.store.ping()),
      metrics: options.metrics ? () => this.metrics.render() : undefined,
    });
    this.capabilityBuckets = new KeyedBuckets(options.capabilityRate, options.capabilityBurst);
    const hourly = options.maxNewConversationsPerAddressPerHour;
    this.openBuckets = new KeyedBuckets(hourly / 3600, hourly);
    this.epoch = store.epoch();
    store.onCommit((size, seconds) => this.metrics.commit(size, seconds));
    this.every(options.pingIntervalMs, () => this.pingAll());
    this.every(Math.max(10, Math.floor(options.idleTimeoutMs / 4)), () => this.closeIdle());
    this.every(60_000, () => {
      const now = Date.now();
      this.capabilityBuckets.prune(now);
      this.openBuckets.prune(now);
    });
    this.every(options.retentionSweepIntervalMs, () => this.sweep());
    this.every(options.vacuumIntervalMs, () => this.store.vacuum());
    this.metrics.fanoutConnected = () => this.fanout.connected();
    if (fanout.kind !== 'memory') this.every(options.fanoutAuditIntervalMs, () => this.audit());
  }

  private every(ms: number, run: () => Promise<void> | void): void {
    const failed = (error: unknown): void =>
      this.logger.log('error', 'timer-failed', { error: error instanceof Error ? error.name : typeof error });
    const timer = setInterval(() => {
      try {
        run()?.catch(failed);
      } catch (error) {
        failed(error);
      }
    }, ms);
    timer.unref();
    this.timers.push(timer);
  }

  /** Admits or refuses a WebSocket upgrade; the Origin check may consult the store, hence async. */
  async upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const refuse = (reason: string, status: string): void => {
      this.metrics.upgradeRefused(reason);
      this.logger.log('warn', 'connection-refused', { reason });
      socket.end(refusal(status));
    };
    if (this.closing) return refuse('closing', '503 Service Unavailable');
    if (this.connections.size >= this.options.maxConnections)
      return refuse('maxConnections', '503 Service Unavailable');
    const origin = req.headers.origin;
    if (origin !== undefined && !this.policy.allows(origin)) {
      let listed = false;
      try {
        listed = await this.store.originListed(origin);
      } catch (error) {
        this.logger.log('error', 'internal-error', { error: error instanceof Error ? error.name : typeof error });
        return refuse('storage', '503 Service Unavailable');
      }
      if (!listed) return refuse('origin', '403 Forbidden');
      if (this.closing) return refuse('closing', '503 Service Unavailable');
    }
    // The address is used for counting only: never logged, never stored.
    const address = req.socket.remoteAddress ?? 'unknown';
    if (this.perAddress.get(address) >= this.options.maxConnectionsPerAddress) {
      return refuse('maxConnectionsPerAddress', '429 Too Many Requests');
    }
    this.perAddress.add(address);
    let accepted = false;
    socket.once('close', () => {
      if (!accepted) this.perAddress.remove(address);
    });
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      accepted = true;
      this.accept(ws, address, origin, this.relayOrigins(req.headers.host));
    });
  }

  /**
   * The names an agent on this socket may sign its login for: the configured public origins, or
   * else the Host it dialled (over a proxy's TLS or not, hence both schemes). None for a Host that
   * is not a host name: then no login succeeds.
   */
  private relayOrigins(host: string | undefined): readonly string[] {
    if (this.options.publicOrigins.length > 0) return this.options.publicOrigins;
    try {
      return host ? [relayOrigin(`ws://${host}`), relayOrigin(`wss://${host}`)] : [];
    } catch {
      return [];
    }
  }

  private accept(ws: WebSocket, address: string, origin: string | undefined, relayOrigins: readonly string[]): void {
    const now = Date.now();
    const bucket = new TokenBucket(this.options.connectionRate, this.options.connectionBurst, now);
    const conn = new Connection(ws, address, origin, relayOrigins, bucket, now);
    this.connections.add(conn);
    this.metrics.connections++;
    this.logger.log('info', 'connection-open', { conn: conn.id });
    ws.on('message', (data, isBinary) => {
      try {
        this.receive(conn, data, isBinary);
      } catch (error) {
        this.internalError(conn, 0, error);
      }
    });
    ws.on('pong', () => (conn.alive = true));
    ws.on('close', (code) => {
      this.forget(conn);
      this.perAddress.remove(address);
      this.metrics.close(code);
      this.logger.log('info', 'connection-close', { conn: conn.id, code });
    });
    // ws reports protocol violations (oversized frame: 1009) here and then closes; 'close' cleans up.
    ws.on('error', (error: Error & { code?: string }) => {
      this.logger.log('warn', 'socket-error', { conn: conn.id, code: error.code ?? 'unknown' });
    });
    this.send(conn, { kind: 'challenge', nonce: conn.challenge });
  }

  /** Removes a socket from every index. Idempotent: a revoked socket is forgotten, then closes. */
  private forget(conn: Connection): void {
    if (conn.forgotten) return;
    conn.forgotten = true;
    if (this.connections.delete(conn)) this.metrics.connections--;
    this.metrics.subscriptions -= conn.subscriptions.size;
    for (const key of conn.subscriptions.keys()) this.removeFrom(this.subscribers, key, conn);
    conn.subscriptions.clear();
    for (const orgKey of conn.presenceWatches) this.removeFrom(this.presenceWatchers, orgKey, conn);
    for (const orgKey of conn.orgs) this.perOrg.remove(orgKey);
    if (conn.agent) {
      const orgKey = conn.agent.orgKey;
      this.removeFrom(this.watchers, orgKey, conn);
      this.removeFrom(this.agents, orgKey, conn);
      const wasOnline = this.presence.anyoneOnline(orgKey);
      if (this.presence.remove(orgKey, conn)) this.presenceChanged(orgKey, wasOnline);
    }
  }

  private removeFrom(map: Map<string, Set<Connection>>, key: string, conn: Connection): void {
    const set = map.get(key);
    if (!set) return;
    set.delete(conn);
    if (set.size === 0) map.delete(key);
  }

  private addTo(map: Map<string, Set<Connection>>, key: string, conn: Connection): void {
    let set = map.get(key);
    if (!set) map.set(key, (set = new Set()));
    set.add(conn);
  }

  private send(conn: Connection, frame: RelayFrame): void {
    this.sendBytes(conn, encodeRelayFrame(frame));
  }

  private sendBytes(conn: Connection, bytes: Uint8Array): void {
    if (conn.ws.readyState !== WebSocket.OPEN) return;
    this.metrics.frameOut(bytes);
    conn.ws.send(bytes);
  }

  /** Live pushes check the socket's backlog: a client that stops reading is cut off, not buffered forever. */
  private push(conn: Connection, bytes: Uint8Array): void {
    if (conn.ws.readyState !== WebSocket.OPEN) return;
    if (conn.ws.bufferedAmount > this.options.maxBufferedBytes) {
      this.slowConsumer(conn);
      return;
    }
    this.metrics.frameOut(bytes);
    conn.ws.send(bytes);
  }

  private slowConsumer(conn: Connection): void {
    this.logger.log('warn', 'slow-consumer', { conn: conn.id });
    this.drop(conn, RelayCloseCode.tryAgainLater, 'slow consumer');
  }

  /**
   * Closes a socket the relay gives up on. A peer that does not read will not answer the close
   * handshake either, so it is terminated after a second instead of ws's 30 s close timeout.
   */
  private drop(conn: Connection, code: number, reason: string): void {
    this.forget(conn);
    if (conn.ws.readyState === WebSocket.CLOSED) return;
    const timer = setTimeout(() => conn.ws.terminate(), 1000);
    conn.ws.once('close', () => clearTimeout(timer));
    conn.ws.close(code, reason);
  }

  private refuse(conn: Connection, requestId: number, error: RelayRequestError, frameKind: string): void {
    this.metrics.error(error.code);
    this.logger.log('warn', 'request-refused', { conn: conn.id, frame: frameKind, code: error.code });
    this.send(conn, { kind: 'error', requestId, code: error.code, message: error.message });
  }

  private internalError(conn: Connection, requestId: number, error: unknown): void {
    // The error's text may quote input; log only its class.
    const name = error instanceof Error ? error.name : typeof error;
    this.metrics.error(RelayErrorCode.internal);
    this.logger.log('error', 'internal-error', { conn: conn.id, code: RelayErrorCode.internal, error: name });
    this.send(conn, {
      kind: 'error',
      requestId,
      code: RelayErrorCode.internal,
      message: 'Internal relay error; retry later',
    });
  }

  /**
   * Decodes and rate-limits at once, so a flood is refused before it queues; admitted frames are
   * handled one after another.
   */
  private receive(conn: Connection, data: RawData, isBinary: boolean): void {
    const now = Date.now();
    conn.lastFrameAt = now;
    let frame: ClientFrame | undefined;
    let bad: RelayRequestError | undefined;
    if (!isBinary) {
      bad = new RelayRequestError(RelayErrorCode.badFrame, 'Frames are binary WebSocket messages');
    } else {
      try {
        frame = decodeClientFrame(messageBytes(data));
      } catch (error) {
        // The decoder throws DecodeError; anything else is still the frame's fault, not the relay's.
        bad = new RelayRequestError(
          RelayErrorCode.badFrame,
          error instanceof SealchatError ? error.message : 'Undecodable frame',
        );
      }
    }
    this.metrics.frameIn(frame?.kind ?? 'malformed');
    const requestId = frame?.requestId ?? 0;
    if (!conn.bucket.take(now)) {
      conn.refusedInRow++;
      if (conn.refusedInRow > this.options.connectionBurst) {
        this.logger.log('warn', 'rate-limit-ignored', { conn: conn.id });
        this.drop(conn, RelayCloseCode.policyViolation, 'rate limit');
        return;
      }
      const limited = new RelayRequestError(
        RelayErrorCode.rateLimited,
        'Too many frames on this connection; slow down',
      );
      this.refuse(conn, requestId, limited, frame?.kind ?? 'malformed');
      return;
    }
    conn.refusedInRow = 0;
    if (bad || !frame) {
      this.refuse(conn, 0, bad ?? new RelayRequestError(RelayErrorCode.badFrame, 'Undecodable frame'), 'malformed');
      return;
    }
    const admitted = frame;
    conn.queue = conn.queue
      .then(() => this.dispatch(conn, admitted))
      .catch((error: unknown) => this.internalError(conn, admitted.requestId, error));
  }

  private async dispatch(conn: Connection, frame: ClientFrame): Promise<void> {
    if (conn.ws.readyState !== WebSocket.OPEN) return;
    try {
      if (this.closing) throw new RelayRequestError(RelayErrorCode.unavailable, 'The relay is shutting down');
      await this.handle(conn, frame);
    } catch (error) {
      if (error instanceof RelayRequestError) this.refuse(conn, frame.requestId, error, frame.kind);
      else this.internalError(conn, frame.requestId, error);
    }
  }

  private handle(conn: Connection, frame: ClientFrame): Promise<void> | void {
    switch (frame.kind) {
      case 'hello':
        conn.revision = Math.max(1, Math.min(frame.revision, RELAY_WIRE_REVISION));
        return this.send(conn, {
          kind: 'welcome',
          requestId: frame.requestId,
          revision: conn.revision,
          epoch: this.epoch,
        });
      case 'publish-roster':
        return this.publishRoster(conn, frame);
      case 'get-roster':
        return this.getRoster(conn, frame);
      case 'publish-roster-head':
        return this.publishRosterHead(conn, frame);
      case 'get-roster-head':
        return this.getRosterHead(conn, frame);
      case 'open-conversation':
        return this.openConversation(conn, frame);
      case 'attach-conversation':
        return this.attach(conn, frame);
      case 'resume-conversation':
        return this.resume(conn, frame);
      case 'get-history':
        return this.history(conn, frame);
      case 'delete-conversation':
        return this.deleteConversation(conn, frame);
      case 'auth-agent':
        return this.authAgent(conn, frame);
      case 'watch-org':
        return this.watchOrg(conn, frame);
      case 'set-presence':
        return this.setPresence(conn, frame);
      case 'watch-presence':
        return this.watchPresence(conn, frame);
      case 'post':
        return this.post(conn, frame);
      case 'set-retention':
        return this.setRetention(conn, frame);
      case 'get-org-settings':
        return this.orgSettings(conn, frame);
      case 'append-audit':
        return this.appendAudit(conn, frame);
      case 'get-audit':
        return this.auditPage(conn, frame);
      case 'get-roster-history':
        return this.rosterHistory(conn, frame);
      case 'put-history-grant':
        return this.putHistoryGrant(conn, frame);
      case 'get-history-grants':
        return this.historyGrants(conn, frame);
    }
  }

  /**
   * The org an org-device frame acts on: the socket must be an authenticated agent socket whose
   * device is on its org's current roster (as a supervisor, when `supervisorOnly`), with a
   * certificate valid now. One refusal whatever failed, as for `auth-agent`.
   */
  private async memberOrg(conn: Connection, what: string, supervisorOnly: boolean): Promise<Uint8Array<ArrayBuffer>> {
    const agent = conn.agent;
    if (!agent) throw notAllowed(what);
    const orgId = new Uint8Array(Buffer.from(agent.orgKey, 'hex'));
    const device = (await this.currentRoster(orgId))?.devices.find((d) => bytesEqual(d.deviceId, agent.deviceId));
    const now = Date.now();
    if (
      !device ||
      (supervisorOnly && device.role !== 'supervisor') ||
      now < device.issuedAt ||
      now >= device.expiresAt
    ) {
      throw notAllowed(what);
    }
    return orgId;
  }

  /** The org a supervisor frame acts on; see {@link memberOrg}. */
  private supervisorOrg(conn: Connection): Promise<Uint8Array<ArrayBuffer>> {
    return this.memberOrg(conn, 'manage the organisation', true);
  }

  /** A supervisor sets how long the org's records are kept; 0 goes back to the relay's default. */
  private async setRetention(conn: Connection, frame: Frame<'set-retention'>): Promise<void> {
    const orgId = await this.supervisorOrg(conn);
    if (frame.days > this.options.maxRetentionDays) {
      throw new RelayRequestError(
        RelayErrorCode.limit,
        `This relay keeps records at most ${this.options.maxRetentionDays} days`,
      );
    }
    await this.store.setRetention(orgId, frame.days === 0 ? undefined : frame.days);
    this.logger.log('info', 'retention-set', { conn: conn.id, days: frame.days });
    this.send(conn, { kind: 'ok', requestId: frame.requestId });
  }

  private async orgSettings(conn: Connection, frame: Frame<'get-org-settings'>): Promise<void> {
    const orgId = await this.supervisorOrg(conn);
    const org = await this.store.getOrg(orgId);
    this.send(conn, {
      kind: 'org-settings',
      requestId: frame.requestId,
      retentionDays: org?.retentionDays ?? 0,
      defaultRetentionDays: this.options.retentionDays,
      auditCount: await this.store.auditCount(orgId),
    });
  }

  /**
   * Compare-and-set append to the org's audit log: `index` must be its length. The record is opaque
   * ciphertext; neither it nor its size is logged.
   */
  private async appendAudit(conn: Connection, frame: Frame<'append-audit'>): Promise<void> {
    const orgId = await this.supervisorOrg(conn);
    const result = await this.store.appendAudit(
      orgId,
      frame.index,
      frame.record,
      Date.now(),
      this.options.maxAuditRecords,
    );
    if (result === 'conflict') {
      throw new RelayRequestError(
        RelayErrorCode.conflict,
        'That audit index is not the next one: read the log from your last index, then retry',
      );
    }
    if (result === 'full') throw new RelayRequestError(RelayErrorCode.limit, 'The organisation’s audit log is full');
    this.logger.log('info', 'audit-appended', { conn: conn.id, index: frame.index });
    this.send(conn, { kind: 'ok', requestId: frame.requestId });
  }

  /** One page of the audit log from `fromIndex`, ascending, earliest records kept when the byte cap bites. */
  private async auditPage(conn: Connection, frame: Frame<'get-audit'>): Promise<void> {
    const orgId = await this.supervisorOrg(conn);
    const limit = frame.limit === 0 ? MAX_AUDIT_PAGE : Math.min(frame.limit, MAX_AUDIT_PAGE);
    const stored = await this.store.auditRecords(orgId, frame.fromIndex, limit);
    const records = [];
    let bytes = 0;
    for (const { index, record } of stored) {
      bytes += record.length;
      if (records.length > 0 && bytes > MAX_AUDIT_PAGE_BYTES) break;
      records.push({ index, record });
    }
    this.send(conn, { kind: 'audit-page', requestId: frame.requestId, records });
  }

  /**
   * One page of the rosters the relay accepted for the socket's org, from `fromVersion` on,
   * ascending, the earliest kept when the byte cap bites. Any device on the org's roster may read
   * them (they are public and signed); visitors may not, since they have no use for them.
   */
  private async rosterHistory(conn: Connection, frame: Frame<'get-roster-history'>): Promise<void> {
    const orgId = await this.memberOrg(conn, 'read the organisation’s rosters', false);
    const limit = frame.limit === 0 ? MAX_ROSTER_HISTORY_PAGE : Math.min(frame.limit, MAX_ROSTER_HISTORY_PAGE);
    const stored = await this.store.rosterHistory(orgId, frame.fromVersion, limit);
    const rosters = [];
    let bytes = 0;
    for (const { roster } of stored) {
      bytes += roster.length;
      if (rosters.length > 0 && bytes > MAX_ROSTER_HISTORY_PAGE_BYTES) break;
      rosters.push(roster);
    }
    this.send(conn, { kind: 'roster-history', requestId: frame.requestId, rosters });
  }

  /**
   * A supervisor stores a history grant for a device of the org's current roster and a conversation
   * of the org, replacing an earlier one for the pair, then the device's open sockets are pushed it.
   * The store writes only while the roster is the one checked here; if another publication (here or
   * on another relay) got in between, the check runs once more against the new roster. The grant is
   * ciphertext: neither it, its size, nor the ids it concerns are logged.
   */
  private async putHistoryGrant(conn: Connection, frame: Frame<'put-history-grant'>, again = false): Promise<void> {
    const orgId = await this.supervisorOrg(conn);
    const roster = await this.currentRoster(orgId);
    if (!roster?.devices.some((d) => bytesEqual(d.deviceId, frame.deviceId))) {
      throw new RelayRequestError(RelayErrorCode.notFound, 'That device is not on the organisation’s current roster');
    }
    const result = await this.store.putHistoryGrant({
      orgId,
      deviceId: frame.deviceId,
      conversationId: frame.conversationId,
      grant: frame.grant,
      rosterVersion: roster.version,
      maxPerDevice: this.options.maxHistoryGrantsPerDevice,
    });
    switch (result) {
      case 'stale-roster':
        if (again) throw new RelayRequestError(RelayErrorCode.conflict, 'The roster changed meanwhile; retry');
        this.rosters.delete(hex(orgId));
        return this.putHistoryGrant(conn, frame, true);
      case 'unknown-conversation':
        throw new RelayRequestError(RelayErrorCode.notFound, 'The organisation has no such conversation');
      case 'full':
        throw new RelayRequestError(
          RelayErrorCode.limit,
          'That device holds as many history grants as the relay keeps',
        );
      case 'stored':
        break;
    }
    this.logger.log('info', 'history-grant-stored', { conn: conn.id });
    this.send(conn, { kind: 'ok', requestId: frame.requestId });
    this.pushGrant(hex(orgId), frame.deviceId, frame.conversationId, frame.grant);
    this.fanout.publish({
      kind: 'history-granted',
      orgId,
      deviceId: frame.deviceId,
      conversationId: frame.conversationId,
    });
  }

  /**
   * One page of the grants addressed to the socket's own device, ascending by conversation id after
   * `after`. Any device on the org's current roster may ask; the frame names neither org nor device,
   * so no socket can read another device's grants.
   */
  private async historyGrants(conn: Connection, frame: Frame<'get-history-grants'>): Promise<void> {
    const what = 'read history grants';
    const orgId = await this.memberOrg(conn, what, false);
    const deviceId = conn.agent?.deviceId;
    if (!deviceId) throw notAllowed(what);
    const stored = await this.store.historyGrants(orgId, deviceId, frame.after, frame.limit);
    const grants = stored.map(({ conversationId, grant }) => ({ conversationId, grant }));
    this.send(conn, { kind: 'history-grants', requestId: frame.requestId, grants });
  }

  /** The device's sockets on this relay that may be pushed `history-granted`. */
  private grantees(orgKey: string, deviceId: Uint8Array): Connection[] {
    return [...(this.agents.get(orgKey) ?? [])].filter(
      (conn) =>
        conn.revision >= HISTORY_GRANT_REVISION &&
        conn.agent !== undefined &&
        bytesEqual(conn.agent.deviceId, deviceId),
    );
  }

  private pushGrant(
    orgKey: string,
    deviceId: Uint8Array,
    conversationId: Uint8Array<ArrayBuffer>,
    grant: Uint8Array<ArrayBuffer>,
  ): void {
    let bytes: Uint8Array | undefined;
    for (const conn of this.grantees(orgKey, deviceId)) {
      this.push(conn, (bytes ??= encodeRelayFrame({ kind: 'history-granted', conversationId, grant })));
    }
  }

  /**
   * Another relay stored a grant: if the device has sockets here, push them what the store holds now
   * (a later replacement, or nothing if the conversation is gone since).
   */
  private async grantStored(event: FanoutEvent & { kind: 'history-granted' }): Promise<void> {
    const orgKey = hex(event.orgId);
    if (this.grantees(orgKey, event.deviceId).length === 0) return;
    const grant = await this.store.historyGrant(event.orgId, event.deviceId, event.conversationId);
    if (grant) this.pushGrant(orgKey, event.deviceId, event.conversationId, grant);
  }

  /**
   * Counts the socket against an org once, checking the org's Origin allow-list first. An org with
   * its own list admits only those origins; one without defers to the relay-wide policy.
   */
  private async bindOrg(conn: Connection, orgId: Uint8Array): Promise<void> {
    const orgKey = hex(orgId);
    if (conn.orgs.has(orgKey)) return;
    if (conn.origin !== undefined) {
      const origins = await this.store.orgOrigins(orgId);
      const allowed = origins.length > 0 ? origins.includes(conn.origin) : this.policy.allows(conn.origin);
      if (!allowed) {
        throw new RelayRequestError(RelayErrorCode.forbiddenOrigin, 'This page may not use that organisation');
      }
    }
    // Another frame of this socket cannot run meanwhile (frames are handled in turn), but check again.
    if (conn.orgs.has(orgKey)) return;
    if (this.perOrg.get(orgKey) >= this.options.maxConnectionsPerOrg) {
      throw new RelayRequestError(RelayErrorCode.limit, 'Too many connections to this organisation');
    }
    conn.orgs.add(orgKey);
    this.perOrg.add(orgKey);
  }

  private async publishRoster(conn: Connection, frame: Frame<'publish-roster'>): Promise<void> {
    const orgId = await orgIdFromRootKey(frame.orgRootKey);
    const orgKey = hex(orgId);
    const previous = this.rosterLocks.get(orgKey) ?? Promise.resolve();
    const run = previous.then(() => this.publishRosterLocked(conn, frame, orgId, orgKey));
    const settled = run.then(
      () => undefined,
      () => undefined,
    );
    this.rosterLocks.set(orgKey, settled);
    try {
      await run;
    } finally {
      if (this.rosterLocks.get(orgKey) === settled) this.rosterLocks.delete(orgKey);
    }
  }

  private async publishRosterLocked(
    conn: Connection,
    frame: Frame<'publish-roster'>,
    orgId: Uint8Array<ArrayBuffer>,
    orgKey: string,
  ): Promise<void> {
    const org = await this.store.getOrg(orgId);
    if (!org && !this.options.demo) {
      throw new RelayRequestError(RelayErrorCode.unknownOrg, 'This relay does not serve that organisation');
    }
    const rejected = new RelayRequestError(
      RelayErrorCode.rosterRejected,
      'Roster rejected: it does not verify under the organisation key, has expired, or is older than the stored one',
    );
    if (org && !bytesEqual(org.rootKey, frame.orgRootKey)) throw rejected;
    let roster: VerifiedRoster;
    try {
      // The stored roster is the predecessor: the new one must be its successor (version + 1, naming
      // its digest) signed by the root or by a device that administers on it, or a root-signed roster
      // further up (docs/protocol.md §4.3). An expired predecessor still counts, as of its issue time.
      const previous = org?.roster ? await verifyHeldRoster(org.roster, org.rootKey) : undefined;
      roster = await verifyRoster(frame.roster, { orgRootKey: frame.orgRootKey, now: Date.now(), previous });
    } catch (error) {
      if (error instanceof SealchatError) {
        this.logger.log('info', 'roster-refused', { conn: conn.id, code: error.code });
        // A broken chain link says which (docs/errors.md); anything else is the generic refusal.
        const code = CHAIN_CODES.get(error.code);
        if (code) throw new RelayRequestError(code, `Roster rejected: ${error.message}`);
        throw rejected;
      }
      throw error;
    }
    if (!bytesEqual(roster.orgId, orgId)) throw rejected;
    if (org?.roster && roster.version === org.rosterVersion) {
      // Re-publishing the same roster (a retry) is fine; verifyRoster refused another one under the same version.
      this.send(conn, { kind: 'ok', requestId: frame.requestId });
      return;
    }
    if (!org) await this.store.registerOrg(orgId, frame.orgRootKey, Date.now());
    const listed = roster.devices.map((device) => device.deviceId);
    if (!(await this.store.saveRoster(orgId, roster.version, frame.roster, this.options.maxRosterHistory, listed))) {
      // Another relay on the same database stored this version or a newer one meanwhile: the same
      // bytes are the idempotent retry, anything else lost the race.
      const stored = await this.store.getOrg(orgId);
      if (stored?.rosterVersion !== roster.version || !stored.roster || !bytesEqual(stored.roster, frame.roster)) {
        throw rejected;
      }
      this.send(conn, { kind: 'ok', requestId: frame.requestId });
      return;
    }
    this.rosters.set(orgKey, roster);
    this.fanout.publish({ kind: 'roster', orgId, version: roster.version });
    this.logger.log('info', org ? 'roster-updated' : 'org-registered', {
      version: roster.version,
      devices: roster.devices.length,
    });
    this.revokeMissing(orgKey, roster);
    this.pushRoster(orgKey, frame.roster);
    this.send(conn, { kind: 'ok', requestId: frame.requestId });
  }

  /**
   * Sends a new roster to the org's open sockets (its agents, and visitors watching its presence, as
   * the widget does), so their next message rotates to the new readers at once, not at their next
   * reconnect: a revoked device drops out of live conversations too. Clients verify it like any
   * roster and refuse a rollback. Revision-2 sockets only (unasked frames).
   */
  private pushRoster(orgKey: string, roster: Uint8Array<ArrayBuffer>): void {
    let bytes: Uint8Array | undefined;
    for (const conn of new Set([...(this.agents.get(orgKey) ?? []), ...(this.presenceWatchers.get(orgKey) ?? [])])) {
      // Unasked frames go only to sockets that showed they speak revision 2 (docs/relay-protocol.md).
      const speaks2 =
        conn.revision >= 2 || conn.presenceWatches.size > 0 || [...conn.subscriptions.values()].some((s) => s.notify);
      if (speaks2) this.push(conn, (bytes ??= encodeRelayFrame({ kind: 'roster', requestId: 0, roster })));
    }
  }

  /** Agents whose device left the roster lose their sockets at once, not at their next login. */
  private revokeMissing(orgKey: string, roster: VerifiedRoster): void {
    for (const agent of [...(this.agents.get(orgKey) ?? [])]) {
      const id = agent.agent?.deviceId;
      if (id && !roster.devices.some((device) => bytesEqual(device.deviceId, id))) {
        this.logger.log('info', 'agent-revoked', { conn: agent.id });
        this.drop(agent, RelayCloseCode.revoked, 'revoked');
      }
    }
  }

  private async getRoster(conn: Connection, frame: Frame<'get-roster'>): Promise<void> {
    const org = await this.store.getOrg(frame.orgId);
    if (!org?.roster)
      throw new RelayRequestError(RelayErrorCode.notFound, 'No roster is published for that organisation');
    this.send(conn, { kind: 'roster', requestId: frame.requestId, roster: org.roster });
  }

  /**
   * Keeps a roster head (docs/protocol.md §4.4) for the org's current roster. Anyone may publish one:
   * it must verify against that roster (signed by the root or one of its administrators), and not be
   * older than the head held for it. No age limit here: each visitor applies its own. Its audit mark
   * must name this relay's own log (no more records than it holds, and the link digest of the last
   * one) and no fewer records than the head held (docs/audit-log.md §Heads): a signer that knew less
   * than the last one is told so, and a head every reader would refuse is never served.
   */
  private async publishRosterHead(conn: Connection, frame: Frame<'publish-roster-head'>): Promise<void> {
    const orgId = await orgIdFromRootKey(frame.orgRootKey);
    const org = await this.store.getOrg(orgId);
    if (!org) throw new RelayRequestError(RelayErrorCode.unknownOrg, 'This relay does not serve that organisation');
    const rejected = new RelayRequestError(
      RelayErrorCode.rosterHeadRejected,
      'Roster head rejected: it does not name the current roster, its signer does not administer it, or a newer head is held',
    );
    const roster = bytesEqual(org.rootKey, frame.orgRootKey) ? await this.currentRoster(orgId) : undefined;
    if (!roster) throw rejected;
    let verified;
    try {
      verified = await verifyRosterHead(frame.head, {
        orgRootKey: org.rootKey,
        roster,
        now: Date.now(),
        maxAgeMs: Infinity,
      });
    } catch (error) {
      if (!(error instanceof SealchatError)) throw error;
      this.logger.log('info', 'roster-head-refused', { conn: conn.id, code: error.code });
      throw rejected;
    }
    const { signedAt, audit } = verified;
    if (!(await this.holdsAuditMark(orgId, audit))) {
      this.logger.log('info', 'roster-head-refused', { conn: conn.id, code: 'audit-mark' });
      throw rejected;
    }
    const stored = { rosterVersion: roster.version, signedAt, auditCount: audit.count, head: frame.head };
    if (!(await this.store.saveRosterHead(orgId, stored))) throw rejected;
    this.send(conn, { kind: 'ok', requestId: frame.requestId });
  }

  /**
   * Whether `mark` names this relay's audit log for the org: at most as many records as it holds,
   * and the link digest of the last of them (zeros for none). One indexed read and one hash: the
   * records before it were checked by whoever verified the log, not here.
   */
  private async holdsAuditMark(orgId: Uint8Array, mark: { count: number; digest: Uint8Array }): Promise<boolean> {
    if (mark.count === 0) return mark.digest.every((b) => b === 0);
    if (mark.count > (await this.store.auditCount(orgId))) return false;
    const [last] = await this.store.auditRecords(orgId, mark.count - 1, 1);
    return !!last && last.index === mark.count - 1 && bytesEqual(await auditLinkDigest(last.record), mark.digest);
  }

  /** The org's roster head, only while it names the org's current roster. No authentication: it is public and signed. */
  private async getRosterHead(conn: Connection, frame: Frame<'get-roster-head'>): Promise<void> {
    const org = await this.store.getOrg(frame.orgId);
    const head = org?.roster ? await this.store.rosterHead(frame.orgId) : undefined;
    if (!head || head.rosterVersion !== org?.rosterVersion) {
      throw new RelayRequestError(RelayErrorCode.notFound, 'No roster head is published for the current roster');
    }
    this.send(conn, { kind: 'roster-head', requestId: frame.requestId, head: head.head });
  }

  private async openConversation(conn: Connection, frame: Frame<'open-conversation'>): Promise<void> {
    const org = await this.store.getOrg(frame.orgId);
    if (!org) throw new RelayRequestError(RelayErrorCode.unknownOrg, 'This relay does not serve that organisation');
    await this.bindOrg(conn, org.orgId);
    if (conn.opened >= this.options.maxOpensPerSocket) {
      throw new RelayRequestError(RelayErrorCode.limit, 'Too many conversations opened on this connection');
    }
    if (!this.openBuckets.take(conn.address, Date.now())) {
      throw new RelayRequestError(RelayErrorCode.rateLimited, 'Too many new conversations from this address');
    }
    const conversationId = new Uint8Array(randomBytes(16));
    const capability = new Uint8Array(randomBytes(CAPABILITY_LENGTH));
    const conversation = {
      conversationId,
      orgId: org.orgId,
      capabilityHash: new Uint8Array(sha256(capability)),
      createdAt: Date.now(),
    };
    await this.store.createConversation(conversation);
    conn.opened++;
    // The opener has just been handed the capability: it may post without attaching first.
    const key = hex(conversationId);
    conn.capabilities.add(key);
    this.rememberConversation(key, hex(org.orgId));
    this.send(conn, { kind: 'conversation-opened', requestId: frame.requestId, conversationId, capability });
    const created = summary({ ...conversation, lastSeq: 0 });
    this.conversationCreated(hex(org.orgId), created);
    this.fanout.publish({ kind: 'conversation-created', orgId: org.orgId, conversation: created });
  }

  private conversationCreated(orgKey: string, conversation: ConversationSummary): void {
    const watchers = this.watchers.get(orgKey);
    if (!watchers) return;
    const pushed = encodeRelayFrame({ kind: 'conversation-created', conversation });
    for (const watcher of watchers) {
      const held = this.listing.get(watcher);
      if (held) held.push(conversation);
      else this.push(watcher, pushed);
    }
  }

  private rememberConversation(key: string, orgKey: string): void {
    if (this.conversationOrgs.size >= CONVERSATION_CACHE_SIZE) this.conversationOrgs.clear();
    this.conversationOrgs.set(key, orgKey);
  }

  private isAgentOf(conn: Connection, orgId: Uint8Array): boolean {
    return conn.agent !== undefined && conn.agent.orgKey === hex(orgId);
  }

  private capabilityMatches(capability: Uint8Array, conversation: StoredConversation | undefined): boolean {
    // Hash even when there is nothing to compare with, so timing does not tell whether the id exists.
    const presented = sha256(capability);
    if (!conversation || capability.length !== CAPABILITY_LENGTH) return false;
    return timingSafeEqual(presented, conversation.capabilityHash);
  }

  /**
   * Who may read or erase a conversation: a socket presenting its capability, one that already
   * proved it, or an agent of its org. The same refusal whether or not the conversation exists.
   */
  private async authorize(
    conn: Connection,
    conversationId: Uint8Array,
    capability: Uint8Array,
    what: string,
  ): Promise<{ conversation: StoredConversation; byCapability: boolean }> {
    const conversation = await this.store.getConversation(conversationId);
    const byCapability =
      this.capabilityMatches(capability, conversation) ||
      (capability.length === 0 && conn.capabilities.has(hex(conversationId)));
    if (!conversation || (!byCapability && !this.isAgentOf(conn, conversation.orgId))) throw notAllowed(what);
    await this.bindOrg(conn, conversation.orgId);
    if (byCapability) conn.capabilities.add(hex(conversationId));
    this.rememberConversation(hex(conversationId), hex(conversation.orgId));
    return { conversation, byCapability };
  }

  private subscribe(conn: Connection, key: string, subscription: Subscription): void {
    const subscriptions = conn.subscriptions.size + conn.presenceWatches.size;
    if (!conn.subscriptions.has(key) && subscriptions >= this.options.maxConversationsPerSocket) {
      throw new RelayRequestError(RelayErrorCode.limit, 'Too many subscriptions on this connection');
    }
    if (!conn.subscriptions.has(key)) this.metrics.subscriptions++;
    conn.subscriptions.set(key, subscription);
    this.addTo(this.subscribers, key, conn);
  }

  /** Revision 1 attach: missed records, then `attached`, then live records. */
  private async attach(conn: Connection, frame: Frame<'attach-conversation'>): Promise<void> {
    const { conversation } = await this.authorize(
      conn,
      frame.conversationId,
      frame.capability,
      'attach to that conversation',
    );
    const key = hex(frame.conversationId);
    const subscription: Subscription = {
      lastSent: frame.afterSeq,
      live: false,
      stale: false,
      notify: conn.revision >= 2,
    };
    this.subscribe(conn, key, subscription);
    return this.catchUp(conn, key, conversation.conversationId, subscription, (lastSeq) =>
      this.send(conn, { kind: 'attached', requestId: frame.requestId, lastSeq }),
    );
  }

  /**
   * Revision 2 resume by `(epoch, afterSeq)`: `resumed` first, announcing the target, then the missed
   * records, then live ones. A foreign epoch or a seq ahead of the store means the client's history
   * is not this database's: it is told to reset and gets the whole stored stream.
   */
  private async resume(conn: Connection, frame: Frame<'resume-conversation'>): Promise<void> {
    const { conversation } = await this.authorize(
      conn,
      frame.conversationId,
      frame.capability,
      'attach to that conversation',
    );
    const key = hex(frame.conversationId);
    const reset = (frame.epoch !== 0 && frame.epoch !== this.epoch) || frame.afterSeq > conversation.lastSeq;
    const firstSeq = await this.store.firstSeq(frame.conversationId);
    const subscription: Subscription = {
      lastSent: reset ? 0 : frame.afterSeq,
      live: false,
      stale: false,
      notify: true,
    };
    this.subscribe(conn, key, subscription);
    this.send(conn, {
      kind: 'resumed',
      requestId: frame.requestId,
      epoch: this.epoch,
      lastSeq: conversation.lastSeq,
      firstSeq,
      reset,
    });
    return this.catchUp(conn, key, conversation.conversationId, subscription, () => undefined);
  }

  /**
   * Sends one socket the records of a conversation it lacks (seq > `lastSent`), `historyPageSize` at a
   * time, waiting while its send buffer is over half its cap, then turns the subscription live.
   * Used for attach and resume, and again whenever a live subscription sees a gap in seq or the
   * cross-relay fan-out may have lost events (gap repair).
   *
   * Reads are asynchronous, so commits can land between a read and going live; live fan-out never
   * reaches a subscription that is not live, only marks it `stale`. After a short page the pass is
   * complete for everything committed before the conversation row was read; a stale subscription
   * makes one more pass, so nothing committed meanwhile is skipped, and `lastSent` keeps anything
   * from being sent twice.
   */
  private catchUp(
    conn: Connection,
    key: string,
    conversationId: Uint8Array<ArrayBuffer>,
    subscription: Subscription,
    onLive: (lastSeq: number) => void,
  ): Promise<void> {
    subscription.live = false;
    const pageSize = this.options.historyPageSize;
    const current = (): boolean =>
      conn.subscriptions.get(key) === subscription && conn.ws.readyState === WebSocket.OPEN;
    const run = async (): Promise<void> => {
      let stalledSince: number | undefined;
      while (current()) {
        if (conn.ws.bufferedAmount > this.options.maxBufferedBytes / 2) {
          stalledSince ??= Date.now();
          if (Date.now() - stalledSince > CATCH_UP_STALL_MS) return this.slowConsumer(conn);
          await new Promise((resolve) => setTimeout(resolve, 5));
          continue;
        }
        stalledSince = undefined;
        subscription.stale = false;
        // The conversation row is read before the page, so the page holds every record up to its lastSeq.
        const conversation = await this.store.getConversation(conversationId);
        if (!current()) return;
        if (!conversation) {
          // Erased meanwhile, perhaps by another relay whose notice was lost.
          return this.conversationDeleted(key, conversationId, this.conversationOrgs.get(key));
        }
        const page = await this.store.recordsAfter(conversationId, subscription.lastSent, pageSize);
        if (!current()) return;
        for (const record of page) {
          if (record.seq <= subscription.lastSent) continue;
          this.sendBytes(conn, encodeRelayFrame({ kind: 'record', ...record }));
          subscription.lastSent = record.seq;
        }
        if (page.length === pageSize) {
          await new Promise((resolve) => setImmediate(resolve));
          continue;
        }
        // Records below lastSeq that are gone were swept by retention: nothing more to send for them.
        subscription.lastSent = Math.max(subscription.lastSent, conversation.lastSeq);
        if (subscription.stale) continue;
        subscription.live = true;
        this.metrics.catchUps++;
        onLive(subscription.lastSent);
        return;
      }
    };
    return run().catch((error: unknown) => {
      // A subscription that cannot catch up would stall silently; the client resumes elsewhere instead.
      this.internalError(conn, 0, error);
      this.drop(conn, RelayCloseCode.tryAgainLater, 'storage unavailable');
    });
  }

  /** Starts a repair pass for a live subscription, or makes a running one go round again. */
  private repair(conn: Connection, key: string, conversationId: Uint8Array<ArrayBuffer>, subscription: Subscription) {
    if (!subscription.live) {
      subscription.stale = true;
      return;
    }
    this.metrics.gapRepairs++;
    void this.catchUp(conn, key, conversationId, subscription, () => undefined);
  }

  /** One bounded page of history before `beforeSeq`, newest records kept when the byte cap bites. */
  private async history(conn: Connection, frame: Frame<'get-history'>): Promise<void> {
    await this.authorize(conn, frame.conversationId, frame.capability, 'read that conversation');
    const limit =
      frame.limit === 0 ? this.options.historyPageSize : Math.min(frame.limit, this.options.historyPageSize);
    const before = frame.beforeSeq === 0 ? Number.MAX_SAFE_INTEGER : frame.beforeSeq;
    const records = await this.store.recordsBefore(frame.conversationId, before, limit);
    let bytes = records.reduce((sum, r) => sum + r.envelope.length, 0);
    while (records.length > 1 && bytes > MAX_HISTORY_PAGE_BYTES) bytes -= records.shift()?.envelope.length ?? 0;
    this.send(conn, {
      kind: 'history',
      requestId: frame.requestId,
      conversationId: frame.conversationId,
      firstSeq: await this.store.firstSeq(frame.conversationId),
      records: records.map((r) => ({ seq: r.seq, envelope: r.envelope })),
    });
  }

  private async deleteConversation(conn: Connection, frame: Frame<'delete-conversation'>): Promise<void> {
    const { conversation } = await this.authorize(
      conn,
      frame.conversationId,
      frame.capability,
      'delete that conversation',
    );
    await this.store.deleteConversation(frame.conversationId);
    this.logger.log('info', 'conversation-deleted', { conn: conn.id, by: conn.agent ? 'agent' : 'visitor' });
    this.conversationDeleted(hex(frame.conversationId), conversation.conversationId, hex(conversation.orgId));
    this.fanout.publish({
      kind: 'conversation-deleted',
      conversationId: conversation.conversationId,
      orgId: conversation.orgId,
    });
    // Erase promptly: secure_delete zeroed the cells; the WAL still holds the old pages until truncated.
    setImmediate(() => {
      this.store.erase().catch((error: unknown) => {
        this.logger.log('error', 'erase-failed', { error: error instanceof Error ? error.name : typeof error });
      });
    });
    this.send(conn, { kind: 'ok', requestId: frame.requestId });
  }

  /** Drops every subscription to an erased conversation and tells revision-2 sockets. */
  private conversationDeleted(key: string, conversationId: Uint8Array<ArrayBuffer>, orgKey: string | undefined): void {
    this.conversationOrgs.delete(key);
    const pushed = encodeRelayFrame({ kind: 'conversation-deleted', conversationId });
    for (const conn of this.subscribers.get(key) ?? []) {
      const subscription = conn.subscriptions.get(key);
      conn.subscriptions.delete(key);
      conn.capabilities.delete(key);
      this.metrics.subscriptions--;
      if (subscription?.notify) this.push(conn, pushed);
    }
    this.subscribers.delete(key);
    if (orgKey === undefined) return;
    for (const watcher of this.watchers.get(orgKey) ?? []) if (watcher.revision >= 2) this.push(watcher, pushed);
  }

  private async authAgent(conn: Connection, frame: Frame<'auth-agent'>): Promise<void> {
    const refused = new RelayRequestError(RelayErrorCode.unauthorized, 'Agent authentication failed');
    if (conn.agent) throw refused;
    const orgKey = hex(frame.orgId);
    const device = (await this.currentRoster(frame.orgId))?.devices.find((d) => bytesEqual(d.deviceId, frame.deviceId));
    const now = Date.now();
    if (!device || now < device.issuedAt || now >= device.expiresAt) throw refused;
    let verified = false;
    for (const relayName of conn.relayOrigins) {
      try {
        await verifyRelayChallenge(
          device.signingPublic,
          conn.challenge,
          frame.orgId,
          frame.deviceId,
          relayName,
          frame.signature,
        );
        verified = true;
        break;
      } catch (error) {
        if (!(error instanceof SealchatError)) throw error;
      }
    }
    if (!verified) throw refused;
    // The roster may have changed while the signature was checked.
    const still = this.rosters.get(orgKey)?.devices.some((d) => bytesEqual(d.deviceId, frame.deviceId));
    if (!still || conn.ws.readyState !== WebSocket.OPEN) throw refused;
    await this.bindOrg(conn, frame.orgId);
    conn.agent = { orgKey, deviceId: frame.deviceId };
    this.addTo(this.agents, orgKey, conn);
    this.logger.log('info', 'agent-authenticated', { conn: conn.id });
    this.send(conn, { kind: 'ok', requestId: frame.requestId });
  }

  /** The org's roster, verified now; undefined if none, or if the stored one no longer verifies (expired). */
  private async currentRoster(orgId: Uint8Array<ArrayBuffer>): Promise<VerifiedRoster | undefined> {
    const orgKey = hex(orgId);
    const cached = this.rosters.get(orgKey);
    if (cached && Date.now() < cached.expiresAt) return cached;
    const org = await this.store.getOrg(orgId);
    if (!org?.roster) return undefined;
    try {
      // Verified at publication, chain link and signer included; here only what time changes.
      const roster = await verifyHeldRoster(org.roster, org.rootKey, Date.now());
      // A newer roster may have been published while this one was checked.
      const latest = this.rosters.get(orgKey);
      if (latest && latest.version > roster.version) return latest;
      this.rosters.set(orgKey, roster);
      return roster;
    } catch (error) {
      if (error instanceof SealchatError) return undefined;
      throw error;
    }
  }

  private async watchOrg(conn: Connection, frame: Frame<'watch-org'>): Promise<void> {
    if (!conn.agent)
      throw new RelayRequestError(RelayErrorCode.unauthorized, 'Only an authenticated agent may watch an organisation');
    const orgKey = conn.agent.orgKey;
    // Watch first, list second, so a conversation created meanwhile (here or on another relay) is
    // not missed; what is announced during the read waits until after the list, unless it is in it.
    this.addTo(this.watchers, orgKey, conn);
    const held: ConversationSummary[] = [];
    this.listing.set(conn, held);
    try {
      const stored = await this.store.listConversations(Buffer.from(orgKey, 'hex'), this.options.maxConversationList);
      const conversations = stored.map(summary);
      this.send(conn, { kind: 'conversation-list', requestId: frame.requestId, conversations });
      const listed = new Set(conversations.map((c) => hex(c.conversationId)));
      for (const c of held) {
        if (!listed.has(hex(c.conversationId)))
          this.push(conn, encodeRelayFrame({ kind: 'conversation-created', conversation: c }));
      }
    } finally {
      this.listing.delete(conn);
    }
  }

  private setPresence(conn: Connection, frame: Frame<'set-presence'>): void {
    if (!conn.agent) throw new RelayRequestError(RelayErrorCode.unauthorized, 'Only an agent has a presence');
    const orgKey = conn.agent.orgKey;
    const wasOnline = this.presence.anyoneOnline(orgKey);
    conn.presence = frame.status;
    if (this.presence.set(orgKey, conn, conn.agent.deviceId, frame.status)) this.presenceChanged(orgKey, wasOnline);
    this.send(conn, { kind: 'ok', requestId: frame.requestId });
  }

  private presenceFrame(conn: Connection, orgKey: string, requestId: number): RelayFrame {
    return {
      kind: 'presence',
      requestId,
      orgId: new Uint8Array(Buffer.from(orgKey, 'hex')),
      anyoneOnline: this.presence.anyoneOnline(orgKey),
      // Visitors and other orgs learn one bit; only the org's own agents see who.
      devices: conn.agent?.orgKey === orgKey ? this.presence.devices(orgKey) : [],
    };
  }

  private async watchPresence(conn: Connection, frame: Frame<'watch-presence'>): Promise<void> {
    const org = await this.store.getOrg(frame.orgId);
    if (!org) throw new RelayRequestError(RelayErrorCode.unknownOrg, 'This relay does not serve that organisation');
    await this.bindOrg(conn, org.orgId);
    const orgKey = hex(org.orgId);
    if (frame.subscribe && !conn.presenceWatches.has(orgKey)) {
      if (conn.subscriptions.size + conn.presenceWatches.size >= this.options.maxConversationsPerSocket) {
        throw new RelayRequestError(RelayErrorCode.limit, 'Too many subscriptions on this connection');
      }
      conn.presenceWatches.add(orgKey);
      this.addTo(this.presenceWatchers, orgKey, conn);
    }
    this.send(conn, this.presenceFrame(conn, orgKey, frame.requestId));
  }

  /** Agents of the org hear every change; everyone else only a change of the one bit. */
  private presenceChanged(orgKey: string, wasOnline: boolean): void {
    const online = this.presence.anyoneOnline(orgKey);
    let bit: Uint8Array | undefined;
    for (const watcher of this.presenceWatchers.get(orgKey) ?? []) {
      if (watcher.agent?.orgKey === orgKey)
        this.push(watcher, encodeRelayFrame(this.presenceFrame(watcher, orgKey, 0)));
      else if (online !== wasOnline)
        this.push(watcher, (bit ??= encodeRelayFrame(this.presenceFrame(watcher, orgKey, 0))));
    }
  }

  /**
   * Admits a post and returns at once; the ack and fan-out follow the commit. Not awaiting the commit
   * lets one socket pipeline many posts into the same group commit.
   */
  private async post(conn: Connection, frame: Frame<'post'>): Promise<void> {
    const key = hex(frame.conversationId);
    let orgKey = this.conversationOrgs.get(key);
    if (orgKey === undefined) {
      const conversation = await this.store.getConversation(frame.conversationId);
      if (conversation) this.rememberConversation(key, (orgKey = hex(conversation.orgId)));
    }
    const byCapability = conn.capabilities.has(key);
    if (orgKey === undefined || (!byCapability && conn.agent?.orgKey !== orgKey)) {
      throw notAllowed('post to that conversation');
    }
    if (conn.pendingPosts >= this.options.maxPendingPostsPerSocket) {
      throw new RelayRequestError(RelayErrorCode.limit, 'Too many posts waiting for commit on this connection');
    }
    if (byCapability && conn.agent?.orgKey !== orgKey && !this.capabilityBuckets.take(key, Date.now())) {
      throw new RelayRequestError(RelayErrorCode.rateLimited, 'Too many posts to this conversation; slow down');
    }
    conn.pendingPosts++;
    // Appends settle in commit order, so these callbacks run, and fan out, in seq order.
    this.store.append(frame.conversationId, frame.clientMessageId, frame.envelope).then(
      ({ record, duplicate }) => {
        conn.pendingPosts--;
        this.send(conn, { kind: 'ack', requestId: frame.requestId, seq: record.seq });
        if (duplicate) {
          // A retry, perhaps of a post whose relay died after the commit and before telling the
          // others: make sure every subscriber has reached it.
          this.committed(record.conversationId, record.seq);
          this.fanout.publish({ kind: 'committed', conversationId: record.conversationId, seq: record.seq });
          return;
        }
        this.fanOut(key, record);
        this.fanout.publish({ kind: 'record', record });
      },
      (error: unknown) => {
        conn.pendingPosts--;
        if (error instanceof StoreClosedError) {
          const unavailable = new RelayRequestError(RelayErrorCode.unavailable, 'The relay is shutting down');
          this.refuse(conn, frame.requestId, unavailable, 'post');
        } else if (error instanceof UnknownConversationError) {
          this.refuse(conn, frame.requestId, notAllowed('post to that conversation'), 'post');
        } else {
          this.internalError(conn, frame.requestId, error);
        }
      },
    );
  }

  /**
   * Pushes a committed record to this process's subscribers. The next seq goes out at once; one
   * further ahead means an earlier record (committed through another relay) has not arrived, so the
   * subscription repairs from the store by seq rather than deliver out of order.
   */
  private fanOut(key: string, record: StoredRecord): void {
    this.routes.rowCommitted(record);
    const subscribers = this.subscribers.get(key);
    if (!subscribers) return;
    let bytes: Uint8Array | undefined;
    for (const conn of subscribers) {
      const subscription = conn.subscriptions.get(key);
      if (!subscription || record.seq <= subscription.lastSent) continue;
      if (subscription.live && record.seq === subscription.lastSent + 1) {
        subscription.lastSent = record.seq;
        bytes ??= encodeRelayFrame({
          kind: 'record',
          conversationId: record.conversationId,
          seq: record.seq,
          envelope: record.envelope,
        });
        this.push(conn, bytes);
      } else {
        this.repair(conn, key, record.conversationId, subscription);
      }
    }
  }

  /** Repairs every local subscription to the conversation that has not reached `seq`. */
  private committed(conversationId: Uint8Array<ArrayBuffer>, seq: number): void {
    const key = hex(conversationId);
    for (const conn of this.subscribers.get(key) ?? []) {
      const subscription = conn.subscriptions.get(key);
      if (subscription && seq > subscription.lastSent) this.repair(conn, key, conversationId, subscription);
    }
  }

  /** An event from another relay (see fanout.ts). */
  deliver(event: FanoutEvent): void {
    if (this.closing) return;
    this.metrics.fanoutReceived++;
    switch (event.kind) {
      case 'record':
        return this.fanOut(hex(event.record.conversationId), event.record);
      case 'committed':
        return this.committed(event.conversationId, event.seq);
      case 'conversation-created':
        return this.conversationCreated(hex(event.orgId), event.conversation);
      case 'conversation-deleted': {
        const key = hex(event.conversationId);
        const orgKey = event.orgId ? hex(event.orgId) : this.conversationOrgs.get(key);
        return this.conversationDeleted(key, event.conversationId, orgKey);
      }
      case 'roster':
        return void this.rosterChanged(event.orgId, event.version).catch((error: unknown) => {
          this.logger.log('error', 'roster-refresh-failed', {
            error: error instanceof Error ? error.name : typeof error,
          });
        });
      case 'history-granted':
        return void this.grantStored(event).catch((error: unknown) => {
          this.logger.log('error', 'history-grant-push-failed', {
            error: error instanceof Error ? error.name : typeof error,
          });
        });
    }
  }

  /** Another relay stored a roster: verify it from the store and revoke sockets of removed devices. */
  private async rosterChanged(orgId: Uint8Array<ArrayBuffer>, version: number): Promise<void> {
    const orgKey = hex(orgId);
    const cached = this.rosters.get(orgKey);
    if (cached && cached.version >= version) return;
    this.rosters.delete(orgKey);
    const roster = await this.currentRoster(orgId);
    if (roster) {
      this.revokeMissing(orgKey, roster);
      const stored = (await this.store.getOrg(orgId))?.roster;
      if (stored) this.pushRoster(orgKey, stored);
    } else
      for (const agent of [...(this.agents.get(orgKey) ?? [])]) this.drop(agent, RelayCloseCode.revoked, 'revoked');
  }

  /**
   * The safety net under an at-most-once fan-out: a subscription still behind a lastSeq that the
   * previous audit already saw committed has waited a whole interval for an event that is not
   * coming (its relay died between commit and publish), so it is repaired from the store.
   */
  private async audit(): Promise<void> {
    if (this.closing) return;
    const keys = [...this.subscribers.keys()];
    const seen = new Map<string, number>();
    for (let i = 0; i < keys.length; i += 1000) {
      const ids = keys.slice(i, i + 1000).map((key) => Buffer.from(key, 'hex'));
      for (const { conversationId, lastSeq } of await this.store.lastSeqs(ids)) seen.set(hex(conversationId), lastSeq);
    }
    for (const [key, lastSeq] of this.audited) {
      for (const conn of this.subscribers.get(key) ?? []) {
        const subscription = conn.subscriptions.get(key);
        if (subscription?.live && subscription.lastSent < lastSeq) {
          this.metrics.auditRepairs++;
          this.repair(conn, key, new Uint8Array(Buffer.from(key, 'hex')), subscription);
        }
      }
    }
    this.audited = seen;
  }

  /**
   * The fan-out may have lost events (its broker connection dropped and is back): repair every live
   * subscription from the store, and tell watchers of conversations created since `since`.
   */
  resync(since: number): void {
    if (this.closing) return;
    this.metrics.fanoutResyncs++;
    this.logger.log('info', 'fanout-resync', { subscriptions: this.metrics.subscriptions });
    for (const [key, conns] of this.subscribers) {
      const conversationId = new Uint8Array(Buffer.from(key, 'hex'));
      for (const conn of conns) {
        const subscription = conn.subscriptions.get(key);
        if (subscription) this.repair(conn, key, conversationId, subscription);
      }
    }
    for (const orgKey of this.watchers.keys()) {
      this.store.listConversations(Buffer.from(orgKey, 'hex'), this.options.maxConversationList).then(
        (conversations) => {
          // Re-announcing a known conversation is harmless: clients follow each id once.
          for (const c of conversations) if (c.createdAt >= since) this.conversationCreated(orgKey, summary(c));
        },
        (error: unknown) =>
          this.logger.log('error', 'fanout-resync-failed', {
            error: error instanceof Error ? error.name : typeof error,
          }),
      );
    }
  }

  /** Terminates sockets that missed a pong since the last ping, then pings the rest. */
  private pingAll(): void {
    for (const conn of this.connections) {
      if (!conn.alive) {
        this.logger.log('info', 'liveness-timeout', { conn: conn.id });
        this.forget(conn);
        conn.ws.terminate();
        continue;
      }
      conn.alive = false;
      if (conn.ws.readyState === WebSocket.OPEN) conn.ws.ping();
    }
  }

  private closeIdle(): void {
    const cutoff = Date.now() - this.options.idleTimeoutMs;
    for (const conn of this.connections) {
      if (conn.busy || conn.lastFrameAt > cutoff || conn.pendingPosts > 0) continue;
      this.drop(conn, RelayCloseCode.idle, 'idle');
    }
  }

  /**
   * Runs the retention sweep in bounded steps, yielding between them. Each org's own retention (a
   * supervisor's `set-retention`, or `org add --retention-days`) wins over the relay's default. Audit
   * records are never swept: the log is the org's account of who could read, and holds no chat.
   */
  async sweep(now = Date.now()): Promise<void> {
    if (this.closing) return;
    const result = await this.store.sweep(now, this.options.retentionDays, SWEEP_BATCH);
    for (const conversationId of result.deletedConversations) {
      const key = hex(conversationId);
      const orgKey = this.conversationOrgs.get(key);
      this.conversationDeleted(key, conversationId, orgKey);
      const orgId = orgKey === undefined ? undefined : new Uint8Array(Buffer.from(orgKey, 'hex'));
      this.fanout.publish({ kind: 'conversation-deleted', conversationId, orgId });
    }
    if (result.deletedRecords > 0 || result.deletedConversations.length > 0) {
      this.logger.log('info', 'retention-swept', {
        records: result.deletedRecords,
        conversations: result.deletedConversations.length,
      });
    }
    if (result.more) await new Promise((resolve) => setImmediate(resolve)).then(() => this.sweep(now));
    else if (result.deletedRecords > 0) await this.store.vacuum();
  }

  /** Graceful shutdown; see {@link RunningRelay.close}. */
  async shutdown(): Promise<void> {
    this.closing = true;
    for (const timer of this.timers) clearInterval(timer);
    // Posts already admitted are committed and acknowledged before their sockets close.
    await this.store.flush();
    await new Promise<void>((resolve) => setImmediate(resolve));
    this.routes.closeStreams();
    const closed = [...this.connections].map(
      (conn) =>
        new Promise<void>((resolve) => {
          if (conn.ws.readyState === WebSocket.CLOSED) return resolve();
          const timer = setTimeout(() => conn.ws.terminate(), 2000);
          conn.ws.once('close', () => {
            clearTimeout(timer);
            resolve();
          });
          conn.ws.close(RelayCloseCode.goingAway, 'relay shutting down');
        }),
    );
    await Promise.all(closed);
    this.wss.close();
    await this.fanout.close();
    await this.store.close();
  }
}
