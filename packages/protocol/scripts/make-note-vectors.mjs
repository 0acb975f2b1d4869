#!/usr/bin/env node
// Writes packages/protocol/test-vectors/v1-notes.json: known-answer vectors for the private notes
// (envelope types 6 and 7, docs/protocol.md §6–§8), in the conversation of v1.json and with its
// test-only keys, so v1.json itself stays byte for byte as it was. The agent of v1.json answers the
// visitor's key share with a note key share, a note, then a key share and a message. The roster is
// version 7 of v2-trust.json (format 2): v1.json's own roster is format 1, which no longer verifies,
// and v1-notes.json, made under it, did not change, since the envelopes bind only the roster's
// version and readers, which are the same. Run it once, on purpose; like v1.json, these vectors are
// meant not to change:
//
//   node packages/protocol/scripts/make-note-vectors.mjs
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describeEnvelope, describeKeyShare, loadProtocol } from './vector-tools.mjs';

const v1 = JSON.parse(readFileSync(resolve(import.meta.dirname, '../test-vectors/v1.json'), 'utf8'));
const trust = JSON.parse(readFileSync(resolve(import.meta.dirname, '../test-vectors/v2-trust.json'), 'utf8'));
const out = resolve(import.meta.dirname, '../test-vectors/v1-notes.json');
const p = await loadProtocol();

const hex = p.toHex;
const bytes = p.fromHex;
const NOW = v1.now;

async function identity(d) {
  const signing = {
    privateKey: await crypto.subtle.importKey('pkcs8', bytes(d.signingPrivatePkcs8), { name: 'Ed25519' }, false, [
      'sign',
    ]),
    publicKey: await crypto.subtle.importKey('raw', bytes(d.signingPublic), { name: 'Ed25519' }, true, ['verify']),
  };
  const agreement = {
    privateKey: await crypto.subtle.importKey('pkcs8', bytes(d.agreementPrivatePkcs8), { name: 'X25519' }, false, [
      'deriveBits',
    ]),
    publicKey: await crypto.subtle.importKey('raw', bytes(d.agreementPublic), { name: 'X25519' }, true, []),
  };
  return p.restoreDeviceIdentity(signing, agreement);
}

const agent = await identity(v1.agent);
const orgId = bytes(v1.org.orgId);
const rosterV7 = trust.rosters.find((r) => r.version === v1.roster.version);
const roster = await p.verifyRoster(bytes(rosterV7.encoded), { orgRootKey: bytes(v1.org.rootPublic), now: NOW });
const agentSide = new p.AgentSecureConversation({
  me: agent,
  orgId,
  conversationId: bytes(v1.conversation.id),
  roster,
  now: () => NOW,
});
// The visitor's key share introduces the visitor (and pins archive mode).
await agentSide.receive(bytes(v1.envelopes[0].bytes));

const note = {
  kind: 'note',
  text: 'Customer since 2019 — refund approved by Åsa, do not ask for the receipt.',
  sentAt: NOW + 10_000,
};
const reply = { kind: 'text', text: 'Your refund is on its way.', sentAt: NOW + 11_000 };
const notePlaintext = p.encodeNote(note);
const replyPlaintext = p.encodeContent(reply);
const sealed = [
  ...(await agentSide.sealNote(notePlaintext)),
  ...(await agentSide.seal(p.EnvelopeType.message, replyPlaintext)),
];
const kinds = ['note-key-share', 'note', 'key-share', 'message'];
if (sealed.map((s) => s.type).join() !== '6,7,1,2') {
  throw new Error(`Expected a note key share, a note, a key share and a message, got ${sealed.map((s) => s.type)}`);
}

const envelopes = [];
for (const [i, s] of sealed.entries()) {
  const { envelope, entry } = await describeEnvelope(p, kinds[i], s.envelope);
  if (i === 0 || i === 2) {
    // Archive mode shares every chain with its sender too: the agent reads its own seed back.
    const intro = p.readKeyShareIntro(envelope, envelope.type);
    entry.keyShare = describeKeyShare(p, intro, await p.openKeyShare(envelope, agent, orgId));
  } else {
    entry.plaintext = hex(i === 1 ? notePlaintext : replyPlaintext);
    entry.content = i === 1 ? note : reply;
  }
  envelopes.push(entry);
}

const vectors = {
  description:
    'Sealchat protocol v1 known-answer vectors for private notes (envelope types 6 and 7): in the conversation ' +
    'of v1.json, after the visitor’s key share (v1.json envelopes[0]), the agent writes a note key share (to ' +
    'the supervisor, the archive key and itself, not the visitor), a note, then a key share and a message. ' +
    'Keys and conversation are v1.json’s, the roster version 7 of v2-trust.json. Made by ' +
    'packages/protocol/scripts/make-note-vectors.mjs; ' +
    'see test-vectors/README.md.',
  warning: 'TEST-ONLY KEYS (those of v1.json). Never use them for anything else.',
  protocolVersion: p.PROTOCOL_VERSION,
  now: NOW,
  keys: 'v1.json',
  conversation: v1.conversation,
  after: { envelope: 'v1.json envelopes[0]', digest: v1.envelopes[0].digest },
  envelopes,
};

writeFileSync(out, `${JSON.stringify(vectors, null, 2)}\n`);
console.log(`wrote ${out}: ${envelopes.length} envelopes`);
