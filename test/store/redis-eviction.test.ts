import { spawnSync } from 'node:child_process';
import { afterEach, describe, expect, test } from 'vitest';
import { UnsafeStoreError } from '../../src/store/errors.js';
import { openStore } from '../../src/store/index.js';
import { evictionVerdict } from '../../src/store/redis-eviction.js';
import { TestClock } from '../helpers/clock.js';
import { REDIS_URL } from '../helpers/redis.js';
import { OwnRedis } from '../helpers/replicas.js';
import { requireService } from '../helpers/services.js';

/**
 * Issue 18 §8: Redis with an eviction policy other than noeviction can drop security keys (a lock, a
 * replay claim, an epoch). The store checks the policy when it opens: it refuses, or with
 * [store] allow_eviction = yes starts with a warning; where the policy cannot be read, it warns.
 */

const SKIP_REDIS = !(await requireService('redis', REDIS_URL));
/** Servers of our own, so the shared one's settings are never changed under other tests. */
const HAVE_REDIS_SERVER = spawnSync('redis-server', ['--version']).status === 0;

describe('evictionVerdict', () => {
  // Rule: noeviction starts quietly.
  test('noeviction: start', () => {
    expect(evictionVerdict('noeviction', false)).toEqual({ start: true });
    expect(evictionVerdict('noeviction', true)).toEqual({ start: true });
  });

  // Rule: any other policy refuses to start, with one line naming the policy and the fix.
  test.each([
    'allkeys-lru',
    'volatile-lru',
    'allkeys-lfu',
    'volatile-lfu',
    'allkeys-random',
    'volatile-random',
    'volatile-ttl',
  ])('%s: refuse, naming it and the fix', (policy) => {
    const verdict = evictionVerdict(policy, false);
    expect(verdict).toEqual({ start: false, problem: expect.stringContaining(`(maxmemory-policy ${policy})`) });
    const { problem } = verdict as { problem: string };
    expect(problem).toContain('set maxmemory-policy noeviction on the server');
    expect(problem).toContain('[store] allow_eviction = yes');
    expect(problem).not.toContain('\n');
  });

  // Rule: the operator's opt-in starts, with a warning that says what is at stake.
  test('allow_eviction = yes: start with a warning', () => {
    expect(evictionVerdict('allkeys-lru', true)).toEqual({
      start: true,
      warning: expect.stringMatching(
        /^Redis may evict keys \(maxmemory-policy allkeys-lru\) and \[store\] allow_eviction/,
      ),
    });
  });

  // Rule: a policy that cannot be read is no reason to refuse, but is said.
  test('unknown: start with a warning that it could not be checked', () => {
    for (const allow of [false, true])
      expect(evictionVerdict(undefined, allow)).toEqual({
        start: true,
        warning: expect.stringContaining("could not read Redis' eviction policy"),
      });
  });
});

describe('opening the Redis store', () => {
  const servers: OwnRedis[] = [];
  afterEach(async () => {
    for (const server of servers.splice(0)) await server.stop();
  });
  const ownRedis = async (settings: string[]) => {
    const server = await OwnRedis.start(settings);
    servers.push(server);
    return server;
  };
  /** Opens the store; returns how that went and what it warned. */
  async function open(url: string, allowEviction?: boolean) {
    const warnings: string[] = [];
    try {
      const store = await openStore(url, new TestClock(), { allowEviction, warn: (m) => warnings.push(m) });
      await store.close();
      return { opened: true, warnings };
    } catch (error) {
      return { opened: false, warnings, error };
    }
  }

  // The shared local Redis has noeviction: it opens, with nothing to say.
  test.skipIf(SKIP_REDIS)('the local Redis (noeviction) opens without a warning', async () => {
    expect(await open(REDIS_URL)).toEqual({ opened: true, warnings: [] });
  });

  test.skipIf(!HAVE_REDIS_SERVER)(
    'allkeys-lru refuses with one line naming it; allow_eviction = yes opens with a warning',
    async () => {
      const server = await ownRedis(['--maxmemory-policy', 'allkeys-lru']);
      const refused = await open(server.url);
      expect(refused.opened).toBe(false);
      expect(refused.error).toBeInstanceOf(UnsafeStoreError);
      expect((refused.error as Error).message).toBe(
        'Redis may evict keys (maxmemory-policy allkeys-lru), which could drop a lock, a replay claim or a session ending: set maxmemory-policy noeviction on the server (or, knowing this, [store] allow_eviction = yes)',
      );
      const allowed = await open(server.url, true);
      expect(allowed).toEqual({ opened: true, warnings: [expect.stringContaining('(maxmemory-policy allkeys-lru)')] });
    },
  );

  // Where CONFIG is disabled (some managed services), INFO memory tells the policy.
  test.skipIf(!HAVE_REDIS_SERVER)('with CONFIG disabled, the policy is read from INFO', async () => {
    const server = await ownRedis(['--maxmemory-policy', 'volatile-ttl', '--rename-command', 'CONFIG', '']);
    const refused = await open(server.url);
    expect(refused.error).toBeInstanceOf(UnsafeStoreError);
    expect((refused.error as Error).message).toContain('(maxmemory-policy volatile-ttl)');
  });

  // Where neither answers, the store opens and says it could not check.
  test.skipIf(!HAVE_REDIS_SERVER)(
    'with CONFIG and INFO disabled, it opens and warns that it could not check',
    async () => {
      const server = await ownRedis([
        '--maxmemory-policy',
        'allkeys-lru',
        '--rename-command',
        'CONFIG',
        '',
        '--rename-command',
        'INFO',
        '',
      ]);
      expect(await open(server.url)).toEqual({
        opened: true,
        warnings: [expect.stringContaining("could not read Redis' eviction policy")],
      });
    },
  );
});
