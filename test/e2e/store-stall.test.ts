import Database from 'better-sqlite3';
import nock from 'nock';
import { afterAll, afterEach, describe, expect, test } from 'vitest';
import { unavailable } from '../../src/slack/views/text.js';
import { type Harness, logIn, openCodeEntry, removeTempDirs, startBot, USERS } from '../helpers/harness.js';

/**
 * Another process holds SQLite's write lock (here: a second real connection in BEGIN IMMEDIATE).
 * Every store call must end in time: users get the plain "try again", nothing is granted, /healthz
 * says 503, and requests that never touch the store are not held up.
 */

let h: Harness;
let locker: Database.Database | undefined;
afterEach(async () => {
  if (locker) await close(locker);
  locker = undefined;
  await h.stop().catch(() => {});
});
afterAll(() => {
  removeTempDirs();
  nock.restore();
});

// The locker is better-sqlite3, the bot's own driver: two copies of SQLite in one process can drop each other's file locks.
async function open(file: string): Promise<Database.Database> {
  return new Database(file, { timeout: 0 });
}
async function exec(db: Database.Database, sql: string): Promise<void> {
  db.exec(sql);
}
async function close(db: Database.Database): Promise<void> {
  if (db.inTransaction) db.exec('ROLLBACK');
  db.close();
}

async function get(h: Harness, path: string): Promise<{ status: number; ms: number }> {
  const started = Date.now();
  const res = await fetch(`${h.requests.baseUrl}${path}`);
  await res.text();
  return { status: res.status, ms: Date.now() - started };
}

describe('SQLite write-locked by another process', () => {
  test('commands, a code submission and /healthz answer in time with "try again", nothing is granted, a 404 is not held up; all works after', async () => {
    h = await startBot();
    await logIn(h, USERS.bob);
    const entry = await openCodeEntry(h, USERS.alice);
    const code = h.bandwidth.lastCode();

    locker = await open(h.dbFile);
    await exec(locker, 'BEGIN IMMEDIATE'); // held until released below, whatever the bot does

    const slack = Promise.all([
      h.requests.command('/login', USERS.carol),
      h.requests.command('/logout', USERS.bob),
      h.requests.submitCode(USERS.alice, entry, code),
    ]);
    const health = get(h, '/healthz');
    let settled = false;
    void Promise.allSettled([slack, health]).then(() => (settled = true));
    // Requests that need no store, sent one after another for as long as the stalled ones are open.
    const nopes: Array<{ status: number; ms: number }> = [];
    do nopes.push(await get(h, '/nope'));
    while (!settled);

    const [login, logout, submission] = await slack;
    for (const answer of [login, logout, submission]) {
      expect(answer.status).toBe(200);
      expect(answer.ms).toBeLessThan(3000);
    }
    expect(login.json.text).toBe(unavailable);
    expect(logout.json.text).toBe(unavailable);
    expect(JSON.stringify(submission.json)).toContain(unavailable);
    expect(await health).toMatchObject({ status: 503 });
    expect((await health).ms).toBeLessThan(1500);
    expect(nopes.every((n) => n.status === 404)).toBe(true);
    expect(Math.max(...nopes.map((n) => n.ms))).toBeLessThan(500);

    // Still locked: nothing was granted, and bob's session was not ended behind his back either.
    expect((await h.requests.command('/whoami', USERS.alice)).json.text).toContain('needs you to log in first');
    expect((await h.requests.command('/whoami', USERS.bob)).json.text).toContain('`login`');

    await exec(locker, 'ROLLBACK');
    expect(await get(h, '/healthz')).toMatchObject({ status: 200 });
    expect((await h.requests.command('/logout', USERS.bob)).json.text).not.toBe(unavailable);
    expect((await h.requests.command('/whoami', USERS.bob)).json.text).toContain('needs you to log in first');
    // The stalled submission used nothing up: the same code now logs alice in.
    expect(JSON.stringify((await h.requests.submitCode(USERS.alice, entry, code)).json)).toContain("You're logged in");
    await logIn(h, USERS.carol);
    expect((await h.requests.command('/whoami', USERS.carol)).json.text).toContain('`login`');
  }, 30_000);
});
