import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import Database from 'better-sqlite3';
import { afterAll, afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import { StoreError } from '../../src/core/ports.js';
import { guardStore, PING_DEADLINE_MS, STORE_DEADLINE_MS } from '../../src/store/errors.js';
import { openStore, type Store } from '../../src/store/index.js';
import { StatementQueue } from '../../src/store/statement-queue.js';
import { TestClock } from '../helpers/clock.js';
import { deleteRedisKeys, REDIS_URL } from '../helpers/redis.js';
import { requireService } from '../helpers/services.js';

/**
 * Every store call ends in time, as a whole: the deadline in guardStore, SQLite's short busy timeout
 * and one-statement-at-a-time queue (a real second connection holds the write lock), and a Redis that
 * stops answering.
 */

/** No Redis on this machine: its tests are skipped with a note (and fail where REQUIRE_REDIS=1, as in .ci/run). */
const SKIP_REDIS = !(await requireService('redis', REDIS_URL));
const run = `pg-deadline-${randomUUID()}`;
const dir = mkdtempSync(join(tmpdir(), 'phonegate-deadline-'));

afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  if (!SKIP_REDIS) await deleteRedisKeys(run);
});

/** Settles to the value or the error, so a test can look at a promise without awaiting it. */
function track<T>(promise: Promise<T>): { settled: boolean; value?: T; error?: unknown } {
  const state: { settled: boolean; value?: T; error?: unknown } = { settled: false };
  promise.then(
    (value) => Object.assign(state, { settled: true, value }),
    (error: unknown) => Object.assign(state, { settled: true, error }),
  );
  return state;
}

/** Resolves to the error a promise rejects with, and the real time it took. */
async function failure(promise: Promise<unknown>): Promise<{ error: unknown; ms: number }> {
  const started = performance.now();
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  return { error, ms: performance.now() - started };
}

