import { performance } from 'node:perf_hooks';
import KeyvPostgres from '@keyv/postgres';
import Keyv from 'keyv';
import pg from 'pg';
import { pauseAfter } from '../core/pacing.js';
import type { Clock, Counters, CounterValue } from '../core/ports.js';
import { guardStore, OPEN_DEADLINE_MS, PING_DEADLINE_MS, STORE_DEADLINE_MS, toStoreError } from './errors.js';
import { KeyvStore, type ListKeys, upperBound } from './keyv-store.js';
import type { Store } from './types.js';

type Row = Record<string, unknown>;
type Query = (sql: string, values?: unknown[]) => Promise<Row[]>;

type Pool = pg.Pool;

/** Connections per process; a store call holds one for a single statement. */
export const POSTGRES_POOL_SIZE = 10;

/**
 * @keyv/postgres keeps one module-wide pool (a second store with the same URL shares it, and closing
 * either ends both) with no 'error' listener, so an idle connection that the server drops would crash
 * the process. This subclass runs keyv's statements on the store's own pool instead.
 */
class PooledKeyvPostgres extends KeyvPostgres {
  // super() calls connect() before any field of ours is set, so the pool comes in with the options.
  override async connect() {
    const { pool } = this.opts as { pool: Pool };
    return async (sql: string, values?: unknown[]) => (await pool.query(sql, values)).rows;
  }

  // The store ends the pool.
  override async disconnect() {}

  // Same paging as @keyv/postgres, but a failed page throws: its iterator ends quietly on an error,
  // which would list "no sessions" while the database is down.
  override async *iterator(namespace?: string): AsyncGenerator<string[], void, unknown> {
    const { schema, table, iterationLimit } = this.opts as { schema: string; table: string; iterationLimit: number };
    const pattern = `${namespace ? `${namespace.replace(/[%_\\]/g, '\\$&')}:` : ''}%`;
    let lastKey: string | null = null;
    for (;;) {
      const rows: Row[] =
        lastKey === null
          ? await this.query(`SELECT key, value FROM ${schema}.${table} WHERE key LIKE $1 ORDER BY key LIMIT $2`, [
              pattern,
              iterationLimit,
            ])
          : await this.query(
              `SELECT key, value FROM ${schema}.${table} WHERE key LIKE $1 AND key > $2 ORDER BY key LIMIT $3`,
              [pattern, lastKey, iterationLimit],
            );
      for (const row of rows) yield [row.key as string, row.value as string];
      if (rows.length < iterationLimit) return;
      lastKey = rows[rows.length - 1]!.key as string;
    }
  }
}

/**
 * Splits `?schema=name` off the URL (pg would ignore it): the schema holding our two tables, `public`
 * by default. Checked here because @keyv/postgres puts it into its SQL unquoted.
 */
export function parsePostgresUrl(url: string): { connectionString: string; schema: string } {
  const parsed = new URL(url);
  const schema = parsed.searchParams.get('schema') ?? 'public';
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema))
    throw new Error('[store] url: schema must be a lower-case SQL name (letters, digits, _)');
  parsed.searchParams.delete('schema');
  return { connectionString: parsed.toString(), schema };
}

/**
 * PostgreSQL, for running more than one instance: keyv's `keyv` table for state, plus a `counters`
 * table for the atomic primitives. One `INSERT … ON CONFLICT … RETURNING` is atomic across processes.
 */
export async function openPostgresStore(url: string, clock: Clock): Promise<Store> {
  const { connectionString, schema } = parsePostgresUrl(url);
  const pool = new pg.Pool({
    connectionString,
    max: POSTGRES_POOL_SIZE,
    application_name: 'phonegate',
    // Nothing waits longer than a store call may take: getting a connection (a new one, or a turn in
    // the pool's queue), the server running a statement, or the answer arriving. A statement that
    // fails or times out destroys its connection, and the pool opens a fresh one on the next call:
    // that is how the store recovers after an outage, with no restart.
    connectionTimeoutMillis: STORE_DEADLINE_MS,
    statement_timeout: STORE_DEADLINE_MS,
    query_timeout: STORE_DEADLINE_MS,
    keepAlive: true,
    idleTimeoutMillis: 10_000,
  });
  // An idle connection that breaks (server restart, network) is dropped by the pool; the next call opens a new one.
  pool.on('error', () => {});
  const query: Query = async (sql, values) => (await pool.query(sql, values)).rows;

  try {
    // Connecting and creating may each take up to a call's deadline.
    await guardStore('write', () => createTables(query, schema), OPEN_DEADLINE_MS);
  } catch (error) {
    await pool.end().catch(() => undefined);
    throw toStoreError('write', error);
  }
  // iterationLimit: rows per page when listing keys (the audit trail, live sessions).
  const adapter = new PooledKeyvPostgres({ pool, schema, table: 'keyv', iterationLimit: 1000 } as ConstructorParameters<
    typeof KeyvPostgres
  >[0]);
  const keyv = new Keyv({ store: adapter, namespace: 'state', throwOnErrors: true });
  // In byte order (COLLATE "C", whatever the database's collation), by the keyv_key_c index; values unread.
  const listKeys: ListKeys = async (range) => {
    const rows = await query(
      `SELECT key FROM ${schema}.keyv WHERE key COLLATE "C" >= $1 AND key COLLATE "C" < $2
       ORDER BY key COLLATE "C" ${range.descending ? 'DESC' : 'ASC'} LIMIT $3 OFFSET $4`,
      [NAMESPACE + range.prefix, NAMESPACE + upperBound(range), range.limit, range.skip ?? 0],
    );
    return rows.map((row) => (row.key as string).slice(NAMESPACE.length));
  };

  return {
    kv: new KeyvStore(keyv, listKeys),
    counters: new PostgresCounters(query, clock, `${schema}.counters`),
    // A write that changes nothing: a server that can only read (a standby after a failover) is not healthy.
    async ping() {
      await guardStore('write', () => query(`DELETE FROM ${schema}.counters WHERE false`), PING_DEADLINE_MS);
    },
    // keyv drops an expired row only when it reads it; both deletes below go by an index on the expiry,
    // in batches (each its own call and deadline), each followed by a pause as long as it took.
    // keyv stamps a row's expiry with the writing replica's clock and compares it with the reader's, so
    // its rows go by this replica's clock; counters go by the database's, as they are counted (read once,
    // in a subquery: the index on the expiry serves a value, not a volatile function).
    async purgeExpired() {
      const now = clock.now();
      let deleted = 0;
      for (const [sql, values] of [
        [
          `DELETE FROM ${schema}.keyv WHERE key IN (SELECT key FROM ${schema}.keyv WHERE ${KEYV_EXPIRES} < $1 LIMIT ${PURGE_BATCH}) RETURNING key`,
          [now],
        ],
        [
          `DELETE FROM ${schema}.counters WHERE key IN (SELECT key FROM ${schema}.counters WHERE expires <= (SELECT ${DB_NOW}) LIMIT ${PURGE_BATCH}) RETURNING key`,
          [],
        ],
      ] as const) {
        for (;;) {
          const startedAt = performance.now();
          const rows = await guardStore('write', () => query(sql, [...values]));
          deleted += rows.length;
          if (rows.length < PURGE_BATCH) break;
          await pauseAfter(startedAt);
        }
      }
      return deleted;
    },
    async close() {
      await pool.end();
    },
  };
}

