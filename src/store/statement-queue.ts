import { performance } from 'node:perf_hooks';
import { StoreError } from '../core/ports.js';

/**
 * Runs one SQLite statement at a time on the connection, in the order they were queued.
 *
 * Why: a statement that meets another process's write lock waits on timers for its turn to try again
 * (see SqliteConnection); meanwhile it keeps its place, so statements queued after it, a read after a
 * write, still run after it and see what it wrote.
 *
 * A statement that cannot start within `startWithinMs` of being queued is dropped unrun: its caller's
 * deadline has passed or is about to, and a write must not land after its caller was told it failed.
 */
export class StatementQueue {
  private tail: Promise<unknown> = Promise.resolve();
  private queued = 0;

  /** `now`: a monotonic clock in ms (the app's Clock may be moved by tests and by NTP). */
  constructor(private readonly now: () => number = () => performance.now()) {}

  /** How many statements were queued so far: one that is still the last queued has this number. */
  get count(): number {
    return this.queued;
  }

  run<T>(statement: () => Promise<T>, startWithinMs: number): Promise<T> {
    const startBy = this.now() + startWithinMs;
    this.queued++;
    const result = this.tail.then(() => {
      if (this.now() > startBy)
        throw new StoreError(`store busy: a statement could not start within ${startWithinMs} ms`);
      return statement();
    });
    this.tail = result.catch(() => undefined);
    return result;
  }
}
