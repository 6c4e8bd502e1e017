import { randomUUID } from 'node:crypto';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeEach, describe, expect, test } from 'vitest';
import { StoreError } from '../../src/core/ports.js';
import { openStore, type Store } from '../../src/store/index.js';
import { POSTGRES_POOL_SIZE, parsePostgresUrl } from '../../src/store/postgres.js';
import { TestClock } from '../helpers/clock.js';
import { dropPostgresSchema, POSTGRES_URL, postgresUrl, rawPostgres } from '../helpers/postgres.js';
import { requireService } from '../helpers/services.js';

/**
 * What the PostgreSQL store does beyond the contract that counters.test.ts and kv.test.ts run on every
 * backend: expiry, purging by index, failing closed once closed or cut off, and coming back by itself.
 */

/** No PostgreSQL on this machine: these tests are skipped with a note (and fail where REQUIRE_POSTGRES=1, as in .ci/run). */
const SKIP_POSTGRES = !(await requireService('postgres', POSTGRES_URL));
const schema = `store_${randomUUID().replaceAll('-', '')}`; // this run's tables, dropped at the end
const url = postgresUrl(schema);

afterAll(async () => {
  if (!SKIP_POSTGRES) await dropPostgresSchema(schema);
});

async function collect<T>(iterable: AsyncIterable<[string, T]>): Promise<Array<[string, T]>> {
  const out: Array<[string, T]> = [];
  for await (const entry of iterable) out.push(entry);
  return out.sort(([a], [b]) => a.localeCompare(b));
}

/** What a call came to: 'StoreError', 'resolved …' or 'other: …'. */
function outcome(call: () => Promise<unknown>): Promise<string> {
  return call().then(
    (value) => `resolved ${JSON.stringify(value)}`,
    (error: unknown) => (error instanceof StoreError ? 'StoreError' : `other: ${String(error)}`),
  );
}

describe('parsePostgresUrl', () => {
  // `?schema=` picks the schema and is not passed on to the driver; without it, tables go in public.
  test('takes the schema out of the URL', () => {
    expect(parsePostgresUrl('postgres://bot@db:5432/app?schema=phonegate&sslmode=require')).toEqual({
      connectionString: 'postgres://bot@db:5432/app?sslmode=require',
      schema: 'phonegate',
    });
    expect(parsePostgresUrl('postgresql://bot@db/app').schema).toBe('public');
  });

  // The schema name goes into SQL text (@keyv/postgres does not quote it), so only plain names pass.
  test.each(['public; DROP TABLE keyv', 'Phone', '1abc', 'a-b', ''])('refuses schema %j', (name) => {
    expect(() => parsePostgresUrl(`postgres://bot@db/app?schema=${encodeURIComponent(name)}`)).toThrow(
      /schema must be/,
    );
  });
});

// Replicas that start together on an empty database all open: creating the tables does not race.
test.skipIf(SKIP_POSTGRES)('several stores opened at once on a new schema all open', async () => {
  const fresh = `${schema}_new`;
  try {
    const opened = await Promise.allSettled(
      Array.from({ length: 6 }, () => openStore(postgresUrl(fresh), new TestClock())),
    );
    await Promise.all(opened.map((o) => (o.status === 'fulfilled' ? o.value.close() : undefined)));
    expect(opened.map((o) => (o.status === 'fulfilled' ? 'opened' : String(o.reason)))).toEqual(
      Array(6).fill('opened'),
    );
  } finally {
    await dropPostgresSchema(fresh);
  }
});

