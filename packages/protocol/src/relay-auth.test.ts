import { describe, expect, it } from 'vitest';
import { SignatureError } from './errors.js';
import { generateDeviceIdentity } from './identity.js';
import { relayOrigin, signRelayChallenge, verifyRelayChallenge } from './relay-auth.js';

const random = (length: number) => crypto.getRandomValues(new Uint8Array(length));

describe('relay login signatures name the relay (issue 11, finding 9)', () => {
  it('names a relay by the origin of the URL dialled', () => {
    expect(relayOrigin('wss://Relay.Example:443/chat?x=1')).toBe('wss://relay.example');
    expect(relayOrigin('ws://127.0.0.1:8787/')).toBe('ws://127.0.0.1:8787');
    expect(relayOrigin('ws://[::1]:80')).toBe('ws://[::1]');
  });

  it.each(['https://relay.example', 'relay.example', ''])('refuses %j as a relay URL', (url) => {
    expect(() => relayOrigin(url)).toThrow(TypeError);
  });

  it('verifies for the relay it was made for, however its URL is spelled', async () => {
    const device = await generateDeviceIdentity();
    const [challenge, orgId] = [random(32), random(16)];
    const key = device.signing.privateKey;
    const signature = await signRelayChallenge(key, challenge, orgId, device.deviceId, 'wss://relay-a.example/chat');
    await verifyRelayChallenge(
      device.signingPublic,
      challenge,
      orgId,
      device.deviceId,
      'wss://RELAY-A.example:443',
      signature,
    );
  });

  it('refuses a signature made for another relay, scheme or port, or over another challenge', async () => {
    const device = await generateDeviceIdentity();
    const [challenge, orgId] = [random(32), random(16)];
    const key = device.signing.privateKey;
    const signature = await signRelayChallenge(key, challenge, orgId, device.deviceId, 'wss://relay-a.example');
    const check = (relay: string, c = challenge) =>
      verifyRelayChallenge(device.signingPublic, c, orgId, device.deviceId, relay, signature);
    await expect(check('wss://relay-b.example')).rejects.toThrow(SignatureError);
    await expect(check('ws://relay-a.example')).rejects.toThrow(SignatureError);
    await expect(check('wss://relay-a.example:8443')).rejects.toThrow(SignatureError);
    await expect(check('wss://relay-a.example', random(32))).rejects.toThrow(SignatureError);
  });
});
