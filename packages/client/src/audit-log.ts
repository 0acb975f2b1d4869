import {
  CertificateError,
  PUBLIC_KEY_LENGTH,
  SealchatError,
  archiveIdFromKey,
  bytesEqual,
  exportPublicKey,
  hpkeOpen,
  orgIdFromRootKey,
  unpad,
  verifyCertificate,
  type AuditMark,
  type DeviceIdentity,
  type VerifiedCertificate,
  type VerifiedRoster,
} from '@sealchat/protocol';
import { decodeAuditEvent, encodeAuditEvent, type AuditEvent } from './audit-entry.js';
import {
  AuditLogKeyError,
  AuditLogTamperedError,
  DIGEST_LENGTH,
  GENESIS,
  ZERO_DIGEST,
  checkRecord,
  entryInfo,
  linkDigest,
  sealAuditRecord,
  type ChainState,
  type CheckedRecord,
  type Trust,
} from './audit-record.js';

/**
 * The organisation's audit log: every team action as an entry sealed to the archive key, signed by
 * a supervisor device and hash-chained to the record before it, kept by the relay as opaque
 * records in an append-only, per-organisation list. Anyone with the org key can check the chain;
 * only holders of the archive key can read it. docs/audit-log.md.
 */

export {
  AUDIT_RECORD_VERSION,
  AUDIT_ENTRY_BLOCK,
  MAX_AUDIT_RECORD_BYTES,
  AuditLogTamperedError,
  AuditLogKeyError,
  sealAuditRecord,
} from './audit-record.js';
export { exportAuditLog } from './audit-export.js';

/** How the log reaches the relay; audit-log.ts is otherwise transport-agnostic. */
export interface AuditTransport {
  /** Records from index `from` on, ascending, at most `limit` (the relay may return fewer). */
  list(from: number, limit: number): Promise<{ index: number; record: Uint8Array<ArrayBuffer> }[]>;
  /** Appends at exactly `index`; rejects with an error whose `code` is 'SEALCHAT_E_CONFLICT' when that index is taken. */
  append(index: number, record: Uint8Array<ArrayBuffer>): Promise<void>;
}

const CONFLICT = 'SEALCHAT_E_CONFLICT';

// --- types --------------------------------------------------------------------------------------

/**
 * How far a reader has verified the log: the number of records, and the link digest of the last
 * one (32 zero bytes for an empty log). Keep it locally and pass it back as `known`, so a relay
 * that truncates or rewrites the log is caught. The same shape as a roster head's audit mark.
 */
export type AuditHead = AuditMark;

/** The supervisor device that signed a record, as its certificate names it. */
export interface AuditSigner {
  readonly deviceId: Uint8Array<ArrayBuffer>;
  readonly displayName: string;
}

/** A record whose place in the chain, signature and signer verified. */
export interface VerifiedAuditRecord {
  readonly index: number;
  /** When the signer says the action happened, ms since the epoch; never lower than the record before. */
  readonly at: number;
  readonly signer: AuditSigner;
}

/** A verified record and what it says. */
export interface AuditLogEntry extends VerifiedAuditRecord {
  readonly event: AuditEvent;
}

/** Limits of a walk through the log. */
export interface AuditLogLimits {
  /** Records asked for per `list` call. Default 256. */
  readonly pageSize?: number;
  /** Refuse a log longer than this (`SEALCHAT_E_LIMIT`), so a hostile relay cannot exhaust memory. Default 100,000. */
  readonly maxRecords?: number;
}

export interface VerifyAuditLogOptions extends AuditLogLimits {
  readonly transport: AuditTransport;
  /** The pinned organisation root key (Ed25519, 32 bytes). */
  readonly orgRootKey: Uint8Array<ArrayBuffer>;
  /** The head this reader verified last time; the log must extend it. */
  readonly known?: AuditHead;
  /**
   * The audit head of a verified, fresh roster head (`VerifiedRosterHead.audit`, docs/protocol.md
   * §4.4): the log must extend it too. It is what makes a first read, with no `known`, safe from a
   * relay that serves a shorter log.
   */
  readonly floor?: AuditHead;
  /**
   * The organisation's rosters, chain-verified and ascending (`verifyRosterHistory` over
   * `fetchRosterHistory`, the current one included): each record written since `known` must be
   * signed by a device that administers on the roster of its time. Without them, only the signer's
   * certificate is checked (it must administer).
   */
  readonly rosters?: readonly VerifiedRoster[];
}