describe.skipIf(SKIP_POSTGRES)('PostgreSQL store', () => {
  let clock: TestClock;
  let store: Store;
  let n = 0;
  const ns = () => `${randomUUID()}:${++n}:`; // a fresh key prefix per test

  beforeEach(async () => {
    clock = new TestClock();
    store = await openStore(url, clock);
  });
  afterEach(async () => {
    await store.close().catch(() => {}); // some tests close it themselves
  });

  // The window is [start, start + windowMs) on the database's clock: the store's own clock, however far
  // it moves, changes nothing; the row's end, moved by the database's clock, does.
  test('a counter window is measured on the database clock', async () => {
    const k = `${ns()}edge`;
    const before = Date.now();
    const { resetsAt } = await store.counters.increment(k, 60_000);
    expect(resetsAt).toBeGreaterThan(clock.now() + 59_000);
    expect(resetsAt).toBeLessThanOrEqual(clock.now() + 60_000);
    clock.advance(2 * 60 * 60_000); // this replica's clock: two hours on
    expect(await store.counters.peek(k)).toBe(1);
    expect((await store.counters.increment(k, 60_000)).count).toBe(2);
    // Where the database says the window ends: 1 s after its clock now, the count holds; at it, it is gone.
    const end = (ms: string) =>
      rawPostgres(
        `UPDATE ${schema}.counters SET expires = (extract(epoch from clock_timestamp()) * 1000)::bigint + ${ms} WHERE key = $1`,
        [k],
      );
    await end('1000');
    expect(await store.counters.peek(k)).toBe(2);
    await end('0');
    expect(await store.counters.peek(k)).toBe(0);
    expect((await store.counters.increment(k, 60_000)).count).toBe(1);
    expect(Date.now() - before).toBeLessThan(60_000); // (the real time this took is far inside any window above)
  });

  // Issue 18 §8, DESIGN invariant 14: two replicas whose clocks are 31 s apart share one window. With
  // windows on each writer's clock, a replica 31 s ahead found a 30 s cooldown over at once, and one
  // 31 s behind kept a 300 ms window for 31 s.
  test('replicas whose clocks are 31 s apart share one window, either way round', async () => {
    const ahead = await openStore(url, new TestClock(clock.now() + 31_000));
    try {
      const cooldown = `${ns()}cooldown`;
      expect((await store.counters.increment(cooldown, 30_000)).count).toBe(1);
      expect(await ahead.counters.peek(cooldown)).toBe(1);
      const second = await ahead.counters.increment(cooldown, 30_000);
      expect(second.count).toBe(2);
      // resetsAt is on the caller's own clock: about 30 s after its now, not 1 s before it.
      expect(second.resetsAt - (clock.now() + 31_000)).toBeGreaterThan(29_000);

      const short = `${ns()}short`;
      expect((await ahead.counters.increment(short, 300)).count).toBe(1);
      await sleep(400);
      expect(await store.counters.peek(short)).toBe(0);
      expect((await store.counters.increment(short, 300)).count).toBe(1);
    } finally {
      await ahead.close();
    }
  });

  // keyv checks a value's expiry with Date.now() (no injected clock), so a short real ttl is used.
  test('an entry with a ttl is gone after it, in get and in entries', async () => {
    const p = ns();
    await store.kv.set(`${p}short`, 'v', 200);
    await store.kv.set(`${p}later`, 'l', 3_600_000);
    await store.kv.set(`${p}forever`, 'w');
    expect(await store.kv.get(`${p}short`)).toBe('v');
    await sleep(300);
    expect(await store.kv.get(`${p}short`)).toBeUndefined();
    expect(await collect(store.kv.entries(p))).toEqual([
      [`${p}forever`, 'w'],
      [`${p}later`, 'l'],
    ]);
  });

  // Data outlives the store object: a new one on the same URL reads what the old one wrote.
  test('data survives closing and reopening', async () => {
    const p = ns();
    await store.kv.set(`${p}session`, { scope: 'login' });
    await store.counters.increment(`${p}fails`, 60_000);
    await store.close();
    const reopened = await openStore(url, clock);
    try {
      expect(await reopened.kv.get(`${p}session`)).toEqual({ scope: 'login' });
      expect((await reopened.counters.increment(`${p}fails`, 60_000)).count).toBe(2);
    } finally {
      await reopened.close();
    }
  });

  // purgeExpired deletes expired keyv rows and counter rows, keeps live ones, and returns how many.
  test('purgeExpired deletes expired rows and returns the count', async () => {
    await rawPostgres(`DELETE FROM ${schema}.keyv`);
    await rawPostgres(`DELETE FROM ${schema}.counters`);
    await store.kv.set('gone', 'x', 50); // keyv stamps expiry with Date.now(): needs a real wait
    await store.kv.set('live', 'y', 3_600_000);
    await store.kv.set('forever', 'z');
    await store.counters.increment('old', 50); // counters expire on the database's clock: a real wait too
    await store.counters.increment('new', 3_600_000);
    await sleep(120);
    clock.advance(2_000); // keyv's rows are purged by this replica's clock

    const keys = async (table: string) =>
      (await rawPostgres<{ key: string }>(`SELECT key FROM ${schema}.${table} ORDER BY key`)).map((r) => r.key);
    expect(await keys('keyv')).toEqual(['state:forever', 'state:gone', 'state:live']); // keyv drops expired rows only when read
    expect(await keys('counters')).toEqual(['new', 'old']);

    expect(await store.purgeExpired()).toBe(2);

    expect(await keys('keyv')).toEqual(['state:forever', 'state:live']);
    expect(await keys('counters')).toEqual(['new']);
    expect(await store.kv.get('live')).toBe('y');
    expect(await store.kv.get('forever')).toBe('z');
    expect(await store.purgeExpired()).toBe(0);
  });

  // The purge goes by the two expiry indexes, not by decoding every row's JSON. Its store runs with
  // sequential scans off, so the planner takes an index whenever one serves the condition, whatever the
  // table's size; the server's own index counters then show which were used.
  test('purgeExpired deletes by index', async () => {
    const noSeqScan = new URL(url);
    noSeqScan.searchParams.set('options', '-c enable_seqscan=off');
    const purger = await openStore(noSeqScan.toString(), clock);
    const before = await indexScans();
    await purger.purgeExpired();
    await purger.close(); // a server process writes its statistics when its connection ends
    await expect
      .poll(indexScans, { timeout: 3_000 })
      .toEqual({ keyv_expires: before.keyv_expires + 1, counters_expires: before.counters_expires + 1 });
  });

  // Fail closed: once the pool is ended, every call rejects with StoreError (none resolves "nothing there").
  test('after close, every call rejects with StoreError', async () => {
    await store.kv.set('lock:U1', true);
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
    for (const [name, call] of calls) outcomes[name] = await outcome(call);
    expect(outcomes).toEqual(Object.fromEntries(calls.map(([name]) => [name, 'StoreError'])));
  });

  // Two stores in one process are independent (@keyv/postgres alone shares one pool per URL).
  test('closing one store leaves another on the same URL working', async () => {
    const other = await openStore(url, clock);
    const k = `${ns()}k`;
    await other.kv.set(k, 'v');
    await store.close();
    try {
      expect(await other.kv.get(k)).toBe('v');
      expect((await other.counters.increment(k, 60_000)).count).toBe(1);
    } finally {
      await other.close();
    }
  });
});

