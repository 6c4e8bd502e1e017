import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeEach, describe, expect, test } from 'vitest';
import { openStore, type Store } from '../../src/store/index.js';
import { TestClock } from '../helpers/clock.js';
import { dropPostgresSchema, POSTGRES_URL, postgresUrl } from '../helpers/postgres.js';
import { deleteRedisKeys, REDIS_URL } from '../helpers/redis.js';
import { requireService } from '../helpers/services.js';

/**
 * The Counters contract (src/core/ports.ts), run against every backend. `increment` must be one
 * atomic step on each: keyv has no increment, and a read-then-write would lose concurrent updates.
 */

/** No Redis on this machine: its tests are skipped with a note (and fail where REQUIRE_REDIS=1, as in .ci/run). */
const SKIP_REDIS = !(await requireService('redis', REDIS_URL));
/** The same for PostgreSQL (REQUIRE_POSTGRES=1). Its tables go in a schema of this run's own. */
const SKIP_POSTGRES = !(await requireService('postgres', POSTGRES_URL));
const pgSchema = `counters_${randomUUID().replaceAll('-', '')}`;
const run = `pg-counters-${randomUUID()}`; // every key this file creates contains this
const dir = mkdtempSync(join(tmpdir(), 'phonegate-counters-'));

interface Backend {
  name: string;
  skip: boolean;
  open(clock: TestClock): Promise<Store>;
  /** A window short enough that `passTime` can get past it. */
  shortWindowMs: number;
  /** Lets at least `ms` pass for the backend's expiry logic. */
  passTime(clock: TestClock, ms: number): Promise<void>;
  /** How far resetsAt may fall short of the exact window end (real time elapsed between calls). */
  resetsAtSlackMs: number;
}

const backends: Backend[] = [
  {
    name: 'SQLite',
    skip: false,
    open: (clock) => openStore(`sqlite://${join(dir, `${randomUUID()}.sqlite`)}`, clock),
    shortWindowMs: 60_000,
    // SQLite compares `expires` with the injected clock, so moving the TestClock is enough.
    passTime: async (clock, ms) => clock.advance(ms),
    resetsAtSlackMs: 0,
  },
  {
    name: 'Redis',
    skip: SKIP_REDIS,
    open: (clock) => openStore(REDIS_URL, clock),
    shortWindowMs: 150,
    // Redis expires keys natively in real time (PEXPIRE), which no injected clock can move, so a tiny
    // real wait is the only way to cross a window. The TestClock then moves by the time that really
    // passed, as a real clock would (the adapter reports resetsAt as clock.now() + PTTL).
    passTime: async (clock, ms) => {
      const before = Date.now();
      await sleep(ms + 40); // a margin past the expiry instant
      clock.advance(Date.now() - before);
    },
    resetsAtSlackMs: 30,
  },
  {
    name: 'PostgreSQL',
    skip: SKIP_POSTGRES,
    open: (clock) => openStore(postgresUrl(pgSchema), clock),
    shortWindowMs: 150,
    // Windows are measured on the database's clock (shared by every replica), which no injected clock
    // can move: as on Redis, a tiny real wait, and the TestClock moves by the time that really passed.
    passTime: async (clock, ms) => {
      const before = Date.now();
      await sleep(ms + 40);
      clock.advance(Date.now() - before);
    },
    resetsAtSlackMs: 30,
  },
];

afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  if (!SKIP_REDIS) await deleteRedisKeys(run);
  if (!SKIP_POSTGRES) await dropPostgresSchema(pgSchema);
});

