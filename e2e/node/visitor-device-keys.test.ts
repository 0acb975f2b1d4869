import { loadOrCreateOrganisation, MemoryClientStore, publishRoster, type ChatMessage } from '@sealchat/client';
import { toHex } from '@sealchat/protocol';
import { describe, expect, it } from 'vitest';
import { agentSession, startTestRelay, until, useClosers, visitorSession, WS } from './support.js';

/**
 * A visitor's device key is per organisation and renewed when the visitor erases a conversation,
 * so neither two organisations on one site nor two conversations of one visitor can be linked by it
 * (issue 11, finding 9; docs/visitor-continuity.md).
 */
const closers = useClosers();

async function orgOn(url: string, agentName: string) {
  const org = await loadOrCreateOrganisation(new MemoryClientStore(), { agentName });
  await publishRoster(url, org, { WebSocket: WS });
  return org;
}

describe('visitor device keys', () => {
  it('two organisations on one site see two different visitor devices, each kept across reloads', async () => {
    const running = await startTestRelay(closers);
    const [shop, helpdesk] = [await orgOn(running.url, 'Robin'), await orgOn(running.url, 'Kim')];
    // One store is one site's storage: both widgets on it share it.
    const site = new MemoryClientStore();
    const atShop = await visitorSession(running, shop.orgKey, closers, { store: site });
    const atHelpdesk = await visitorSession(running, helpdesk.orgKey, closers, { store: site });
    expect(toHex(atShop.identity.deviceId)).not.toBe(toHex(atHelpdesk.identity.deviceId));

    atShop.close();
    const reloaded = await visitorSession(running, shop.orgKey, closers, { store: site });
    expect(toHex(reloaded.identity.deviceId)).toBe(toHex(atShop.identity.deviceId));
  });

  it('after erasing a conversation, the next one comes from a new device, also after a reload', async () => {
    const running = await startTestRelay(closers);
    const org = await orgOn(running.url, 'Robin');
    const robin = await agentSession(running, org.rootPublic, org.agent, closers);
    const site = new MemoryClientStore();
    const visitor = await visitorSession(running, org.orgKey, closers, { store: site });

    await visitor.send('First question');
    const first = await until<ChatMessage>(robin, 'message', (m) => m.text === 'First question');
    const firstDevice = toHex(visitor.identity.deviceId);
    expect(await robin.safetyCode(first.conversationId)).toBe(await visitor.safetyCode());

    await visitor.deleteConversation();
    await visitor.send('Second question');
    const second = await until<ChatMessage>(robin, 'message', (m) => m.text === 'Second question');
    expect(second.conversationId).not.toBe(first.conversationId);
    const secondDevice = toHex(visitor.identity.deviceId);
    expect(secondDevice).not.toBe(firstDevice);
    // The agent reads the second conversation as from the new device's key.
    expect(await robin.safetyCode(second.conversationId)).toBe(await visitor.safetyCode());

    visitor.close();
    await visitor.flush();
    const reloaded = await visitorSession(running, org.orgKey, closers, { store: site });
    expect(toHex(reloaded.identity.deviceId)).toBe(secondDevice);
  });
});
