import { randomInt } from 'node:crypto';
import type Database from 'better-sqlite3';

/**
 * Schema migrations, applied in order; `PRAGMA user_version` records how many ran. Append only:
 * an edited migration would leave existing databases on a schema no fresh one has.
 */
export const MIGRATIONS: readonly string[] = [
  `CREATE TABLE orgs (
     org_id BLOB NOT NULL UNIQUE CHECK (length(org_id) = 16),
     root_key BLOB NOT NULL CHECK (length(root_key) = 32),
     roster BLOB,
     roster_version INTEGER NOT NULL DEFAULT 0,
     registered_at INTEGER NOT NULL
   );
   CREATE TABLE conversations (
     conversation_id BLOB PRIMARY KEY CHECK (length(conversation_id) = 16),
     org_id BLOB NOT NULL REFERENCES orgs (org_id),
     capability_hash BLOB NOT NULL CHECK (length(capability_hash) = 32),
     last_seq INTEGER NOT NULL DEFAULT 0,
     created_at INTEGER NOT NULL
   ) WITHOUT ROWID;
   CREATE INDEX conversations_by_org ON conversations (org_id, created_at);
   CREATE TABLE records (
     conversation_id BLOB NOT NULL REFERENCES conversations (conversation_id),
     seq INTEGER NOT NULL,
     client_message_id BLOB NOT NULL CHECK (length(client_message_id) = 16),
     envelope BLOB NOT NULL,
     stored_at INTEGER NOT NULL,
     UNIQUE (conversation_id, seq),
     UNIQUE (conversation_id, client_message_id)
   );`,
  // v2 (Relay v1): the epoch, per-org retention and origins, and an index for the retention sweep.
  `CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
   INSERT INTO meta (key, value) VALUES ('epoch', abs(random() % 281474976710655) + 1);
   ALTER TABLE orgs ADD COLUMN retention_days INTEGER CHECK (retention_days IS NULL OR retention_days > 0);
   CREATE TABLE org_origins (
     org_id BLOB NOT NULL REFERENCES orgs (org_id),
     origin TEXT NOT NULL,
     PRIMARY KEY (org_id, origin)
   ) WITHOUT ROWID;
   CREATE INDEX org_origins_by_origin ON org_origins (origin);
   CREATE INDEX records_by_time ON records (stored_at);`,
  // v3 (wire revision 3): each organisation's append-only audit log, opaque records numbered from 0.
  // Not tied to conversations and never swept by retention (docs/relay-protocol.md §Audit log).
  `CREATE TABLE audit_records (
     org_id BLOB NOT NULL REFERENCES orgs (org_id),
     audit_index INTEGER NOT NULL CHECK (audit_index >= 0),
     record BLOB NOT NULL,
     stored_at INTEGER NOT NULL,
     PRIMARY KEY (org_id, audit_index)
   );`,
  // v4 (wire revision 3): every roster the relay accepted, so an org's devices can check old messages
  // against the roster of their time (get-roster-history). Starts with each org's current roster.
  `CREATE TABLE roster_history (
     org_id BLOB NOT NULL REFERENCES orgs (org_id),
     version INTEGER NOT NULL CHECK (version >= 0),
     roster BLOB NOT NULL,
     PRIMARY KEY (org_id, version)
   );
   INSERT INTO roster_history (org_id, version, roster)
     SELECT org_id, roster_version, roster FROM orgs WHERE roster IS NOT NULL;`,
  // v5 (wire revision 4): history grants, opaque ciphertext per (org, device, conversation). The
  // cascades delete a grant with its conversation however that goes (deletion, sweep, org removal);
  // saveRoster deletes those of devices a new roster drops. A rowid table: a grant may be 64 KiB.
  `CREATE TABLE history_grants (
     org_id BLOB NOT NULL REFERENCES orgs (org_id) ON DELETE CASCADE,
     device_id BLOB NOT NULL CHECK (length(device_id) = 16),
     conversation_id BLOB NOT NULL REFERENCES conversations (conversation_id) ON DELETE CASCADE,
     sealed BLOB NOT NULL CHECK (length(sealed) > 0),
     UNIQUE (org_id, device_id, conversation_id)
   );
   CREATE INDEX history_grants_by_conversation ON history_grants (conversation_id);`,
  // v6 (wire revision 5): each organisation's newest roster head (docs/protocol.md §4.4), one row
  // per org, replaced by a newer one and gone with its org.
  `CREATE TABLE roster_heads (
     org_id BLOB PRIMARY KEY REFERENCES orgs (org_id) ON DELETE CASCADE,
     roster_version INTEGER NOT NULL CHECK (roster_version > 0),
     signed_at INTEGER NOT NULL CHECK (signed_at >= 0),
     head BLOB NOT NULL
   ) WITHOUT ROWID;`,
  // v7: the audit count a head's mark names (docs/audit-log.md §Heads), so a head naming fewer
  // records than the held one is refused in the same statement that stores it. Heads kept before
  // name none: 0.
  `ALTER TABLE roster_heads ADD COLUMN audit_count INTEGER NOT NULL DEFAULT 0 CHECK (audit_count >= 0);`,
];

/** Epochs are random in [1, 2^48 - 1]: unguessable enough that two restores never share one. */
export const MAX_EPOCH = 2 ** 48 - 1;

/**
 * Opens a database with the relay's settings. `secure_delete` zeroes deleted content, and
 * incremental auto-vacuum lets the vacuum schedule give freed pages back; a database created before
 * auto-vacuum was on is rebuilt once with VACUUM, since the setting only takes effect that way.
 */
export function configure(db: Database.Database): void {
  db.pragma('journal_mode = WAL');
  // better-sqlite3 compiles WAL databases to NORMAL on reopen; an ack promises durability, so FULL.
  db.pragma('synchronous = FULL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  db.pragma('secure_delete = ON');
  if (Number(db.pragma('auto_vacuum', { simple: true })) !== 2) {
    db.pragma('auto_vacuum = INCREMENTAL');
    const tables = db.prepare<[], { n: number }>("SELECT count(*) AS n FROM sqlite_schema WHERE type = 'table'").get();
    if ((tables?.n ?? 0) > 0) db.exec('VACUUM');
  }
}

/**
 * Runs the migrations this file lacks.
 * @throws Error if the file was written by a newer relay (its schema version is unknown here).
 */
export function migrate(db: Database.Database): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version > MIGRATIONS.length) {
    throw new Error(`The database schema is version ${version}; this relay knows up to ${MIGRATIONS.length}`);
  }
  for (let next = version; next < MIGRATIONS.length; next++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[next] ?? '');
      db.pragma(`user_version = ${next + 1}`);
    })();
  }
}

/** Gives the database a new random epoch (after a restore). Returns it. */
export function renewEpoch(db: Database.Database): number {
  const epoch = randomInt(1, MAX_EPOCH + 1);
  db.prepare("UPDATE meta SET value = ? WHERE key = 'epoch'").run(epoch);
  return epoch;
}
