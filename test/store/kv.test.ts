import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import Database from 'better-sqlite3';
import { afterAll, afterEach, beforeEach, describe, expect, test } from 'vitest';
import { StoreError } from '../../src/core/ports.js';
import { openStore, type Store } from '../../src/store/index.js';
import { TestClock } from '../helpers/clock.js';
import { dropPostgresSchema, POSTGRES_URL, postgresUrl } from '../helpers/postgres.js';
import { deleteRedisKeys, REDIS_URL } from '../helpers/redis.js';
import { requireService } from '../helpers/services.js';

/**
 * The KeyValueStore (store.kv) over keyv on SQLite and Redis, plus the SQLite store's expiry, purge,
 * restart and fail-closed rules, and what a Redis outage does.
 */

/** No Redis on this machine: its tests are skipped with a note (and fail where REQUIRE_REDIS=1, as in .ci/run). */
const SKIP_REDIS = !(await requireService('redis', REDIS_URL));
/** The same for PostgreSQL (REQUIRE_POSTGRES=1). Its tables go in a schema of this run's own. */
const SKIP_POSTGRES = !(await requireService('postgres', POSTGRES_URL));
const pgSchema = `kv_${randomUUID().replaceAll('-', '')}`;
const run = `pg-kv-${randomUUID()}`; // every key this file creates contains this
const dir = mkdtempSync(join(tmpdir(), 'phonegate-kv-'));
const newDbFile = () => join(dir, `${randomUUID()}.sqlite`);

/** Runs one query on the database file through a separate connection (not the store's). */
async function rawQuery<T>(file: string, sql: string): Promise<T[]> {
  const db = new Database(file);
  try {
    return db.prepare(sql).all() as T[];
  } finally {
    db.close();
  }
}

async function collect<T>(iterable: AsyncIterable<[string, T]>): Promise<Array<[string, T]>> {
  const out: Array<[string, T]> = [];
  for await (const entry of iterable) out.push(entry);
  return out.sort(([a], [b]) => a.localeCompare(b));
}

afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  if (!SKIP_REDIS) await deleteRedisKeys(run);
  if (!SKIP_POSTGRES) await dropPostgresSchema(pgSchema);
});

const backends = [
  { name: 'SQLite', skip: false, url: () => `sqlite://${newDbFile()}` },
  { name: 'Redis', skip: SKIP_REDIS, url: () => REDIS_URL },
  { name: 'PostgreSQL', skip: SKIP_POSTGRES, url: () => postgresUrl(pgSchema) },
];

describe.each(backends)('KeyValueStore basics on $name', (backend) => {
  describe.skipIf(backend.skip)('basics', () => {
    let store: Store;
    let n = 0;
    const ns = () => `${run}:${++n}:`; // a fresh key prefix per test

    beforeEach(async () => {
      store = await openStore(backend.url(), new TestClock());
    });
    afterEach(async () => {
      await store.close();
    });

    // set then get returns the stored value (objects round-trip); a missing key reads undefined.
    test('set / get', async () => {
      const p = ns();
      await store.kv.set(`${p}obj`, { user: 'U1', failures: 2, at: [1, 2] });
      await store.kv.set(`${p}text`, 'hello');
      expect(await store.kv.get(`${p}obj`)).toEqual({ user: 'U1', failures: 2, at: [1, 2] });
      expect(await store.kv.get(`${p}text`)).toBe('hello');
      expect(await store.kv.get(`${p}missing`)).toBeUndefined();
    });

    // Strings that keyv escapes (a leading ':') and Buffers come back as written, alone or inside objects.
    test('values with leading colons and Buffers round-trip', async () => {
      const p = ns();
      const value = { a: ':one', b: ['::two', ':base64:x'], c: Buffer.from('bytes'), ':d': 'plain' };
      await store.kv.set(`${p}obj`, value);
      await store.kv.set(`${p}text`, ':alone');
      expect(await store.kv.get(`${p}obj`)).toEqual(value);
      expect(await store.kv.getMany([`${p}text`, `${p}obj`])).toEqual([':alone', value]);
    });

    // getMany answers in the order asked, with undefined for the missing keys.
    test('getMany', async () => {
      const p = ns();
      await store.kv.set(`${p}a`, 1);
      await store.kv.set(`${p}c`, 3);
      expect(await store.kv.getMany([`${p}c`, `${p}b`, `${p}a`])).toEqual([3, undefined, 1]);
    });

    // set overwrites; delete removes only the named key.
    test('overwrite and delete', async () => {
      const p = ns();
      await store.kv.set(`${p}a`, 'first');
      await store.kv.set(`${p}a`, 'second');
      await store.kv.set(`${p}b`, 'kept');
      expect(await store.kv.get(`${p}a`)).toBe('second');
      await store.kv.delete(`${p}a`);
      expect(await store.kv.get(`${p}a`)).toBeUndefined();
      expect(await store.kv.get(`${p}b`)).toBe('kept');
    });

    test('deleteMany deletes exactly the keys named; names with no key are fine', async () => {
      const p = ns();
      for (const k of ['a', 'b', 'c']) await store.kv.set(`${p}${k}`, k);
      await store.kv.deleteMany([`${p}a`, `${p}c`, `${p}never-set`]);
      expect(await store.kv.getMany([`${p}a`, `${p}b`, `${p}c`])).toEqual([undefined, 'b', undefined]);
      await store.kv.deleteMany([`${p}never-set`]);
      expect(await store.kv.get(`${p}b`)).toBe('b');
    });

    // entries(prefix) lists exactly the keys that start with the prefix, with their values.
    test('entries lists only keys with the prefix', async () => {
      const p = ns();
      await store.kv.set(`${p}user:U1`, { n: 1 });
      await store.kv.set(`${p}user:U2`, { n: 2 });
      await store.kv.set(`${p}users:U3`, { n: 3 });
      await store.kv.set(`${p}other:U1`, { n: 4 });
      await store.kv.set(`${p}xuser:U5`, { n: 5 }); // contains the prefix's tail, does not start with it
      expect(await collect(store.kv.entries(`${p}user:`))).toEqual([
        [`${p}user:U1`, { n: 1 }],
        [`${p}user:U2`, { n: 2 }],
      ]);
      expect(await collect(store.kv.entries(`${p}nothing:`))).toEqual([]);
    });

    // A ttl of 0 or less is refused with RangeError (keyv would read 0 as "never expires") and writes nothing.
    test.each([0, -1, -60_000, Number.NaN])('set with ttl %s throws RangeError', async (ttl) => {
      const key = `${ns()}bad-ttl`;
      await expect(store.kv.set(key, 'x', ttl)).rejects.toThrow(RangeError);
      expect(await store.kv.get(key)).toBeUndefined();
    });
  });
});

