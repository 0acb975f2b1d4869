import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import {
  CAPABILITY_LENGTH,
  CHALLENGE_LENGTH,
  OrgKeyFormatError,
  SealchatError,
  bytesEqual,
  decodeClientFrame,
  encodeRelayFrame,
  orgIdFromRootKey,
  parseOrgKey,
  verifyRelayChallenge,
  verifyRoster,
  type ClientFrame,
  type ConversationSummary,
  type RelayFrame,
  type VerifiedRoster,
} from '@sealchat/protocol';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import { HttpRoutes } from './http-routes.js';
import { createJsonLogger, type RelayLogger } from './logger.js';
import { resolveRelayOptions, type RelayOptions } from './options.js';
import { createOriginPolicy, type OriginPolicy } from './origin-policy.js';
import { RelayCloseCode, RelayErrorCode, RelayRequestError } from './relay-error.js';
import { SqliteStore } from './sqlite-store.js';
import {
  StoreClosedError,
  UnknownConversationError,
  type RelayStore,
  type StoredConversation,
  type StoredRecord,
} from './store.js';

/** A relay that is listening. */
export interface RunningRelay {
  /** The TCP port actually bound (useful with `port: 0`). */
  readonly port: number;
  /** `ws://host:port`, what clients connect to. */
  readonly url: string;
  /**
   * Stops accepting, commits and acknowledges what is pending, closes every socket with 1001, then
   * closes the store. Safe to call twice.
   */
  close(): Promise<void>;
}

/** Collaborators of {@link startRelay}; defaults are JSON lines on stdout and a SQLite file. */
export interface RelayDependencies {
  readonly logger?: RelayLogger;
  /** A store to use instead of opening `options.dbPath`. The relay closes it on shutdown. */
  readonly store?: RelayStore;
}

/** Per-conversation delivery state of one socket. */
interface Subscription {
  /** Highest seq sent on this socket; later fan-out of an older record is skipped, so none is sent twice. */
  lastSent: number;
}

interface AgentIdentity {
  readonly orgKey: string;
  readonly deviceId: Uint8Array<ArrayBuffer>;
}

/** One WebSocket and what it has proven. */
class Connection {
  /** Random, for correlating log lines; never the peer's address. */
  readonly id = randomBytes(8).toString('hex');
  readonly challenge = new Uint8Array(randomBytes(CHALLENGE_LENGTH));
  agent: AgentIdentity | undefined;
  readonly subscriptions = new Map<string, Subscription>();
  /** Conversations whose capability this socket has shown (or received by opening them). */
  readonly capabilities = new Set<string>();
  opened = 0;
  pendingPosts = 0;
  /** Frames are admitted one after another, so an `auth-agent` completes before the next frame is read. */
  queue: Promise<void> = Promise.resolve();

  constructor(readonly ws: WebSocket) {}
}

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

/**
 * The relay: stores and forwards envelopes it cannot read. It checks who may read and write which
 * conversation (capabilities for visitors, roster certificates for agents), orders each
 * conversation's records, and acknowledges a post only once it is durable.
 */
class Relay {
  private readonly connections = new Set<Connection>();
  private readonly subscribers = new Map<string, Set<Connection>>();
  private readonly watchers = new Map<string, Set<Connection>>();
  private readonly agents = new Map<string, Set<Connection>>();
  /** Verified current roster per org; verifying up to 1000 certificates per login would be wasteful. */
  private readonly rosters = new Map<string, VerifiedRoster>();
  /** Serialises roster publication per org, so two publishers cannot both pass the version check. */
  private readonly rosterLocks = new Map<string, Promise<void>>();
  private closing = false;
  readonly wss: WebSocketServer;
  readonly routes: HttpRoutes;

