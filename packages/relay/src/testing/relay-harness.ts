/**
 * Test helpers: organisations built with the real protocol API, a relay on a free port with a real
 * SQLite file, and a `ws` client that pairs requests with answers. Not part of the package.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  decodeRelayFrame,
  encodeClientFrame,
  generateDeviceIdentity,
  signRelayChallenge,
  type ClientFrame,
  type DeviceIdentity,
  type RelayFrame,
} from '@sealchat/protocol';
import { createTestOrganisation } from '@sealchat/protocol/testing';
import { afterEach } from 'vitest';
import WebSocket from 'ws';
import type { RelayLogger } from '../logger.js';
import type { RelayOptions } from '../options.js';
import { startRelay, type RunningRelay } from '../relay-server.js';

export interface TestOrg {
  readonly root: CryptoKeyPair;
  readonly rootPublic: Uint8Array<ArrayBuffer>;
  readonly orgId: Uint8Array<ArrayBuffer>;
  readonly orgKeyText: string;
  /** The org's supervisor device, on every roster this org signs. */
  readonly supervisor: DeviceIdentity;
  /** Signs a roster listing these devices. */
  roster(version: number, devices: readonly DeviceIdentity[], expiresAt?: number): Promise<Uint8Array<ArrayBuffer>>;
}

export async function makeOrg(): Promise<TestOrg> {
  const org = await createTestOrganisation();
  return {
    root: org.root,
    rootPublic: org.rootPublic,
    orgId: org.orgId,
    orgKeyText: org.orgKey,
    supervisor: org.supervisor,
    roster: (version, devices, expiresAt) =>
      org.roster(
        version,
        devices,
        expiresAt === undefined ? {} : { expiresAt, issuedAt: Math.min(Date.now() - 1000, expiresAt - 1) },
      ),
  };
}

export { generateDeviceIdentity };

/** Frames a test sends; the client fills in `requestId`. */
export type Request = ClientFrame extends infer F ? (F extends ClientFrame ? Omit<F, 'requestId'> : never) : never;

export class TestClient {
  readonly frames: RelayFrame[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  challenge: Uint8Array = new Uint8Array();
  private nextId = 1;
  private waiters: { match: (f: RelayFrame) => boolean; resolve: (f: RelayFrame) => void }[] = [];

  /** `url` is the relay the client dialled, which its agent logins name. */
  private constructor(
    readonly ws: WebSocket,
    readonly url: string,
  ) {
    this.closed = new Promise((resolve) =>
      ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })),
    );
    ws.on('message', (data: Buffer) => {
      const frame = decodeRelayFrame(new Uint8Array(data));
      if (frame.kind === 'challenge') this.challenge = frame.nonce;
      this.frames.push(frame);
      const waiter = this.waiters.find((w) => w.match(frame));
      if (waiter) {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        waiter.resolve(frame);
      }
    });
    ws.on('error', () => undefined);
  }

  static async connect(url: string, headers: Record<string, string> = {}): Promise<TestClient> {
    const ws = new WebSocket(url, { headers });
    const client = new TestClient(ws, url);
    await client.next((f) => f.kind === 'challenge');
    return client;
  }

  /** Resolves with the first frame (already received or future) matching. */
  next(match: (f: RelayFrame) => boolean, timeoutMs = 5000): Promise<RelayFrame> {
    const seen = this.frames.find(match);
    if (seen) {
      this.frames.splice(this.frames.indexOf(seen), 1);
      return Promise.resolve(seen);
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('Timed out waiting for a frame')), timeoutMs);
      this.waiters.push({
        match,
        resolve: (f) => {
          clearTimeout(timer);
          this.frames.splice(this.frames.indexOf(f), 1);
          resolve(f);
        },
      });
    });
  }

  /** Sends a frame and resolves with the answer carrying its request id. */
  request(frame: Request): Promise<RelayFrame> {
    const requestId = this.nextId++;
    this.ws.send(encodeClientFrame({ ...frame, requestId }));
    return this.next((f) => 'requestId' in f && f.requestId === requestId);
  }

  /** Records received for a conversation so far (consumed). */
  takeRecords(): Extract<RelayFrame, { kind: 'record' }>[] {
    const records = this.frames.filter((f): f is Extract<RelayFrame, { kind: 'record' }> => f.kind === 'record');
    for (const r of records) this.frames.splice(this.frames.indexOf(r), 1);
    return records;
  }

  async authAgent(orgId: Uint8Array<ArrayBuffer>, device: DeviceIdentity): Promise<RelayFrame> {
    const signature = await signRelayChallenge(
      device.signing.privateKey,
      this.challenge,
      orgId,
      device.deviceId,
      this.url,
    );
    return this.request({ kind: 'auth-agent', orgId, deviceId: device.deviceId, signature });
  }

  close(): void {
    this.ws.close();
  }
}

export interface Harness {
  readonly dir: string;
  readonly dbPath: string;
  readonly relay: RunningRelay;
  readonly logs: string[];
  readonly clients: TestClient[];
  connect(headers?: Record<string, string>): Promise<TestClient>;
  stop(): Promise<void>;
}

/** A relay on port 0 with a fresh SQLite file and a log captured in memory. */
export async function startHarness(options: Partial<RelayOptions> = {}): Promise<Harness> {
  const dir = mkdtempSync(join(tmpdir(), 'sealchat-relay-'));
  const dbPath = join(dir, 'nested', 'relay.db');
  const logs: string[] = [];
  const logger: RelayLogger = {
    log: (level, msg, fields = {}) => logs.push(JSON.stringify({ level, msg, ...fields })),
  };
  const relay = await startRelay({ port: 0, dbPath, ...options }, { logger });
  const clients: TestClient[] = [];
  return {
    dir,
    dbPath,
    relay,
    logs,
    clients,
    async connect(headers) {
      const client = await TestClient.connect(relay.url, headers);
      clients.push(client);
      return client;
    },
    async stop() {
      for (const c of clients) c.close();
      await relay.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * For a test file's top level: a {@link startHarness} whose harness is stopped after each test, so
 * a failing test leaves no relay or SQLite file behind. One harness per test.
 */
export function harnessPerTest(): typeof startHarness {
  let harness: Harness | undefined;
  afterEach(async () => {
    await harness?.stop();
    harness = undefined;
  });
  return async (options) => (harness = await startHarness(options));
}

export function random(length: number): Uint8Array<ArrayBuffer> {
  return crypto.getRandomValues(new Uint8Array(length));
}

export function expectKind<K extends RelayFrame['kind']>(frame: RelayFrame, kind: K): Extract<RelayFrame, { kind: K }> {
  if (frame.kind !== kind) {
    const detail = frame.kind === 'error' ? ` ${frame.code}: ${frame.message}` : '';
    throw new Error(`Expected a ${kind} frame, got ${frame.kind}${detail}`);
  }
  return frame as Extract<RelayFrame, { kind: K }>;
}
