import type { Counters, KeyValueStore, OrderedKeys } from '../core/ports.js';

/** Everything the app keeps, on one backend. */
export interface Store {
  kv: KeyValueStore & OrderedKeys;
  counters: Counters;
  /** Resolves when the backend answers; used by /healthz. */
  ping(): Promise<void>;
  /** Deletes rows whose time is up, for backends that never expire them themselves. Returns how many. */
  purgeExpired(): Promise<number>;
  /**
   * SQLite: the longest statement since the last call, in ms, 0 if none; reset by the call. Statements
   * run on the main thread, so this is how long one held the event loop. Absent on other backends.
   */
  takeLongestStatementMs?(): number;
  close(): Promise<void>;
}

/** How a store is opened, beyond its URL. */
export interface StoreOptions {
  /** Redis: start even when the server may evict keys ([store] allow_eviction). */
  allowEviction?: boolean | undefined;
  /** Where a store says what deserves an operator's look (main.ts: the log); default: a process warning. */
  warn?: ((message: string) => void) | undefined;
  /**
   * SQLite: true while requests come together (RequestLoad). A read then lets the event loop's turn
   * end before it runs, so that the reads of the other requests of that turn join it (one statement).
   */
  busy?: (() => boolean) | undefined;
}
