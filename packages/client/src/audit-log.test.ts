import {
  CertificateError,
  DecodeError,
  exportPublicKey,
  fromHex,
  generateAgreementKeyPair,
  generateDeviceIdentity,
  issueCertificate,
  toHex,
  utf8Encode,
  type DeviceIdentity,
  type DeviceRole,
  issueRoster,
  verifyRoster,
  type VerifiedRoster,
} from '@sealchat/protocol';
import { createTestOrganisation, type TestOrganisation } from '@sealchat/protocol/testing';
import { describe, expect, it } from 'vitest';
import {
  AUDIT_ACTIONS,
  MAX_AUDIT_TEXT_BYTES,
  decodeAuditEvent,
  encodeAuditEvent,
  type AuditAction,
  type AuditEvent,
} from './audit-entry.js';
import {
  AuditLogKeyError,
  AuditLogTamperedError,
  AuditLogWriter,
  MAX_AUDIT_RECORD_BYTES,
  exportAuditLog,
  readAuditLog,
  sealAuditRecord,
  verifyAuditLog,
  type AuditLogWriterOptions,
  type AuditTransport,
} from './audit-log.js';
import { RelayRequestError } from './errors.js';

const DAY = 24 * 60 * 60 * 1000;
const id = (byte: number) => new Uint8Array(16).fill(byte);

/** One event of every action; the mapped type makes the compiler demand every action. */
const SAMPLES: { [A in AuditAction]: Extract<AuditEvent, { action: A }> } = {
  'org-created': { action: 'org-created', name: 'Acme Support' },
  'org-restored': { action: 'org-restored', name: 'Acme Support' },
  'invite-created': {
    action: 'invite-created',
    inviteId: id(1),
    name: 'Ana',
    role: 'agent',
    expiresAt: 1_767_225_600_000,
  },
  'invite-cancelled': { action: 'invite-cancelled', inviteId: id(1), name: 'Ana' },
  'device-approved': { action: 'device-approved', deviceId: id(2), name: 'Ana', role: 'supervisor' },
  'device-revoked': { action: 'device-revoked', deviceId: id(2), name: 'Ana', role: 'agent' },
  'bot-enrolled': { action: 'bot-enrolled', deviceId: id(3), name: 'FAQ bot' },
  'bot-removed': { action: 'bot-removed', deviceId: id(3), name: 'FAQ bot' },
  'roster-published': { action: 'roster-published', version: 7 },
  'retention-set': { action: 'retention-set', days: 30 },
  'conversation-erased': { action: 'conversation-erased', conversationId: id(4) },
  'transcript-exported': { action: 'transcript-exported', conversationId: id(4) },
  'history-policy-set': { action: 'history-policy-set', enabled: 1 },
  'history-shared': { action: 'history-shared', deviceId: id(2), name: 'Ana', conversations: 12 },
};

/** The relay as the writer sees it: append-only by index, compare-and-set. */
class MemoryTransport implements AuditTransport {
  readonly records: Uint8Array<ArrayBuffer>[] = [];
  conflicts = 0;

  async list(from: number, limit: number) {
    await Promise.resolve();
    return this.records.slice(from, from + limit).map((record, i) => ({ index: from + i, record }));
  }

  async append(index: number, record: Uint8Array<ArrayBuffer>) {
    await Promise.resolve();
    if (index < this.records.length) {
      this.conflicts++;
      throw new RelayRequestError('SEALCHAT_E_CONFLICT', `Index ${index} is taken`);
    }
    if (index > this.records.length) throw new RelayRequestError('SEALCHAT_E_BAD_FRAME', 'Gap');
    this.records.push(record);
  }
}

/** A relay that serves whatever list it likes, each item with the index it claims. */
function served(items: { index: number; record: Uint8Array<ArrayBuffer> }[]): AuditTransport {
  return {
    list: async (from, limit) => {
      await Promise.resolve();
      return items.slice(from, from + limit);
    },
    append: () => Promise.reject(new Error('read-only')),
  };
}

