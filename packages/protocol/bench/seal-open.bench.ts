/**
 * Protocol benchmarks, runtime-agnostic: the same module runs in Node and, bundled, in Chromium
 * (bench/run.mjs drives both and writes docs/benchmarks.md). A report, not a test: nothing here
 * passes or fails; run.mjs states the budgets next to the numbers.
 *
 * Timing uses performance.now(). In Chromium it is only fine-grained (5 µs) on a cross-origin
 * isolated page, which run.mjs serves; operations far below that are timed in batches.
 */
import {
  CHAIN_SEED_LENGTH,
  decodeContent,
  decodeEnvelope,
  encodeContent,
  EnvelopeType,
  generateDeviceIdentity,
  openKeyShare,
  openPayload,
  randomBytes,
  ReceivingChain,
  sealKeyShare,
  sealPayload,
  SecureConversation,
  SendingChain,
  verifyEnvelope,
  ZERO_LINK,
  type DeviceIdentity,
} from '../src/index.js';
import { createTestOrganisation } from '../src/testing/index.js';

/** Milliseconds per operation. */
export interface Stats {
  readonly samples: number;
  /** Operations timed together in one sample (1 = each operation on its own). */
  readonly batch: number;
  readonly median: number;
  readonly p99: number;
  readonly mean: number;
}

export interface Throughput {
  readonly payloadBytes: number;
  readonly ours: Stats;
  readonly raw: Stats;
  /** 10^6 bytes per second at the median. */
  readonly oursMBps: number;
  readonly rawMBps: number;
  /** ours ÷ raw throughput. */
  readonly ratio: number;
}

export interface BenchReport {
  readonly runtime: string;
  readonly crossOriginIsolated: boolean | undefined;
  /** Visitor `seal` + agent `receive` + `decodeContent` of a message with 1024 bytes of text. */
  readonly sealOpen1k: Stats;
  /** WebCrypto AES-256-GCM encrypt + decrypt of 1024 bytes, fresh IV, key imported once. */
  readonly rawGcm1k: Stats;
  /** sealOpen1k median ÷ rawGcm1k median. */
  readonly sealOpenOverRaw: number;
  /** Sender side at 64 KiB: next chain key + `sealPayload` (AES-GCM and Ed25519 over the body) vs AES-GCM encrypt. */
  readonly bulkSeal64k: Throughput;
  /** Plain WebCrypto Ed25519 signature over 64 KiB, key generated once: the part of `sealPayload` that is not AES-GCM. */
  readonly rawSign64k: Stats;
  /** Both sides at the largest body `decodeEnvelope` accepts: seal, decode, verify, take key, open vs encrypt + decrypt. */
  readonly bulkRoundTripMax: Throughput;
  /** One `sealKeyShare` of a chain seed to N devices. */
  readonly keyShare: readonly { readonly devices: number; readonly stats: Stats }[];
  /** One recipient's `openKeyShare` of a 50-device key share. */
  readonly openOneOf50: Stats;
}

export interface BenchOptions {
  /** Scales every iteration count (CI smoke runs use less than 1). Default 1. */
  readonly scale?: number;
  readonly log?: (line: string) => void;
}

const KIB = 1024;
/** MAX_BODY_BYTES in envelope.ts: a larger body does not decode. Repeated here: the package index does not export it. */
const MAX_BODY_BYTES = 60 * KIB;

function stats(samples: number[], batch: number): Stats {
  const perOp = samples.map((s) => s / batch).sort((a, b) => a - b);
  const at = (q: number) => perOp[Math.min(perOp.length - 1, Math.floor(q * perOp.length))]!;
  return {
    samples: perOp.length,
    batch,
    median: at(0.5),
    p99: at(0.99),
    mean: perOp.reduce((a, b) => a + b, 0) / perOp.length,
  };
}

/** Runs `op` `warmup` times untimed, then `samples` timed samples of `batch` calls each. */
async function measure(
  op: () => Promise<unknown>,
  o: { warmup: number; samples: number; batch?: number },
): Promise<Stats> {
  const batch = o.batch ?? 1;
  for (let i = 0; i < o.warmup; i++) await op();
  const out: number[] = [];
  for (let s = 0; s < o.samples; s++) {
    const t0 = performance.now();
    for (let b = 0; b < batch; b++) await op();
    out.push(performance.now() - t0);
  }
  return stats(out, batch);
}

function throughput(payloadBytes: number, ours: Stats, raw: Stats): Throughput {
  const mbps = (s: Stats) => payloadBytes / 1e6 / (s.median / 1000);
  return { payloadBytes, ours, raw, oursMBps: mbps(ours), rawMBps: mbps(raw), ratio: mbps(ours) / mbps(raw) };
}

async function aesKey(): Promise<CryptoKey> {
  return crypto.subtle.importKey('raw', randomBytes(32), 'AES-GCM', false, ['encrypt', 'decrypt']);
}

function filled(length: number): Uint8Array<ArrayBuffer> {
  // getRandomValues takes at most 65536 bytes at a time.
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i += 65536) crypto.getRandomValues(out.subarray(i, Math.min(length, i + 65536)));
  return out;
}

function runtimeName(): string {
  const nav = (globalThis as { navigator?: { userAgent?: string } }).navigator;
  const proc = (globalThis as { process?: { versions?: { node?: string } } }).process;
  if (proc?.versions?.node) return `Node ${proc.versions.node}`;
  return nav?.userAgent ?? 'unknown';
}