/** keyv's namespace: every key it writes starts with this. */
const NAMESPACE = 'state:';
/** Rows per purge statement. */
const PURGE_BATCH = 1000;

/** Where keyv keeps a row's expiry: inside the JSON text in `value` (@keyv/postgres has no column for it). */
const KEYV_EXPIRES = `((value::jsonb ->> 'expires')::numeric)`;

/**
 * The tables and indexes, created once. The advisory lock keeps two replicas that start together
 * from racing on CREATE … IF NOT EXISTS (which can fail with a duplicate-key error).
 */
async function createTables(query: Query, schema: string): Promise<void> {
  await query(`DO $$ BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('phonegate schema ${schema}'));
    CREATE SCHEMA IF NOT EXISTS ${schema};
    CREATE TABLE IF NOT EXISTS ${schema}.keyv (key VARCHAR(255) PRIMARY KEY, value TEXT);
    CREATE INDEX IF NOT EXISTS keyv_expires ON ${schema}.keyv (${KEYV_EXPIRES});
    CREATE INDEX IF NOT EXISTS keyv_key_c ON ${schema}.keyv (key COLLATE "C");
    CREATE TABLE IF NOT EXISTS ${schema}.counters (key TEXT PRIMARY KEY, count INTEGER NOT NULL, expires BIGINT NOT NULL);
    CREATE INDEX IF NOT EXISTS counters_expires ON ${schema}.counters (expires);
  END $$`);
}

/**
 * The database's clock in ms, read where the statement uses it: counter windows are measured on the
 * one clock every replica shares, never on the clock of the replica that writes (DESIGN invariant 14).
 */
const DB_NOW = `(extract(epoch from clock_timestamp()) * 1000)::bigint`;

/**
 * Counter windows on the database's clock. resetsAt is the window's end on the caller's clock (its
 * now plus the time the database says is left), as on Redis: callers compare it with their own now.
 */
export class PostgresCounters implements Counters {
  constructor(
    private readonly query: Query,
    private readonly clock: Clock,
    private readonly table: string,
  ) {}

  async increment(key: string, windowMs: number): Promise<CounterValue> {
    // One statement: concurrent callers each get their own count (the row lock orders them). The
    // update reads the database's clock once, after the row lock, for both columns.
    const [row] = await guardStore('write', () =>
      this.query(
        `INSERT INTO ${this.table} AS c (key, count, expires) VALUES ($1, 1, ${DB_NOW} + $2)
         ON CONFLICT (key) DO UPDATE SET (count, expires) = (
           SELECT CASE WHEN c.expires > now.ms THEN c.count + 1 ELSE 1 END,
                  CASE WHEN c.expires > now.ms THEN c.expires ELSE now.ms + $2 END
           FROM (SELECT ${DB_NOW} AS ms) AS now)
         RETURNING count, expires - ${DB_NOW} AS left_ms`,
        [key, windowMs],
      ),
    );
    return { count: Number(row!.count), resetsAt: this.clock.now() + Math.max(Number(row!.left_ms), 0) };
  }

  async peek(key: string): Promise<number> {
    const [row] = await guardStore('read', () =>
      this.query(`SELECT count FROM ${this.table} WHERE key = $1 AND expires > ${DB_NOW}`, [key]),
    );
    return row ? Number(row.count) : 0;
  }

  async reset(key: string): Promise<void> {
    await guardStore('write', () => this.query(`DELETE FROM ${this.table} WHERE key = $1`, [key]));
  }
}