interface Setup {
  org: TestOrganisation;
  transport: MemoryTransport;
  archivePublic: Uint8Array<ArrayBuffer>;
  writer: AuditLogWriter;
  read: (transport?: AuditTransport) => ReturnType<typeof readAuditLog>;
}

async function setup(): Promise<Setup> {
  const org = await createTestOrganisation();
  const transport = new MemoryTransport();
  const archivePublic = await exportPublicKey(org.archive.agreement.publicKey);
  const writer = newWriter({ org, archivePublic }, transport);
  const read = (t: AuditTransport = transport) =>
    readAuditLog({ transport: t, orgRootKey: org.rootPublic, archiveKey: org.archive.agreement });
  return { org, transport, archivePublic, writer, read };
}

/**
 * A writer on `transport` as `s`'s supervisor, sealing to `s`'s archive key; `options` name what a
 * case changes (another signer or certificate, a floor, a clock).
 */
function newWriter(
  s: Pick<Setup, 'org' | 'archivePublic'>,
  transport: AuditTransport,
  options: Partial<AuditLogWriterOptions> = {},
): AuditLogWriter {
  return new AuditLogWriter({
    transport,
    orgRootKey: s.org.rootPublic,
    signer: s.org.supervisor,
    certificate: s.org.supervisorCertificate,
    archivePublic: s.archivePublic,
    ...options,
  });
}

/** A log of four records. */
async function fourRecords(): Promise<Setup> {
  const s = await setup();
  for (const event of [SAMPLES['org-created'], SAMPLES['invite-created'], SAMPLES['device-approved']]) {
    await s.writer.append(event);
  }
  await s.writer.append(SAMPLES['roster-published']);
  return s;
}

function listed(records: readonly Uint8Array<ArrayBuffer>[]) {
  return records.map((record, index) => ({ index, record }));
}

function flip(record: Uint8Array<ArrayBuffer>, at: number): Uint8Array<ArrayBuffer> {
  const out = record.slice();
  out[at < 0 ? out.length + at : at]! ^= 0x01;
  return out;
}

async function expectTampered(promise: Promise<unknown>, index: number): Promise<AuditLogTamperedError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AuditLogTamperedError);
  const tampered = error as AuditLogTamperedError;
  expect(tampered.code).toBe('SEALCHAT_E_AUDIT_TAMPERED');
  expect(tampered.index).toBe(index);
  return tampered;
}

async function certify(
  org: TestOrganisation,
  device: DeviceIdentity,
  issuer: { privateKey: CryptoKey; publicKey: Uint8Array<ArrayBuffer> },
  options: { role?: DeviceRole; issuedAt?: number; expiresAt?: number; administer?: boolean } = {},
): Promise<Uint8Array<ArrayBuffer>> {
  const role = options.role ?? 'supervisor';
  return issueCertificate(
    {
      orgId: org.orgId,
      deviceId: device.deviceId,
      displayName: 'Other',
      role,
      administer: options.administer ?? role === 'supervisor',
      signingPublic: device.signingPublic,
      agreementPublic: device.agreementPublic,
      issuedAt: options.issuedAt ?? Date.now() - 60_000,
      expiresAt: options.expiresAt ?? Date.now() + DAY,
    },
    issuer,
  );
}