/** How many times each expiry index was scanned. */
async function indexScans(): Promise<Record<'keyv_expires' | 'counters_expires', number>> {
  const rows = await rawPostgres<{ indexrelname: string; idx_scan: string }>(
    `SELECT indexrelname, idx_scan FROM pg_stat_user_indexes WHERE schemaname = $1 AND indexrelname IN ('keyv_expires', 'counters_expires')`,
    [schema],
  );
  const scans = Object.fromEntries(rows.map((r) => [r.indexrelname, Number(r.idx_scan)]));
  return { keyv_expires: scans.keyv_expires ?? -1, counters_expires: scans.counters_expires ?? -1 };
}

/**
 * A TCP relay to the PostgreSQL server that the test can cut (connections refused, open ones reset) or
 * freeze (connections accepted, nothing answered: a server that hangs or a network that drops packets).
 */
async function startRelay(): Promise<{
  port: number;
  cut: () => void;
  freeze: () => void;
  restore: () => Promise<void>;
  stop: () => void;
}> {
  const { hostname, port: pgPort } = new URL(POSTGRES_URL);
  const sockets = new Set<net.Socket>();
  let frozen = false;
  const server = net.createServer((client) => {
    sockets.add(client);
    client.on('error', () => {});
    if (frozen) return; // accepted, never answered
    const upstream = net.connect(Number(pgPort) || 5432, hostname);
    sockets.add(upstream);
    upstream.on('error', () => {});
    client.pipe(upstream).pipe(client);
  });
  const listen = (port: number) => new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  await listen(0);
  const port = (server.address() as net.AddressInfo).port;
  const cut = () => {
    if (server.listening) server.close();
    for (const socket of sockets) socket.destroy();
    sockets.clear();
  };
  return {
    port,
    cut,
    freeze: () => {
      frozen = true;
      for (const socket of sockets) {
        socket.unpipe();
        socket.pause();
      }
    },
    // New connections go through again; frozen ones stay frozen (the client must give up on them itself).
    restore: async () => {
      frozen = false;
      if (!server.listening) await listen(port);
    },
    stop: cut,
  };
}