export async function runProtocolBench(options: BenchOptions = {}): Promise<BenchReport> {
  const scale = options.scale ?? 1;
  const n = (count: number) => Math.max(3, Math.round(count * scale));
  const log = options.log ?? (() => undefined);

  // --- seal + open of a 1 KB message, visitor to agent ----------------------------------------
  const org = await createTestOrganisation();
  const agent = await generateDeviceIdentity();
  const visitor = await generateDeviceIdentity();
  const roster = await org.verifiedRoster(1, [agent]);
  const conversationId = randomBytes(16);
  // Rotation off: this measures the steady state; the key share a rotation adds is measured below.
  const rotation = { maxMessages: Number.MAX_SAFE_INTEGER, maxAgeMs: Number.MAX_SAFE_INTEGER };
  const common = { orgId: org.orgId, conversationId, roster, rotation };
  const visitorSide = new SecureConversation({ ...common, me: visitor, iAmVisitor: true });
  const agentSide = new SecureConversation({ ...common, me: agent, iAmVisitor: false });
  const text = 'x'.repeat(KIB);
  let sentAt = Date.now();
  const sealOpen = async () => {
    const sealed = await visitorSide.seal(
      EnvelopeType.message,
      encodeContent({ kind: 'text', text, sentAt: sentAt++ }),
    );
    for (const s of sealed) {
      const { received } = await agentSide.receive(s.envelope);
      if (received.kind === 'payload') decodeContent(received.plaintext);
    }
  };
  log('seal + open, 1 KB');
  const sealOpen1k = await measure(sealOpen, { warmup: n(200), samples: n(2000) });

  const key = await aesKey();
  const oneK = filled(KIB);
  const aad = randomBytes(100);
  const rawRoundTrip = async (plaintext: Uint8Array<ArrayBuffer>) => {
    const params = { name: 'AES-GCM', iv: randomBytes(12), additionalData: aad };
    await crypto.subtle.decrypt(params, key, await crypto.subtle.encrypt(params, key, plaintext));
  };
  log('raw AES-256-GCM, 1 KB');
  const rawGcm1k = await measure(() => rawRoundTrip(oneK), { warmup: n(500), samples: n(1000), batch: 16 });

  // --- bulk: 64 KiB through the sender's payload path vs raw AES-GCM ---------------------------
  const sixtyFourK = filled(64 * KIB);
  const sealOnly = async (chain: SendingChain, plaintext: Uint8Array<ArrayBuffer>) =>
    sealPayload({
      type: EnvelopeType.message,
      sender: visitor,
      conversationId,
      chainId: chain.chainId,
      messageKey: await chain.nextMessageKey(),
      plaintext,
      link: { senderSeq: 0, previous: ZERO_LINK },
    });
  log('bulk seal, 64 KiB');
  const bulkChain = SendingChain.create();
  const oursSeal = await measure(() => sealOnly(bulkChain, sixtyFourK), { warmup: n(30), samples: n(300) });
  const rawSeal = await measure(
    () => crypto.subtle.encrypt({ name: 'AES-GCM', iv: randomBytes(12), additionalData: aad }, key, sixtyFourK),
    { warmup: n(30), samples: n(300), batch: 8 },
  );
  const bulkSeal64k = throughput(sixtyFourK.length, oursSeal, rawSeal);
  const rawSign64k = await measure(() => crypto.subtle.sign('Ed25519', visitor.signing.privateKey, sixtyFourK), {
    warmup: n(30),
    samples: n(300),
    batch: 4,
  });

  // --- bulk round trip at the largest body a receiver decodes ----------------------------------
  const maxPlaintext = filled(MAX_BODY_BYTES - 16);
  const roundTripChain = SendingChain.create();
  const receiving = new ReceivingChain(roundTripChain.chainId, roundTripChain.chainSeed);
  const roundTrip = async () => {
    const envelope = decodeEnvelope(await sealOnly(roundTripChain, maxPlaintext));
    await verifyEnvelope(envelope, visitor.signingPublic);
    await openPayload(envelope, await receiving.take(envelope.index));
  };
  log('bulk round trip, max body');
  const oursRound = await measure(roundTrip, { warmup: n(20), samples: n(200) });
  const rawRound = await measure(() => rawRoundTrip(maxPlaintext), { warmup: n(20), samples: n(200), batch: 8 });
  const bulkRoundTripMax = throughput(maxPlaintext.length, oursRound, rawRound);

  // --- sharing a chain seed: one sealKeyShare to 10 and to 50 devices --------------------------
  const devices: DeviceIdentity[] = [];
  for (let i = 0; i < 50; i++) devices.push(await generateDeviceIdentity());
  const keyShare: { devices: number; stats: Stats }[] = [];
  const seal = (recipients: readonly DeviceIdentity[]) =>
    sealKeyShare({
      sender: visitor,
      binding: { orgId: org.orgId, conversationId, chainId: randomBytes(16), rosterVersion: 1, mode: 'archive' },
      seed: randomBytes(CHAIN_SEED_LENGTH),
      recipients,
      link: { senderSeq: 0, previous: ZERO_LINK },
    });
  for (const count of [10, 50]) {
    log(`key share to ${count} devices`);
    const recipients = devices.slice(0, count);
    keyShare.push({
      devices: count,
      stats: await measure(() => seal(recipients), { warmup: n(5), samples: n(count === 10 ? 100 : 40) }),
    });
  }
  const share50 = decodeEnvelope(await seal(devices));
  const last = devices[devices.length - 1]!;
  log('open one share of 50');
  const openOneOf50 = await measure(() => openKeyShare(share50, last, org.orgId), { warmup: n(10), samples: n(200) });

  return {
    runtime: runtimeName(),
    crossOriginIsolated: (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated,
    sealOpen1k,
    rawGcm1k,
    sealOpenOverRaw: sealOpen1k.median / rawGcm1k.median,
    bulkSeal64k,
    rawSign64k,
    bulkRoundTripMax,
    keyShare,
    openOneOf50,
  };
}
