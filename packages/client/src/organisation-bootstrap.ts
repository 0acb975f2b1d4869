import {
  exportPublicKey,
  formatOrgKey,
  fromHex,
  generateSigningKeyPair,
  issueCertificate,
  issueRoster,
  loadOrCreateIdentity,
  orgIdFromRootKey,
  SealchatError,
  toHex,
  type DeviceIdentity,
} from '@sealchat/protocol';
import { StoredStateError } from './errors.js';
import type { ClientStore } from './client-store.js';
import { RelayConnection, type RelayConnectionOptions } from './relay-connection.js';

/**
 * An organisation created in this browser: its root key and one agent device certified by it.
 *
 * Demo shortcut (docs/architecture.md §Demo shortcuts): here one browser holds both the root key
 * and the agent device, and the root signs the device certificate and roster directly. The agent
 * console issue replaces this with supervisors, invitations and approvals; the formats stay.
 */
export interface Organisation {
  readonly rootKey: CryptoKeyPair;
  readonly rootPublic: Uint8Array<ArrayBuffer>;
  readonly orgId: Uint8Array<ArrayBuffer>;
  /** The text form to pin in `<sealchat-widget org="...">`. */
  readonly orgKey: string;
  readonly agent: DeviceIdentity;
  readonly roster: Uint8Array<ArrayBuffer>;
  readonly rosterVersion: number;
}

export interface OrganisationOptions {
  /** The agent's display name, shown to visitors. Default "Agent". */
  readonly agentName?: string;
  /** Lifetime of certificates and roster. Default 30 days. */
  readonly lifetimeMs?: number;
  /** Re-issue the roster when less than this is left. Default 1 day. */
  readonly renewBeforeMs?: number;
}

const DAY = 24 * 60 * 60 * 1000;

/** Loads the organisation kept in `store`, or creates one; renews its roster when near expiry. */
export async function loadOrCreateOrganisation(
  store: ClientStore,
  options: OrganisationOptions = {},
): Promise<Organisation> {
  const lifetime = options.lifetimeMs ?? 30 * DAY;
  const renewBefore = options.renewBeforeMs ?? DAY;
  let rootKey = await store.getKeyPair('org-root/signing');
  if (!rootKey) {
    rootKey = await generateSigningKeyPair();
    await store.putKeyPair('org-root/signing', rootKey);
  }
  const rootPublic = await exportPublicKey(rootKey.publicKey);
  const orgId = await orgIdFromRootKey(rootPublic);
  const agent = await loadOrCreateIdentity(store, 'agent');
  const saved = parseSavedRoster(await store.getRecord('org/roster'));
  const now = Date.now();
  let roster = saved?.roster;
  let rosterVersion = saved?.version ?? 0;
  if (!saved || saved.expiresAt - now < renewBefore) {
    const signer = { privateKey: rootKey.privateKey, publicKey: rootPublic };
    const certificate = await issueCertificate(
      {
        orgId,
        deviceId: agent.deviceId,
        displayName: options.agentName ?? 'Agent',
        role: 'agent',
        signingPublic: agent.signingPublic,
        agreementPublic: agent.agreementPublic,
        issuedAt: now - 60_000,
        expiresAt: now + lifetime,
      },
      signer,
    );
    rosterVersion += 1;
    roster = await issueRoster(
      { orgId, version: rosterVersion, issuedAt: now - 60_000, expiresAt: now + lifetime, certificates: [certificate] },
      signer,
    );
    await store.putRecord('org/roster', { roster: toHex(roster), version: rosterVersion, expiresAt: now + lifetime });
  }
  return { rootKey, rootPublic, orgId, orgKey: await formatOrgKey(rootPublic), agent, roster: roster!, rosterVersion };
}

function parseSavedRoster(
  value: unknown,
): { roster: Uint8Array<ArrayBuffer>; version: number; expiresAt: number } | undefined {
  if (value === undefined) return undefined;
  const v = value as Record<string, unknown>;
  if (
    typeof value !== 'object' ||
    value === null ||
    typeof v['roster'] !== 'string' ||
    typeof v['version'] !== 'number' ||
    typeof v['expiresAt'] !== 'number'
  ) {
    throw new StoredStateError('Stored organisation roster is malformed');
  }
  return { roster: fromHex(v['roster']), version: v['version'], expiresAt: v['expiresAt'] };
}

/**
 * Publishes the organisation's roster to the relay. A relay in demo mode registers an unknown
 * organisation this way; otherwise the operator registers it first.
 * @throws RelayRequestError when the relay refuses (unknown org, rollback).
 */
export async function publishRoster(
  relayUrl: string,
  org: Pick<Organisation, 'rootPublic' | 'roster'>,
  options: RelayConnectionOptions = {},
): Promise<void> {
  const connection = new RelayConnection(relayUrl, options);
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new SealchatError('SEALCHAT_E_CONNECTION_LOST', 'Relay unreachable')),
        10_000,
      );
      connection.addEventListener('connected', () => {
        clearTimeout(timer);
        resolve();
      });
      connection.open();
    });
    await connection.request({ kind: 'publish-roster', orgRootKey: org.rootPublic, roster: org.roster });
  } finally {
    connection.close();
  }
}
