import { performance } from 'node:perf_hooks';
import KeyvRedis from '@keyv/redis';
import Keyv from 'keyv';
import { pauseAfter } from '../core/pacing.js';
import type { Clock, Counters, CounterValue } from '../core/ports.js';
import { guardStore, OPEN_DEADLINE_MS, PING_DEADLINE_MS, UnsafeStoreError } from './errors.js';
import { type KeyIndex, KeyvStore, type ListKeys, upperBound } from './keyv-store.js';
import { evictionVerdict, readEvictionPolicy } from './redis-eviction.js';
import type { Store, StoreOptions } from './types.js';

/** The part of the node-redis client we use. */
interface RedisCommands {
  eval(script: string, options: { keys: string[]; arguments: string[] }): Promise<unknown>;
  get(key: string): Promise<string | null>;
  sendCommand(args: string[]): Promise<unknown>;
  del(key: string): Promise<number>;
  ping(): Promise<string>;
}

// Drops index entries whose key is gone (expired by its ttl, or deleted outside the store): one page
// of the index per call, so the work is bounded and the purge can yield between pages.
const PRUNE = `
local members = redis.call('ZRANGE', KEYS[1], ARGV[1], ARGV[2])
local gone = 0
for _, member in ipairs(members) do
  if redis.call('EXISTS', ARGV[3] .. member) == 0 then redis.call('ZREM', KEYS[1], member); gone = gone + 1 end
end
return {#members, gone}`;
const PRUNE_PAGE = 1000;

// INCR and the first PEXPIRE run as one script, so a count can never be left without its window.
const INCREMENT = `
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return {count, redis.call('PTTL', KEYS[1])}`;

/** Key prefixes listed by range (KeyValueStore.keys): the audit trail's events and counted rows, the published signing keys, the approval requests. */
const ORDERED_PREFIXES = ['audit:', 'audit-counted:', 'jwks:', 'approval:'];

/** Redis, for running more than one instance: native expiry, atomic counters by Lua script. */
export async function openRedisStore(url: string, clock: Clock, options: StoreOptions = {}): Promise<Store> {
  const adapter = new KeyvRedis(
    // Without the offline queue, a command during an outage fails at once (fail closed) instead of
    // waiting for the reconnect; reconnects back off up to 2 s.
    {
      url,
      disableOfflineQueue: true,
      socket: { reconnectStrategy: (retries: number) => Math.min(2 ** retries * 100, 2_000) },
    },
    { namespace: 'state', throwOnErrors: true, throwOnConnectError: true, connectionTimeout: 5000 },
  );
  const keyv = new Keyv({ store: adapter, useKeyPrefix: false, throwOnErrors: true }); // listens for the adapter's errors
  const client = (await guardStore('read', () => adapter.getClient(), OPEN_DEADLINE_MS)) as unknown as RedisCommands;
  // A server that may evict keys could drop a lock, a claim or an epoch: refused unless the operator opted in.
  const verdict = evictionVerdict(await readEvictionPolicy(client), options.allowEviction ?? false);
  if (!verdict.start) {
    await adapter.disconnect().catch(() => undefined);
    throw new UnsafeStoreError(verdict.problem);
  }
  if (verdict.warning) (options.warn ?? ((message) => process.emitWarning(message)))(verdict.warning);
  // Redis keeps no key order, and a SCAN of the whole keyspace grows with every user. So the keys that
  // are listed by range (the audit trail's, which sort by time) are also kept in one sorted set with
  // equal scores, which Redis orders byte by byte: a range is then one ZRANGE BYLEX. Entries whose key
  // expired by its ttl are dropped when the trim reaches them; readers skip keys that are gone.
  const indexKey = 'state:index:ordered';
  const indexed = (key: string) => ORDERED_PREFIXES.some((prefix) => key.startsWith(prefix));
  const index: KeyIndex = {
    async added(key) {
      if (indexed(key)) await client.sendCommand(['ZADD', indexKey, '0', key]);
    },
    async removed(keys) {
      const gone = keys.filter(indexed);
      if (gone.length > 0) await client.sendCommand(['ZREM', indexKey, ...gone]);
    },
  };
  const listKeys: ListKeys = async (range) => {
    const from = `[${range.prefix}`;
    const to = `(${upperBound(range)}`;
    const limit = ['LIMIT', String(range.skip ?? 0), String(range.limit)];
    const args = range.descending
      ? [indexKey, to, from, 'BYLEX', 'REV', ...limit]
      : [indexKey, from, to, 'BYLEX', ...limit];
    return (await client.sendCommand(['ZRANGE', ...args])) as string[];
  };
  return {
    kv: new KeyvStore(keyv, listKeys, {
      index,
      // keyv's deleteMany on Redis is a MULTI of one DEL per key: a command object and a promise per
      // key, alive until EXEC answers, which at 500 keys a batch made the purge's collections stall
      // the event loop (docs/performance.md). One UNLINK takes the batch, and Redis frees the values
      // off its main thread.
      async deleteMany(keys) {
        await client.sendCommand(['UNLINK', ...keys.map((key) => adapter.createKeyPrefix(key, adapter.namespace))]);
      },
    }),
    counters: new RedisCounters(client, clock, 'state:counters:'),
    async ping() {
      await guardStore('read', () => client.ping(), PING_DEADLINE_MS);
    },
    // Redis expires keys itself; what is left is the index entries of keys it expired.
    async purgeExpired() {
      // What keyv puts before each key in Redis (its namespace, which wins over the adapter's, and '::'),
      // by the adapter's own function, as deleteMany above names keys.
      const keyPrefix = adapter.createKeyPrefix('', adapter.namespace);
      let pruned = 0;
      for (let start = 0; ; ) {
        const startedAt = performance.now();
        const reply = await guardStore('write', () =>
          client.eval(PRUNE, {
            keys: [indexKey],
            arguments: [String(start), String(start + PRUNE_PAGE - 1), keyPrefix],
          }),
        );
        const [seen, gone] = (reply as [number, number]).map(Number) as [number, number];
        pruned += gone;
        if (seen < PRUNE_PAGE) return pruned;
        start += seen - gone;
        await pauseAfter(startedAt);
      }
    },
    async close() {
      await adapter.disconnect();
    },
  };
}

export class RedisCounters implements Counters {
  constructor(
    private readonly client: RedisCommands,
    private readonly clock: Clock,
    private readonly prefix: string,
  ) {}

  // The window is measured by the server (PEXPIRE, PTTL), whatever the replicas' clocks say; resetsAt
  // is this replica's now plus what is left, so the wait a user is told is right here.
  async increment(key: string, windowMs: number): Promise<CounterValue> {
    const reply = await guardStore('write', () =>
      this.client.eval(INCREMENT, { keys: [this.prefix + key], arguments: [String(windowMs)] }),
    );
    const [count, ttl] = reply as [number, number];
    return { count: Number(count), resetsAt: this.clock.now() + Math.max(Number(ttl), 0) };
  }

  async peek(key: string): Promise<number> {
    const value = await guardStore('read', () => this.client.get(this.prefix + key));
    return value === null ? 0 : Number(value);
  }

  async reset(key: string): Promise<void> {
    await guardStore('write', () => this.client.del(this.prefix + key));
  }
}
