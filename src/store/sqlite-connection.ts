import sqlite3 from 'sqlite3';

export type Row = Record<string, unknown>;

/** SQL texts kept prepared at most; the app uses about twenty (keyv's and ours), all fixed strings. */
const MAX_PREPARED = 64;

/**
 * One SQLite connection that keeps each statement prepared after its first use.
 *
 * Why: `Database#all` prepares, runs and finalizes a new statement per call, three trips to libuv's
 * thread pool (and keyv's SQLite adapter calls it for every get). A kept statement is bound and run in
 * one trip, which roughly halves the CPU of a point read. Each run steps to the end, so a read
 * leaves no transaction open (WAL checkpoints are not held back); the next run resets it.
 * Statements are not run concurrently here: the caller queues them (see StatementQueue).
 */
export class SqliteConnection {
  private readonly prepared = new Map<string, sqlite3.Statement>();

  private constructor(private readonly db: sqlite3.Database) {}

  static open(file: string, busyTimeoutMs: number): Promise<SqliteConnection> {
    return new Promise((resolve, reject) => {
      const db = new sqlite3.Database(file, (error) => {
        if (error) return reject(error);
        db.configure('busyTimeout', busyTimeoutMs);
        resolve(new SqliteConnection(db));
      });
    });
  }

  /** Runs `sql` and returns its rows. Parameters as node-sqlite3 takes them (one array also works). */
  query(sql: string, ...params: unknown[]): Promise<Row[]> {
    return this.withStatement(
      sql,
      (statement) =>
        new Promise<Row[]>((resolve, reject) =>
          statement.all(values(params), (error: Error | null, rows: Row[]) => (error ? reject(error) : resolve(rows))),
        ),
    );
  }

  /** Runs a statement that returns no rows (a write) and returns how many rows it changed. */
  run(sql: string, ...params: unknown[]): Promise<number> {
    return this.withStatement(
      sql,
      (statement) =>
        new Promise<number>((resolve, reject) =>
          statement.run(values(params), function (this: sqlite3.RunResult, error: Error | null) {
            if (error) reject(error);
            else resolve(this.changes);
          }),
        ),
    );
  }

  /** The kept statement for `sql` (prepared on first use); one past the cap is finalized after its run, failed or not. */
  private async withStatement<T>(sql: string, use: (statement: sqlite3.Statement) => Promise<T>): Promise<T> {
    const statement = this.prepared.get(sql) ?? (await this.prepare(sql));
    try {
      return await use(statement);
    } finally {
      if (this.prepared.get(sql) !== statement) await finalize(statement);
    }
  }

  async close(): Promise<void> {
    await Promise.all([...this.prepared.values()].map(finalize));
    this.prepared.clear();
    await new Promise<void>((resolve, reject) => this.db.close((error) => (error ? reject(error) : resolve())));
  }

  private prepare(sql: string): Promise<sqlite3.Statement> {
    return new Promise((resolve, reject) => {
      const statement = this.db.prepare(sql, (error: Error | null) => {
        if (error) return reject(error);
        if (this.prepared.size < MAX_PREPARED && !this.prepared.has(sql)) this.prepared.set(sql, statement);
        resolve(statement);
      });
    });
  }
}

/** Parameters spread, or given as one array. */
const values = (params: unknown[]) =>
  params.length === 1 && Array.isArray(params[0]) ? (params[0] as unknown[]) : params;
const finalize = (statement: sqlite3.Statement) => new Promise<void>((resolve) => statement.finalize(() => resolve()));
