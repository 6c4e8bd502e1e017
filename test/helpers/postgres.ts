import { createRequire } from 'node:module';

/** PostgreSQL database the store tests use. TEST_POSTGRES_URL points them elsewhere. */
export const POSTGRES_URL = process.env.TEST_POSTGRES_URL || 'postgres://postgres@127.0.0.1:5432/test';

/** A store URL whose tables live in their own schema, so a test run sees only its own rows. */
export function postgresUrl(schema: string, base = POSTGRES_URL): string {
  const url = new URL(base);
  url.searchParams.set('schema', schema);
  return url.toString();
}

interface Client {
  connect(): Promise<void>;
  query(sql: string, values?: unknown[]): Promise<{ rows: Array<Record<string, unknown>> }>;
  end(): Promise<void>;
}
// The `pg` that @keyv/postgres depends on (the store uses the same one).
const requireFromAdapter = createRequire(createRequire(import.meta.url).resolve('@keyv/postgres'));
const { Client: PgClient } = requireFromAdapter('pg') as {
  Client: new (config: { connectionString: string }) => Client;
};

/** Runs one statement on a connection of its own (not the store's). */
export async function rawPostgres<T>(sql: string, values?: unknown[], url = POSTGRES_URL): Promise<T[]> {
  const client = new PgClient({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql, values)).rows as T[];
  } finally {
    await client.end();
  }
}

/** Drops a schema a test run created, with its tables. */
export async function dropPostgresSchema(schema: string): Promise<void> {
  await rawPostgres(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
}
