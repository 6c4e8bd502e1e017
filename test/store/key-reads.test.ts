import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, test, vi } from 'vitest';
import { StoreError } from '../../src/core/ports.js';
import { Sessions } from '../../src/core/sessions.js';
import { openStore, type Store } from '../../src/store/index.js';
import { KeyReads, type SelectKeys } from '../../src/store/key-reads.js';
import { SqliteConnection } from '../../src/store/sqlite-connection.js';
import { StatementQueue } from '../../src/store/statement-queue.js';
import { TestClock } from '../helpers/clock.js';

/**
 * Reads by key that wait for the SQLite connection, or are asked for in the same turn of the event loop,
 * run as one statement, and each still sees exactly the writes queued before it.
 */

/** Lets queued promise callbacks run, and a statement whose turn came start (it waits for the end of the loop's turn). */
const settle = () => new Promise((resolve) => setImmediate(() => setImmediate(resolve)));

/** A select the test answers by hand, from `rows`, recording the keys of each call. */
function heldSelect(rows: Record<string, string>) {
  const calls: string[][] = [];
  const releases: Array<() => void> = [];
  const select: SelectKeys = (keys) => {
    calls.push(keys);
    return new Promise((resolve) =>
      releases.push(() => resolve(keys.flatMap((key) => (key in rows ? [{ key, value: rows[key]! }] : [])))),
    );
  };
  const releaseAll = async () => {
    for (await settle(); releases.length > 0; await settle()) releases.shift()!();
  };
  return { select, calls, releaseAll };
}

describe('KeyReads', () => {
  test('reads queued together run as one statement; each gets its own keys, undefined where no row', async () => {
    const queue = new StatementQueue();
    const { select, calls, releaseAll } = heldSelect({ a: '1', b: '2', c: '3' });
    const reads = new KeyReads(queue, select, 1000);
    const first = reads.read(['a', 'x']);
    const second = reads.read(['b', 'a']);
    const third = reads.read(['c']);
    await settle();
    await releaseAll();
    expect(await first).toEqual(['1', undefined]);
    expect(await second).toEqual(['2', '1']);
    expect(await third).toEqual(['3']);
    expect(calls).toEqual([['a', 'x', 'b', 'c']]);
  });

  test('a read after the statement started waits for the next one; reads waiting behind it join each other', async () => {
    const queue = new StatementQueue();
    const { select, calls, releaseAll } = heldSelect({ a: '1', b: '2' });
    const reads = new KeyReads(queue, select, 1000);
    const first = reads.read(['a']);
    await settle(); // its statement has started
    const second = reads.read(['b']);
    const third = reads.read(['a']);
    await settle();
    expect(calls).toEqual([['a']]);
    await releaseAll();
    expect([await first, await second, await third]).toEqual([['1'], ['2'], ['1']]);
    expect(calls).toEqual([['a'], ['b', 'a']]);
  });

  test('a read never joins a statement queued before another one: it sees what was queued before it', async () => {
    const queue = new StatementQueue();
    const rows: Record<string, string> = { k: 'old' };
    const { select, calls, releaseAll } = heldSelect(rows);
    const reads = new KeyReads(queue, select, 1000);
    const before = reads.read(['k']);
    const write = queue.run(async () => {
      rows.k = 'new';
    }, 1000);
    const after = reads.read(['k']);
    await settle();
    await releaseAll();
    await write;
    await releaseAll();
    expect(await before).toEqual(['old']);
    expect(await after).toEqual(['new']);
    expect(calls).toEqual([['k'], ['k']]);
  });

  /** Two requests handled one after the other in one turn of the loop, as two sockets' data would be. */
  function readsInOneTurn(reads: KeyReads): Promise<Array<Array<string | undefined>>> {
    const first = new Promise<Array<string | undefined>>((r) => setImmediate(() => r(reads.read(['a']))));
    const second = new Promise<Array<string | undefined>>((r) => setImmediate(() => r(reads.read(['b']))));
    return Promise.all([first, second]);
  }

  test('while requests come together, reads asked for later in the same turn of the event loop join a statement whose turn has come', async () => {
    const { select, calls, releaseAll } = heldSelect({ a: '1', b: '2' });
    const reads = new KeyReads(new StatementQueue(), select, 1000, () => true);
    const asked = readsInOneTurn(reads);
    await releaseAll();
    expect(await asked).toEqual([['1'], ['2']]);
    expect(calls).toEqual([['a', 'b']]);
  });

  test('with one request at a time, a read runs when its turn comes, without waiting for the loop', async () => {
    const { select, calls, releaseAll } = heldSelect({ a: '1', b: '2' });
    const reads = new KeyReads(new StatementQueue(), select, 1000, () => false);
    const asked = readsInOneTurn(reads);
    await releaseAll();
    expect(await asked).toEqual([['1'], ['2']]);
    expect(calls).toEqual([['a'], ['b']]);
  });

  test('a statement dropped for its deadline fails every read in it, and the next read runs anew', async () => {
    let now = 0;
    const queue = new StatementQueue(() => now);
    const { select, calls, releaseAll } = heldSelect({ a: '1' });
    const reads = new KeyReads(queue, select, 700);
    let finishWrite!: () => void;
    const write = queue.run(() => new Promise<void>((resolve) => (finishWrite = resolve)), 1000);
    const dropped = [reads.read(['a']), reads.read(['b'])];
    await settle();
    now = 800; // the write held the connection past the reads' start limit
    finishWrite();
    await write;
    for (const read of dropped)
      await expect(read).rejects.toThrow(new StoreError('store busy: a statement could not start within 700 ms'));
    expect(calls).toEqual([]);
    const later = reads.read(['a']);
    await settle();
    await releaseAll();
    expect(await later).toEqual(['1']);
    expect(calls).toEqual([['a']]);
  });
});

describe('the SQLite store joins waiting reads', () => {
  const dir = mkdtempSync(join(tmpdir(), 'phonegate-key-reads-'));
  let store: Store | undefined;
  afterEach(async () => {
    vi.restoreAllMocks();
    await store?.close();
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test("32 users' gate reads at once take one statement, not 32, and each user gets their own state", async () => {
    const clock = new TestClock();
    store = await openStore(`sqlite://${join(dir, `${randomUUID()}.sqlite`)}`, clock);
    const sessions = new Sessions(store.kv, clock, { login: 60_000, admin: 60_000 });
    const users = Array.from({ length: 32 }, (_, i) => `U${i}`);
    for (const [i, user] of users.entries()) {
      if (i % 2 === 0) await sessions.grant(user, 'login', '0', ['sms']);
      await sessions.rememberDelivery(user, i % 3 === 0 ? 'voice' : 'sms');
    }
    const phones = { phoneFrom: () => undefined };
    const statements = vi.spyOn(SqliteConnection.prototype, 'query');
    const states = await Promise.all(users.map((user) => sessions.userState(user, phones)));
    for (const [i, state] of states.entries()) {
      expect(state.userId).toBe(users[i]);
      expect(state.scopes.map((live) => live.scope)).toEqual(i % 2 === 0 ? ['login'] : []);
      expect(state.delivery).toBe(i % 3 === 0 ? 'voice' : 'sms');
    }
    // Asked in the same tick, all 32 join the first statement before its turn comes.
    expect(statements).toHaveBeenCalledTimes(1);
  });
});
