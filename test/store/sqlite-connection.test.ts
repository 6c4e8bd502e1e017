import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sqlite3 from 'sqlite3';
import { afterAll, afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import { SqliteConnection } from '../../src/store/sqlite-connection.js';

/**
 * The SQLite connection keeps each statement prepared (one trip to the thread pool per call instead
 * of three) and must behave as a fresh statement would: see other connections' writes, hold no read
 * transaction between calls, survive an error and a busy database.
 */

const dir = mkdtempSync(join(tmpdir(), 'phonegate-sqlite-connection-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let file: string;
let connection: SqliteConnection;
let other: sqlite3.Database;
const otherRun = (sql: string) =>
  new Promise<void>((resolve, reject) => other.run(sql, (error) => (error ? reject(error) : resolve())));
const otherAll = (sql: string) =>
  new Promise<Array<Record<string, unknown>>>((resolve, reject) =>
    other.all(sql, (error, rows: Array<Record<string, unknown>>) => (error ? reject(error) : resolve(rows))),
  );

beforeEach(async () => {
  file = join(dir, `${Math.random().toString(36).slice(2)}.sqlite`);
  connection = await SqliteConnection.open(file, 50);
  await connection.query('PRAGMA journal_mode=WAL');
  await connection.query('CREATE TABLE t (key TEXT PRIMARY KEY, value TEXT)');
  other = new sqlite3.Database(file);
});

afterEach(async () => {
  vi.restoreAllMocks();
  await new Promise((resolve) => other.close(resolve));
  await connection.close();
});

describe('SqliteConnection', () => {
  test('prepares a statement once and reuses it, with parameters spread or as one array', async () => {
    const prepare = vi.spyOn(sqlite3.Database.prototype, 'prepare');
    await connection.query('INSERT INTO t VALUES (?, ?)', 'a', '1');
    await connection.query('INSERT INTO t VALUES (?, ?)', ['b', '2']);
    for (const key of ['a', 'b', 'a']) {
      const rows = await connection.query('SELECT value FROM t WHERE key = ?', key);
      expect(rows).toEqual([{ value: key === 'a' ? '1' : '2' }]);
    }
    expect(prepare).toHaveBeenCalledTimes(2); // one INSERT, one SELECT
  });

  test('run: a write returns how many rows it changed, and its statement is kept too', async () => {
    const prepare = vi.spyOn(sqlite3.Database.prototype, 'prepare');
    for (const key of ['a', 'b', 'c']) await connection.run('INSERT INTO t VALUES (?, ?)', key, 'v');
    expect(await connection.run('DELETE FROM t WHERE key IN (SELECT value FROM json_each(?))', '["a","c","x"]')).toBe(
      2,
    );
    expect(await connection.run('DELETE FROM t WHERE key IN (SELECT value FROM json_each(?))', '["a"]')).toBe(0);
    expect(await connection.query('SELECT key FROM t')).toEqual([{ key: 'b' }]);
    expect(prepare).toHaveBeenCalledTimes(3); // INSERT, DELETE, SELECT
  });

  test("a kept statement sees another connection's later writes", async () => {
    const read = () => connection.query('SELECT value FROM t WHERE key = ?', 'k');
    expect(await read()).toEqual([]);
    await otherRun("INSERT INTO t VALUES ('k', 'first')");
    expect(await read()).toEqual([{ value: 'first' }]);
    await otherRun("UPDATE t SET value = 'second' WHERE key = 'k'");
    expect(await read()).toEqual([{ value: 'second' }]);
  });

  test('a kept statement holds no read transaction between calls: a full checkpoint is not blocked', async () => {
    await connection.query('INSERT INTO t VALUES (?, ?)', 'k', 'v');
    await connection.query('SELECT * FROM t'); // kept prepared, run to its end
    await otherRun("INSERT INTO t VALUES ('k2', 'v2')");
    // TRUNCATE waits for every reader to leave the WAL; `busy` is 1 when one did not.
    const [result] = await otherAll('PRAGMA wal_checkpoint(TRUNCATE)');
    expect(result).toMatchObject({ busy: 0 });
  });

  test('a bad statement is refused and the connection goes on', async () => {
    await expect(connection.query('SELECT nope FROM t')).rejects.toThrow(/no such column/);
    await connection.query('INSERT INTO t VALUES (?, ?)', 'k', 'v');
    expect(await connection.query('SELECT value FROM t WHERE key = ?', 'k')).toEqual([{ value: 'v' }]);
  });

  test('a kept statement that met a busy database runs again once it is free', async () => {
    const write = (value: string) => connection.query('INSERT OR REPLACE INTO t VALUES (?, ?)', 'k', value);
    await write('before');
    await otherRun('BEGIN IMMEDIATE'); // the other connection holds the write lock
    await expect(write('during')).rejects.toMatchObject({ code: 'SQLITE_BUSY' });
    await otherRun('COMMIT');
    await write('after');
    expect(await connection.query('SELECT value FROM t WHERE key = ?', 'k')).toEqual([{ value: 'after' }]);
  });

  test('past the cap of kept statements, each runs once and is finalized', async () => {
    const finalize = vi.spyOn(sqlite3.Statement.prototype, 'finalize');
    for (let i = 0; i < 70; i++) expect(await connection.query(`SELECT ${i} AS n`)).toEqual([{ n: i }]);
    // 2 statements from beforeEach plus 70 here: everything past 64 was finalized after its one run.
    expect(finalize).toHaveBeenCalledTimes(72 - 64);
    expect(await connection.query('SELECT 69 AS n')).toEqual([{ n: 69 }]);
  });

  test('past the cap, a statement that fails when it runs is finalized too', async () => {
    for (let i = 0; i < 64; i++) await connection.query(`SELECT ${i} AS n`);
    const finalize = vi.spyOn(sqlite3.Statement.prototype, 'finalize');
    const insert = (key: string) => connection.run('INSERT INTO t VALUES (?, ?)', key, 'v');
    await insert('k');
    await expect(insert('k')).rejects.toMatchObject({ code: 'SQLITE_CONSTRAINT' });
    expect(finalize).toHaveBeenCalledTimes(2);
  });
});
