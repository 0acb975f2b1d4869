/**
 * Frozen known-answer vectors for private notes (test-vectors/v1-notes.json, made once by
 * scripts/make-note-vectors.mjs with the keys of v1.json, which stays as it was). The roster is
 * version 7 of v2-trust.json: v1.json's format-1 roster no longer verifies, and the envelopes bind
 * only the roster's version and readers, which v2's version 7 shares. A failure here means the bytes
 * of envelope types 6 or 7 changed. Runs in Node and in Chromium.
 */
import { describe, expect, it } from 'vitest';
import notesJson from '../test-vectors/v1-notes.json';
import v1Json from '../test-vectors/v1.json';
import trustJson from '../test-vectors/v2-trust.json';
import { AgentSecureConversation } from './agent-secure-conversation.js';
import { toHex } from './bytes.js';
import {
  decodeEnvelope,
  envelopeDigest,
  EnvelopeType,
  openKeyShare,
  readKeyShareIntro,
  sealPayload,
} from './envelope.js';
import { OpenError, SealchatError } from './errors.js';
import { restoreDeviceIdentity, type DeviceIdentity } from './identity.js';
import { decodeContent, decodeNote, textOf } from './message-content.js';
import { verifyRoster } from './roster.js';
import { SecureConversation } from './secure-conversation.js';
import { ReceivingChain } from './sender-chain.js';
import {
  agreementPair,
  bytes,
  list,
  number,
  object,
  signingPair,
  string,
  type Bytes,
  type Json,
} from './testing/vector-json.js';

interface NoteEnvelopeVector {
  readonly kind: 'note-key-share' | 'note' | 'key-share' | 'message';
  readonly bytes: Bytes;
  readonly digest: Bytes;
  readonly header: Json;
  /** Key shares: recipients and the seed; payloads: plaintext and the text it carries. */
  readonly recipients: readonly string[];
  readonly chainSeed: Bytes | undefined;
  readonly plaintext: Bytes | undefined;
  readonly text: string | undefined;
  readonly sentAt: number | undefined;
}

const KINDS = ['note-key-share', 'note', 'key-share', 'message'] as const;
function envelopeVector(value: unknown, i: number): NoteEnvelopeVector {
  const o = object(value, `envelopes[${i}]`);
  const kind = KINDS.find((k) => k === string(o, 'kind'));
  if (!kind) throw new TypeError(`envelopes[${i}].kind: unknown`);
  const share = kind.endsWith('key-share') ? object(o['keyShare'], `envelopes[${i}].keyShare`) : undefined;
  const content = share ? undefined : object(o['content'], `envelopes[${i}].content`);
  return {
    kind,
    bytes: bytes(o, 'bytes'),
    digest: bytes(o, 'digest'),
    header: object(o['header'], `envelopes[${i}].header`),
    recipients: share ? list(share, 'recipients').map((r) => string({ r }, 'r')) : [],
    chainSeed: share ? bytes(share, 'chainSeed') : undefined,
    plaintext: content ? bytes(o, 'plaintext') : undefined,
    text: content ? string(content, 'text') : undefined,
    sentAt: content ? number(content, 'sentAt') : undefined,
  };
}

const N = object(notesJson, 'v1-notes.json');
const V = object(v1Json, 'v1.json');
const NOW = number(V, 'now');
const conversationId = bytes(object(N['conversation'], 'conversation'), 'id');
const orgId = bytes(object(V['org'], 'org'), 'orgId');
const rootPublic = bytes(object(V['org'], 'org'), 'rootPublic');
const visitorKeyShare = bytes(object(list(V, 'envelopes')[0], 'v1 envelopes[0]'), 'bytes');
const visitorEnvelopes = list(V, 'envelopes').map((e, i) => bytes(object(e, `v1 envelopes[${i}]`), 'bytes'));
const envelopes = list(N, 'envelopes').map(envelopeVector);
const [noteShare, theNote, messageShare, message] = envelopes as [
  NoteEnvelopeVector,
  NoteEnvelopeVector,
  NoteEnvelopeVector,
  NoteEnvelopeVector,
];

async function device(name: 'supervisor' | 'agent' | 'visitor'): Promise<DeviceIdentity> {
  const d = object(V[name], name);
  return restoreDeviceIdentity(
    await signingPair(bytes(d, 'signingPrivatePkcs8'), bytes(d, 'signingPublic')),
    await agreementPair(bytes(d, 'agreementPrivatePkcs8'), bytes(d, 'agreementPublic')),
  );
}

async function archive() {
  const a = object(V['archive'], 'archive');
  return {
    deviceId: bytes(a, 'deviceId'),
    agreement: await agreementPair(bytes(a, 'agreementPrivatePkcs8'), bytes(a, 'agreementPublic')),
  };
}

/** Roster version 7 of v2-trust.json: the version and readers v1.json's key share binds. */
const rosterV7 = list(object(trustJson, 'v2-trust.json'), 'rosters')
  .map((r, i) => object(r, `rosters[${i}]`))
  .find((r) => number(r, 'version') === number(object(V['roster'], 'roster'), 'version'));
if (!rosterV7) throw new TypeError('v2-trust.json: no roster of v1.json’s version');
const roster = () => verifyRoster(bytes(rosterV7, 'encoded'), { orgRootKey: rootPublic, now: NOW });

async function agentSide(me: DeviceIdentity, withArchive = false) {
  const side = new AgentSecureConversation({
    me,
    orgId,
    conversationId,
    roster: await roster(),
    now: () => NOW,
    ...(withArchive ? { archive: await archive() } : {}),
  });
  await side.receive(visitorKeyShare);
  return side;
}