export interface ReadAuditLogOptions extends VerifyAuditLogOptions {
  /** The archive key pair (X25519, private key non-extractable). */
  readonly archiveKey: CryptoKeyPair;
}

export interface AuditLogWriterOptions extends AuditLogLimits {
  readonly transport: AuditTransport;
  readonly orgRootKey: Uint8Array<ArrayBuffer>;
  /** This supervisor device; its signing private key stays non-extractable. */
  readonly signer: DeviceIdentity;
  /** Its supervisor certificate, issued by the org root. */
  readonly certificate: Uint8Array<ArrayBuffer>;
  /** The archive key's public half (the roster's `archivePublic`). */
  readonly archivePublic: Uint8Array<ArrayBuffer>;
  /**
   * A head the log must extend before this writer adds to it: the audit mark of a verified roster
   * head, or the head this device kept from a read (docs/audit-log.md §Heads). A log that stops
   * short of it or differs from it is refused, as a reader refuses it.
   */
  readonly floor?: AuditHead;
  /** Appends tried before giving up when other writers keep taking the index. Default 5. */
  readonly maxAttempts?: number;
  /** For tests. Default `Date.now`. */
  readonly clock?: () => number;
}

interface Walk {
  readonly transport: AuditTransport;
  readonly trust: Trust;
  readonly pageSize: number;
  readonly maxRecords: number;
}

/**
 * Lists and checks every record after `from`, calling `visit` on each in order.
 * @throws AuditLogTamperedError at the first index that is missing or does not verify.
 * @throws SealchatError `SEALCHAT_E_LIMIT` past `maxRecords`.
 */
async function walk(
  w: Walk,
  from: ChainState,
  visit?: (record: CheckedRecord, state: ChainState) => Promise<void> | void,
): Promise<ChainState> {
  let state = from;
  for (;;) {
    const page = await w.transport.list(state.count, w.pageSize);
    if (page.length === 0) return state;
    for (const item of page) {
      if (item.index !== state.count) {
        throw new AuditLogTamperedError(state.count, `the relay listed record ${item.index} in its place`);
      }
      if (state.count >= w.maxRecords) {
        throw new SealchatError('SEALCHAT_E_LIMIT', `The audit log is longer than ${w.maxRecords} records`);
      }
      const checked = await checkRecord(item.record, state, w.trust);
      state = { count: state.count + 1, digest: checked.digest, at: checked.decoded.at };
      await visit?.(checked, state);
    }
  }
}

function limits(options: AuditLogLimits): { pageSize: number; maxRecords: number } {
  const pageSize = options.pageSize ?? 256;
  const maxRecords = options.maxRecords ?? 100_000;
  if (!Number.isSafeInteger(pageSize) || pageSize < 1) throw new TypeError('pageSize must be a positive integer');
  if (!Number.isSafeInteger(maxRecords) || maxRecords < 1) throw new TypeError('maxRecords must be a positive integer');
  return { pageSize, maxRecords };
}

function checkKey(key: Uint8Array, name: string): void {
  if (!(key instanceof Uint8Array) || key.length !== PUBLIC_KEY_LENGTH) throw new TypeError(`${name} must be 32 bytes`);
}

function signerOf(certificate: VerifiedCertificate): AuditSigner {
  return { deviceId: certificate.deviceId, displayName: certificate.displayName };
}

// --- reading ------------------------------------------------------------------------------------

/**
 * Walks the whole log, checking every record's place, link, date order, signer and signature,
 * and (with `visit`) opening each. Then checks it extends `known` and `floor`.
 */
