import { describe, expect, it } from 'vitest';
import { PG_MIGRATIONS } from './postgres-schema.js';
import { parsePostgresUrl, PostgresStore } from './postgres-store.js';
import { describeStoreContract } from './testing/store-contract.js';
import { freshSchema, queryTest } from './testing/services.js';

// Each test gets its own schema on the machine's PostgreSQL, created by the store and dropped after.
describeStoreContract('PostgreSQL', async () => {
  const schema = await freshSchema();
  return { open: () => PostgresStore.open(schema.url, { poolSize: 4 }), cleanup: () => schema.drop() };
});

describe('PostgresStore', () => {
  it('reads the schema from the URL and refuses anything else', () => {
    expect(parsePostgresUrl('postgres://u@h:5432/db?schema=abc&sslmode=require')).toEqual({
      connectionString: 'postgres://u@h:5432/db?sslmode=require',
      schema: 'abc',
    });
    expect(parsePostgresUrl('postgresql://h/db').schema).toBe('sealchat');
    expect(() => parsePostgresUrl('postgres://h/db?schema=Bad-Name')).toThrow(TypeError);
    expect(() => parsePostgresUrl('mysql://h/db')).toThrow(TypeError);
  });

  it('migrates once when several relays start at once, records the version, and refuses a newer schema', async () => {
    const schema = await freshSchema();
    try {
      const stores = await Promise.all([1, 2, 3].map(() => PostgresStore.open(schema.url, { poolSize: 1 })));
      expect(new Set(stores.map((s) => s.epoch())).size).toBe(1);
      for (const s of stores) await s.close();
      const versions = await queryTest<{ version: number }>(schema.name, 'SELECT version FROM schema_version');
      expect(versions.map((v) => v.version)).toEqual(PG_MIGRATIONS.map((_, i) => i + 1));
      await queryTest(schema.name, 'INSERT INTO schema_version (version) VALUES (99)');
      await expect(PostgresStore.open(schema.url)).rejects.toThrow(/schema is version 99/);
    } finally {
      await schema.drop();
    }
  });

  it('migrates a schema from before the audit log (version 1), keeping what it holds', async () => {
    const schema = await freshSchema();
    try {
      const orgId = crypto.getRandomValues(new Uint8Array(16));
      await createSchemaAtVersion1(schema.name, orgId);
      const store = await PostgresStore.open(schema.url, { poolSize: 2 });
      try {
        expect((await store.getOrg(orgId))?.retentionDays).toBe(9);
        expect(await store.appendAudit(orgId, 0, new Uint8Array(40), 5, 10)).toBe('appended');
        expect(await store.auditCount(orgId)).toBe(1);
      } finally {
        await store.close();
      }
      const versions = await queryTest<{ version: number }>(schema.name, 'SELECT version FROM schema_version');
      expect(versions.map((v) => v.version)).toEqual(PG_MIGRATIONS.map((_, i) => i + 1));
    } finally {
      await schema.drop();
    }
  });

  it('migrates a schema from before the roster history (version 2): each org’s current roster starts it', async () => {
    const schema = await freshSchema();
    try {
      const orgId = crypto.getRandomValues(new Uint8Array(16));
      await createSchemaAtVersion1(schema.name, orgId);
      await queryTest(schema.name, PG_MIGRATIONS[1] ?? '');
      await queryTest(schema.name, 'INSERT INTO schema_version (version) VALUES (2)');
      const roster = crypto.getRandomValues(new Uint8Array(90));
      await queryTest(schema.name, 'UPDATE orgs SET roster = $1, roster_version = 7 WHERE org_id = $2', [
        Buffer.from(roster),
        Buffer.from(orgId),
      ]);
      const bare = crypto.getRandomValues(new Uint8Array(16));
      await queryTest(schema.name, 'INSERT INTO orgs (org_id, root_key, registered_at) VALUES ($1, $2, 1)', [
        Buffer.from(bare),
        Buffer.alloc(32, 2),
      ]);
      const store = await PostgresStore.open(schema.url, { poolSize: 2 });
      try {
        expect(await store.rosterHistory(orgId, 0, 10)).toEqual([{ version: 7, roster }]);
        expect(await store.rosterHistory(bare, 0, 10)).toEqual([]);
        expect(await store.saveRoster(orgId, 8, new Uint8Array(95), 10, [])).toBe(true);
        expect((await store.rosterHistory(orgId, 0, 10)).map((r) => r.version)).toEqual([7, 8]);
      } finally {
        await store.close();
      }
      const versions = await queryTest<{ version: number }>(schema.name, 'SELECT version FROM schema_version');
      expect(versions.map((v) => v.version)).toEqual(PG_MIGRATIONS.map((_, i) => i + 1));
    } finally {
      await schema.drop();
    }
  });

  it('migrates a schema from before history grants (version 3), and grants then go with their conversation', async () => {
    const schema = await freshSchema();
    try {
      const orgId = crypto.getRandomValues(new Uint8Array(16));
      const conversationId = crypto.getRandomValues(new Uint8Array(16));
      await createSchemaAtVersion1(schema.name, orgId);
      for (const version of [2, 3]) {
        await queryTest(schema.name, PG_MIGRATIONS[version - 1] ?? '');
        await queryTest(schema.name, 'INSERT INTO schema_version (version) VALUES ($1)', [version]);
      }
      await queryTest(schema.name, 'UPDATE orgs SET roster = $1, roster_version = 3 WHERE org_id = $2', [
        Buffer.alloc(40, 4),
        Buffer.from(orgId),
      ]);
      await queryTest(
        schema.name,
        'INSERT INTO conversations (conversation_id, org_id, capability_hash, created_at) VALUES ($1, $2, $3, 2)',
        [Buffer.from(conversationId), Buffer.from(orgId), Buffer.alloc(32, 5)],
      );
      const store = await PostgresStore.open(schema.url, { poolSize: 2 });
      const deviceId = crypto.getRandomValues(new Uint8Array(16));
      try {
        const grant = crypto.getRandomValues(new Uint8Array(60));
        const write = { orgId, deviceId, conversationId, grant, rosterVersion: 3, maxPerDevice: 10 };
        expect(await store.putHistoryGrant(write)).toBe('stored');
        expect(await store.historyGrants(orgId, deviceId, new Uint8Array(16), 10)).toEqual([{ conversationId, grant }]);
        expect(await store.deleteConversation(conversationId)).toBe(true);
        expect(await store.historyGrant(orgId, deviceId, conversationId)).toBeUndefined();
        await store.vacuum();
      } finally {
        await store.close();
      }
      const versions = await queryTest<{ version: number }>(schema.name, 'SELECT version FROM schema_version');
      expect(versions.map((v) => v.version)).toEqual(PG_MIGRATIONS.map((_, i) => i + 1));
    } finally {
      await schema.drop();
    }
  });

  it('renews the epoch (after pg_restore)', async () => {
    const schema = await freshSchema();
    try {
      const store = await PostgresStore.open(schema.url, { poolSize: 1 });
      const before = store.epoch();
      const after = await store.renewEpoch();
      expect(after).not.toBe(before);
      await store.close();
      const reopened = await PostgresStore.open(schema.url, { poolSize: 1 });
      expect(reopened.epoch()).toBe(after);
      await reopened.close();
    } finally {
      await schema.drop();
    }
  });
});

/** A schema as a relay before the audit log left it: migration 1 only, with one org. */
async function createSchemaAtVersion1(schema: string, orgId: Uint8Array): Promise<void> {
  await queryTest(schema, `CREATE SCHEMA IF NOT EXISTS "${schema}"`);
  await queryTest(schema, PG_MIGRATIONS[0] ?? '');
  await queryTest(schema, 'CREATE TABLE schema_version (version integer NOT NULL)');
  await queryTest(schema, 'INSERT INTO schema_version (version) VALUES (1)');
  await queryTest(schema, 'INSERT INTO orgs (org_id, root_key, registered_at, retention_days) VALUES ($1, $2, 1, 9)', [
    Buffer.from(orgId),
    Buffer.alloc(32, 1),
  ]);
}