describe('wire-format vectors: private notes (v1 envelopes, trust v2 roster version 7)', () => {
  it('every envelope decodes to the header in the vectors and hashes to its digest; the agent’s transcript starts at 0 and links up', async () => {
    let previous = new Uint8Array(32);
    for (const [i, e] of envelopes.entries()) {
      const decoded = decodeEnvelope(e.bytes);
      expect(decoded.type).toBe([6, 7, 1, 2][i]);
      expect({
        version: decoded.version,
        type: decoded.type,
        conversationId: toHex(decoded.conversationId),
        senderDeviceId: toHex(decoded.senderDeviceId),
        chainId: toHex(decoded.chainId),
        index: decoded.index,
        senderSeq: decoded.senderSeq,
        transcript: toHex(decoded.transcript),
      }).toEqual(e.header);
      expect(decoded.senderSeq).toBe(i);
      expect(toHex(decoded.transcript)).toBe(toHex(previous));
      previous = await envelopeDigest(e.bytes);
      expect(toHex(previous)).toBe(toHex(e.digest));
    }
  });

  it('the note key share goes to the supervisor, the archive key and the agent itself, never the visitor; the message key share to the visitor too', () => {
    const id = (name: string) => string(object(V[name], name), 'deviceId');
    expect([...noteShare.recipients].sort()).toEqual([id('supervisor'), id('agent'), id('archive')].sort());
    expect(noteShare.recipients).not.toContain(id('visitor'));
    expect(messageShare.recipients).toContain(id('visitor'));
    const intro = readKeyShareIntro(decodeEnvelope(noteShare.bytes), EnvelopeType.noteKeyShare);
    expect(intro.recipients.map(toHex)).toEqual(noteShare.recipients);
    expect(intro.mode).toBe('archive');
  });

  it('the supervisor, the archive key and the agent open the note share to the same seed; the visitor has no share', async () => {
    const share = decodeEnvelope(noteShare.bytes);
    for (const opener of [await device('supervisor'), await archive(), await device('agent')])
      expect(toHex(await openKeyShare(share, opener, orgId))).toBe(toHex(noteShare.chainSeed!));
    await expect(openKeyShare(share, await device('visitor'), orgId)).rejects.toThrow(OpenError);
  });

  it('the note envelope is deterministic given the seed: re-sealing reproduces it byte for byte', async () => {
    const chain = new ReceivingChain(decodeEnvelope(theNote.bytes).chainId, Uint8Array.from(noteShare.chainSeed!));
    const resealed = await sealPayload({
      type: EnvelopeType.note,
      sender: await device('agent'),
      conversationId,
      chainId: decodeEnvelope(theNote.bytes).chainId,
      messageKey: await chain.take(0),
      plaintext: theNote.plaintext!,
      link: { senderSeq: 1, previous: noteShare.digest },
    });
    expect(toHex(resealed)).toBe(toHex(theNote.bytes));
    expect(decodeNote(theNote.plaintext!)).toEqual({ kind: 'note', text: theNote.text, sentAt: theNote.sentAt });
  });

  it('a colleague, and a supervisor through the archive key alone, read the note and the message with exactly the expected plaintexts', async () => {
    for (const side of [await agentSide(await device('supervisor')), await agentSide(await device('agent'), true)]) {
      const results = [];
      for (const e of envelopes) results.push(await side.receive(e.bytes));
      expect(results.flatMap((r) => r.events)).toEqual([]);
      const [, noteResult, , messageResult] = results.map((r) => r.received);
      if (noteResult?.kind !== 'payload' || messageResult?.kind !== 'payload') throw new Error('not read');
      expect(toHex(noteResult.plaintext)).toBe(toHex(theNote.plaintext!));
      expect(decodeNote(noteResult.plaintext).text).toBe(theNote.text);
      expect(textOf(decodeContent(messageResult.plaintext))).toBe(message.text);
    }
  });

  it('the visitor places the note unopened: it reads the message with no gap or fork', async () => {
    const visitor = new SecureConversation({
      me: await device('visitor'),
      orgId,
      conversationId,
      roster: await roster(),
      iAmVisitor: true,
      mode: 'archive',
    });
    for (const bytes of visitorEnvelopes) await visitor.receive(bytes);
    const results = [];
    for (const e of envelopes) results.push(await visitor.receive(e.bytes));
    expect(results.map((r) => r.received.kind)).toEqual(['hidden', 'hidden', 'key-share', 'payload']);
    expect(results.flatMap((r) => r.events)).toEqual([]);
    const last = results[3]!.received;
    expect(last.kind === 'payload' && textOf(decodeContent(last.plaintext))).toBe(message.text);
  });

  it('every single-byte change to the note key share or the note is refused, and the conversation carries on', async () => {
    const side = await agentSide(await device('supervisor'));
    for (const e of [noteShare, theNote]) {
      for (let i = 0; i < e.bytes.length; i++) {
        const changed = Uint8Array.from(e.bytes);
        changed[i]! ^= 0x01;
        await expect(side.receive(changed), `${e.kind} byte ${i}`).rejects.toThrow(SealchatError);
      }
      await side.receive(e.bytes);
    }
  });

  it('relabelled as a message key share, the note key share does not open (its own HPKE info label)', async () => {
    const relabelled = Uint8Array.from(noteShare.bytes);
    relabelled[1] = EnvelopeType.keyShare;
    await expect(openKeyShare(decodeEnvelope(relabelled), await device('supervisor'), orgId)).rejects.toThrow(
      OpenError,
    );
  });
});
