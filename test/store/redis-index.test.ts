import { createClient } from '@redis/client';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { AuditTrail } from '../../src/core/audit.js';
import { openStore, type Store } from '../../src/store/index.js';
import { TestClock } from '../helpers/clock.js';
import { REDIS_URL } from '../helpers/redis.js';
import { requireService } from '../helpers/services.js';

/**
 * Redis keeps no key order, so the audit trail's keys are also kept in a sorted set (src/store/redis.ts).
 * A key that Redis expires (or that is deleted outside the store) leaves its entry behind: the purge
 * drops such entries, so the trim and /admin audit count only events that exist.
 */
const HAVE_REDIS = await requireService('redis', REDIS_URL);
/** Its own database: the purge tests clear audit keys in REDIS_URL's database while this file runs. */
const URL = Object.assign(new globalThis.URL(REDIS_URL), { pathname: '/6' }).toString();
const INDEX = 'state:index:ordered';

let store: Store;
const clean = async () => {
  const client = createClient({ url: URL });
  await client.connect();
  await client.flushDb();
  client.destroy();
};
beforeEach(async () => {
  if (!HAVE_REDIS) return;
  await clean();
  store = await openStore(URL, new TestClock());
});
afterEach(async () => {
  if (!HAVE_REDIS) return;
  await store.close();
  await clean();
});

describe.skipIf(!HAVE_REDIS)('the Redis index of ordered keys', () => {
  test('entries of keys that are gone are pruned by the purge, and the trim then keeps maxEvents real events', async () => {
    const trail = new AuditTrail(store, { maxAgeMs: 60 * 60_000, maxEvents: 5 });
    for (let i = 0; i < 8; i++)
      await trail.append({ at: 1_000 + i, event: 'authn_logout', userId: `U${i}`, outcome: 'success' });
    // Three of the newest disappear behind the store's back, as keys Redis expires do.
    const client = createClient({ url: URL });
    await client.connect();
    const newest = (await client.sendCommand(['ZRANGE', INDEX, '0', '-1'])) as string[];
    expect(newest).toHaveLength(8);
    const gone = newest.slice(-3);
    const stored = [];
    for await (const batch of client.scanIterator({ MATCH: '*audit:*', COUNT: 100 })) stored.push(...batch);
    for (const member of gone) await client.del(stored.filter((k) => k.endsWith(member)));
    client.destroy();

    expect(await store.purgeExpired()).toBe(3);
    expect(await trail.trim()).toBe(0); // 5 real events left: nothing to trim
    expect((await trail.recent(10)).map((e) => e.userId)).toEqual(['U4', 'U3', 'U2', 'U1', 'U0']);
  });
});