async function verifyLog(
  options: VerifyAuditLogOptions,
  visit?: (record: CheckedRecord) => Promise<void>,
): Promise<{ head: AuditHead; records: VerifiedAuditRecord[] }> {
  checkKey(options.orgRootKey, 'orgRootKey');
  const { known, floor } = options;
  checkHead(known, 'known');
  checkHead(floor, 'floor');
  const trust = {
    orgRootKey: options.orgRootKey,
    orgId: await orgIdFromRootKey(options.orgRootKey),
    ...(options.rosters ? { rosters: options.rosters } : {}),
    checkedBefore: known?.count ?? 0,
  };
  const records: VerifiedAuditRecord[] = [];
  // The link digest after each count a head names (0 records: zeros).
  const digests = new Map<number, Uint8Array<ArrayBuffer>>([[0, ZERO_DIGEST]]);
  const end = await walk(
    { transport: options.transport, trust, ...limits(options) },
    GENESIS,
    async (checked, state) => {
      records.push({ index: checked.decoded.index, at: checked.decoded.at, signer: signerOf(checked.certificate) });
      if (state.count === known?.count || state.count === floor?.count) digests.set(state.count, state.digest);
      await visit?.(checked);
    },
  );
  if (known) {
    mustExtend(
      end.count,
      digests.get(known.count),
      known,
      `the log ends at ${end.count} records, but ${known.count} were verified before`,
      'it differs from the record verified there before',
    );
  }
  if (floor) mustReachFloor(end.count, digests.get(floor.count), floor);
  return { head: { count: end.count, digest: end.digest }, records };
}

/**
 * Refuses a log of `count` records, whose link digest after `head.count` of them is `digestAt`
 * (undefined: not reached), that does not extend `head`.
 */
function mustExtend(
  count: number,
  digestAt: Uint8Array | undefined,
  head: AuditHead,
  short: string,
  differs: string,
): void {
  const last = Math.max(head.count - 1, 0);
  if (count < head.count) throw new AuditLogTamperedError(last, short);
  if (!bytesEqual(digestAt ?? ZERO_DIGEST, head.digest)) throw new AuditLogTamperedError(last, differs);
}

/** {@link mustExtend} for a floor: the audit mark of a roster head, which readers and writers both check. */
function mustReachFloor(count: number, digestAt: Uint8Array | undefined, floor: AuditHead): void {
  mustExtend(
    count,
    digestAt,
    floor,
    `the log ends before the head the organisation signed (${count} of ${floor.count} records)`,
    'it differs from the head the organisation signed',
  );
}

function checkHead(head: AuditHead | undefined, name: string): void {
  if (head === undefined) return;
  if (!Number.isSafeInteger(head.count) || head.count < 0) throw new TypeError(`${name}.count must be an integer ≥ 0`);
  if (!(head.digest instanceof Uint8Array) || head.digest.length !== DIGEST_LENGTH) {
    throw new TypeError(`${name}.digest must be 32 bytes`);
  }
}

/**
 * Verifies the log without reading it: who signed each record, when, and that none is missing,
 * moved or altered. Needs only the org key, so any member device can check it.
 * @returns the records' signers and times, and the head to keep for next time.
 * @throws AuditLogTamperedError at the first index that does not verify, or when the log is
 *   shorter than `known` or `floor` or differs from either.
 * @throws SealchatError `SEALCHAT_E_LIMIT` when the log is longer than `maxRecords`.
 * @throws TypeError for a bad option.
 */
export async function verifyAuditLog(
  options: VerifyAuditLogOptions,
): Promise<{ head: AuditHead; records: VerifiedAuditRecord[] }> {
  return verifyLog(options);
}

/**
 * Verifies the log as {@link verifyAuditLog} does, and opens every entry with the archive key.
 * @returns the entries in order, and the head to keep (pass it back as `known` next time).
 * @throws AuditLogTamperedError at the first index that does not verify or does not open, or when
 *   the log is shorter than `known` or `floor` or differs from either.
 * @throws AuditLogKeyError at the first record sealed to another archive key.
 * @throws SealchatError `SEALCHAT_E_LIMIT` when the log is longer than `maxRecords`.
 * @throws TypeError for a bad option.
 */
export async function readAuditLog(
  options: ReadAuditLogOptions,
): Promise<{ head: AuditHead; entries: AuditLogEntry[] }> {
  checkKey(options.orgRootKey, 'orgRootKey');
  const archiveId = await archiveIdFromKey(await exportPublicKey(options.archiveKey.publicKey));
  const orgId = await orgIdFromRootKey(options.orgRootKey);
  const entries: AuditLogEntry[] = [];
  const { head } = await verifyLog(options, async ({ decoded, certificate }) => {
    const { index, at } = decoded;
    if (!bytesEqual(decoded.archiveId, archiveId)) throw new AuditLogKeyError(index);
    let event: AuditEvent;
    try {
      const padded = await hpkeOpen(
        options.archiveKey,
        { enc: decoded.enc, ciphertext: decoded.ciphertext },
        entryInfo(orgId, index, decoded.prev),
        decoded.header,
      );
      event = decodeAuditEvent(unpad(padded));
    } catch (cause) {
      if (!(cause instanceof SealchatError)) throw cause;
      throw new AuditLogTamperedError(index, 'its entry does not open or decode (a newer version?)', { cause });
    }
    entries.push({ index, at, signer: signerOf(certificate), event });
  });
  return { head, entries };
}

