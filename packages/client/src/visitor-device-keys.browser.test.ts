import { afterEach, describe, expect, it } from 'vitest';
import { loadOrCreateIdentity, randomBytes, toHex } from '@sealchat/protocol';
import { createTestOrganisation } from '@sealchat/protocol/testing';
import { saveConversationPointer } from './client-store.js';
import { IdbClientStore } from './idb-client-store.js';
import type { WebSocketLike } from './relay-connection.js';
import { VisitorSession } from './visitor-session.js';

/**
 * A visitor's device key is per organisation and renewed on erasure, in the browser's real
 * IndexedDB: one database is one site, whatever organisations' widgets it embeds (issue 11, finding 9).
 */

/** A relay that never answers: these sessions only load what the site's storage keeps. */
class Unreachable implements WebSocketLike {
  binaryType = 'arraybuffer';
  readonly readyState = 0;
  send(): void {}
  close(): void {}
  addEventListener(): void {}
}

const sessions: VisitorSession[] = [];
afterEach(() => {
  for (const session of sessions.splice(0)) session.close();
});

/** A page load of `orgKey`'s widget on the site whose storage is the database `db`. */
async function load(db: string, orgKey: string): Promise<VisitorSession> {
  const session = await VisitorSession.open({
    relayUrl: 'ws://relay.invalid',
    orgKey,
    store: await IdbClientStore.open(db),
    WebSocket: Unreachable,
  });
  sessions.push(session);
  return session;
}

const device = (session: VisitorSession) => toHex(session.identity.deviceId);

describe('visitor device keys in IndexedDB', () => {
  it('two organisations on one origin get two devices, each kept across reloads', async () => {
    const db = `sealchat-test-${crypto.randomUUID()}`;
    const [shop, helpdesk] = [await createTestOrganisation(), await createTestOrganisation()];
    const atShop = device(await load(db, shop.orgKey));
    const atHelpdesk = device(await load(db, helpdesk.orgKey));
    expect(atShop).not.toBe(atHelpdesk);
    expect(device(await load(db, shop.orgKey))).toBe(atShop);
    expect(device(await load(db, helpdesk.orgKey))).toBe(atHelpdesk);
  });

  it('erasing renews the device, and the new one is what the next page load uses', async () => {
    const db = `sealchat-test-${crypto.randomUUID()}`;
    const org = await createTestOrganisation();
    const session = await load(db, org.orgKey);
    const before = device(session);
    await session.deleteConversation();
    const after = device(session);
    expect(after).not.toBe(before);
    expect(device(await load(db, org.orgKey))).toBe(after);
  });

  it('a conversation begun with the key every organisation shared keeps it; others get their own', async () => {
    const db = `sealchat-test-${crypto.randomUUID()}`;
    const [shop, helpdesk] = [await createTestOrganisation(), await createTestOrganisation()];
    const store = await IdbClientStore.open(db);
    const shared = toHex((await loadOrCreateIdentity(store, 'visitor')).deviceId);
    await saveConversationPointer(store, shop.orgId, { conversationId: randomBytes(16), capability: randomBytes(32) });
    store.close();
    expect(device(await load(db, shop.orgKey))).toBe(shared);
    expect(device(await load(db, helpdesk.orgKey))).not.toBe(shared);
  });
});
