import KeyvRedis from '@keyv/redis';
import Keyv from 'keyv';
import type { Clock, Counters, CounterValue } from '../core/ports.js';
import { guardStore, OPEN_DEADLINE_MS, PING_DEADLINE_MS } from './errors.js';
import { KeyvStore, type ListKeys, upperBound } from './keyv-store.js';
import type { Store } from './types.js';

/** The part of the node-redis client we use. */
interface RedisCommands {
  eval(script: string, options: { keys: string[]; arguments: string[] }): Promise<unknown>;
  get(key: string): Promise<string | null>;
  scanIterator(options: { MATCH: string; COUNT: number }): AsyncIterable<string[]>;
  del(key: string): Promise<number>;
  ping(): Promise<string>;
}

// INCR and the first PEXPIRE run as one script, so a count can never be left without its window.
const INCREMENT = `
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return {count, redis.call('PTTL', KEYS[1])}`;

/** Redis, for running more than one instance: native expiry, atomic counters by Lua script. */
export async function openRedisStore(url: string, clock: Clock): Promise<Store> {
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
  // What keyv puts before each key (its namespace, which wins over the adapter's, and '::').
  const keyPrefix = adapter.namespace ? `${adapter.namespace}${adapter.keyPrefixSeparator}` : '';
  // Redis keeps no key order: SCAN MATCH walks the keyspace in pages (each its own round trip, so the
  // event loop never waits on the whole walk), then the matches are ordered here. The audit trail is
  // the only user, and holds a few thousand keys. Expiry needs no purge: Redis expires keys itself.
  const listKeys: ListKeys = async (range) => {
    const from = keyPrefix + range.prefix;
    const to = keyPrefix + upperBound(range);
    const found: string[] = [];
    for await (const page of client.scanIterator({ MATCH: `${from.replace(/[*?[\]\\]/g, '\\$&')}*`, COUNT: 5000 })) {
      for (const key of page) if (key < to) found.push(key.slice(keyPrefix.length));
    }
    found.sort();
    if (range.descending) found.reverse();
    const skip = range.skip ?? 0;
    return found.slice(skip, skip + range.limit);
  };
  return {
    kv: new KeyvStore(keyv, listKeys),
    counters: new RedisCounters(client, clock, 'state:counters:'),
    async ping() {
      await guardStore('read', () => client.ping(), PING_DEADLINE_MS);
    },
    async purgeExpired() {
      return 0; // Redis expires keys itself.
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
