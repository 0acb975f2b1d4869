// What make-test-vectors.mjs and make-note-vectors.mjs share: loading the protocol from its
// TypeScript source (vite's module runner, no build needed) and describing a sealed envelope as
// the vector files record it.
import { resolve } from 'node:path';
import { runnerImport } from 'vite';

const repoRoot = resolve(import.meta.dirname, '../../..');

/** @returns {Promise<typeof import('../src/index.ts')>} */
export async function loadProtocol() {
  const { module } = await runnerImport(resolve(repoRoot, 'packages/protocol/src/index.ts'), {
    configFile: false,
    logLevel: 'warn',
    root: repoRoot,
    resolve: { conditions: ['source'] },
  });
  return module;
}

/**
 * A vector file's entry for one sealed envelope: its kind, bytes, digest and decoded header, in
 * that order (the key order of the JSON). Also returns the decoded envelope.
 */
export async function describeEnvelope(p, kind, bytes) {
  const hex = p.toHex;
  const envelope = p.decodeEnvelope(bytes);
  const entry = {
    kind,
    bytes: hex(bytes),
    digest: hex(await p.envelopeDigest(bytes)),
    header: {
      version: envelope.version,
      type: envelope.type,
      conversationId: hex(envelope.conversationId),
      senderDeviceId: hex(envelope.senderDeviceId),
      chainId: hex(envelope.chainId),
      index: envelope.index,
      senderSeq: envelope.senderSeq,
      transcript: hex(envelope.transcript),
    },
  };
  return { envelope, entry };
}

/** The `keyShare` part of a key share's entry: what its intro says, and the seed it carries. */
export function describeKeyShare(p, intro, chainSeed) {
  return {
    rosterVersion: intro.rosterVersion,
    mode: intro.mode,
    recipients: intro.recipients.map(p.toHex),
    chainSeed: p.toHex(chainSeed),
  };
}
