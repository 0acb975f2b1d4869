import { SealchatError, bytesEqual, verifyPastRoster, verifyRoster, type VerifiedRoster } from '@sealchat/protocol';
import { loadKeptAuditHead } from './audit-floor.js';
import type { ClientStore } from './client-store.js';
import { RelayRequestError, StoredStateError } from './errors.js';
import {
  checkOrgName,
  checkPassphraseStrength,
  generateExportablePair,
  openOrgBackup,
  sealOrgBackup,
  type OpenOrgBackupOptions,
  type OrgBackupContents,
} from './org-backup.js';
import { holdsOrganisation, loadOrgKeys, loadStoredBackup, storeOrgKeys } from './org-vault.js';
import {
  loadOrCreateOrganisation,
  openOneOff,
  publishRoster,
  type Organisation,
  type OrganisationOptions,
} from './organisation-bootstrap.js';
import type { RelayConnectionOptions } from './relay-connection.js';
import { adoptRoster } from './team-roster.js';

/**
 * Setting up an organisation whose keys can leave this browser only in a passphrase-encrypted
 * backup: create it, restore it on another device, load it, register it with the relay.
 * docs/org-setup.md walks through each step.
 */

/** The store already holds an organisation; creating or restoring another would mix their keys. */
export class OrganisationExistsError extends SealchatError {
  constructor(message = 'This browser already holds an organisation') {
    super('SEALCHAT_E_ORG_EXISTS', message);
  }
}

/** An organisation created with a backup, or restored from one. */
export interface RecoverableOrganisation extends Organisation {
  /** The name given at creation; it travels inside the backup. */
  readonly name: string;
  /** When the organisation was created, ms since the epoch. */
  readonly createdAt: number;
}

/** A backup ready to save: JSON text and a suggested file name. */
export interface OrgBackupFile {
  readonly fileName: string;
  readonly text: string;
}

export interface CreateOrganisationOptions extends OrganisationOptions {
  /** Shown in the console and in the backup's file name; 1 to 100 characters. */
  readonly name: string;
  /** Encrypts the backup; at least 12 characters. */
  readonly passphrase: string;
  /** PBKDF2 iterations for the backup. Default and minimum 600,000; at most 10,000,000. */
  readonly iterations?: number;
}

export type RestoreOrganisationOptions = OrganisationOptions & OpenOrgBackupOptions;

/**
 * Creates an organisation in `store`, with its backup. The root and archive pairs are generated
 * extractable, exported once into the encrypted backup and into the store (org-vault.ts), and
 * from then on used only as non-extractable keys. The backup is kept in the store too, so it can
 * be saved again later ({@link loadBackupFile}).
 * @throws TypeError for a name or iteration count out of range.
 * @throws WeakPassphraseError for a passphrase under 12 characters.
 * @throws OrganisationExistsError when `store` already holds an organisation.
 */
export async function createOrganisation(
  store: ClientStore,
  options: CreateOrganisationOptions,
): Promise<{ organisation: RecoverableOrganisation; backup: OrgBackupFile }> {
  const { name: givenName, passphrase, iterations, ...organisationOptions } = options;
  const name = checkOrgName(givenName);
  checkPassphraseStrength(passphrase);
  if (await holdsOrganisation(store)) throw new OrganisationExistsError();
  const [root, archive] = await Promise.all([generateExportablePair('Ed25519'), generateExportablePair('X25519')]);
  // The store holds no roster (holdsOrganisation), so the first one issued below is version 1.
  const contents: OrgBackupContents = { name, createdAt: Date.now(), rosterVersion: 1, root, archive };
  let text: string;
  try {
    ({ text } = await sealOrgBackup(contents, passphrase, iterations === undefined ? {} : { iterations }));
    await storeOrgKeys(store, contents, text);
  } finally {
    root.pkcs8.fill(0);
    archive.pkcs8.fill(0);
  }
  const organisation = await loadOrganisation(store, organisationOptions);
  if (!organisation) throw new StoredStateError('The organisation just stored does not read back');
  return { organisation, backup: backupFile(name, contents.createdAt, text) };
}