describe.skipIf(SKIP_POSTGRES)('PostgreSQL outage', () => {
  const relayUrl = (port: number) => postgresUrl(schema, POSTGRES_URL.replace(/@[^/]+\//, `@127.0.0.1:${port}/`));
  /** Races each call against a generous bound: a hang would show as 'still pending'. */
  const within = (calls: Array<Promise<string>>, ms: number) => {
    const late = sleep(ms).then(() => `still pending after ${ms} ms`);
    return Promise.all(calls.map((call) => Promise.race([call, late])));
  };
  const allCalls = (s: Store, key: string) => [
    outcome(() => s.kv.get(key)),
    outcome(() => s.kv.set(key, 'during')),
    outcome(() => collect(s.kv.entries(key))),
    outcome(() => s.counters.increment(key, 60_000)),
    outcome(() => s.ping()),
  ];

  // Cut off (connections refused, idle ones reset): every call fails closed at once, the broken idle
  // connections do not crash the process, and the same store works again once the server is back.
  test('when the server is cut off, calls reject with StoreError, and work again when it returns', async () => {
    const relay = await startRelay();
    const store = await openStore(relayUrl(relay.port), new TestClock());
    const key = `${randomUUID()}:outage`;
    try {
      // Several connections open and idle in the pool when the cut comes.
      await Promise.all(Array.from({ length: 5 }, (_, i) => store.kv.set(`${key}:${i}`, i)));
      relay.cut();
      await sleep(100); // the calls below arrive while the server is away, not in flight when it went
      expect(await within(allCalls(store, key), 2_000)).toEqual(Array(5).fill('StoreError'));

      await relay.restore();
      expect(await store.kv.get(`${key}:3`)).toBe(3);
      expect((await store.counters.increment(key, 60_000)).count).toBe(1);
      await expect(store.ping()).resolves.toBeUndefined();
    } finally {
      await store.close();
      relay.stop();
    }
  });

  // A server that stops answering: each call fails within the store deadline (not hanging on a dead
  // connection or a full pool), and when the server answers again the same store recovers, even though
  // more calls than the pool has connections were stuck on the frozen ones.
  test('when the server stops answering, calls fail within the deadline, and the store recovers', async () => {
    const relay = await startRelay();
    const store = await openStore(relayUrl(relay.port), new TestClock());
    const key = `${randomUUID()}:hang`;
    try {
      await store.kv.set(key, 'before');
      relay.freeze();
      const stuck = Array.from({ length: POSTGRES_POOL_SIZE + 2 }, (_, i) =>
        outcome(() => store.counters.increment(`${key}:${i}`, 60_000)),
      );
      expect(await within([...stuck, ...allCalls(store, key)], 2_500)).toEqual(
        Array(POSTGRES_POOL_SIZE + 7).fill('StoreError'),
      );

      await relay.restore();
      await sleep(200); // let the pool drop the connections it gave up on
      expect(await store.kv.get(key)).toBe('before');
      expect((await store.counters.increment(`${key}:new`, 60_000)).count).toBe(1);
      await expect(store.ping()).resolves.toBeUndefined();
    } finally {
      await store.close().catch(() => {});
      relay.stop();
    }
  });
});
