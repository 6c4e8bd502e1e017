import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import { SqliteConnection } from '../../src/store/sqlite-connection.js';

/**
 * The SQLite connection keeps each statement prepared and runs it on the main thread, and must behave as
 * a fresh statement would: see other connections' writes, hold no read transaction between calls,
 * survive an error; a statement that meets another connection's write lock waits on timers, never on
 * the event loop. (The other connection is better-sqlite3 too: two copies of SQLite in one process
 * can drop each other's file locks.)
 */

const dir = mkdtempSync(join(tmpdir(), 'phonegate-sqlite-connection-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let file: string;
let connection: SqliteConnection;
let other: Database.Database;

beforeEach(async () => {
  file = join(dir, `${Math.random().toString(36).slice(2)}.sqlite`);
  connection = await SqliteConnection.open(file, 50);
  await connection.query('PRAGMA journal_mode=WAL');
  await connection.query('CREATE TABLE t (key TEXT PRIMARY KEY, value TEXT)');
  other = new Database(file, { timeout: 0 });
});

afterEach(async () => {
  vi.restoreAllMocks();
  if (other.inTransaction) other.exec('ROLLBACK');
  other.close();
  await connection.close();
});

describe('SqliteConnection', () => {
  test('prepares a statement once and reuses it, with parameters spread or as one array', async () => {
    const prepare = vi.spyOn(Database.prototype, 'prepare');
    await connection.query('INSERT INTO t VALUES (?, ?)', 'a', '1');
    await connection.query('INSERT INTO t VALUES (?, ?)', ['b', '2']);
    for (const key of ['a', 'b', 'a']) {
      const rows = await connection.query('SELECT value FROM t WHERE key = ?', key);
      expect(rows).toEqual([{ value: key === 'a' ? '1' : '2' }]);
    }
    expect(prepare).toHaveBeenCalledTimes(2); // one INSERT, one SELECT
  });

  test('run: a write returns how many rows it changed, and its statement is kept too', async () => {
    const prepare = vi.spyOn(Database.prototype, 'prepare');
    for (const key of ['a', 'b', 'c']) await connection.run('INSERT INTO t VALUES (?, ?)', key, 'v');
    expect(await connection.run('DELETE FROM t WHERE key IN (SELECT value FROM json_each(?))', '["a","c","x"]')).toBe(
      2,
    );
    expect(await connection.run('DELETE FROM t WHERE key IN (SELECT value FROM json_each(?))', '["a"]')).toBe(0);
    expect(await connection.query('SELECT key FROM t')).toEqual([{ key: 'b' }]);
    expect(prepare).toHaveBeenCalledTimes(3); // INSERT, DELETE, SELECT
  });

  test('query: a statement that returns no data gives no rows; one with RETURNING gives its rows', async () => {
    expect(await connection.query('INSERT INTO t VALUES (?, ?)', 'a', '1')).toEqual([]);
    expect(await connection.query('UPDATE t SET value = ? WHERE key = ? RETURNING value', '2', 'a')).toEqual([
      { value: '2' },
    ]);
  });

  test("a kept statement sees another connection's later writes", async () => {
    const read = () => connection.query('SELECT value FROM t WHERE key = ?', 'k');
    expect(await read()).toEqual([]);
    other.exec("INSERT INTO t VALUES ('k', 'first')");
    expect(await read()).toEqual([{ value: 'first' }]);
    other.exec("UPDATE t SET value = 'second' WHERE key = 'k'");
    expect(await read()).toEqual([{ value: 'second' }]);
  });

  test('a kept statement holds no read transaction between calls: a full checkpoint is not blocked', async () => {
    await connection.query('INSERT INTO t VALUES (?, ?)', 'k', 'v');
    await connection.query('SELECT * FROM t'); // kept prepared, run to its end
    other.exec("INSERT INTO t VALUES ('k2', 'v2')");
    // TRUNCATE waits for every reader to leave the WAL; `busy` is 1 when one did not.
    expect(other.pragma('wal_checkpoint(TRUNCATE)')).toEqual([expect.objectContaining({ busy: 0 })]);
  });

  test('a bad statement is refused and the connection goes on', async () => {
    await expect(connection.query('SELECT nope FROM t')).rejects.toThrow(/no such column/);
    await connection.query('INSERT INTO t VALUES (?, ?)', 'k', 'v');
    await expect(connection.run('INSERT INTO t VALUES (?, ?)', 'k', 'v')).rejects.toMatchObject({
      code: 'SQLITE_CONSTRAINT_PRIMARYKEY',
    });
    expect(await connection.query('SELECT value FROM t WHERE key = ?', 'k')).toEqual([{ value: 'v' }]);
  });

  test("a write that meets another connection's lock fails with SQLITE_BUSY after the busy timeout, the event loop free meanwhile", async () => {
    const write = (value: string) => connection.run('INSERT OR REPLACE INTO t VALUES (?, ?)', 'k', value);
    await write('before');
    other.exec('BEGIN IMMEDIATE'); // the other connection holds the write lock
    let ticks = 0;
    const ticker = setInterval(() => ticks++, 5);
    const started = performance.now();
    await expect(write('during')).rejects.toMatchObject({ code: 'SQLITE_BUSY' });
    const ms = performance.now() - started;
    clearInterval(ticker);
    expect(ms).toBeGreaterThanOrEqual(45); // tried again until the 50 ms passed
    expect(ticks).toBeGreaterThanOrEqual(3); // timers ran while it waited
    other.exec('COMMIT');
    await write('after');
    expect(await connection.query('SELECT value FROM t WHERE key = ?', 'k')).toEqual([{ value: 'after' }]);
  });

  test('a write that meets a lock released within the busy timeout goes through', async () => {
    other.exec('BEGIN IMMEDIATE');
    setTimeout(() => other.exec('COMMIT'), 15);
    expect(await connection.run('INSERT INTO t VALUES (?, ?)', 'k', 'v')).toBe(1);
    expect(await connection.query('SELECT value FROM t WHERE key = ?', 'k')).toEqual([{ value: 'v' }]);
  });

  test('takeLongestMs: the longest single run since the last call, then 0; each try against a lock counted alone', async () => {
    // A clock that moves only while a statement runs: by 3, 9, then 1 ms in turn.
    let t = 0;
    const steps = [3, 9, 1];
    let calls = 0;
    const timed = await SqliteConnection.open(file, 50, () => {
      calls += 1;
      if (calls % 2 === 0) t += steps[(calls / 2 - 1) % steps.length]!;
      return t;
    });
    try {
      expect(timed.takeLongestMs()).toBe(0);
      for (const key of ['a', 'b', 'c']) await timed.run('INSERT INTO t VALUES (?, ?)', key, 'v');
      expect(timed.takeLongestMs()).toBe(9);
      expect(timed.takeLongestMs()).toBe(0);
      await expect(timed.query('SELECT nonsense FROM t')).rejects.toThrow(); // a failed run is timed too
      expect(timed.takeLongestMs()).toBe(3);
      other.exec('BEGIN IMMEDIATE');
      setTimeout(() => other.exec('COMMIT'), 15);
      calls = 0;
      await timed.run('INSERT INTO t VALUES (?, ?)', 'd', 'v'); // its tries take 3, 9, 1, 3 … ms each
      expect(calls).toBeGreaterThanOrEqual(6); // at least two busy tries and the run
      expect(timed.takeLongestMs()).toBe(9); // the longest try, not their sum
    } finally {
      await timed.close();
    }
  });

  test('takeLongestMs measures the statement itself on the real clock', async () => {
    connection.takeLongestMs();
    const started = performance.now();
    await connection.query(
      'WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 300000) SELECT count(*) AS c FROM n',
    );
    const outside = performance.now() - started;
    const longest = connection.takeLongestMs();
    expect(longest).toBeGreaterThan(0);
    expect(longest).toBeLessThanOrEqual(outside); // within the call, and it is the call's bulk:
    expect(longest).toBeGreaterThan(outside / 2);
  });

  test('past the cap of kept statements, each is prepared for its one run and not kept', async () => {
    for (let i = 0; i < 70; i++) expect(await connection.query(`SELECT ${i} AS n`)).toEqual([{ n: i }]);
    const prepare = vi.spyOn(Database.prototype, 'prepare');
    // 2 statements from beforeEach plus 70 here: the first 64 are kept, the rest prepared again when run.
    expect(await connection.query('SELECT 0 AS n')).toEqual([{ n: 0 }]);
    expect(prepare).toHaveBeenCalledTimes(0);
    expect(await connection.query('SELECT 69 AS n')).toEqual([{ n: 69 }]);
    expect(prepare).toHaveBeenCalledTimes(1);
  });
});
