import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import {
  RosterError,
  RosterSignerError,
  bytesEqual,
  issueCertificate,
  verifyPastRoster,
  decodeClientFrame,
  encodeRelayFrame,
  exportPublicKey,
  generateDeviceIdentity,
  generateSigningKeyPair,
  issueRoster,
  orgIdFromRootKey,
  randomBytes,
  verifyRoster,
} from '@sealchat/protocol';
import { MemoryClientStore } from './client-store.js';
import { createOrganisation, loadOrganisation, registerOrganisation, restoreOrganisation } from './org-setup.js';
import type { WebSocketConstructor } from './relay-connection.js';
import { currentRoster, enrolAgentDevice } from './team-roster.js';

const PASSPHRASE = 'correct horse battery staple';
const ws = { WebSocket: WebSocket as unknown as WebSocketConstructor };

/**
 * A relay that keeps one roster per org, as the real one does: anyone may publish, and it refuses a
 * roster that does not verify or is not newer than the one it has. `forged` makes it answer
 * `get-roster` with a roster of its own instead.
 */
async function rosterRelay(forged?: Uint8Array<ArrayBuffer>) {
  const rosters = new Map<string, Uint8Array<ArrayBuffer>>();
  const heldVersions = new Map<string, number>();
  const published: number[] = [];
  const server = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  server.on('connection', (socket) => {
    socket.send(encodeRelayFrame({ kind: 'challenge', nonce: randomBytes(32) }));
    socket.on('message', (data: Buffer) => {
      void (async () => {
        const frame = decodeClientFrame(new Uint8Array(data));
        if (frame.kind === 'get-roster') {
          const roster = forged ?? rosters.get(frame.orgId.join());
          socket.send(
            encodeRelayFrame(
              roster
                ? { kind: 'roster', requestId: frame.requestId, roster }
                : { kind: 'error', requestId: frame.requestId, code: 'SEALCHAT_E_NOT_FOUND', message: 'no roster' },
            ),
          );
        } else if (frame.kind === 'publish-roster-head') {
          socket.send(encodeRelayFrame({ kind: 'ok', requestId: frame.requestId }));
        } else if (frame.kind === 'get-roster-head') {
          // It keeps no head: the console signs the audit floor of its own store (none here).
          const message = 'no roster head';
          socket.send(
            encodeRelayFrame({ kind: 'error', requestId: frame.requestId, code: 'SEALCHAT_E_NOT_FOUND', message }),
          );
        } else if (frame.kind === 'publish-roster') {
          try {
            const before = await heldRoster(frame.orgRootKey);
            // As the real relay does (docs/protocol.md §4.3): a new roster must extend the held one's chain.
            const verified = await verifyRoster(frame.roster, {
              orgRootKey: frame.orgRootKey,
              now: Date.now(),
              previous: before,
            });
            const key = verified.orgId.join();
            const held = heldVersions.get(key);
            const sameBytes = bytesEqual(rosters.get(key) ?? new Uint8Array(0), frame.roster);
            if (held !== undefined && (verified.version < held || (verified.version === held && !sameBytes))) {
              throw new Error('rollback');
            }
            rosters.set(key, frame.roster);
            heldVersions.set(key, verified.version);
            published.push(verified.version);
            socket.send(encodeRelayFrame({ kind: 'ok', requestId: frame.requestId }));
          } catch {
            socket.send(
              encodeRelayFrame({
                kind: 'error',
                requestId: frame.requestId,
                code: 'SEALCHAT_E_ROSTER_REJECTED',
                message: 'roster rejected',
              }),
            );
          }
        }
      })();
    });
  });
  /** The roster held for the org of `orgRootKey`, verified as of its own issue time (it may have expired). */
  async function heldRoster(orgRootKey: Uint8Array<ArrayBuffer>) {
    const bytes = rosters.get((await orgIdFromRootKey(orgRootKey)).join());
    return bytes && verifyPastRoster(bytes, orgRootKey);
  }
  await new Promise<void>((resolve) => server.once('listening', resolve));
  const { port } = server.address() as { port: number };
  closers.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return {
    url: `ws://127.0.0.1:${port}`,
    published,
    /** Stores a roster as if another device had published it. */
    hold: async (roster: Uint8Array<ArrayBuffer>, orgRootKey: Uint8Array<ArrayBuffer>) => {
      const verified = await verifyRoster(roster, { orgRootKey, now: Date.now() });
      rosters.set(verified.orgId.join(), roster);
      heldVersions.set(verified.orgId.join(), verified.version);
    },
  };
}

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

