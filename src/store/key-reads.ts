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
 * Point reads by key, joined while they wait for the connection: reads queued one after another, with
 * no other statement between them, run as one statement when their turn comes.
 *
 * Why: under load every gated command reads its user's keys, and each statement is a trip to libuv's
 * thread pool and back (main-thread and worker time, see StatementQueue). Joined, 32 waiting reads
 * cost one trip. A read joins only the last statement queued and only before it starts, so every read
 * still sees exactly the writes queued before it (an unawaited write before a read is seen by the read).
 */
export class KeyReads {
  private last: Batch | undefined;

  constructor(
    private readonly queue: StatementQueue,
    private readonly select: SelectKeys,
    private readonly startWithinMs: number,
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
    batch.values = this.queue.run(
      async () => new Map((await this.select([...keys])).map((row) => [row.key, row.value])),
      this.startWithinMs,
      () => {
        batch.open = false;
      },
    );
    batch.position = this.queue.count;
    this.last = batch;
    return batch;
  }
}
