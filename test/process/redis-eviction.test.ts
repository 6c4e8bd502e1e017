import { spawnSync } from 'node:child_process';
import { afterAll, afterEach, beforeAll, expect, test } from 'vitest';
import { testEnv } from '../helpers/harness.js';
import {
  AppProcess,
  buildOnce,
  Cluster,
  cleanEnv,
  OwnRedis,
  removeReplicaTempFiles,
  StandIns,
} from '../helpers/replicas.js';

/**
 * Issue 18 §8, as an operator meets it: `npm start` on a Redis whose maxmemory-policy lets it evict
 * keys stops with one plain line naming the policy and the fix; with [store] allow_eviction = yes it
 * starts, and warns. (The decision itself: test/store/redis-eviction.test.ts.)
 */

const HAVE_REDIS_SERVER = spawnSync('redis-server', ['--version']).status === 0;
const TEST_TIMEOUT_MS = 60_000;

let redis: OwnRedis | undefined;
let standIns: StandIns | undefined;
let cluster: Cluster | undefined;
const apps: AppProcess[] = [];

beforeAll(() => {
  if (HAVE_REDIS_SERVER) buildOnce();
}, 150_000);
afterEach(async () => {
  await cluster?.stop();
  cluster = undefined;
  for (const app of apps.splice(0)) await app.kill();
  await standIns?.close();
  standIns = undefined;
  await redis?.stop();
  redis = undefined;
});
afterAll(() => removeReplicaTempFiles());

test.skipIf(!HAVE_REDIS_SERVER)(
  'allkeys-lru: npm start exits 1 with one line naming the policy and the fix; allow_eviction = yes starts with a warning',
  async () => {
    redis = await OwnRedis.start(['--maxmemory-policy', 'allkeys-lru']);
    standIns = await StandIns.start();
    const app = new AppProcess({
      ...cleanEnv(),
      ...testEnv('basic'),
      SLACK_API_URL: `${standIns.slackOrigin}/api/`,
      STORE_URL: redis.url,
      CONFIG_FILE: '/dev/null',
      SLACK_PORT: '0',
    });
    apps.push(app);
    expect((await app.exited).code).toBe(1);
    expect(app.lines().filter((l) => l.level === 'fatal')).toEqual([
      expect.objectContaining({
        store: 'redis',
        msg: 'cannot open the store: Redis may evict keys (maxmemory-policy allkeys-lru), which could drop a lock, a replay claim or a session ending: set maxmemory-policy noeviction on the server (or, knowing this, [store] allow_eviction = yes)',
      }),
    ]);

    cluster = await Cluster.start(redis.url, standIns, { STORE_ALLOW_EVICTION: 'yes' }, 1);
    expect(
      cluster.a.app!.lines().filter((l) => l.level === 'warn' && String(l.msg).startsWith('Redis may evict keys')),
    ).toHaveLength(1);
  },
  TEST_TIMEOUT_MS,
);
