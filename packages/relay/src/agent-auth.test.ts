import { generateDeviceIdentity, signRelayChallenge, type DeviceIdentity } from '@sealchat/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { expectKind, startHarness, TestClient, type Harness, type TestOrg } from './testing/relay-harness.js';
import { registerOrg } from './testing/scenarios.js';

const harnesses: Harness[] = [];
afterEach(async () => {
  for (const h of harnesses.splice(0)) await h.stop();
});
async function relay(options: Parameters<typeof startHarness>[0] = {}): Promise<Harness> {
  const h = await startHarness({ demo: true, ...options });
  harnesses.push(h);
  return h;
}

/** The origin a client that dialled `url` names in its login signature. */
const originOf = (url: string) => new URL(url).origin;

/** Answers `client`'s challenge as `device`, naming `origin` as the relay it believes it talks to. */
async function login(client: TestClient, org: TestOrg, device: DeviceIdentity, origin: string) {
  const signature = await signRelayChallenge(
    device.signing.privateKey,
    client.challenge,
    org.orgId,
    device.deviceId,
    origin,
  );
  return client.request({ kind: 'auth-agent', orgId: org.orgId, deviceId: device.deviceId, signature });
}

describe('agent login is bound to the relay it was made for (issue 11, finding 9)', () => {
  // Relay A is hostile: it opens a socket to relay B, hands B's challenge to the agent connected to
  // it, and sends the agent's answer on to B, to act as that agent at B.
  it('refuses at relay B a signature the agent made for relay A', async () => {
    const a = await relay();
    const b = await relay();
    const device = await generateDeviceIdentity();
    const org = await registerOrg(b, [device]);

    const attackerAtB = await b.connect();
    const forwarded = await login(attackerAtB, org, device, originOf(a.relay.url));
    expect(expectKind(forwarded, 'error').code).toBe('SEALCHAT_E_UNAUTHORIZED');

    const honest = await b.connect();
    expectKind(await login(honest, org, device, originOf(b.relay.url)), 'ok');
  });

  it('with publicOrigins, a forged Host header does not make B accept a signature for A', async () => {
    const b = await relay({ publicOrigins: ['wss://relay-b.example'] });
    const device = await generateDeviceIdentity();
    const org = await registerOrg(b, [device]);

    const attackerAtB = await b.connect({ host: 'relay-a.example' });
    const forwarded = await login(attackerAtB, org, device, 'wss://relay-a.example');
    expect(expectKind(forwarded, 'error').code).toBe('SEALCHAT_E_UNAUTHORIZED');

    // Behind a reverse proxy: the agent dialled the public origin, the relay sees another Host.
    const behindProxy = await b.connect();
    expectKind(await login(behindProxy, org, device, 'wss://relay-b.example/some/path'), 'ok');
  });

  it('without publicOrigins, accepts the Host the client dialled, over ws:// or wss://', async () => {
    const b = await relay();
    const device = await generateDeviceIdentity();
    const org = await registerOrg(b, [device]);
    const host = new URL(b.relay.url).host;
    expectKind(await login(await b.connect(), org, device, `wss://${host}`), 'ok');
    expectKind(await login(await b.connect(), org, device, `ws://${host.toUpperCase()}/`), 'ok');
  });
});
