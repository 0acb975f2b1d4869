import { describe, expect, it } from 'vitest';
import { loadOrCreateIdentity, sign, verify } from '@sealchat/protocol';
import { IdbClientStore } from './idb-client-store.js';
import { loadConversationPointer } from './client-store.js';
import { StoredStateError } from './errors.js';

describe('IdbClientStore (real IndexedDB in Chromium)', () => {
  it('keeps a device identity across reopen: same keys, still non-extractable, still able to sign', async () => {
    const name = `sealchat-test-${crypto.randomUUID()}`;
    const first = await IdbClientStore.open(name);
    const created = await loadOrCreateIdentity(first, 'visitor');
    first.close();

    const second = await IdbClientStore.open(name);
    const restored = await loadOrCreateIdentity(second, 'visitor');
    expect(restored.deviceId).toEqual(created.deviceId);
    expect(restored.signing.privateKey.extractable).toBe(false);
    expect(restored.agreement.privateKey.extractable).toBe(false);
    await expect(crypto.subtle.exportKey('pkcs8', restored.signing.privateKey)).rejects.toThrow();
    const data = new TextEncoder().encode('hello');
    const signature = await sign(restored.signing.privateKey, 'test', data);
    await expect(verify(created.signingPublic, 'test', data, signature)).resolves.toBeUndefined();
    second.close();
  });

  it('refuses a corrupt stored record with a typed error instead of using it', async () => {
    const store = await IdbClientStore.open(`sealchat-test-${crypto.randomUUID()}`);
    const orgId = new Uint8Array(16);
    await store.putRecord('conversation/00000000000000000000000000000000', { conversationId: 42 });
    await expect(loadConversationPointer(store, orgId)).rejects.toBeInstanceOf(StoredStateError);
    store.close();
  });
});
