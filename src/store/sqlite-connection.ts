import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import Database from 'better-sqlite3';

export type Row = Record<string, unknown>;

/** SQL texts kept prepared at most; the app uses about twenty (keyv's and ours), all fixed strings. */
const MAX_PREPARED = 64;

/** The waits between tries of a statement that met another connection's lock (ms; the last repeats), as SQLite's own busy handler sleeps. */
const BUSY_WAITS_MS = [1, 2, 5, 10, 15, 20, 25, 25, 25, 50, 50, 100];

/**
 * One SQLite connection (better-sqlite3) that keeps each statement prepared after its first use and
 * runs it on the main thread.
 *
 * Why on the main thread: the app's statements are point reads and small writes of a few
 * microseconds. Handed to libuv's thread pool and back (node-sqlite3's way), each cost about 70 µs
 * of CPU in thread hand-offs, more than SQLite's own work; a gated command alone paid that on every
 * read. The one thing that could hold the thread is another process's write lock: SQLite does not
 * wait for it here (busy timeout 0); a statement that meets it is tried again after a timer, as
 * SQLite's busy handler would sleep, until `busyTimeoutMs` has passed, so the event loop never waits
 * on a lock. Each run steps to the end, so a read leaves no transaction open (WAL checkpoints are not
 * held back). Statements are not run concurrently here: the caller queues them (see StatementQueue),
 * so one that waits for a lock keeps its turn.
 *
 * Since a statement holds the event loop while it runs, the connection keeps the longest run (see
 * takeLongestMs), which the purge reports: how long SQLite held the event loop at most.
 */
export class SqliteConnection {
  private readonly prepared = new Map<string, Database.Statement>();
  private longestMs = 0;

  private constructor(
    private readonly db: Database.Database,
    private readonly busyTimeoutMs: number,
    private readonly now: () => number,
  ) {}

  /** `now`: the clock runs are timed by (milliseconds; tests only). */
  static async open(
    file: string,
    busyTimeoutMs: number,
    now: () => number = () => performance.now(),
  ): Promise<SqliteConnection> {
    return new SqliteConnection(new Database(file, { timeout: 0 }), busyTimeoutMs, now);
  }

  /** The longest single run of a statement (each try counted alone) since the last call, in ms; 0 if none. */
  takeLongestMs(): number {
    const longest = this.longestMs;
    this.longestMs = 0;
    return longest;
  }

  /** Runs `sql` and returns its rows (none for a statement that returns no data). Parameters spread, or as one array. */
  query(sql: string, ...params: unknown[]): Promise<Row[]> {
    return this.whenFree(() => {
      const statement = this.statement(sql);
      if (statement.reader) return statement.all(values(params)) as Row[];
      statement.run(values(params));
      return [];
    });
  }

  /** Runs a statement that returns no rows (a write) and returns how many rows it changed. */
  run(sql: string, ...params: unknown[]): Promise<number> {
    return this.whenFree(() => this.statement(sql).run(values(params)).changes);
  }

  async close(): Promise<void> {
    this.prepared.clear();
    this.db.close();
  }

  /** `step` now, or, while another connection holds a lock it needs, again after each of the busy waits. */
  private async whenFree<T>(step: () => T): Promise<T> {
    for (let tries = 0, waited = 0; ; tries++) {
      const startedAt = this.now();
      try {
        return step();
      } catch (error) {
        if (!isBusy(error) || waited >= this.busyTimeoutMs) throw error;
      } finally {
        this.longestMs = Math.max(this.longestMs, this.now() - startedAt);
      }
      const wait = Math.min(BUSY_WAITS_MS[Math.min(tries, BUSY_WAITS_MS.length - 1)]!, this.busyTimeoutMs - waited);
      await sleep(wait);
      waited += wait;
    }
  }

  /** The kept statement for `sql` (prepared on first use); past the cap, a new one each time. */
  private statement(sql: string): Database.Statement {
    let statement = this.prepared.get(sql);
    if (statement === undefined) {
      statement = this.db.prepare(sql);
      if (this.prepared.size < MAX_PREPARED) this.prepared.set(sql, statement);
    }
    return statement;
  }
}

/** SQLITE_BUSY and its extended codes: another connection holds a lock this statement needs. */
const isBusy = (error: unknown) => String((error as { code?: unknown } | undefined)?.code).startsWith('SQLITE_BUSY');

/** Parameters spread, or given as one array. */
const values = (params: unknown[]) =>
  params.length === 1 && Array.isArray(params[0]) ? (params[0] as unknown[]) : params;
