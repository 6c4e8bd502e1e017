import type { StatementQueue } from './statement-queue.js';

/** Reads the values of `keys` in one statement: the rows found, each with its key. */
export type SelectKeys = (keys: string[]) => Promise<Array<{ key: string; value: string }>>;

interface Batch {
  keys: Set<string>;
  /** The queue's count when the batch was queued: it takes more keys only while nothing came after it. */
  position: number;
  open: boolean;
  values: Promise<Map<string, string>>;
}

/**
 * Point reads by key, joined: reads queued one after another, with no other statement between them,
 * run as one statement when their turn comes; and while requests come together (StoreOptions.busy),
 * a statement whose turn has come first lets the current turn of the event loop end, so that the reads
 * of the other requests of that turn join too.
 *
 * Why: under load every gated command reads its user's keys. Statements run on the main thread
 * (SqliteConnection), so one statement per read would cost each request about 25 µs there; joined,
 * 32 reads cost about as much as 6. A request alone does not wait for the turn to end. A read joins
 * only the last statement queued and only before it starts, so every read still sees exactly the
 * writes queued before it (an unawaited write before a read is seen by the read).
 */
export class KeyReads {
  private last: Batch | undefined;

  constructor(
    private readonly queue: StatementQueue,
    private readonly select: SelectKeys,
    private readonly startWithinMs: number,
    /** True while requests come together (StoreOptions.busy). */
    private readonly busy: () => boolean = () => false,
  ) {}

  /** The values of `keys`, in order, undefined where there is no row. */
  async read(keys: string[]): Promise<Array<string | undefined>> {
    const batch = this.joinable() ?? this.queueBatch();
    for (const key of keys) batch.keys.add(key);
    const values = await batch.values;
    return keys.map((key) => values.get(key));
  }

  private joinable(): Batch | undefined {
    const batch = this.last;
    return batch?.open && batch.position === this.queue.count ? batch : undefined;
  }

  private queueBatch(): Batch {
    const keys = new Set<string>();
    const batch: Batch = { keys, position: 0, open: true, values: Promise.resolve(new Map()) };
    batch.values = this.queue.run(async () => {
      if (this.busy()) await endOfTurn();
      batch.open = false;
      return new Map((await this.select([...keys])).map((row) => [row.key, row.value]));
    }, this.startWithinMs);
    // Dropped unrun (its start limit passed) or failed: a later read starts a statement of its own.
    batch.values.catch(() => {
      batch.open = false;
    });
    batch.position = this.queue.count;
    this.last = batch;
    return batch;
  }
}

/** Resolves once the event loop's current turn is over (the requests that arrived in it have been read). */
const endOfTurn = () => new Promise<void>((resolve) => setImmediate(resolve));