// --- writing ------------------------------------------------------------------------------------

/**
 * Appends entries for one supervisor device. It follows the relay's log (verifying every record
 * it has not seen) before each append, and retries at the next index when another writer took it.
 * It holds only the archive public key: a writer cannot read the log.
 */
export class AuditLogWriter {
  readonly #options: AuditLogWriterOptions;
  readonly #maxAttempts: number;
  readonly #walk: { pageSize: number; maxRecords: number };
  #state: ChainState = GENESIS;
  /** The floor, until the log was seen to extend it. */
  #floor: AuditHead | undefined;
  #trust: Trust | undefined;
  #queue: Promise<unknown> = Promise.resolve();

  /** @throws TypeError for a bad option. */
  constructor(options: AuditLogWriterOptions) {
    checkKey(options.orgRootKey, 'orgRootKey');
    checkKey(options.archivePublic, 'archivePublic');
    const maxAttempts = options.maxAttempts ?? 5;
    if (!Number.isSafeInteger(maxAttempts) || maxAttempts < 1)
      throw new TypeError('maxAttempts must be a positive integer');
    checkHead(options.floor, 'floor');
    this.#floor = options.floor;
    this.#options = options;
    this.#maxAttempts = maxAttempts;
    this.#walk = limits(options);
  }

  /** The head after this writer's last append or sync. */
  get head(): AuditHead {
    return { count: this.#state.count, digest: this.#state.digest };
  }

  /**
   * Appends `event`, dated now (or the previous record's time, if that is later: dates never go
   * back). Calls on one writer run one after another.
   * @returns the index it was stored at.
   * @throws TypeError when `event` does not encode (nothing is sent).
   * @throws CertificateError when this device's certificate is not an administering supervisor
   *   certificate of this org valid now, or is not this device's: every reader would refuse the record.
   * @throws AuditLogTamperedError when the relay's log does not verify, or stops short of or differs
   *   from `floor`; this writer will not extend it.
   * @throws the transport's error, including the last `SEALCHAT_E_CONFLICT` after `maxAttempts`.
   */
  append(event: AuditEvent): Promise<number> {
    const run = this.#queue.then(() => this.#append(event));
    this.#queue = run.catch(() => undefined);
    return run;
  }

  async #append(event: AuditEvent): Promise<number> {
    encodeAuditEvent(event);
    const o = this.#options;
    const trust = (this.#trust ??= { orgRootKey: o.orgRootKey, orgId: await orgIdFromRootKey(o.orgRootKey) });
    for (let attempt = 1; ; attempt++) {
      const floor = this.#floor;
      let atFloor = floor?.count === this.#state.count ? this.#state.digest : undefined;
      const head = await walk({ transport: o.transport, trust, ...this.#walk }, this.#state, (_, state) => {
        if (state.count === floor?.count) atFloor = state.digest;
      });
      this.#state = head;
      if (floor) {
        mustReachFloor(head.count, atFloor, floor);
        this.#floor = undefined;
      }
      const at = Math.max((o.clock ?? Date.now)(), head.at);
      const own = await verifyCertificate(o.certificate, {
        issuers: [o.orgRootKey],
        orgId: trust.orgId,
        now: at,
        role: 'supervisor',
      });
      if (!bytesEqual(own.signingPublic, o.signer.signingPublic)) {
        throw new CertificateError("The audit writer's certificate is not this device's");
      }
      // Every reader refuses a record from a device that does not administer: never write one.
      if (!own.administer) throw new CertificateError('This device does not administer the organisation');
      const record = await sealAuditRecord({
        orgId: trust.orgId,
        index: head.count,
        at,
        prev: head.digest,
        archivePublic: o.archivePublic,
        certificate: o.certificate,
        signingKey: o.signer.signing.privateKey,
        event,
      });
      try {
        await o.transport.append(head.count, record);
      } catch (error) {
        if (attempt < this.#maxAttempts && (error as { code?: unknown } | null)?.code === CONFLICT) continue;
        throw error;
      }
      this.#state = { count: head.count + 1, digest: await linkDigest(record), at };
      return head.count;
    }
  }
}
