import type { Pool } from 'pg';

/**
 * PostgreSQL schema migrations, applied in order inside one transaction each; the `schema_version`
 * table records which ran. Append only, as for SQLite (sqlite-schema.ts): an edited migration would
 * leave existing databases on a schema no fresh one has. All objects live in one schema (default
 * `sealchat`), so the relay can share a database with other applications.
 */
export const PG_MIGRATIONS: readonly string[] = [
  `CREATE TABLE meta (key text PRIMARY KEY, value bigint NOT NULL);
   -- The epoch (docs/relay-protocol.md §Resume): random in [1, 2^48 - 1], renewed by a restore.
   INSERT INTO meta (key, value) VALUES ('epoch', floor(random() * 281474976710654)::bigint + 1);
   CREATE TABLE orgs (
     org_id bytea PRIMARY KEY CHECK (length(org_id) = 16),
     root_key bytea NOT NULL CHECK (length(root_key) = 32),
     roster bytea,
     roster_version integer NOT NULL DEFAULT 0,
     registered_at bigint NOT NULL,
     retention_days integer CHECK (retention_days IS NULL OR retention_days > 0),
     -- Registration order, for latestOrg and listOrgs (SQLite's rowid).
     position bigserial NOT NULL
   );
   CREATE TABLE org_origins (
     org_id bytea NOT NULL REFERENCES orgs (org_id) ON DELETE CASCADE,
     origin text NOT NULL,
     PRIMARY KEY (org_id, origin)
   );
   CREATE INDEX org_origins_by_origin ON org_origins (origin);
   CREATE TABLE conversations (
     conversation_id bytea PRIMARY KEY CHECK (length(conversation_id) = 16),
     org_id bytea NOT NULL REFERENCES orgs (org_id) ON DELETE CASCADE,
     capability_hash bytea NOT NULL CHECK (length(capability_hash) = 32),
     last_seq bigint NOT NULL DEFAULT 0,
     created_at bigint NOT NULL
   );
   CREATE INDEX conversations_by_org ON conversations (org_id, created_at);
   CREATE TABLE records (
     position bigserial PRIMARY KEY,
     conversation_id bytea NOT NULL REFERENCES conversations (conversation_id) ON DELETE CASCADE,
     seq bigint NOT NULL,
     client_message_id bytea NOT NULL CHECK (length(client_message_id) = 16),
     envelope bytea NOT NULL,
     stored_at bigint NOT NULL,
     UNIQUE (conversation_id, seq),
     UNIQUE (conversation_id, client_message_id)
   );
   CREATE INDEX records_by_time ON records (stored_at);
   -- One group commit in one statement (one round trip, one transaction). Every conversation of the
   -- batch is locked first, in byte order, so two relays' batches cannot deadlock; under that row
   -- lock each later statement sees whatever an earlier holder committed (READ COMMITTED takes a new
   -- snapshot per statement), so the duplicate check cannot miss a retry committed through another
   -- relay. The seq is last_seq + 1, written in the same transaction as the record.
   CREATE FUNCTION append_batch(convs bytea[], client_ids bytea[], envelopes bytea[], now_ms bigint)
   RETURNS TABLE (out_seq bigint, out_duplicate boolean, out_stored_at bigint, out_envelope bytea)
   LANGUAGE plpgsql SET search_path FROM CURRENT AS $fn$
   DECLARE
     c bytea;
     s bigint;
     prior record;
   BEGIN
     FOR c IN SELECT DISTINCT u FROM unnest(convs) AS u ORDER BY u LOOP
       PERFORM 1 FROM conversations WHERE conversation_id = c FOR UPDATE;
     END LOOP;
     FOR i IN 1 .. coalesce(array_length(convs, 1), 0) LOOP
       SELECT r.seq, r.stored_at, r.envelope INTO prior FROM records r
         WHERE r.conversation_id = convs[i] AND r.client_message_id = client_ids[i];
       IF FOUND THEN
         out_seq := prior.seq; out_duplicate := true; out_stored_at := prior.stored_at; out_envelope := prior.envelope;
         RETURN NEXT;
         CONTINUE;
       END IF;
       UPDATE conversations SET last_seq = last_seq + 1 WHERE conversation_id = convs[i] RETURNING last_seq INTO s;
       IF NOT FOUND THEN
         out_seq := NULL; out_duplicate := false; out_stored_at := NULL; out_envelope := NULL;
         RETURN NEXT;
         CONTINUE;
       END IF;
       INSERT INTO records (conversation_id, seq, client_message_id, envelope, stored_at)
         VALUES (convs[i], s, client_ids[i], envelopes[i], now_ms);
       out_seq := s; out_duplicate := false; out_stored_at := now_ms; out_envelope := NULL;
       RETURN NEXT;
     END LOOP;
   END
   $fn$;`,
  // v2 (wire revision 3): each organisation's append-only audit log, opaque records numbered from 0.
  // The primary key makes two relays' appends of one index collide: exactly one commits.
  `CREATE TABLE audit_records (
     org_id bytea NOT NULL REFERENCES orgs (org_id) ON DELETE CASCADE,
     audit_index bigint NOT NULL CHECK (audit_index >= 0),
     record bytea NOT NULL,
     stored_at bigint NOT NULL,
     PRIMARY KEY (org_id, audit_index)
   );`,
  // v3 (wire revision 3): every roster the relay accepted, so an org's devices can check old messages
  // against the roster of their time (get-roster-history). Starts with each org's current roster.
  `CREATE TABLE roster_history (
     org_id bytea NOT NULL REFERENCES orgs (org_id) ON DELETE CASCADE,
     version bigint NOT NULL CHECK (version >= 0),
     roster bytea NOT NULL,
     PRIMARY KEY (org_id, version)
   );
   INSERT INTO roster_history (org_id, version, roster)
     SELECT org_id, roster_version, roster FROM orgs WHERE roster IS NOT NULL;`,
  // v4 (wire revision 4): history grants, opaque ciphertext per (org, device, conversation). The
  // cascades delete a grant with its conversation (deletion, sweep) and its org; saveRoster deletes
  // those of devices a new roster drops.
  `CREATE TABLE history_grants (
     org_id bytea NOT NULL REFERENCES orgs (org_id) ON DELETE CASCADE,
     device_id bytea NOT NULL CHECK (length(device_id) = 16),
     conversation_id bytea NOT NULL REFERENCES conversations (conversation_id) ON DELETE CASCADE,
     sealed bytea NOT NULL CHECK (length(sealed) > 0),
     PRIMARY KEY (org_id, device_id, conversation_id)
   );
   CREATE INDEX history_grants_by_conversation ON history_grants (conversation_id);`,
  // v5 (wire revision 5): each organisation's newest roster head (docs/protocol.md §4.4), one row
  // per org, replaced by a newer one and gone with its org.
  `CREATE TABLE roster_heads (
     org_id bytea PRIMARY KEY REFERENCES orgs (org_id) ON DELETE CASCADE,
     roster_version bigint NOT NULL CHECK (roster_version > 0),
     signed_at bigint NOT NULL CHECK (signed_at >= 0),
     head bytea NOT NULL
   );`,
  // v6: the audit count a head's mark names (docs/audit-log.md §Heads), so a head naming fewer
  // records than the held one is refused in the same statement that stores it. Heads kept before
  // name none: 0.
  `ALTER TABLE roster_heads ADD COLUMN audit_count bigint NOT NULL DEFAULT 0 CHECK (audit_count >= 0);`,
];