/**
 * Restores an organisation from a backup into `store` (another browser, a new device). Everything
 * is checked before anything is stored (see `openOrgBackup`): a failure leaves the store as it was.
 *
 * This device gets its own supervisor and agent identities and issues a roster above the backup's
 * version; {@link registerOrganisation} then lifts it above the relay's if needed and publishes it.
 * Devices on the old roster drop off.
 * @throws BackupCorruptError when the file is damaged, altered, truncated, too large, not a backup,
 *   asks for fewer than 600,000 (or more than `maxIterations`) PBKDF2 iterations, or holds keys that
 *   do not match its org key.
 * @throws BackupVersionError for an unknown format version, key derivation or cipher.
 * @throws BackupPassphraseError for a missing or wrong passphrase.
 * @throws OrganisationExistsError when `store` already holds an organisation.
 */
export async function restoreOrganisation(
  store: ClientStore,
  text: string,
  passphrase: string,
  options: RestoreOrganisationOptions = {},
): Promise<RecoverableOrganisation> {
  const { maxIterations, maxBackupChars, ...organisationOptions } = options;
  // Checked before the key derivation, so a full store costs no PBKDF2 run; and again below.
  if (await holdsOrganisation(store)) throw new OrganisationExistsError();
  const { contents } = await openOrgBackup(text, passphrase, {
    ...(maxIterations === undefined ? {} : { maxIterations }),
    ...(maxBackupChars === undefined ? {} : { maxBackupChars }),
  });
  try {
    if (await holdsOrganisation(store)) throw new OrganisationExistsError();
    await storeOrgKeys(store, contents, text);
  } finally {
    contents.root.pkcs8.fill(0);
    contents.archive.pkcs8.fill(0);
  }
  const organisation = await loadOrganisation(store, {
    ...organisationOptions,
    rosterVersionAbove: Math.max(contents.rosterVersion, organisationOptions.rosterVersionAbove ?? 0),
  });
  if (!organisation) throw new StoredStateError('The organisation just restored does not read back');
  return organisation;
}

/**
 * Loads the organisation that {@link createOrganisation} or {@link restoreOrganisation} put in
 * `store`, renewing its roster when due; `undefined` when there is none. An organisation made by
 * `loadOrCreateOrganisation` alone has no backup and is not found here.
 * @throws StoredStateError when the stored keys do not read back whole.
 */
export async function loadOrganisation(
  store: ClientStore,
  options: OrganisationOptions = {},
): Promise<RecoverableOrganisation | undefined> {
  const keys = await loadOrgKeys(store);
  if (!keys) return undefined;
  const organisation = await loadOrCreateOrganisation(store, {
    ...options,
    keys: { root: keys.root, archive: keys.archive },
  });
  return { ...organisation, name: keys.name, createdAt: keys.createdAt };
}

/**
 * The backup kept in `store` since the organisation was created or restored here, to save again;
 * `undefined` when there is none. Its roster version may be behind: registering after a restore
 * takes the relay's.
 * @throws StoredStateError when the stored records are malformed.
 */
export async function loadBackupFile(store: ClientStore): Promise<OrgBackupFile | undefined> {
  const stored = await loadStoredBackup(store);
  return stored && backupFile(stored.name, stored.createdAt, stored.text);
}

/**
 * Registers the organisation with the relay by publishing its roster. When the relay already holds
 * a roster of this organisation at the same or a higher version (this device restored a backup, or
 * another device issued rosters since), a roster above it is issued first. A demo relay registers
 * an unknown organisation this way; otherwise the operator must have registered it (`--org`).
 * @returns the organisation as published, with its new roster if one was issued.
 * @throws RelayRequestError when the relay refuses (unknown org outside demo mode, rollback).
 * @throws RosterError when the relay's roster for this organisation is not signed by it.
 * @throws SealchatError `SEALCHAT_E_CONNECTION_LOST` when the relay cannot be reached.
 */
