/**
 * The PostgreSQL server the scale-out tests use: the machine's own, never skipped. A test that
 * cannot reach it fails with a message naming it, so CI says what is down. (Redis is not taken
 * from the machine: the multi-relay test starts its own `redis-server`, see cluster.ts.)
 *
 *   SEALCHAT_TEST_POSTGRES  default postgres://postgres@127.0.0.1:5432/test
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export const POSTGRES_URL = process.env['SEALCHAT_TEST_POSTGRES'] || 'postgres://postgres@127.0.0.1:5432/test';

/** A fresh schema on the test server, dropped by `drop`; its URL is what `--db` takes. */
export interface TestSchema {
  readonly name: string;
  readonly url: string;
  drop(): Promise<void>;
}

async function admin<T>(run: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: POSTGRES_URL, connectionTimeoutMillis: 5000 });
  try {
    await client.connect();
  } catch (error) {
    throw new Error(
      `PostgreSQL is not reachable at ${POSTGRES_URL} (${error instanceof Error ? error.message : String(error)}); ` +
        'start it (the relay scale-out tests need it) or set SEALCHAT_TEST_POSTGRES',
    );
  }
  try {
    return await run(client);
  } finally {
    await client.end();
  }
}

/** Creates nothing: the store creates the schema on open. Names are unique per call and process. */
export async function freshSchema(prefix = 'sealchat_test'): Promise<TestSchema> {
  const name = `${prefix}_${process.pid}_${randomBytes(4).toString('hex')}`;
  // Fail here, loudly, if the server is down.
  await admin((client) => client.query('SELECT 1'));
  const url = new URL(POSTGRES_URL);
  url.searchParams.set('schema', name);
  return {
    name,
    url: url.toString(),
    drop: () =>
      admin(async (client) => {
        await client.query(`DROP SCHEMA IF EXISTS "${name}" CASCADE`);
      }),
  };
}

/** Runs one query on the test server (inspecting what a relay stored). */
export function queryTest<R extends pg.QueryResultRow>(schema: string, text: string, values: unknown[] = []) {
  return admin(async (client) => {
    await client.query(`SET search_path TO "${schema}"`);
    return (await client.query<R>(text, values)).rows;
  });
}