describe.each(backends)('Counters on $name', (backend) => {
  describe.skipIf(backend.skip)('contract', () => {
    let clock: TestClock;
    let store: Store;
    let n = 0;
    const key = (name: string) => `${run}:${name}:${++n}`;

    beforeEach(async () => {
      clock = new TestClock();
      store = await backend.open(clock);
    });
    afterEach(async () => {
      await store.close();
    });

    // Atomicity: 50 concurrent increments each get a distinct count, 1..50, and none is lost.
    test('50 concurrent increments return exactly 1..50', async () => {
      const k = key('burst');
      const results = await Promise.all(Array.from({ length: 50 }, () => store.counters.increment(k, 60_000)));
      const counts = results.map((r) => r.count).sort((a, b) => a - b);
      expect(counts).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
      expect(await store.counters.peek(k)).toBe(50);
    });

    // Keys are independent: counting one leaves another at zero.
    test('each key has its own count', async () => {
      const a = key('a');
      const b = key('b');
      await store.counters.increment(a, 60_000);
      await store.counters.increment(a, 60_000);
      expect(await store.counters.peek(a)).toBe(2);
      expect(await store.counters.peek(b)).toBe(0);
      expect((await store.counters.increment(b, 60_000)).count).toBe(1);
    });

    // peek reads the count without changing it; an absent key reads 0.
    test('peek does not change the count', async () => {
      const k = key('peek');
      expect(await store.counters.peek(k)).toBe(0);
      for (let i = 0; i < 3; i++) await store.counters.increment(k, 60_000);
      expect(await store.counters.peek(k)).toBe(3);
      expect(await store.counters.peek(k)).toBe(3);
      expect((await store.counters.increment(k, 60_000)).count).toBe(4);
    });

    // reset clears the count: peek gives 0 and the next increment starts again at 1.
    test('reset clears the count', async () => {
      const k = key('reset');
      await store.counters.increment(k, 60_000);
      await store.counters.increment(k, 60_000);
      await store.counters.reset(k);
      expect(await store.counters.peek(k)).toBe(0);
      expect((await store.counters.increment(k, 60_000)).count).toBe(1);
    });

    // Once the window has passed the count is gone and the next increment restarts at 1.
    test('after the window passes the count restarts at 1', async () => {
      const k = key('window');
      const w = backend.shortWindowMs;
      expect((await store.counters.increment(k, w)).count).toBe(1);
      expect((await store.counters.increment(k, w)).count).toBe(2);
      await backend.passTime(clock, w);
      expect(await store.counters.peek(k)).toBe(0);
      expect((await store.counters.increment(k, w)).count).toBe(1);
    });

    // resetsAt = window start + windowMs; later increments in the same window keep it (no sliding).
    test('resetsAt is fixed by the first increment of the window', async () => {
      const k = key('resets');
      const w = 10_000;
      const start = clock.now();
      const first = await store.counters.increment(k, w);
      expect(first.resetsAt).toBeLessThanOrEqual(start + w);
      expect(first.resetsAt).toBeGreaterThanOrEqual(start + w - backend.resetsAtSlackMs);

      await backend.passTime(clock, 50);
      const second = await store.counters.increment(k, w);
      expect(second.count).toBe(2);
      expect(second.resetsAt).toBeLessThanOrEqual(start + w);
      expect(second.resetsAt).toBeGreaterThanOrEqual(start + w - backend.resetsAtSlackMs);
    });

    // A new window starts with the first increment after the old one ended, and gets its own resetsAt.
    test('a new window gets a new resetsAt', async () => {
      const k = key('next');
      const w = backend.shortWindowMs;
      await store.counters.increment(k, w);
      await backend.passTime(clock, w);
      const restart = clock.now();
      const next = await store.counters.increment(k, w);
      expect(next.count).toBe(1);
      expect(next.resetsAt).toBeLessThanOrEqual(restart + w);
      expect(next.resetsAt).toBeGreaterThanOrEqual(restart + w - backend.resetsAtSlackMs);
    });
  });
});

describe('Counters on SQLite: window edge (TestClock)', () => {
  // The window is [start, start + windowMs): 1 ms before its end the count holds, at its end it is gone.
  test('the count lasts exactly windowMs', async () => {
    const clock = new TestClock();
    const store = await backends[0]!.open(clock);
    try {
      const k = `${run}:edge`;
      const { resetsAt } = await store.counters.increment(k, 1_000);
      expect(resetsAt).toBe(clock.now() + 1_000);
      clock.advance(999);
      expect(await store.counters.peek(k)).toBe(1);
      expect((await store.counters.increment(k, 1_000)).count).toBe(2);
      clock.advance(1);
      expect(await store.counters.peek(k)).toBe(0);
      expect((await store.counters.increment(k, 1_000)).count).toBe(1);
    } finally {
      await store.close();
    }
  });
});
