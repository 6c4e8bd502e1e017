import type Keyv from 'keyv';
import { type KeyRange, type KeyValueStore, type OrderedKeys, StoreError } from '../core/ports.js';
import { skipUnneededReviver } from './deserialize.js';
import { guardStore as guard } from './errors.js';

/** The backend's own key listing by range (keyv has none): keys as the app names them, without keyv's prefix. */
export type ListKeys = (range: KeyRange) => Promise<string[]>;

/** A backend with no key order of its own (Redis) keeps an index of the keys it must list by range. */
export interface KeyIndex {
  added(key: string): Promise<void>;
  removed(keys: string[]): Promise<void>;
}

/** The end of the range of keys that start with `prefix`: the prefix with its last character moved up by one. */
export function prefixEnd(prefix: string): string {
  return prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1);
}

/** The exclusive upper bound of a range: `before`, if it is inside the prefix's range. */
export function upperBound({ prefix, before }: KeyRange): string {
  const end = prefixEnd(prefix);
  return before !== undefined && before < end ? before : end;
}

/** What a backend adds to keyv: an index of the keys it must list by range, a cheaper bulk delete. */
export interface BackendExtras {
  index?: KeyIndex | undefined;
  /** Deletes the keys (as the app names them) in place of keyv's deleteMany. */
  deleteMany?: ((keys: string[]) => Promise<void>) | undefined;
}

/**
 * The core's KeyValueStore over keyv. keyv must be built with `throwOnErrors: true`: by default it
 * turns a failed read into `undefined`, which would read as "no lockout, no failures" (fail open).
 * Every failure surfaces here as a StoreError.
 */
export class KeyvStore implements KeyValueStore, OrderedKeys {
  constructor(
    private readonly keyv: Keyv,
    private readonly listKeys: ListKeys,
    private readonly extras: BackendExtras = {},
  ) {
    // Every read parses stored JSON: without keyv's reviver where it has nothing to do (deserialize.ts).
    if (keyv.deserialize) keyv.deserialize = skipUnneededReviver(keyv.deserialize);
  }

  get<T>(key: string): Promise<T | undefined> {
    return guard('read', () => this.keyv.get<T>(key));
  }

  getMany<T>(keys: string[]): Promise<Array<T | undefined>> {
    return guard('read', () => this.keyv.getMany<T>(keys));
  }

  async set(key: string, value: unknown, ttlMs?: number): Promise<void> {
    if (ttlMs !== undefined && !(ttlMs > 0)) throw new RangeError(`ttl for ${key} must be positive, got ${ttlMs}`);
    const written = await guard('write', () => this.keyv.set(key, value, ttlMs));
    if (!written) throw new StoreError(`store write failed`);
    const { index } = this.extras;
    if (index) await guard('write', () => index.added(key));
  }

  async delete(key: string): Promise<void> {
    await guard('write', () => this.keyv.delete(key));
    const { index } = this.extras;
    if (index) await guard('write', () => index.removed([key]));
  }

  keys(range: KeyRange): Promise<string[]> {
    if (!(range.limit > 0) || range.prefix === '')
      throw new RangeError('keys: a prefix and a positive limit are required');
    return guard('read', () => this.listKeys(range));
  }

  async deleteMany(keys: string[]): Promise<void> {
    if (keys.length === 0) return;
    const { index, deleteMany } = this.extras;
    if (deleteMany) await guard('write', () => deleteMany(keys));
    else await guard('write', () => this.keyv.deleteMany(keys));
    if (index) await guard('write', () => index.removed(keys));
  }

  async *entries<T>(prefix: string): AsyncIterable<[string, T]> {
    if (!this.keyv.iterator) throw new StoreError('this store cannot list its keys');
    const rows = this.keyv.iterator(undefined);
    let failed = false;
    try {
      for (;;) {
        // Each step is a call with its own deadline (a page of rows, or one SCAN).
        const step = await guard('read', () => rows.next()).catch((error: unknown) => {
          failed = true;
          throw error;
        });
        if (step.done) return;
        const [key, value] = step.value;
        if (typeof key === 'string' && key.startsWith(prefix)) yield [key, value as T];
      }
    } finally {
      // After a timeout the step is still pending, and return() would wait for it.
      if (!failed) await rows.return(undefined).catch(() => undefined);
    }
  }
}
