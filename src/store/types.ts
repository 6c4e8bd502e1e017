import type { Counters, KeyValueStore, OrderedKeys } from '../core/ports.js';

/** Everything the app keeps, on one backend. */
export interface Store {
  kv: KeyValueStore & OrderedKeys;
  counters: Counters;
  /** Resolves when the backend answers; used by /healthz. */
  ping(): Promise<void>;
  /** Deletes rows whose time is up, for backends that never expire them themselves. Returns how many. */
  purgeExpired(): Promise<number>;
  close(): Promise<void>;
}