describe('audit entries', () => {
  it('round-trips every action', () => {
    for (const action of AUDIT_ACTIONS) {
      const event = SAMPLES[action];
      expect(decodeAuditEvent(encodeAuditEvent(event))).toEqual(event);
    }
    expect(AUDIT_ACTIONS).toHaveLength(Object.keys(SAMPLES).length);
  });

  it('encodes to known bytes (docs/audit-log.md §Entry)', () => {
    const bytes = encodeAuditEvent({ action: 'device-revoked', deviceId: id(0xab), name: 'Ana', role: 'agent' });
    expect(toHex(bytes)).toBe(
      '01' + '0000000e' + toHex(utf8Encode('device-revoked')) + 'ab'.repeat(16) + '00000003' + '416e61' + '01',
    );
    const roster = encodeAuditEvent({ action: 'roster-published', version: 258 });
    expect(toHex(roster)).toBe('01' + '00000010' + toHex(utf8Encode('roster-published')) + '0000000000000102');
  });

  it('refuses what it does not know, truncation, trailing bytes and over-long names', () => {
    const good = encodeAuditEvent(SAMPLES['bot-enrolled']);
    const unknown = fromHex('01' + '00000005' + toHex(utf8Encode('hello')));
    expect(() => decodeAuditEvent(unknown)).toThrow(DecodeError);
    expect(() => decodeAuditEvent(Uint8Array.of(...good, 0))).toThrow(DecodeError);
    expect(() => decodeAuditEvent(good.slice(0, -1))).toThrow(DecodeError);
    const newer = good.slice();
    newer[0] = 2;
    expect(() => decodeAuditEvent(newer)).toThrow(DecodeError);
    const badRole = encodeAuditEvent(SAMPLES['device-revoked']);
    badRole[badRole.length - 1] = 3;
    expect(() => decodeAuditEvent(badRole)).toThrow(DecodeError);
    // "toString" is on every object's prototype, not an action.
    const proto = fromHex('01' + '00000008' + toHex(utf8Encode('toString')));
    expect(() => decodeAuditEvent(proto)).toThrow(DecodeError);
    const long = 'x'.repeat(MAX_AUDIT_TEXT_BYTES + 1);
    const overLong = fromHex(
      '01' + '0000000b' + toHex(utf8Encode('org-created')) + '00000101' + toHex(utf8Encode(long)),
    );
    expect(() => decodeAuditEvent(overLong)).toThrow(DecodeError);
  });

  it('will not encode a bad event', () => {
    expect(() => encodeAuditEvent({ action: 'org-created', name: 'é'.repeat(129) })).toThrow(TypeError);
    expect(() => encodeAuditEvent({ action: 'bot-removed', deviceId: new Uint8Array(15), name: 'x' })).toThrow(
      TypeError,
    );
    expect(() => encodeAuditEvent({ action: 'retention-set', days: -1 })).toThrow(TypeError);
    expect(() => encodeAuditEvent({ action: 'nope' } as unknown as AuditEvent)).toThrow(TypeError);
  });
});

