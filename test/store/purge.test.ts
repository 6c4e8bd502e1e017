import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, afterEach, beforeEach, describe, expect, test } from 'vitest';
import { type AuditRecord, AuditTrail, TRIM_BATCH } from '../../src/core/audit.js';
import { openStore, type Store } from '../../src/store/index.js';
import { TestClock } from '../helpers/clock.js';
import { dropPostgresSchema, POSTGRES_URL, postgresUrl } from '../helpers/postgres.js';
import { deleteRedisKeys, REDIS_URL } from '../helpers/redis.js';
import { requireService } from '../helpers/services.js';

/**
 * The purge is proportional to what it deletes: the audit trail is found by key range (its keys sort
 * by time) and trimmed in batches, and SQLite finds expired rows by an index on keyv's expiry.
 */

const SKIP_REDIS = !(await requireService('redis', REDIS_URL));
const SKIP_POSTGRES = !(await requireService('postgres', POSTGRES_URL));
const pgSchema = `purge_${randomUUID().replaceAll('-', '')}`;
const dir = mkdtempSync(join(tmpdir(), 'phonegate-purge-'));
const HOUR = 3_600_000;

afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  if (!SKIP_POSTGRES) await dropPostgresSchema(pgSchema);
});

const event = (at: number, userId: string): AuditRecord => ({
  at,
  event: 'authn_login_success',
  userId,
  scope: 'login',
  outcome: 'success',
});

const backends = [
  { name: 'SQLite', skip: false, url: () => `sqlite://${join(dir, `${randomUUID()}.sqlite`)}` },
  { name: 'Redis', skip: SKIP_REDIS, url: () => REDIS_URL },
  { name: 'PostgreSQL', skip: SKIP_POSTGRES, url: () => postgresUrl(pgSchema) },
];

describe.each(backends)('the audit trail by key range on $name', (backend) => {
  describe.skipIf(backend.skip)('trim and recent', () => {
    let store: Store;
    beforeEach(async () => {
      store = await openStore(backend.url(), new TestClock());
      if (backend.name === 'Redis') await Promise.all([deleteRedisKeys('audit:'), deleteRedisKeys('state:index:')]);
      if (backend.name === 'PostgreSQL')
        await store.kv.deleteMany(await store.kv.keys({ prefix: 'audit:', limit: 1_000_000 }));
    });
    afterEach(async () => {
      if (backend.name === 'Redis') await Promise.all([deleteRedisKeys('audit:'), deleteRedisKeys('state:index:')]);
      await store.close();
    });

    // More than two batches beyond the bound: exactly the oldest go, the newest stay, in order.
    test('trim deletes exactly the oldest events beyond maxEvents, and recent lists the newest first', async () => {
      const keep = 300;
      const total = keep + 2 * TRIM_BATCH + 17;
      const trail = new AuditTrail(store, { maxAgeMs: HOUR, maxEvents: keep });
      const start = Date.now();
      // Times out of order on purpose: the order comes from the keys, not from the writes.
      const times = Array.from({ length: total }, (_, i) => start + ((i * 7919) % total));
      for (let i = 0; i < total; i += 100)
        await Promise.all(times.slice(i, i + 100).map((at) => trail.append(event(at, `U${at - start}`))));
      // Keys beside the trail's range stay untouched.
      await store.kv.set('audit;beside', 'kept');
      await store.kv.set('auditx', 'kept');

      expect(await trail.trim()).toBe(total - keep);

      const newest = Array.from({ length: keep }, (_, i) => `U${total - 1 - i}`);
      expect((await trail.recent(keep + 50)).map((r) => r.userId)).toEqual(newest);
      expect((await trail.recent(3)).map((r) => r.userId)).toEqual(newest.slice(0, 3));
      expect(await store.kv.keys({ prefix: 'audit:', limit: 10_000 })).toHaveLength(keep);
      expect(await store.kv.get('audit;beside')).toBe('kept');
      expect(await store.kv.get('auditx')).toBe('kept');
      expect(await trail.trim()).toBe(0);
    });
  });
});