  constructor(
    readonly options: RelayOptions,
    readonly store: RelayStore,
    readonly logger: RelayLogger,
    readonly policy: OriginPolicy,
  ) {
    this.wss = new WebSocketServer({ noServer: true, maxPayload: options.maxFrameBytes, perMessageDeflate: false });
    this.routes = new HttpRoutes(store, policy, options.demo, options.maxDemoReplayRows);
  }

  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    if (this.closing) {
      socket.end('HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    if (this.connections.size >= this.options.maxConnections) {
      this.logger.log('warn', 'connection-refused', { reason: 'maxConnections' });
      socket.end('HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    if (!this.policy.allows(req.headers.origin)) {
      this.logger.log('warn', 'origin-refused');
      socket.end('HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws));
  }

  private accept(ws: WebSocket): void {
    const conn = new Connection(ws);
    this.connections.add(conn);
    this.logger.log('info', 'connection-open', { conn: conn.id });
    ws.on('message', (data, isBinary) => {
      conn.queue = conn.queue
        .then(() => this.onMessage(conn, data, isBinary))
        .catch((error: unknown) => this.internalError(conn, 0, error));
    });
    ws.on('close', (code) => {
      this.forget(conn);
      this.logger.log('info', 'connection-close', { conn: conn.id, code });
    });
    // ws reports protocol violations (oversized frame: 1009) here and then closes; 'close' cleans up.
    ws.on('error', (error: Error & { code?: string }) => {
      this.logger.log('warn', 'socket-error', { conn: conn.id, code: error.code ?? 'unknown' });
    });
    this.send(conn, { kind: 'challenge', nonce: conn.challenge });
  }

  private forget(conn: Connection): void {
    this.connections.delete(conn);
    for (const key of conn.subscriptions.keys()) this.removeFrom(this.subscribers, key, conn);
    if (conn.agent) {
      this.removeFrom(this.watchers, conn.agent.orgKey, conn);
      this.removeFrom(this.agents, conn.agent.orgKey, conn);
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
    if (conn.ws.readyState === WebSocket.OPEN) conn.ws.send(bytes);
  }

  /** Live pushes check the socket's backlog: a client that stops reading is cut off, not buffered forever. */
  private push(conn: Connection, bytes: Uint8Array): void {
    if (conn.ws.readyState !== WebSocket.OPEN) return;
    if (conn.ws.bufferedAmount > this.options.maxBufferedBytes) {
      this.logger.log('warn', 'slow-consumer', { conn: conn.id });
      conn.ws.close(RelayCloseCode.tryAgainLater, 'slow consumer');
      return;
    }
    conn.ws.send(bytes);
  }

  private refuse(conn: Connection, requestId: number, error: RelayRequestError, frameKind: string): void {
    this.logger.log('warn', 'request-refused', { conn: conn.id, frame: frameKind, code: error.code });
    this.send(conn, { kind: 'error', requestId, code: error.code, message: error.message });
  }

  private internalError(conn: Connection, requestId: number, error: unknown): void {
    // The error's text may quote input; log only its class.
    const name = error instanceof Error ? error.name : typeof error;
    this.logger.log('error', 'internal-error', { conn: conn.id, code: RelayErrorCode.internal, error: name });
    this.send(conn, {
      kind: 'error',
      requestId,
      code: RelayErrorCode.internal,
      message: 'Internal relay error; retry later',
    });
  }

  private async onMessage(conn: Connection, data: RawData, isBinary: boolean): Promise<void> {
    if (!isBinary) {
      this.refuse(
        conn,
        0,
        new RelayRequestError(RelayErrorCode.badFrame, 'Frames are binary WebSocket messages'),
        'text',
      );
      return;
    }
    let frame: ClientFrame;
    try {
      frame = decodeClientFrame(messageBytes(data));
    } catch (error) {
      if (!(error instanceof SealchatError)) throw error;
      this.refuse(conn, 0, new RelayRequestError(RelayErrorCode.badFrame, error.message), 'undecodable');
      return;
    }
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
      case 'publish-roster':
        return this.publishRoster(conn, frame);
      case 'get-roster':
        return this.getRoster(conn, frame);
      case 'open-conversation':
        return this.openConversation(conn, frame);
      case 'attach-conversation':
        return this.attach(conn, frame);
      case 'auth-agent':
        return this.authAgent(conn, frame);
      case 'watch-org':
        return this.watchOrg(conn, frame);
      case 'post':
        return this.post(conn, frame);
    }
  }

  private async publishRoster(
    conn: Connection,
    frame: Extract<ClientFrame, { kind: 'publish-roster' }>,
  ): Promise<void> {
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
    frame: Extract<ClientFrame, { kind: 'publish-roster' }>,
    orgId: Uint8Array<ArrayBuffer>,
    orgKey: string,
  ): Promise<void> {
    const org = this.store.getOrg(orgId);
    if (!org && !this.options.demo) {
      throw new RelayRequestError(RelayErrorCode.unknownOrg, 'This relay does not serve that organisation');
    }
    const rejected = new RelayRequestError(
      RelayErrorCode.rosterRejected,
      'Roster rejected: it does not verify under the organisation key, has expired, or is older than the stored one',
    );
    let roster: VerifiedRoster;
    try {
      roster = await verifyRoster(frame.roster, {
        orgRootKey: frame.orgRootKey,
        now: Date.now(),
        ...(org?.roster ? { minVersion: org.rosterVersion } : {}),
      });
    } catch (error) {
      if (error instanceof SealchatError) throw rejected;
      throw error;
    }
    if (!bytesEqual(roster.orgId, orgId)) throw rejected;
    if (org?.roster) {
      if (roster.version === org.rosterVersion) {
        // Re-publishing the same roster (a retry) is fine; a different one under the same version is not.
        if (!bytesEqual(org.roster, frame.roster)) throw rejected;
        this.send(conn, { kind: 'ok', requestId: frame.requestId });
        return;
      }
      if (roster.version < org.rosterVersion) throw rejected;
    }
    if (!org) this.store.registerOrg(orgId, frame.orgRootKey, Date.now());
    this.store.saveRoster(orgId, roster.version, frame.roster);
    this.rosters.set(orgKey, roster);
    this.logger.log('info', org ? 'roster-updated' : 'org-registered', {
      version: roster.version,
      devices: roster.devices.length,
    });
    this.revokeMissing(orgKey, roster);
    this.send(conn, { kind: 'ok', requestId: frame.requestId });
  }

  /** Agents whose device left the roster lose their sockets at once, not at their next login. */
  private revokeMissing(orgKey: string, roster: VerifiedRoster): void {
    for (const agent of this.agents.get(orgKey) ?? []) {
      const id = agent.agent?.deviceId;
      if (id && !roster.devices.some((device) => bytesEqual(device.deviceId, id))) {
        this.logger.log('info', 'agent-revoked', { conn: agent.id });
        this.forget(agent);
        agent.ws.close(RelayCloseCode.revoked, 'revoked');
      }
    }
  }

  private getRoster(conn: Connection, frame: Extract<ClientFrame, { kind: 'get-roster' }>): void {
    const org = this.store.getOrg(frame.orgId);
    if (!org?.roster)
      throw new RelayRequestError(RelayErrorCode.notFound, 'No roster is published for that organisation');
    this.send(conn, { kind: 'roster', requestId: frame.requestId, roster: org.roster });
  }

  private openConversation(conn: Connection, frame: Extract<ClientFrame, { kind: 'open-conversation' }>): void {
    const org = this.store.getOrg(frame.orgId);
    if (!org) throw new RelayRequestError(RelayErrorCode.unknownOrg, 'This relay does not serve that organisation');
    if (conn.opened >= this.options.maxOpensPerSocket) {
      throw new RelayRequestError(RelayErrorCode.limit, 'Too many conversations opened on this connection');
    }
    const conversationId = new Uint8Array(randomBytes(16));
    const capability = new Uint8Array(randomBytes(CAPABILITY_LENGTH));
    const conversation = {
      conversationId,
      orgId: org.orgId,
      capabilityHash: new Uint8Array(sha256(capability)),
      createdAt: Date.now(),
    };
    this.store.createConversation(conversation);
    conn.opened++;
    // The opener has just been handed the capability: it may post without attaching first.
    conn.capabilities.add(hex(conversationId));
    this.send(conn, { kind: 'conversation-opened', requestId: frame.requestId, conversationId, capability });
    const watchers = this.watchers.get(hex(org.orgId));
    if (watchers) {
      const pushed = encodeRelayFrame({
        kind: 'conversation-created',
        conversation: summary({ ...conversation, lastSeq: 0 }),
      });
      for (const watcher of watchers) this.push(watcher, pushed);
    }
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

  /** Synchronous from lookup to subscription, so no commit can fall between history and live records. */
  private attach(conn: Connection, frame: Extract<ClientFrame, { kind: 'attach-conversation' }>): void {
    const conversation = this.store.getConversation(frame.conversationId);
    const byCapability = this.capabilityMatches(frame.capability, conversation);
    if (!conversation || (!byCapability && !this.isAgentOf(conn, conversation.orgId))) {
      throw new RelayRequestError(RelayErrorCode.unauthorized, 'Not allowed to attach to that conversation');
    }
    const key = hex(frame.conversationId);
    if (!conn.subscriptions.has(key) && conn.subscriptions.size >= this.options.maxConversationsPerSocket) {
      throw new RelayRequestError(RelayErrorCode.limit, 'Too many conversations attached on this connection');
    }
    if (byCapability) conn.capabilities.add(key);
    for (const record of this.store.recordsAfter(frame.conversationId, frame.afterSeq)) {
      this.sendBytes(conn, encodeRelayFrame({ kind: 'record', ...record }));
    }
    this.send(conn, { kind: 'attached', requestId: frame.requestId, lastSeq: conversation.lastSeq });
    conn.subscriptions.set(key, { lastSent: conversation.lastSeq });
    this.addTo(this.subscribers, key, conn);
  }

  private async authAgent(conn: Connection, frame: Extract<ClientFrame, { kind: 'auth-agent' }>): Promise<void> {
    const refused = new RelayRequestError(RelayErrorCode.unauthorized, 'Agent authentication failed');
    if (conn.agent) throw refused;
    const orgKey = hex(frame.orgId);
    const device = (await this.currentRoster(frame.orgId))?.devices.find((d) => bytesEqual(d.deviceId, frame.deviceId));
    const now = Date.now();
    if (!device || now < device.issuedAt || now >= device.expiresAt) throw refused;
    try {
      await verifyRelayChallenge(device.signingPublic, conn.challenge, frame.orgId, frame.deviceId, frame.signature);
    } catch (error) {
      if (error instanceof SealchatError) throw refused;
      throw error;
    }
    // The roster may have changed while the signature was checked.
    const still = this.rosters.get(orgKey)?.devices.some((d) => bytesEqual(d.deviceId, frame.deviceId));
    if (!still || conn.ws.readyState !== WebSocket.OPEN) throw refused;
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
    const org = this.store.getOrg(orgId);
    if (!org?.roster) return undefined;
    try {
      const roster = await verifyRoster(org.roster, { orgRootKey: org.rootKey, now: Date.now() });
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

  private watchOrg(conn: Connection, frame: Extract<ClientFrame, { kind: 'watch-org' }>): void {
    if (!conn.agent)
      throw new RelayRequestError(RelayErrorCode.unauthorized, 'Only an authenticated agent may watch an organisation');
    const orgId = Buffer.from(conn.agent.orgKey, 'hex');
    const conversations = this.store.listConversations(orgId, this.options.maxConversationList).map(summary);
    this.send(conn, { kind: 'conversation-list', requestId: frame.requestId, conversations });
    this.addTo(this.watchers, conn.agent.orgKey, conn);
  }

  /**
   * Admits a post and returns at once; the ack and fan-out follow the commit. Not awaiting the commit
   * lets one socket pipeline many posts into the same group commit.
   */
  private post(conn: Connection, frame: Extract<ClientFrame, { kind: 'post' }>): void {
    const key = hex(frame.conversationId);
    const conversation = this.store.getConversation(frame.conversationId);
    if (!conversation || (!conn.capabilities.has(key) && !this.isAgentOf(conn, conversation.orgId))) {
      throw new RelayRequestError(RelayErrorCode.unauthorized, 'Not allowed to post to that conversation');
    }
    if (conn.pendingPosts >= this.options.maxPendingPostsPerSocket) {
      throw new RelayRequestError(RelayErrorCode.limit, 'Too many posts waiting for commit on this connection');
    }
    conn.pendingPosts++;
    // Appends settle in commit order, so these callbacks run, and fan out, in seq order.
    this.store.append(frame.conversationId, frame.clientMessageId, frame.envelope).then(
      ({ record, duplicate }) => {
        conn.pendingPosts--;
        this.send(conn, { kind: 'ack', requestId: frame.requestId, seq: record.seq });
        if (!duplicate) this.fanOut(key, record);
      },
      (error: unknown) => {
        conn.pendingPosts--;
        if (error instanceof StoreClosedError) {
          this.refuse(
            conn,
            frame.requestId,
            new RelayRequestError(RelayErrorCode.unavailable, 'The relay is shutting down'),
            'post',
          );
        } else if (error instanceof UnknownConversationError) {
          this.refuse(
            conn,
            frame.requestId,
            new RelayRequestError(RelayErrorCode.unauthorized, 'Not allowed to post to that conversation'),
            'post',
          );
        } else {
          this.internalError(conn, frame.requestId, error);
        }
      },
    );
  }

  private fanOut(key: string, record: StoredRecord): void {
    this.routes.rowCommitted(record);
    const subscribers = this.subscribers.get(key);
    if (!subscribers) return;
    const bytes = encodeRelayFrame({
      kind: 'record',
      conversationId: record.conversationId,
      seq: record.seq,
      envelope: record.envelope,
    });
    for (const conn of subscribers) {
      const subscription = conn.subscriptions.get(key);
      if (!subscription || record.seq <= subscription.lastSent) continue;
      subscription.lastSent = record.seq;
      this.push(conn, bytes);
    }
  }

  /** Graceful shutdown; see {@link RunningRelay.close}. */
  async shutdown(): Promise<void> {
    this.closing = true;
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
    await this.store.close();
  }
}

/**
 * Starts a relay: an HTTP server and a WebSocket server on one port, backed by SQLite unless a
 * store is given.
 * @throws TypeError for an invalid option (including an `orgKeys` entry that is not a valid org key).
 */
export async function startRelay(
  input: Partial<RelayOptions> = {},
  deps: RelayDependencies = {},
): Promise<RunningRelay> {
  const options = resolveRelayOptions(input);
  const logger = deps.logger ?? createJsonLogger();
  const preRegistered: Uint8Array<ArrayBuffer>[] = [];
  for (const text of options.orgKeys) {
    try {
      preRegistered.push(await parseOrgKey(text));
    } catch (error) {
      if (error instanceof OrgKeyFormatError) throw new TypeError(`Invalid organisation key: ${error.message}`);
      throw error;
    }
  }
  let store: RelayStore;
  if (deps.store) {
    store = deps.store;
  } else {
    const sqlite = new SqliteStore(options.dbPath);
    logger.log('info', 'storage', { engine: 'sqlite', ...sqlite.durability() });
    store = sqlite;
  }
  const now = Date.now();
  for (const rootKey of preRegistered) store.registerOrg(await orgIdFromRootKey(rootKey), rootKey, now);

  const relay = new Relay(options, store, logger, createOriginPolicy(options.allowedOrigins, options.demo));
  const server: Server = createServer((req, res) => relay.routes.handle(req, res));
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => relay.upgrade(req, socket, head));
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port, options.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    await store.close();
    throw error;
  }
  const port = (server.address() as AddressInfo).port;
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  const url = `ws://${host}:${port}`;
  logger.log('info', 'listening', { url, demo: options.demo });

  let closing: Promise<void> | undefined;
  return {
    port,
    url,
    close() {
      closing ??= (async () => {
        const serverClosed = new Promise<void>((resolve) => server.close(() => resolve()));
        await relay.shutdown();
        server.closeAllConnections();
        await serverClosed;
        logger.log('info', 'closed');
      })();
      return closing;
    },
  };
}