describe('audit log: write and read', () => {
  it('round-trips entries through the relay, with signer, time and index', async () => {
    const s = await setup();
    const before = Date.now();
    for (const action of AUDIT_ACTIONS)
      expect(await s.writer.append(SAMPLES[action])).toBe(AUDIT_ACTIONS.indexOf(action));
    const { entries, head } = await s.read();
    expect(entries.map((e) => e.event)).toEqual(AUDIT_ACTIONS.map((a) => SAMPLES[a]));
    expect(entries.map((e) => e.index)).toEqual(AUDIT_ACTIONS.map((_, i) => i));
    for (const e of entries) {
      expect(e.signer.displayName).toBe('Supervisor');
      expect(e.signer.deviceId).toEqual(s.org.supervisor.deviceId);
      expect(e.at).toBeGreaterThanOrEqual(before);
    }
    expect(head.count).toBe(AUDIT_ACTIONS.length);
    expect(head).toEqual(s.writer.head);
  });

  it('pages through a log longer than a page', async () => {
    const s = await fourRecords();
    const small = await readAuditLog({
      transport: s.transport,
      orgRootKey: s.org.rootPublic,
      archiveKey: s.org.archive.agreement,
      pageSize: 1,
    });
    expect(small.entries).toHaveLength(4);
    await expect(
      verifyAuditLog({ transport: s.transport, orgRootKey: s.org.rootPublic, maxRecords: 3 }),
    ).rejects.toMatchObject({ code: 'SEALCHAT_E_LIMIT' });
  });

  it('hides what happened from the relay: no names in the records, one record size for every action', async () => {
    const s = await setup();
    for (const action of AUDIT_ACTIONS) await s.writer.append(SAMPLES[action]);
    const sizes = new Set(s.transport.records.map((r) => r.length));
    expect(sizes.size).toBe(1);
    expect([...sizes][0]).toBeLessThanOrEqual(MAX_AUDIT_RECORD_BYTES);
    const everything = toHex(Uint8Array.from(s.transport.records.flatMap((r) => [...r])));
    for (const secret of ['Acme Support', 'FAQ bot', 'Ana', 'device-approved']) {
      expect(everything).not.toContain(toHex(utf8Encode(secret)));
    }
  });

  it('lets two writers race: both entries land at distinct indexes and the chain verifies', async () => {
    const s = await setup();
    const second = await generateDeviceIdentity();
    const secondWriter = newWriter(s, s.transport, {
      signer: second,
      certificate: await certify(s.org, second, { privateKey: s.org.root.privateKey, publicKey: s.org.rootPublic }),
    });
    await s.writer.append(SAMPLES['org-created']);
    const indexes = await Promise.all([
      s.writer.append(SAMPLES['bot-enrolled']),
      secondWriter.append(SAMPLES['retention-set']),
      s.writer.append(SAMPLES['bot-removed']),
    ]);
    expect(s.transport.conflicts).toBeGreaterThan(0);
    expect(new Set(indexes)).toEqual(new Set([1, 2, 3]));
    const { entries } = await s.read();
    expect(entries.map((e) => e.event.action).sort()).toEqual(
      ['org-created', 'bot-enrolled', 'retention-set', 'bot-removed'].sort(),
    );
    expect(entries.find((e) => e.event.action === 'retention-set')!.signer.deviceId).toEqual(second.deviceId);
  });

  it('gives up after maxAttempts when the index is always taken, with the relay’s conflict', async () => {
    const s = await setup();
    const always: AuditTransport = {
      list: () => Promise.resolve([]),
      append: () => Promise.reject(new RelayRequestError('SEALCHAT_E_CONFLICT', 'taken')),
    };
    const writer = newWriter(s, always, { maxAttempts: 3 });
    await expect(writer.append(SAMPLES['org-created'])).rejects.toMatchObject({ code: 'SEALCHAT_E_CONFLICT' });
  });

  it('never dates a record before the one it follows, even from a slow clock', async () => {
    const s = await fourRecords();
    const slow = newWriter(s, s.transport, { clock: () => Date.now() - 30_000 });
    await slow.append(SAMPLES['retention-set']);
    const { entries } = await s.read();
    expect(entries[4]!.at).toBe(entries[3]!.at);
  });

  it('refuses to write with a certificate every reader would refuse', async () => {
    const s = await setup();
    const byRoot = { privateKey: s.org.root.privateKey, publicKey: s.org.rootPublic };
    const device = await generateDeviceIdentity();
    const bad = [
      await certify(s.org, device, byRoot, { role: 'agent' }),
      await certify(s.org, device, byRoot, { issuedAt: Date.now() - 2 * DAY, expiresAt: Date.now() - DAY }),
      await s.org.certify(device, { role: 'supervisor' }), // issued by the supervisor, not the root
    ];
    for (const certificate of bad) {
      const writer = newWriter(s, s.transport, { signer: device, certificate });
      await expect(writer.append(SAMPLES['org-created'])).rejects.toBeInstanceOf(CertificateError);
    }
    const notMine = newWriter(s, s.transport, { signer: device, certificate: s.org.supervisorCertificate });
    await expect(notMine.append(SAMPLES['org-created'])).rejects.toBeInstanceOf(CertificateError);
    expect(s.transport.records).toHaveLength(0);
  });

  it('will not extend a log that does not verify', async () => {
    const s = await fourRecords();
    s.transport.records[2] = flip(s.transport.records[2]!, -1);
    const late = newWriter(s, s.transport);
    await expectTampered(late.append(SAMPLES['retention-set']), 2);
    expect(s.transport.records).toHaveLength(4);
  });
});