describe('KeyValueStore and Store on SQLite', () => {
  let clock: TestClock;
  let file: string;
  let store: Store;

  beforeEach(async () => {
    clock = new TestClock();
    file = newDbFile();
    store = await openStore(`sqlite://${file}`, clock);
  });
  afterEach(async () => {
    await store.close().catch(() => {}); // some tests close it themselves
  });

  // An entry with a ttl reads undefined once the ttl has passed; one without a ttl stays.
  // keyv checks expiry with Date.now() internally (no injected clock), so a short real ttl is used
  // (200 ms, not 50, so that a slow machine still reads the value before it expires).
  test('ttl expiry', async () => {
    await store.kv.set('short', 'v', 200);
    await store.kv.set('forever', 'w');
    expect(await store.kv.get('short')).toBe('v');
    await sleep(300);
    expect(await store.kv.get('short')).toBeUndefined();
    expect(await store.kv.get('forever')).toBe('w');
  });

  // entries skips entries whose ttl has passed (same real-time reason as above).
  test('entries lists only live keys', async () => {
    await store.kv.set('s:live', 1);
    await store.kv.set('s:dying', 2, 50);
    await store.kv.set('s:later', 3, 3_600_000);
    await sleep(120);
    expect(await collect(store.kv.entries('s:'))).toEqual([
      ['s:later', 3],
      ['s:live', 1],
    ]);
  });

  // Restart: state and counters written before close are there after reopening the same file.
  test('data survives closing and reopening the file', async () => {
    await store.kv.set('session:U1', { scope: 'login' });
    await store.kv.set('lock:U2', true, 3_600_000);
    await store.counters.increment('fails:U1', 60_000);
    await store.close();

    const reopened = await openStore(`sqlite://${file}`, clock);
    try {
      expect(await reopened.kv.get('session:U1')).toEqual({ scope: 'login' });
      expect(await reopened.kv.get('lock:U2')).toBe(true);
      expect(await reopened.counters.peek('fails:U1')).toBe(1);
      expect((await reopened.counters.increment('fails:U1', 60_000)).count).toBe(2);
    } finally {
      await reopened.close();
    }
  });

  // purgeExpired deletes expired keyv rows and expired counter rows (which nothing else deletes),
  // keeps live ones, and returns how many rows it deleted. Row counts come from a second connection.
  test('purgeExpired deletes expired rows and returns the count', async () => {
    await store.kv.set('gone', 'x', 50); // keyv stamps expiry with Date.now(): needs a real wait
    await store.kv.set('live', 'y', 3_600_000);
    await store.kv.set('forever', 'z');
    await store.counters.increment('old', 1_000); // counters use the TestClock
    await store.counters.increment('new', 3_600_000);
    await sleep(120);
    clock.advance(2_000);

    const keyvRows = () => rawQuery<{ key: string }>(file, 'SELECT key FROM keyv ORDER BY key');
    const counterRows = () => rawQuery<{ key: string }>(file, 'SELECT key FROM counters ORDER BY key');
    // Expired rows are still in the file: keyv only drops them when read.
    expect((await keyvRows()).map((r) => r.key)).toEqual(['state:forever', 'state:gone', 'state:live']);
    expect((await counterRows()).map((r) => r.key)).toEqual(['new', 'old']);

    expect(await store.purgeExpired()).toBe(2);

    expect((await keyvRows()).map((r) => r.key)).toEqual(['state:forever', 'state:live']);
    expect((await counterRows()).map((r) => r.key)).toEqual(['new']);
    expect(await store.kv.get('live')).toBe('y');
    expect(await store.kv.get('forever')).toBe('z');
    expect(await store.counters.peek('new')).toBe(1);
    expect(await store.purgeExpired()).toBe(0);
  });

  // ping resolves while the database is open.
  test('ping resolves on an open store', async () => {
    await expect(store.ping()).resolves.toBeUndefined();
  });

  // Fail closed: once the backend is gone, every read and write rejects with StoreError
  // instead of resolving undefined/false (keyv's default, which would read as "no lockout").
  test('after close, reads and writes reject with StoreError', async () => {
    await store.kv.set('lock:U1', true);
    await store.counters.increment('fails:U1', 60_000);
    await store.close();

    const calls: Array<[string, () => Promise<unknown>]> = [
      ['kv.get', () => store.kv.get('lock:U1')],
      ['kv.getMany', () => store.kv.getMany(['lock:U1'])],
      ['kv.set', () => store.kv.set('lock:U1', false)],
      ['kv.delete', () => store.kv.delete('lock:U1')],
      ['kv.entries', () => collect(store.kv.entries('lock:'))],
      ['counters.increment', () => store.counters.increment('fails:U1', 60_000)],
      ['counters.peek', () => store.counters.peek('fails:U1')],
      ['counters.reset', () => store.counters.reset('fails:U1')],
      ['ping', () => store.ping()],
      ['purgeExpired', () => store.purgeExpired()],
    ];
    const outcomes: Record<string, string> = {};
    for (const [name, call] of calls) {
      outcomes[name] = await call().then(
        (value) => `resolved ${JSON.stringify(value)}`,
        (error: unknown) => (error instanceof StoreError ? 'StoreError' : `other: ${String(error)}`),
      );
    }
    expect(outcomes).toEqual(Object.fromEntries(calls.map(([name]) => [name, 'StoreError'])));
  });
});