describe('guardStore: a deadline on each call, as a whole', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  test('a call that never answers rejects with StoreError at the deadline, not before', async () => {
    const call = track(guardStore('read', () => new Promise(() => {})));
    await vi.advanceTimersByTimeAsync(STORE_DEADLINE_MS - 1);
    expect(call.settled).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(call.error).toBeInstanceOf(StoreError);
    expect((call.error as Error).message).toBe(`store timed out after ${STORE_DEADLINE_MS} ms`);
  });

  test('the deadline can be shorter for one call (the health probe)', async () => {
    const call = track(guardStore('read', () => new Promise(() => {}), PING_DEADLINE_MS));
    await vi.advanceTimersByTimeAsync(PING_DEADLINE_MS);
    expect((call.error as Error).message).toBe(`store timed out after ${PING_DEADLINE_MS} ms`);
  });

  test('a call that answers in time keeps its value and leaves no timer behind', async () => {
    const call = track(
      guardStore('read', () => new Promise((resolve) => setTimeout(() => resolve('value'), STORE_DEADLINE_MS - 10))),
    );
    await vi.advanceTimersByTimeAsync(STORE_DEADLINE_MS - 10);
    expect(call).toMatchObject({ settled: true, value: 'value' });
    expect(vi.getTimerCount()).toBe(0);
  });

  test('a call that fails in time fails with its own reason', async () => {
    const error = Object.assign(new Error('disk I/O error'), { code: 'SQLITE_IOERR' });
    await expect(guardStore('write', () => Promise.reject(error))).rejects.toThrow(
      new StoreError('store write failed (SQLITE_IOERR)'),
    );
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe('StatementQueue', () => {
  const settle = () => new Promise((resolve) => setImmediate(resolve)); // lets queued promise callbacks run

  test('runs one statement at a time, in order, and a failure does not stop the next', async () => {
    const queue = new StatementQueue();
    const started: string[] = [];
    let finishFirst!: () => void;
    const first = queue.run(() => {
      started.push('first');
      return new Promise<void>((resolve) => (finishFirst = resolve));
    }, 1000);
    const second = queue.run(async () => {
      started.push('second');
      throw new Error('constraint failed');
    }, 1000);
    const third = queue.run(async () => started.push('third'), 1000);
    await settle();
    expect(started).toEqual(['first']);
    finishFirst();
    await first;
    await expect(second).rejects.toThrow('constraint failed');
    await third;
    expect(started).toEqual(['first', 'second', 'third']);
  });

  test('a statement that cannot start within its limit is dropped unrun, so it cannot write after its caller gave up', async () => {
    let now = 0;
    const queue = new StatementQueue(() => now);
    let finishFirst!: () => void;
    const first = queue.run(() => new Promise<void>((resolve) => (finishFirst = resolve)), 700);
    const late = vi.fn(async () => 'written');
    const second = queue.run(late, 700);
    const third = queue.run(late, 900);
    await settle();
    now = 800; // the first statement held the connection this long
    finishFirst();
    await first;
    await expect(second).rejects.toThrow(new StoreError('store busy: a statement could not start within 700 ms'));
    await expect(third).resolves.toBe('written');
    expect(late).toHaveBeenCalledTimes(1);
  });
});

/**
 * A second, real connection to the same file, holding the write lock the way another process would
 * (better-sqlite3, the store's own driver: two copies of SQLite in one process can drop each other's file locks).
 */
class WriteLock {
  private constructor(private readonly db: Database.Database) {}

  static async take(file: string): Promise<WriteLock> {
    const db = new Database(file, { timeout: 0 });
    db.exec('BEGIN IMMEDIATE');
    return new WriteLock(db);
  }

  async release(): Promise<void> {
    this.db.exec('ROLLBACK');
    this.db.close();
  }
}

describe('SQLite while another process holds the write lock', () => {
  let store: Store;
  let lock: WriteLock | undefined;

  beforeEach(async () => {
    const file = join(dir, `${randomUUID()}.sqlite`);
    store = await openStore(`sqlite://${file}`, new TestClock());
    await store.kv.set('kept', 'before');
    await store.counters.increment('tries', 60_000);
    lock = await WriteLock.take(file);
  });
  afterEach(async () => {
    await lock?.release();
    await store.close();
  });

  test('each write fails on the short busy timeout, reads still answer (WAL), and ping says unhealthy', async () => {
    const writes: Array<[string, () => Promise<unknown>]> = [
      ['kv.set', () => store.kv.set('kept', 'after')],
      ['kv.delete', () => store.kv.delete('kept')],
      ['counters.increment', () => store.counters.increment('tries', 60_000)],
      ['counters.reset', () => store.counters.reset('tries')],
    ];
    for (const [name, write] of writes) {
      const { error, ms } = await failure(write());
      expect(error, name).toBeInstanceOf(StoreError);
      // SQLITE_BUSY after the busy timeout, well before the call's deadline (the 5 s it used to be would run out).
      expect((error as Error).message, name).toBe('store write failed (SQLITE_BUSY)');
      expect(ms, name).toBeLessThan(STORE_DEADLINE_MS);
    }
    const ping = await failure(store.ping());
    expect(ping.error).toBeInstanceOf(StoreError);
    expect(ping.ms).toBeLessThan(PING_DEADLINE_MS + 250);

    expect(await store.kv.get('kept')).toBe('before');
    expect(await store.counters.peek('tries')).toBe(1);
  });

  test('many writes at once: each ends within its deadline, the event loop never waits on SQLite, and none lands after the lock goes', async () => {
    const delay = monitorEventLoopDelay({ resolution: 10 });
    delay.enable();
    const keys = Array.from({ length: 16 }, (_, i) => `burst:${i}`);
    const outcomes = await Promise.all(keys.map((key) => failure(store.kv.set(key, 'late'))));
    delay.disable();
    for (const { error, ms } of outcomes) {
      expect(error).toBeInstanceOf(StoreError);
      expect(ms).toBeLessThan(STORE_DEADLINE_MS + 250);
    }
    // Statements run on the main thread: one that waited inside SQLite's busy handler would stop the loop for
    // its busy timeout, one after another (seconds in all); they wait on timers instead.
    expect(delay.max / 1e6).toBeLessThan(150);
    // A loop blocked from start to end records no delay at all: the monitor's timer must have run throughout.
    expect(delay.count).toBeGreaterThan(20);

    await lock!.release();
    lock = undefined;
    expect(await store.kv.getMany(keys)).toEqual(keys.map(() => undefined));
    await store.ping();
    await store.kv.set('kept', 'after');
    expect(await store.kv.get('kept')).toBe('after');
    expect((await store.counters.increment('tries', 60_000)).count).toBe(2);
  });
});

/**
 * A TCP relay to Redis that can stop passing bytes both ways while the connections stay open: to the
 * client, Redis stops answering, as with `CLIENT PAUSE`. (CLIENT PAUSE itself would pause the whole
 * shared server, and every other test file's Redis calls with it.)
 */
async function startFreezableRelay(): Promise<{
  port: number;
  freeze: () => void;
  thaw: () => void;
  close: () => void;
}> {
  const pairs = new Set<[net.Socket, net.Socket]>();
  const server = net.createServer((client) => {
    const upstream = net.connect(6379, '127.0.0.1');
    for (const socket of [client, upstream]) socket.on('error', () => {});
    client.pipe(upstream).pipe(client);
    pairs.add([client, upstream]);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    freeze: () => {
      for (const [client, upstream] of pairs) {
        client.unpipe(upstream).pause();
        upstream.unpipe(client).pause();
      }
    },
    thaw: () => {
      for (const [client, upstream] of pairs) client.pipe(upstream).pipe(client);
    },
    close: () => {
      server.close();
      for (const pair of pairs) for (const socket of pair) socket.destroy();
    },
  };
}

describe.skipIf(SKIP_REDIS)('Redis that stops answering', () => {
  test('calls and ping reject with StoreError at their deadlines, and work again once Redis answers', async () => {
    const relay = await startFreezableRelay();
    const store = await openStore(`redis://127.0.0.1:${relay.port}/5`, new TestClock());
    try {
      const key = `${run}:stalled`;
      await store.kv.set(key, 'before');
      relay.freeze();

      const calls: Array<[string, Promise<unknown>, number]> = [
        ['kv.get', store.kv.get(key), STORE_DEADLINE_MS],
        ['kv.set', store.kv.set(key, 'during'), STORE_DEADLINE_MS],
        ['counters.increment', store.counters.increment(`${run}:tries`, 60_000), STORE_DEADLINE_MS],
        [
          'kv.entries',
          (async () => {
            for await (const _ of store.kv.entries(`${run}:`));
          })(),
          STORE_DEADLINE_MS,
        ],
        ['ping', store.ping(), PING_DEADLINE_MS],
      ];
      const outcomes = await Promise.all(calls.map(([, call]) => failure(call)));
      outcomes.forEach(({ error, ms }, i) => {
        const [name, , deadlineMs] = calls[i]!;
        expect((error as Error | undefined)?.message, name).toBe(`store timed out after ${deadlineMs} ms`);
        expect(error, name).toBeInstanceOf(StoreError);
        expect(ms, name).toBeLessThan(deadlineMs + 250);
      });

      relay.thaw();
      await store.ping();
      await store.kv.set(key, 'after');
      expect(await store.kv.get(key)).toBe('after');
    } finally {
      relay.thaw();
      await store.close();
      relay.close();
    }
  });
});