describe('audit log: a hostile relay', () => {
  it('is caught flipping a byte of the ciphertext, the signature or the link', async () => {
    const s = await fourRecords();
    const r = s.transport.records;
    const prevOffset = 1 + 8 + 8; // version, index, at
    for (const [at, index] of [
      [-100, 1], // inside the ciphertext
      [-1, 2], // the signature
      [prevOffset, 3], // prev
    ] as const) {
      const copy = [...r];
      copy[index] = flip(r[index]!, at);
      await expectTampered(s.read(served(listed(copy))), index);
    }
  });

  it('is caught swapping, dropping, renumbering or replaying records', async () => {
    const s = await fourRecords();
    const r = s.transport.records;
    // Swapped, each listed at its new place.
    await expectTampered(s.read(served(listed([r[0]!, r[2]!, r[1]!, r[3]!]))), 1);
    // Swapped, each listed under its own index (out of order).
    await expectTampered(s.read(served([0, 2, 1, 3].map((i) => ({ index: i, record: r[i]! })))), 1);
    // A middle record dropped, the rest listed under their own indexes…
    await expectTampered(s.read(served([0, 2, 3].map((i) => ({ index: i, record: r[i]! })))), 1);
    // …or renumbered to close the gap.
    await expectTampered(s.read(served(listed([r[0]!, r[2]!, r[3]!]))), 1);
    // An old record replayed at the end.
    await expectTampered(s.read(served(listed([...r, r[1]!]))), 4);
  });

  it('refuses a record even a supervisor signed when it forks from the chain or skips an index', async () => {
    const s = await fourRecords();
    const forge = (index: number, prev: Uint8Array<ArrayBuffer>) =>
      sealAuditRecord({
        orgId: s.org.orgId,
        index,
        at: Date.now(),
        prev,
        archivePublic: s.archivePublic,
        certificate: s.org.supervisorCertificate,
        signingKey: s.org.supervisor.signing.privateKey,
        event: SAMPLES['bot-removed'],
      });
    const r = s.transport.records;
    const fork = await forge(4, new Uint8Array(32).fill(7));
    const forked = await expectTampered(s.read(served(listed([...r, fork]))), 4);
    expect(forked.message).toMatch(/does not link/);
    const skip = await forge(5, s.writer.head.digest);
    const skipped = await expectTampered(s.read(served(listed([...r, skip]))), 4);
    expect(skipped.message).toMatch(/says it is record 5/);
  });

  it('is caught serving a record signed by an agent certificate, even one the root issued', async () => {
    const s = await fourRecords();
    const agent = await generateDeviceIdentity();
    const certificate = await certify(
      s.org,
      agent,
      { privateKey: s.org.root.privateKey, publicKey: s.org.rootPublic },
      { role: 'agent' },
    );
    await appendForged(s, agent, certificate);
    await expectTampered(s.read(), 4);
  });

  it('F8: refuses a record from an invited supervisor, whose certificate does not administer', async () => {
    const s = await fourRecords();
    const invited = await generateDeviceIdentity();
    const byRoot = { privateKey: s.org.root.privateKey, publicKey: s.org.rootPublic };
    await appendForged(s, invited, await certify(s.org, invited, byRoot, { administer: false }));
    const tampered = await expectTampered(s.read(), 4);
    expect(tampered.message).toMatch(/does not administer/);
    // Its own writer will not even try.
    const writer = newWriter(s, new MemoryTransport(), {
      signer: invited,
      certificate: await certify(s.org, invited, byRoot, { administer: false }),
    });
    await expect(writer.append(SAMPLES['retention-set'])).rejects.toBeInstanceOf(CertificateError);
  });

  it('F8: refuses a record from a supervisor the roster of its time no longer lists (revoked, key kept)', async () => {
    const s = await fourRecords();
    const leaver = await generateDeviceIdentity();
    const byRoot = { privateKey: s.org.root.privateKey, publicKey: s.org.rootPublic };
    const leaverCert = await certify(s.org, leaver, byRoot);
    // Version 1 listed the leaver; version 2, issued now, does not. Then the leaver writes.
    const rosterWith = (
      version: number,
      previous: VerifiedRoster | undefined,
      supervisors: Uint8Array<ArrayBuffer>[],
      issuedAt = Date.now() - (version === 1 ? 60_000 : 1000),
    ) =>
      issueRoster(
        {
          orgId: s.org.orgId,
          version,
          previousDigest: previous?.digest,
          issuedAt,
          expiresAt: Date.now() + DAY,
          archivePublic: s.archivePublic,
          supervisors: [s.org.supervisorCertificate, ...supervisors],
          agents: [],
        },
        byRoot,
      );
    const trust = { orgRootKey: s.org.rootPublic, now: Date.now() };
    const v1 = await verifyRoster(await rosterWith(1, undefined, [leaverCert]), trust);
    const v2 = await verifyRoster(await rosterWith(2, v1, []), { ...trust, previous: v1 });
    await new Promise((resolve) => setTimeout(resolve, 5));
    await appendForged(s, leaver, leaverCert);
    const read = (rosters: VerifiedRoster[]) =>
      readAuditLog({
        transport: s.transport,
        orgRootKey: s.org.rootPublic,
        archiveKey: s.org.archive.agreement,
        rosters,
      });
    const tampered = await expectTampered(read([v1, v2]), 4);
    expect(tampered.message).toMatch(/roster of its time/);
    // Rosters that do not reach back to the records are no excuse: the check fails closed.
    const later = await verifyRoster(await rosterWith(3, v2, [leaverCert], Date.now() + 1000), {
      ...trust,
      previous: v2,
    });
    await expectTampered(read([later]), 0);
    // The certificate alone (no rosters) cannot tell: it is a genuine administering certificate.
    expect((await s.read()).entries).toHaveLength(5);
  });

  it('is caught serving a record signed under another organisation’s root', async () => {
    const s = await fourRecords();
    const other = await createTestOrganisation();
    await appendForged(s, other.supervisor, other.supervisorCertificate);
    await expectTampered(s.read(), 4);
  });

  it('is caught serving a record backdated into an expired certificate’s lifetime', async () => {
    const s = await fourRecords();
    const old = await generateDeviceIdentity();
    const issuedAt = Date.now() - 3 * DAY;
    const certificate = await certify(
      s.org,
      old,
      { privateKey: s.org.root.privateKey, publicKey: s.org.rootPublic },
      { issuedAt, expiresAt: issuedAt + DAY },
    );
    // Dated now, the certificate has expired; dated in its lifetime, the record goes back in time.
    await appendForged(s, old, certificate, Date.now());
    await expectTampered(s.read(), 4);
    s.transport.records.pop();
    await appendForged(s, old, certificate, issuedAt + 1000);
    await expectTampered(s.read(), 4);
  });

  it('is caught truncating or rewriting a log the reader verified before', async () => {
    const s = await fourRecords();
    const { head } = await s.read();
    const r = s.transport.records;
    const truncated = await expectTampered(
      readAuditLog({
        transport: served(listed(r.slice(0, 3))),
        orgRootKey: s.org.rootPublic,
        archiveKey: s.org.archive.agreement,
        known: head,
      }),
      3,
    );
    expect(truncated.message).toMatch(/ends at 3 records, but 4/);
    await expectTampered(verifyAuditLog({ transport: served([]), orgRootKey: s.org.rootPublic, known: head }), 3);
    // Another history of the same length, properly signed: a fork.
    const fork = await setup();
    const forged = newWriter(s, fork.transport);
    for (let i = 0; i < 4; i++) await forged.append(SAMPLES['retention-set']);
    await expectTampered(verifyAuditLog({ transport: fork.transport, orgRootKey: s.org.rootPublic, known: head }), 3);
    // Growing past the known head is what should happen.
    await s.writer.append(SAMPLES['bot-removed']);
    const grown = await verifyAuditLog({ transport: s.transport, orgRootKey: s.org.rootPublic, known: head });
    expect(grown.head.count).toBe(5);
  });

  it('F8: refuses a first read that stops before the head the organisation signed (a hidden history-policy-set 0)', async () => {
    const s = await setup();
    await s.writer.append(SAMPLES['org-created']);
    await s.writer.append({ action: 'history-policy-set', enabled: 1 });
    await s.writer.append({ action: 'history-policy-set', enabled: 0 });
    // What a roster head signed after the last entry carries (docs/protocol.md §4.4).
    const floor = s.writer.head;
    const hiding = served(listed(s.transport.records.slice(0, 2)));
    const policy = (entries: readonly { event: AuditEvent }[]) =>
      entries.reduce((on, { event }) => (event.action === 'history-policy-set' ? event.enabled === 1 : on), false);
    // A reader with nothing kept, and no floor, believes the shorter log: history sharing looks on.
    expect(policy((await s.read(hiding)).entries)).toBe(true);
    const read = (transport: AuditTransport) =>
      readAuditLog({ transport, orgRootKey: s.org.rootPublic, archiveKey: s.org.archive.agreement, floor });
    const short = await expectTampered(read(hiding), 2);
    expect(short.message).toMatch(/ends before the head the organisation signed/);
    await expectTampered(verifyAuditLog({ transport: hiding, orgRootKey: s.org.rootPublic, floor }), 2);
    // As long, but another history: refused too.
    const other = await setup();
    const forged = newWriter(s, other.transport);
    for (let i = 0; i < 3; i++) await forged.append(SAMPLES['retention-set']);
    expect((await expectTampered(read(other.transport), 2)).message).toMatch(/differs from the head/);
    // The whole log passes, and so does one grown past the floor.
    expect(policy((await read(s.transport)).entries)).toBe(false);
    await s.writer.append(SAMPLES['bot-removed']);
    expect((await read(s.transport)).head.count).toBe(4);
  });
});