describe.skipIf(SKIP_REDIS)('Redis outage', () => {
  /** A TCP relay to the Redis server that the test can cut and restore, as a network failure would. */
  async function startRelay(): Promise<{ port: number; cut: () => void; restore: () => Promise<void> }> {
    const sockets = new Set<net.Socket>();
    const server = net.createServer((client) => {
      const upstream = net.connect(6379, '127.0.0.1');
      for (const socket of [client, upstream]) {
        sockets.add(socket);
        socket.on('error', () => {});
      }
      client.pipe(upstream).pipe(client);
    });
    const listen = (port: number) => new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    await listen(0);
    const port = (server.address() as net.AddressInfo).port;
    return {
      port,
      cut: () => {
        if (server.listening) server.close();
        for (const socket of sockets) socket.destroy();
        sockets.clear();
      },
      restore: async () => {
        if (!server.listening) await listen(port);
      },
    };
  }

  /** What a call came to: 'StoreError', 'resolved …' or 'other: …'. */
  function outcome(call: () => Promise<unknown>): Promise<string> {
    return call().then(
      (value) => `resolved ${JSON.stringify(value)}`,
      (error: unknown) => (error instanceof StoreError ? 'StoreError' : `other: ${String(error)}`),
    );
  }

  // Fail closed: node-redis would otherwise queue commands offline and wait for the reconnect forever.
  // The 2 s deadline is real time because a hang would be real time.
  test('when Redis becomes unreachable, calls reject with StoreError promptly', async () => {
    const relay = await startRelay();
    const store = await openStore(`redis://127.0.0.1:${relay.port}/5`, new TestClock());
    const key = `${run}:outage`;
    let calls: Array<Promise<string>> = [];
    try {
      await store.kv.set(key, 'before');
      expect(await store.kv.get(key)).toBe('before');
      relay.cut();
      await sleep(200); // the calls below arrive while Redis is down, not in flight when it went

      calls = [
        outcome(() => store.kv.get(key)),
        outcome(() => store.kv.set(key, 'after')),
        outcome(() => store.counters.increment(key, 60_000)),
        outcome(() => store.ping()),
      ];
      const deadline = sleep(2_000).then(() => 'still pending after 2 s');
      const [get, set, increment, ping] = await Promise.all(calls.map((call) => Promise.race([call, deadline])));
      expect({ get, set, increment, ping }).toEqual({
        get: 'StoreError',
        set: 'StoreError',
        increment: 'StoreError',
        ping: 'StoreError',
      });
    } finally {
      // Let the client reconnect and finish the queued calls: close() waits for them (and hangs while they wait).
      await relay.restore();
      await Promise.all(calls);
      await store.close();
      relay.cut();
    }
  });
});