export async function registerOrganisation(
  relayUrl: string,
  store: ClientStore,
  organisation: RecoverableOrganisation,
  options: OrganisationOptions & RelayConnectionOptions = {},
): Promise<RecoverableOrganisation> {
  let current = organisation;
  const relayRoster = await fetchRelayRoster(relayUrl, organisation, options);
  const ours = await verifyPastRoster(organisation.roster, organisation.rootPublic);
  const follows =
    relayRoster &&
    (ours.version === relayRoster.version + 1 && bytesEqual(ours.previousDigest, relayRoster.digest)
      ? false
      : !bytesEqual(ours.digest, relayRoster.digest));
  if (relayRoster && follows) {
    // The relay's roster is not the one ours follows (a restore, or another console issued since).
    // Taken over first when it is the root's own word and current, so the roster issued after it
    // keeps everyone it lists (the colleagues and bots enrolled elsewhere, the other supervisors'
    // devices): restoring a backup in a second browser must not revoke the team. A roster signed
    // by a device, or expired, is only followed: nobody it lists is re-certified (docs/security.md).
    await adoptRoster(store, organisation, relayRoster);
    const reissued = await loadOrganisation(store, {
      ...options,
      follows: { version: relayRoster.version, digest: relayRoster.digest },
    });
    if (!reissued) throw new StoredStateError('The organisation is no longer in this store');
    current = reissued;
  }
  // The audit head this store verified, if any: the new roster's head must not name less.
  await publishRoster(relayUrl, current, { ...options, auditHead: await loadKeptAuditHead(store) });
  return current;
}

/** Labels a backup with the organisation's name (made safe for file systems) and its creation date. */
function backupFile(name: string, createdAt: number, text: string): OrgBackupFile {
  const slug = name
    .normalize('NFKD')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40);
  const date = new Date(createdAt).toISOString().slice(0, 10);
  return { fileName: `sealchat-org-${slug || 'backup'}-${date}.json`, text };
}

/**
 * The roster the relay holds for this organisation, verified under its root key, or undefined when
 * it has none. Only the organisation can sign a roster, so the relay can neither push the version up
 * nor add a device. An expired roster (an organisation left idle) still counts, so one that does not
 * verify now is verified as of its own issue time: `registerOrganisation` follows it, and takes
 * over only a current one signed by the root (docs/protocol.md §4.3).
 * @throws RosterError when the relay's roster is not this organisation's.
 * @throws SealchatError `SEALCHAT_E_CONNECTION_LOST` when the relay cannot be reached.
 */
export async function fetchRelayRoster(
  relayUrl: string,
  organisation: Pick<Organisation, 'orgId' | 'rootPublic'>,
  options: RelayConnectionOptions = {},
): Promise<VerifiedRoster | undefined> {
  const connection = await openOneOff(relayUrl, options);
  let bytes: Uint8Array<ArrayBuffer>;
  try {
    const answer = await connection.request({ kind: 'get-roster', orgId: organisation.orgId });
    if (answer.kind !== 'roster') {
      throw new SealchatError('SEALCHAT_E_BAD_ANSWER', `Expected a roster, got ${answer.kind}`);
    }
    bytes = answer.roster;
  } catch (error) {
    if (error instanceof RelayRequestError && error.code === 'SEALCHAT_E_NOT_FOUND') return undefined;
    throw error;
  } finally {
    connection.close();
  }
  const orgRootKey = organisation.rootPublic;
  try {
    return await verifyRoster(bytes, { orgRootKey, now: Date.now() });
  } catch {
    // Most likely expired: verified again as of its own issue time (the callers judge expiry).
  }
  return verifyPastRoster(bytes, orgRootKey);
}