// Each PBKDF2 run costs ~0.2-0.3 s, so one organisation serves the file.
const source = new MemoryClientStore();
const created = await createOrganisation(source, { name: 'Acme', passphrase: PASSPHRASE });

describe('registerOrganisation', () => {
  it('publishes a new organisation’s roster as it is', async () => {
    const relay = await rosterRelay();
    const registered = await registerOrganisation(relay.url, source, created.organisation, ws);
    expect(registered.rosterVersion).toBe(1);
    expect(relay.published).toEqual([1]);
  });

  it('after a restore, issues a roster above the one the relay holds, then publishes it', async () => {
    const relay = await rosterRelay();
    // The first device went on issuing rosters after the backup was made: the relay holds version 5.
    const renewed = await loadOrganisation(source, { rosterVersionAbove: 4 });
    await relay.hold(renewed!.roster, renewed!.rootPublic);

    const store = new MemoryClientStore();
    const restored = await restoreOrganisation(store, created.backup.text, PASSPHRASE);
    expect(restored.rosterVersion).toBe(2);
    const registered = await registerOrganisation(relay.url, store, restored, ws);
    expect(registered.rosterVersion).toBe(6);
    expect(relay.published).toEqual([6]);
    expect((await loadOrganisation(store))?.rosterVersion).toBe(6);
  });

  it('after a restore, with the relay still at the backup’s roster, publishes a roster that follows it', async () => {
    const relay = await rosterRelay();
    await relay.hold(created.organisation.roster, created.organisation.rootPublic);
    const held = await verifyRoster(created.organisation.roster, {
      orgRootKey: created.organisation.rootPublic,
      now: Date.now(),
    });

    const store = new MemoryClientStore();
    const restored = await restoreOrganisation(store, created.backup.text, PASSPHRASE);
    const registered = await registerOrganisation(relay.url, store, restored, ws);
    expect(relay.published).toEqual([2]);
    const roster = await verifyRoster(registered.roster, {
      orgRootKey: registered.rootPublic,
      now: Date.now(),
      previous: held,
    });
    expect(roster.version).toBe(2);
    expect(bytesEqual(roster.previousDigest, held.digest)).toBe(true);
  });

  it('after a restore, keeps everyone the relay’s roster lists: restoring elsewhere revokes nobody', async () => {
    const relay = await rosterRelay();
    const origin = new MemoryClientStore();
    const first = await restoreOrganisation(origin, created.backup.text, PASSPHRASE);
    const colleague = await generateDeviceIdentity();
    const enrolled = await enrolAgentDevice(origin, first, colleague, { displayName: 'Sam' });
    await relay.hold(enrolled.roster, enrolled.rootPublic);

    const store = new MemoryClientStore();
    const restored = await restoreOrganisation(store, created.backup.text, PASSPHRASE);
    const registered = await registerOrganisation(relay.url, store, restored, ws);
    expect(registered.rosterVersion).toBe(enrolled.version + 1);
    const roster = await verifyRoster(registered.roster, { orgRootKey: registered.rootPublic, now: Date.now() });
    const listed = (id: Uint8Array) => roster.devices.some((d) => bytesEqual(d.deviceId, id));
    // The colleague, the first browser's supervisor and console, and this browser's own two devices.
    expect(listed(colleague.deviceId)).toBe(true);
    expect(listed(first.supervisor.deviceId) && listed(first.agent.deviceId)).toBe(true);
    expect(listed(restored.supervisor.deviceId) && listed(restored.agent.deviceId)).toBe(true);
    expect(roster.devices.find((d) => bytesEqual(d.deviceId, colleague.deviceId))?.displayName).toBe('Sam');
  });

  it('takes the version floor from an expired roster on the relay too', async () => {
    const relay = await rosterRelay();
    const shortLived = await loadOrganisation(source, { rosterVersionAbove: 8, lifetimeMs: 30 });
    expect(shortLived!.rosterVersion).toBe(9);
    await relay.hold(shortLived!.roster, shortLived!.rootPublic);
    await new Promise((resolve) => setTimeout(resolve, 60));

    const store = new MemoryClientStore();
    const restored = await restoreOrganisation(store, created.backup.text, PASSPHRASE);
    const registered = await registerOrganisation(relay.url, store, restored, ws);
    expect(registered.rosterVersion).toBe(10);
    expect(relay.published).toEqual([10]);
  });

  it('F2: a relay roster signed by a supervisor device, not the root, launders nobody into the next roster', async () => {
    const origin = new MemoryClientStore();
    const first = await restoreOrganisation(origin, created.backup.text, PASSPHRASE);
    const onFirst = await currentRoster(origin, first);
    const rogue = await generateDeviceIdentity();
    const now = Date.now();
    const bySupervisor = { privateKey: first.supervisor.signing.privateKey, publicKey: first.supervisor.signingPublic };
    // The supervisor's key (an ex-supervisor's, say, colluding with the relay) signs a roster listing
    // its own "agent", far above the organisation's version.
    const forged = await issueRoster(
      {
        orgId: first.orgId,
        version: onFirst.version + 3,
        previousDigest: randomBytes(32),
        issuedAt: now - 1000,
        expiresAt: now + 3_600_000,
        archivePublic: undefined,
        supervisors: onFirst.supervisors.map((c) => c.encoded),
        agents: [
          await issueCertificate(
            {
              orgId: first.orgId,
              deviceId: rogue.deviceId,
              displayName: 'Rogue',
              role: 'agent',
              signingPublic: rogue.signingPublic,
              agreementPublic: rogue.agreementPublic,
              issuedAt: now - 1000,
              expiresAt: now + 3_600_000,
            },
            bySupervisor,
          ),
        ],
      },
      bySupervisor,
    );
    const relay = await rosterRelay(forged);
    const store = new MemoryClientStore();
    const restored = await restoreOrganisation(store, created.backup.text, PASSPHRASE);
    await expect(registerOrganisation(relay.url, store, restored, ws)).rejects.toBeInstanceOf(RosterSignerError);
    expect(relay.published).toEqual([]);
    const kept = await currentRoster(store, restored);
    expect(kept.devices.some((d) => bytesEqual(d.deviceId, rogue.deviceId))).toBe(false);
  });

  it('F2: an expired roster on the relay is followed, but nobody only it lists is re-certified', async () => {
    const relay = await rosterRelay();
    const origin = new MemoryClientStore();
    const first = await restoreOrganisation(origin, created.backup.text, PASSPHRASE);
    const colleague = await generateDeviceIdentity();
    const enrolled = await enrolAgentDevice(origin, first, colleague, { displayName: 'Sam', lifetimeMs: 200 });
    await relay.hold(enrolled.roster, enrolled.rootPublic);
    await new Promise((resolve) => setTimeout(resolve, 250));

    const store = new MemoryClientStore();
    const restored = await restoreOrganisation(store, created.backup.text, PASSPHRASE);
    const registered = await registerOrganisation(relay.url, store, restored, ws);
    expect(registered.rosterVersion).toBe(enrolled.version + 1);
    const roster = await verifyRoster(registered.roster, { orgRootKey: registered.rootPublic, now: Date.now() });
    expect(roster.previousDigest).toEqual((await verifyPastRoster(enrolled.roster, enrolled.rootPublic)).digest);
    expect(roster.devices.some((d) => bytesEqual(d.deviceId, colleague.deviceId))).toBe(false);
    expect(roster.devices.some((d) => bytesEqual(d.deviceId, restored.supervisor.deviceId))).toBe(true);
  });

  it('refuses a roster the relay forged with a high version, and publishes nothing', async () => {
    const forger = await generateSigningKeyPair();
    const now = Date.now();
    const forged = await issueRoster(
      {
        orgId: created.organisation.orgId,
        version: 2 ** 40,
        previousDigest: new Uint8Array(32).fill(1),
        issuedAt: now,
        expiresAt: now + 3_600_000,
        archivePublic: undefined,
        supervisors: [],
        agents: [],
      },
      { privateKey: forger.privateKey, publicKey: await exportPublicKey(forger.publicKey) },
    );
    const relay = await rosterRelay(forged);
    await expect(registerOrganisation(relay.url, source, created.organisation, ws)).rejects.toBeInstanceOf(RosterError);
    expect(relay.published).toEqual([]);
  });
});
