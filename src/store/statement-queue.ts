import { performance } from 'node:perf_hooks';
import { StoreError } from '../core/ports.js';

/**
 * Runs one SQLite statement at a time on the connection.
 *
 * Why: node-sqlite3 runs each statement on libuv's thread pool (4 threads by default). A statement
 * waiting for another process's write lock sleeps in SQLite's busy handler while holding the
 * connection's mutex, so every other statement of ours parks a pool thread on that mutex, and the
 * main thread blocks on it as well when node-sqlite3 finalizes a finished statement there: the whole
 * event loop stops, and even a 404 waits. Queued here, a waiting statement holds one pool thread and
 * the event loop never waits. (SQLite serializes statements on one connection anyway, so nothing is lost.)
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

  /** `onTurn` is called when the statement's turn comes, whether it then runs or is dropped. */
  run<T>(statement: () => Promise<T>, startWithinMs: number, onTurn?: () => void): Promise<T> {
    const startBy = this.now() + startWithinMs;
    this.queued++;
    const result = this.tail.then(() => {
      onTurn?.();
      if (this.now() > startBy)
        throw new StoreError(`store busy: a statement could not start within ${startWithinMs} ms`);
      return statement();
    });
    this.tail = result.catch(() => undefined);
    return result;
  }
}