/** A schema name the relay accepts: a plain lower-case identifier, so it never needs escaping rules. */
export const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * Creates the schema if needed and runs the migrations it lacks, under an advisory lock so that
 * several relays starting at once migrate exactly once.
 * @throws Error if the schema was migrated by a newer relay.
 */
export async function migratePostgres(pool: Pool, schema: string): Promise<void> {
  if (!SCHEMA_NAME.test(schema)) throw new TypeError(`Invalid PostgreSQL schema name ${JSON.stringify(schema)}`);
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`sealchat-migrate:${schema}`]);
    await client.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
    await client.query(`SET LOCAL search_path TO "${schema}"`);
    await client.query('CREATE TABLE IF NOT EXISTS schema_version (version integer NOT NULL)');
    const { rows } = await client.query<{ version: number | null }>(
      'SELECT max(version) AS version FROM schema_version',
    );
    const version = rows[0]?.version ?? 0;
    if (version > PG_MIGRATIONS.length) {
      throw new Error(`The database schema is version ${version}; this relay knows up to ${PG_MIGRATIONS.length}`);
    }
    for (let next = version; next < PG_MIGRATIONS.length; next++) {
      await client.query(PG_MIGRATIONS[next] ?? '');
      await client.query('INSERT INTO schema_version (version) VALUES ($1)', [next + 1]);
    }
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}
