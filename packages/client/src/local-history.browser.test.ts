import { describe, expect, it } from 'vitest';
import { openDB } from 'idb';
import { randomBytes, toHex } from '@sealchat/protocol';
import { createTestOrganisation } from '@sealchat/protocol/testing';
import type { ChatMessage } from './chat-message.js';
import { saveConversationPointer } from './client-store.js';
import { StoredStateError } from './errors.js';
import { IdbClientStore } from './idb-client-store.js';
import { deleteLocalHistory, loadLocalHistory, saveLocalHistory, type LocalHistory } from './local-history.js';
import { VisitorSession } from './visitor-session.js';

const CANARY = 'CANARY-4417 my card is on the kitchen table';
/** Nothing listens here: the session stays offline. */
const UNREACHABLE = 'ws://127.0.0.1:9';

const freshName = (): string => `sealchat-test-${crypto.randomUUID()}`;

/** Reads a record the way someone with the profile directory would: straight out of the database. */
async function raw(dbName: string, key: string): Promise<unknown> {
  const db = await openDB(dbName);
  try {
    return await db.get('records', key);
  } finally {
    db.close();
  }
}

async function rawPut(dbName: string, key: string, value: unknown): Promise<void> {
  const db = await openDB(dbName);
  try {
    await db.put('records', value, key);
  } finally {
    db.close();
  }
}

function includes(haystack: Uint8Array, needle: Uint8Array): boolean {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return true;
  }
  return false;
}

function history(conversationId: string): LocalHistory {
  const message = (seq: number | undefined, text: string, mine: boolean): ChatMessage => ({
    id: mine ? toHex(randomBytes(16)) : `seq:${seq}`,
    conversationId,
    seq,
    author: mine ? 'visitor' : 'agent',
    authorName: mine ? undefined : 'Robin',
    mine,
    text,
    fields: undefined,
    sentAt: 1_767_225_600_000 + (seq ?? 9),
    state: seq === undefined ? 'failed' : mine ? 'read' : 'sent',
  });
  return {
    conversationId,
    epoch: 7,
    // Stored ones, then one still in the outbox (no seq).
    messages: [
      message(2, CANARY, true),
      message(4, 'Thanks, noted.', false),
      message(undefined, 'still waiting', true),
    ],
  };
}

/** A store with a visitor conversation pointer and its local history, as a previous page load left it. */
async function previousVisit(dbName: string, mode?: 'ephemeral') {
  const org = await createTestOrganisation();
  const store = await IdbClientStore.open(dbName);
  const conversationId = randomBytes(16);
  await saveConversationPointer(store, org.orgId, { conversationId, capability: randomBytes(32) });
  const saved = history(toHex(conversationId));
  await saveLocalHistory(store, org.orgId, saved);
  const open = () =>
    VisitorSession.open({
      relayUrl: UNREACHABLE,
      orgKey: org.orgKey,
      store,
      reconnectDelayMs: 60_000,
      ...(mode ? { mode } : {}),
    });
  return { org, store, saved, open };
}

describe('local history at rest (real IndexedDB in Chromium)', () => {
  it('round-trips, and the database holds only ciphertext and a non-extractable AES-GCM CryptoKey', async () => {
    const name = freshName();
    const { org, store, saved } = await previousVisit(name);
    expect(await loadLocalHistory(store, org.orgId)).toEqual(saved);

    const record = await raw(name, `local/${toHex(org.orgId)}`);
    expect(record).toBeInstanceOf(Uint8Array);
    const bytes = record as Uint8Array;
    for (const plaintext of [CANARY, 'Thanks, noted.', 'still waiting', 'Robin', '"text"'])
      expect(includes(bytes, new TextEncoder().encode(plaintext))).toBe(false);

    const key = await raw(name, `local-key/${toHex(org.orgId)}`);
    expect(key).toBeInstanceOf(CryptoKey);
    expect((key as CryptoKey).extractable).toBe(false);
    expect((key as CryptoKey).algorithm.name).toBe('AES-GCM');
    await expect(crypto.subtle.exportKey('raw', key as CryptoKey)).rejects.toThrow();
    store.close();
  });

  it('a reload shows the history at once while the relay is unreachable, with unsent messages as sending', async () => {
    const { saved, open, store } = await previousVisit(freshName());
    const started = performance.now();
    const session = await open();
    expect(performance.now() - started).toBeLessThan(1000);
    expect(session.state).not.toBe('open');
    expect(session.conversationId).toBe(saved.conversationId);
    expect(session.messages.map((m) => [m.text, m.state])).toEqual([
      [CANARY, 'read'],
      ['Thanks, noted.', 'sent'],
      ['still waiting', 'sending'],
    ]);
    expect(session.messages[2]!.id).toBe(saved.messages[2]!.id);
    expect(await session.safetyCode()).toMatch(/^\d{5} \d{5} \d{5} \d{5}$/);
    session.close();
    store.close();
  });

  it('a tampered record is an error event and a clean start, not a crash or wrong messages', async () => {
    const name = freshName();
    const { org, store, open } = await previousVisit(name);
    const key = `local/${toHex(org.orgId)}`;
    const bytes = (await raw(name, key)) as Uint8Array;
    const at = bytes.length - 20;
    bytes[at] = bytes[at]! ^ 1;
    await rawPut(name, key, bytes);
    await expect(loadLocalHistory(store, org.orgId)).rejects.toBeInstanceOf(StoredStateError);

    const session = await open();
    const error = await new Promise<unknown>((resolve) =>
      session.addEventListener('error', (event) => resolve(event.detail)),
    );
    expect(error).toBeInstanceOf(StoredStateError);
    expect(session.messages).toEqual([]);
    // Clean: the record and its key are gone, and what comes next is kept under a new key.
    expect(await raw(name, key)).toBeUndefined();
    expect(await raw(name, `local-key/${toHex(org.orgId)}`)).toBeUndefined();
    const sent = await session.send('after the reset');
    await session.flush();
    expect((await loadLocalHistory(store, org.orgId))?.messages.map((m) => [m.id, m.seq])).toEqual([
      [sent.id, undefined],
    ]);
    session.close();
    store.close();
  });

  it("another organisation's record moved into this slot does not decrypt", async () => {
    const name = freshName();
    const { org, store } = await previousVisit(name);
    const other = await createTestOrganisation();
    // Same key for both slots, so only the associated data (the record's name) tells them apart.
    await rawPut(name, `local-key/${toHex(other.orgId)}`, await raw(name, `local-key/${toHex(org.orgId)}`));
    await saveLocalHistory(store, other.orgId, history('00'.repeat(16)));
    await rawPut(name, `local/${toHex(org.orgId)}`, await raw(name, `local/${toHex(other.orgId)}`));
    await expect(loadLocalHistory(store, org.orgId)).rejects.toBeInstanceOf(StoredStateError);
    store.close();
  });

  it('ephemeral mode keeps no history: only what is not yet sent, until it is', async () => {
    const { org, store, open } = await previousVisit(freshName(), 'ephemeral');
    const session = await open();
    expect(session.messages.map((m) => m.text)).toEqual(['still waiting']);
    await session.send(CANARY);
    await session.flush();
    const kept = await loadLocalHistory(store, org.orgId);
    expect(kept?.messages.map((m) => [m.text, m.seq])).toEqual([
      ['still waiting', undefined],
      [CANARY, undefined],
    ]);
    session.close();
    await deleteLocalHistory(store, org.orgId);
    expect(await loadLocalHistory(store, org.orgId)).toBeUndefined();
    store.close();
  });
});
