import type { Clock } from '../core/ports.js';
import { openRedisStore } from './redis.js';
import { openSqliteStore } from './sqlite.js';
import type { Store } from './types.js';

export type { Store } from './types.js';

/** Opens the backend named by `[store] url`: sqlite://path (default) or redis://host:port. */
export function openStore(url: string, clock: Clock): Promise<Store> {
  if (url.startsWith('sqlite://')) return openSqliteStore(url, clock);
  if (url.startsWith('redis://') || url.startsWith('rediss://')) return openRedisStore(url, clock);
  throw new Error(`[store] url must start with sqlite:// or redis://`);
}