describe('audit log: a writer and the floor', () => {
  it('F8a: will not extend a log that stops before, or differs from, the head the organisation signed', async () => {
    const s = await setup();
    await s.writer.append(SAMPLES['org-created']);
    await s.writer.append({ action: 'history-policy-set', enabled: 1 });
    await s.writer.append({ action: 'history-policy-set', enabled: 0 });
    const floor = s.writer.head;
    const writerOn = (transport: AuditTransport, f = floor) => newWriter(s, transport, { floor: f });
    // A relay that hides the last record and would take a new one in its place.
    const cut = new MemoryTransport();
    cut.records.push(...s.transport.records.slice(0, 2));
    const short = await writerOn(cut)
      .append(SAMPLES['bot-removed'])
      .catch((e: unknown) => e);
    expect(short).toBeInstanceOf(AuditLogTamperedError);
    expect((short as Error).message).toMatch(/ends before the head the organisation signed \(2 of 3 records\)/);
    expect(cut.records).toHaveLength(2);
    // As long, but another history, properly signed.
    const other = await setup();
    const forged = newWriter(s, other.transport);
    for (let i = 0; i < 3; i++) await forged.append(SAMPLES['retention-set']);
    await expect(writerOn(other.transport).append(SAMPLES['bot-removed'])).rejects.toThrow(/differs from the head/);
    expect(other.transport.records).toHaveLength(3);
    // The log itself, and a longer one, are extended.
    expect(await writerOn(s.transport).append(SAMPLES['bot-removed'])).toBe(3);
    expect(await writerOn(s.transport).append(SAMPLES['bot-enrolled'])).toBe(4);
    expect(() => writerOn(s.transport, { count: -1, digest: floor.digest })).toThrow(TypeError);
  });
});

