import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { openSqliteStore, sqliteFileWarnings } from '../../src/store/sqlite.js';
import type { Store } from '../../src/store/types.js';
import { TestClock } from '../helpers/clock.js';

/**
 * The database holds every linked phone number: whoever starts the bot, with whatever umask, the
 * file and its -wal/-shm are the owner's alone, like the signing key file.
 */

const modeOf = (path: string) => statSync(path).mode & 0o777;

let dir: string;
let store: Store | undefined;
let umask: number;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'phonegate-sqlite-files-'));
  // `npm start` by hand inherits the shell's umask, most often 022.
  umask = process.umask(0o022);
});
afterEach(async () => {
  await store?.close();
  store = undefined;
  process.umask(umask);
  rmSync(dir, { recursive: true, force: true });
});

/** Opens the store and writes once, so that SQLite has created its -wal and -shm files. */
async function openAndWrite(file: string): Promise<Store> {
  store = await openSqliteStore(`sqlite://${file}`, new TestClock());
  await store.kv.set('phone:U0ALICE01', '+14155550101');
  await store.counters.increment('sends:U0ALICE01', 60_000);
  return store;
}

describe('SQLite files under umask 022', () => {
  test('a new database, its -wal and -shm are 0600, and the directories created for it 0700', async () => {
    const file = join(dir, 'data', 'nested', 'state.sqlite');
    await openAndWrite(file);
    expect(modeOf(join(dir, 'data')).toString(8)).toBe('700');
    expect(modeOf(join(dir, 'data', 'nested')).toString(8)).toBe('700');
    for (const path of [file, `${file}-wal`, `${file}-shm`]) expect(modeOf(path).toString(8), path).toBe('600');
    expect(sqliteFileWarnings(`sqlite://${file}`)).toEqual([]);
    // The store works on the file it created.
    expect(await store!.kv.get('phone:U0ALICE01')).toBe('+14155550101');
  });

  test('a directory that exists keeps its mode; the new file in it is 0600', async () => {
    const data = join(dir, 'data');
    mkdirSync(data);
    chmodSync(data, 0o755);
    const file = join(data, 'state.sqlite');
    await openAndWrite(file);
    expect(modeOf(data).toString(8)).toBe('755');
    expect(modeOf(file).toString(8)).toBe('600');
  });

  test('an existing database keeps its mode, and a warning names each file others can read, with the fix', async () => {
    const file = join(dir, 'state.sqlite');
    writeFileSync(file, '');
    chmodSync(file, 0o644);
    await openAndWrite(file);
    expect(modeOf(file).toString(8)).toBe('644');
    const warnings = sqliteFileWarnings(`sqlite://${file}`);
    expect(warnings).toHaveLength(3); // the file, its -wal and -shm (SQLite gives them the file's mode)
    expect(warnings[0]).toBe(
      `${file} can be read or written by other users (mode 0644); it holds phone numbers: chmod 600 ${file}`,
    );
    expect(warnings.join('\n')).toContain(`${file}-wal`);
    expect(sqliteFileWarnings('redis://127.0.0.1:6379')).toEqual([]);
    expect(sqliteFileWarnings('sqlite://:memory:')).toEqual([]);
  });
});
