import type Keyv from 'keyv';
import { StoreError, type KeyValueStore } from '../core/ports.js';
import { guardStore as guard, toStoreError } from './errors.js';

/**
 * The core's KeyValueStore over keyv. keyv must be built with `throwOnErrors: true`: by default it
 * turns a failed read into `undefined`, which would read as "no lockout, no failures" (fail open).
 * Every failure surfaces here as a StoreError.
 */
export class KeyvStore implements KeyValueStore {
  constructor(private readonly keyv: Keyv) {}

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
  }

  async delete(key: string): Promise<void> {
    await guard('write', () => this.keyv.delete(key));
  }

  async *entries<T>(prefix: string): AsyncIterable<[string, T]> {
    if (!this.keyv.iterator) throw new StoreError('this store cannot list its keys');
    try {
      for await (const [key, value] of this.keyv.iterator(undefined)) {
        if (typeof key === 'string' && key.startsWith(prefix)) yield [key, value as T];
      }
    } catch (error) {
      throw toStoreError('read', error);
    }
  }
}