describe('audit log: who can read it', () => {
  it('can be verified with the org key alone, but read only with the archive key', async () => {
    const s = await fourRecords();
    const verified = await verifyAuditLog({ transport: s.transport, orgRootKey: s.org.rootPublic });
    expect(verified.records.map((r) => r.index)).toEqual([0, 1, 2, 3]);
    expect(verified.records[0]).not.toHaveProperty('event');
    const otherArchive = await generateAgreementKeyPair();
    const error = await readAuditLog({
      transport: s.transport,
      orgRootKey: s.org.rootPublic,
      archiveKey: otherArchive,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AuditLogKeyError);
    expect(error).toMatchObject({ code: 'SEALCHAT_E_AUDIT_KEY', index: 0 });
  });

  it('names the first record sealed to another archive key, though the chain verifies', async () => {
    const s = await fourRecords();
    const otherArchive = await exportPublicKey((await generateAgreementKeyPair()).publicKey);
    const elsewhere = newWriter(s, s.transport, { archivePublic: otherArchive });
    await elsewhere.append(SAMPLES['retention-set']);
    await expect(s.read()).rejects.toMatchObject({ code: 'SEALCHAT_E_AUDIT_KEY', index: 4 });
    const verified = await verifyAuditLog({ transport: s.transport, orgRootKey: s.org.rootPublic });
    expect(verified.head.count).toBe(5);
  });
});

describe('exportAuditLog', () => {
  it('gives JSON and one plain-text line per entry, names quoted so none can forge a line', async () => {
    const s = await setup();
    await s.writer.append({
      action: 'bot-enrolled',
      deviceId: id(0xcd),
      name: 'Bot\n#9 2020-01-01 org-created \u202e',
    });
    await s.writer.append(SAMPLES['roster-published']);
    const { entries } = await s.read();
    const { json, text } = exportAuditLog(entries);
    const lines = text.trimEnd().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^#0 \d{4}-\d\d-\d\dT[\d:.]+Z bot-enrolled deviceId=(cd){16} name="Bot\\n#9 /);
    expect(lines[0]).toContain('\\u202e');
    expect(lines[0]).not.toContain('\u202e');
    expect(lines[1]).toMatch(/ roster-published version=7 by "Supervisor" device=[0-9a-f]{32}$/);
    const parsed = JSON.parse(json) as Record<string, unknown>[];
    expect(parsed).toHaveLength(2);
    expect(parsed[0]).toMatchObject({
      index: 0,
      action: 'bot-enrolled',
      deviceId: 'cd'.repeat(16),
      name: 'Bot\n#9 2020-01-01 org-created \u202e',
      signer: { name: 'Supervisor', deviceId: toHex(s.org.supervisor.deviceId) },
    });
    expect(parsed[1]).toMatchObject({ index: 1, action: 'roster-published', version: 7 });
  });
});

/** Appends a record at the end of `s`'s log signed by `device` with `certificate`, as only a relay could. */
async function appendForged(
  s: Setup,
  device: DeviceIdentity,
  certificate: Uint8Array<ArrayBuffer>,
  at = Date.now(),
): Promise<void> {
  const { head } = await verifyAuditLog({ transport: s.transport, orgRootKey: s.org.rootPublic });
  s.transport.records.push(
    await sealAuditRecord({
      orgId: s.org.orgId,
      index: head.count,
      at,
      prev: head.digest,
      archivePublic: s.archivePublic,
      certificate,
      signingKey: device.signing.privateKey,
      event: SAMPLES['device-approved'],
    }),
  );
}