/** Runs statements on the database file through a separate connection (not the store's). */
async function withRawDb<T>(file: string, use: (db: Database.Database) => Promise<T>): Promise<T> {
  const db = new Database(file);
  try {
    return await use(db);
  } finally {
    db.close();
  }
}
const run = async (db: Database.Database, sql: string, params: unknown[] = []) => {
  db.prepare(sql).run(params);
};
const all = async <T>(db: Database.Database, sql: string, params: unknown[] = []) => db.prepare(sql).all(params) as T[];

describe('the SQLite purge at 20,000 rows', () => {
  let file: string;
  let clock: TestClock;
  let store: Store;
  beforeEach(async () => {
    file = join(dir, `${randomUUID()}.sqlite`);
    clock = new TestClock();
    store = await openStore(`sqlite://${file}`, clock);
  });
  afterEach(async () => {
    await store.close();
  });

  // keyv keeps the expiry inside the JSON value: the purge finds expired rows by an index on it.
  test('expired rows are found by index, not by reading every row', async () => {
    const plan = await withRawDb(file, (db) =>
      all<{ detail: string }>(
        db,
        `EXPLAIN QUERY PLAN SELECT key FROM keyv WHERE json_extract(value, '$.expires') < 1 LIMIT 1000`,
      ),
    );
    expect(plan.map((p) => p.detail).join('\n')).toMatch(/USING (COVERING )?INDEX keyv_expires/);
  });

  test('purgeExpired and trim delete exactly the expired rows and the oldest audit events', async () => {
    const now = clock.now();
    const users = 6_000;
    const auditEvents = 5_600;
    const keep = 5_000;
    // Rows as keyv writes them ({"value":…,"expires":…} under its 'state:' namespace), in one transaction.
    await withRawDb(file, async (db) => {
      await run(db, 'BEGIN');
      for (let i = 0; i < users; i++) {
        const expires = i % 2 === 0 ? now - HOUR : now + HOUR; // every second user's state has run out
        await run(db, 'INSERT INTO keyv (key, value) VALUES (?, ?), (?, ?)', [
          `state:scope:U${i}:login`,
          JSON.stringify({ value: { grantedAt: now - HOUR, expiresAt: expires, epoch: '0' }, expires }),
          `state:delivery:U${i}`,
          JSON.stringify({ value: 'sms' }), // kept until deleted: never purged
        ]);
        await run(db, 'INSERT INTO keyv (key, value) VALUES (?, ?)', [
          `state:request:U${i}`,
          JSON.stringify({ value: { n: i }, expires: expires + 1 }),
        ]);
      }
      for (let i = 0; i < auditEvents; i++) {
        const at = now - auditEvents + i;
        await run(db, 'INSERT INTO keyv (key, value) VALUES (?, ?)', [
          `state:audit:${String(at).padStart(15, '0')}:${randomUUID()}`,
          JSON.stringify({ value: event(at, `A${i}`), expires: now + HOUR }),
        ]);
      }
      await run(db, 'COMMIT');
    });
    const expired = users; // half of the scope rows and half of the request rows
    const rows = () => withRawDb(file, (db) => all<{ n: number }>(db, 'SELECT count(*) AS n FROM keyv'));
    expect((await rows())[0]!.n).toBe(3 * users + auditEvents);

    expect(await store.purgeExpired()).toBe(expired);
    const trail = new AuditTrail(store, { maxAgeMs: HOUR, maxEvents: keep });
    expect(await trail.trim()).toBe(auditEvents - keep);

    expect((await rows())[0]!.n).toBe(3 * users + auditEvents - expired - (auditEvents - keep));
    const left = await withRawDb(file, (db) =>
      all<{ key: string }>(db, `SELECT key FROM keyv WHERE key LIKE 'state:scope:%' ORDER BY key`),
    );
    expect(left.every(({ key }) => Number(/U(\d+)/.exec(key)![1]) % 2 === 1)).toBe(true);
    expect(left).toHaveLength(users / 2);
    expect(await store.kv.get('delivery:U0')).toBe('sms');
    expect(await store.kv.get('request:U1')).toEqual({ n: 1 });
    expect(await store.kv.get('request:U0')).toBeUndefined();
    const recent = await trail.recent(keep + 1);
    expect(recent).toHaveLength(keep);
    expect(recent[0]!.userId).toBe(`A${auditEvents - 1}`);
    expect(recent.at(-1)!.userId).toBe(`A${auditEvents - keep}`);
    expect(await store.purgeExpired()).toBe(0);
  });
});
