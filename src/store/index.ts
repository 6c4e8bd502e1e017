import type { Clock } from '../core/ports.js';
import { openSqliteStore } from './sqlite.js';
import type { Store, StoreOptions } from './types.js';

export { sqliteFileWarnings } from './sqlite.js';
export type { Store, StoreOptions } from './types.js';

/** Opens the backend named by `[store] url`: sqlite://path (default), redis://host:port or postgres://user@host:port/db. */
export async function openStore(url: string, clock: Clock, options: StoreOptions = {}): Promise<Store> {
  if (url.startsWith('sqlite://')) return openSqliteStore(url, clock, options);
  if (url.startsWith('redis://') || url.startsWith('rediss://')) {
    // Loaded only when used: the Redis client is a quarter of a second of start-up for SQLite users.
    const { openRedisStore } = await import('./redis.js');
    return openRedisStore(url, clock, options);
  }
  if (url.startsWith('postgres://') || url.startsWith('postgresql://')) {
    const { openPostgresStore } = await import('./postgres.js'); // loaded only when used, as Redis
    return openPostgresStore(url, clock);
  }
  throw new Error(`[store] url must start with sqlite://, redis:// or postgres://`);
}
