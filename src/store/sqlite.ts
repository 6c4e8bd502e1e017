import { chmodSync, closeSync, existsSync, fchmodSync, mkdirSync, openSync, statSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { performance } from 'node:perf_hooks';
import KeyvSqlite from '@keyv/sqlite';
import Keyv from 'keyv';
import { pauseAfter } from '../core/pacing.js';
import type { Clock, Counters, CounterValue } from '../core/ports.js';
import { guardStore, PING_DEADLINE_MS, STORE_DEADLINE_MS, toStoreError } from './errors.js';
import { KeyReads } from './key-reads.js';
import { KeyvStore, type ListKeys, upperBound } from './keyv-store.js';
import { SqliteConnection } from './sqlite-connection.js';
import { StatementQueue } from './statement-queue.js';
import type { Store, StoreOptions } from './types.js';

type Query = (sql: string, ...params: unknown[]) => Promise<Array<Record<string, unknown>>>;

/**
 * How long a statement waits for another process's write lock before failing with SQLITE_BUSY. Short:
 * the wait holds the statement queue, and a healthy writer holds the lock for milliseconds.
 */
export const SQLITE_BUSY_TIMEOUT_MS = 200;

/** A statement starts only while it can still end (busy wait included) before its call's deadline. */
const startWithin = (deadlineMs: number) => deadlineMs - SQLITE_BUSY_TIMEOUT_MS - 100;

/**
 * Embedded SQLite (the default): keyv's table for state, plus a `counters` table for the atomic
 * primitives. One SQL statement is atomic, also across processes on the same host.
 */
export async function openSqliteStore(url: string, clock: Clock, options: StoreOptions = {}): Promise<Store> {
  const file = sqliteFile(url);
  let connection: SqliteConnection;
  try {
    if (file !== ':memory:') createPrivately(file);
    connection = await SqliteConnection.open(file, SQLITE_BUSY_TIMEOUT_MS);
  } catch (error) {
    throw toStoreError('write', error);
  }
  // Every statement, keyv's included, runs on our connection (statements kept prepared, run on the main thread), one at a time.
  const queue = new StatementQueue();
  const direct: Query = (sql, ...params) => connection.query(sql, ...params);
  const query: Query = (sql, ...params) => queue.run(() => direct(sql, ...params), startWithin(STORE_DEADLINE_MS));
  /** A write, for the number of rows it changed (no rows built and handed back). */
  const run = (sql: string, ...params: unknown[]) =>
    queue.run(() => connection.run(sql, ...params), startWithin(STORE_DEADLINE_MS));
  // keyv's adapter supplies the SQL and keyv's semantics; its own connection (a new statement per
  // call) is replaced by ours, so it is opened on nothing and closed at once.
  // iterationLimit: rows per page when listing keys (live sessions).
  const adapter = new KeyvSqlite({ uri: 'sqlite://:memory:', iterationLimit: 1000 });
  await adapter.close();
  adapter.query = query as typeof adapter.query;
  adapter.close = () => connection.close();
  // Reads by key (the gate's among them) that wait in the queue together run as one statement.
  const reads = new KeyReads(
    queue,
    (keys) =>
      direct(
        'SELECT key, value FROM keyv WHERE key IN (SELECT value FROM json_each(?))',
        JSON.stringify(keys),
      ) as Promise<Array<{ key: string; value: string }>>,
    startWithin(STORE_DEADLINE_MS),
    options.busy,
  );
  adapter.get = (async (key: string) => (await reads.read([key]))[0]) as typeof adapter.get;
  adapter.getMany = ((keys: string[]) => reads.read(keys)) as typeof adapter.getMany;
  // The adapter's own deleteMany first reads every value and matches each key against every row (the
  // audit trim deletes 500 at a time): one DELETE does the same job.
  adapter.deleteMany = async (keys: string[]) =>
    (await run('DELETE FROM keyv WHERE key IN (SELECT value FROM json_each(?))', JSON.stringify(keys))) > 0;
  try {
    await query('PRAGMA journal_mode=WAL');
    // With WAL, NORMAL is durable against a crash of the process and only loses the last commits on power loss.
    await query('PRAGMA synchronous=NORMAL');
    // Statements run on the main thread, and a commit that fills the WAL to this many pages copies them
    // into the database file and syncs it before it returns. 100 pages, not SQLite's default of 1,000: in
    // bench runs on a million users the purge's longest statement was 10–17 ms with 100 (once 42), 19 ms
    // in the one run with 1,000; fewer checkpoints did not clearly speed up logins (docs/performance.md).
    await query(`PRAGMA wal_autocheckpoint=${WAL_AUTOCHECKPOINT_PAGES}`);
    // SQLite's own default of 2 MB of page cache: better-sqlite3 builds SQLite with 16 MB, which put the
    // app's RSS over its bound of 150 MB on a file of a million users (157 MB in one bench run).
    await query('PRAGMA cache_size=-2000');
    // The table keyv's adapter creates, as it creates it.
    await query('CREATE TABLE IF NOT EXISTS keyv(key VARCHAR(255) PRIMARY KEY, value TEXT )');
    await query(
      'CREATE TABLE IF NOT EXISTS counters (key TEXT PRIMARY KEY, count INTEGER NOT NULL, expires INTEGER NOT NULL)',
    );
    await query('CREATE INDEX IF NOT EXISTS counters_expires ON counters (expires)');
    // keyv keeps a row's expiry inside the JSON text of `value`: an index on that expression lets the
    // purge find expired rows without reading every row.
    await query(`CREATE INDEX IF NOT EXISTS keyv_expires ON keyv (${KEYV_EXPIRES})`);
  } catch (error) {
    await connection.close().catch(() => undefined);
    throw toStoreError('write', error);
  }
  const keyv = new Keyv({ store: adapter, namespace: 'state', throwOnErrors: true });
  // By the primary key's index: a range of keys, values unread.
  const listKeys: ListKeys = async (range) => {
    const rows = await query(
      `SELECT key FROM keyv WHERE key >= ? AND key < ? ORDER BY key ${range.descending ? 'DESC' : 'ASC'} LIMIT ? OFFSET ?`,
      NAMESPACE + range.prefix,
      NAMESPACE + upperBound(range),
      range.limit,
      range.skip ?? 0,
    );
    return rows.map((row) => (row.key as string).slice(NAMESPACE.length));
  };

  return {
    kv: new KeyvStore(keyv, listKeys),
    counters: new SqliteCounters(query, clock),
    // A write that changes nothing: it needs the write lock, so a store that cannot write is not healthy.
    async ping() {
      await guardStore(
        'write',
        () => queue.run(() => direct('DELETE FROM counters WHERE 0'), startWithin(PING_DEADLINE_MS)),
        PING_DEADLINE_MS,
      );
    },
    // @keyv/sqlite never deletes expired rows; keyv drops them only when read. Found by index, deleted
    // in batches (each its own call and deadline), each followed by a pause as long as it took.
    async purgeExpired() {
      const now = clock.now();
      let deleted = 0;
      for (const sql of [
        `DELETE FROM keyv WHERE key IN (SELECT key FROM keyv WHERE ${KEYV_EXPIRES} < ? LIMIT ${PURGE_BATCH})`,
        `DELETE FROM counters WHERE key IN (SELECT key FROM counters WHERE expires <= ? LIMIT ${PURGE_BATCH})`,
      ]) {
        for (;;) {
          const startedAt = performance.now();
          const changed = await guardStore('write', () => run(sql, now));
          deleted += changed;
          if (changed < PURGE_BATCH) break;
          await pauseAfter(startedAt);
        }
      }
      return deleted;
    },
    takeLongestStatementMs: () => connection.takeLongestMs(),
    async close() {
      await connection.close();
    },
  };
}

const sqliteFile = (url: string) => url.slice('sqlite://'.length);

/** Owner only: the database holds every linked phone number. */
const FILE_MODE = 0o600;
const DIR_MODE = 0o700;

/**
 * Creates the database file 0600 (and each directory it needs 0700) before SQLite opens it, whatever
 * the process umask: the Dockerfile and the systemd unit set 0077, but `npm start` by hand inherits
 * 022, under which SQLite would create it 0644. SQLite gives its -wal and -shm files the database
 * file's mode. An existing file or directory keeps its mode (see storeFileWarnings).
 */
function createPrivately(file: string): void {
  const dir = dirname(file);
  const first = mkdirSync(dir, { recursive: true, mode: DIR_MODE });
  if (first !== undefined) {
    // The umask applies to mkdir's mode; chmod does not consult it.
    let path = first;
    chmodSync(path, DIR_MODE);
    for (const part of relative(first, dir).split(sep).filter(Boolean)) {
      path = join(path, part);
      chmodSync(path, DIR_MODE);
    }
  }
  let fd: number;
  try {
    fd = openSync(file, 'wx', FILE_MODE);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return;
    throw error;
  }
  try {
    fchmodSync(fd, FILE_MODE);
  } finally {
    closeSync(fd);
  }
}

/**
 * One line per database file (the file, its -wal and -shm) that other users may read or write: an
 * existing file keeps its mode, so an operator must be told. Empty for other backends.
 */
export function sqliteFileWarnings(url: string): string[] {
  const file = sqliteFile(url);
  if (!url.startsWith('sqlite://') || file === ':memory:') return [];
  return [file, `${file}-wal`, `${file}-shm`].flatMap((path) => {
    if (!existsSync(path)) return [];
    const mode = statSync(path).mode & 0o777;
    if ((mode & 0o066) === 0) return [];
    return [
      `${path} can be read or written by other users (mode ${mode.toString(8).padStart(4, '0')}); it holds phone numbers: chmod 600 ${path}`,
    ];
  });
}

/** keyv's namespace: every key it writes starts with this. */
const NAMESPACE = 'state:';
/** The expiry keyv writes into each value; the same text as the index, so that SQLite uses it. */
const KEYV_EXPIRES = `json_extract(value, '$.expires')`;
/**
 * Rows per purge statement: each runs on the main thread, and on a file of millions of rows a deleted
 * row costs some 40–60 µs (its pages and index entries are scattered), so 100 rows hold the event loop
 * for about 5 ms.
 */
export const PURGE_BATCH = 100;
/** Pages in the WAL that make a commit checkpoint them (see the PRAGMA). */
const WAL_AUTOCHECKPOINT_PAGES = 100;

export class SqliteCounters implements Counters {
  constructor(
    private readonly query: Query,
    private readonly clock: Clock,
  ) {}

  async increment(key: string, windowMs: number): Promise<CounterValue> {
    const now = this.clock.now();
    // One statement: concurrent callers each get their own count (a read-then-write would lose updates).
    const [row] = await guardStore('write', () =>
      this.query(
        `INSERT INTO counters (key, count, expires) VALUES (?, 1, ?)
         ON CONFLICT (key) DO UPDATE SET
           count = CASE WHEN counters.expires > ? THEN counters.count + 1 ELSE 1 END,
           expires = CASE WHEN counters.expires > ? THEN counters.expires ELSE excluded.expires END
         RETURNING count, expires`,
        key,
        now + windowMs,
        now,
        now,
      ),
    );
    return { count: Number(row!.count), resetsAt: Number(row!.expires) };
  }

  async peek(key: string): Promise<number> {
    const [row] = await guardStore('read', () =>
      this.query('SELECT count FROM counters WHERE key = ? AND expires > ?', key, this.clock.now()),
    );
    return row ? Number(row.count) : 0;
  }

  async reset(key: string): Promise<void> {
    await guardStore('write', () => this.query('DELETE FROM counters WHERE key = ?', key));
  }
}
