import type { AnyMiddlewareArgs, Middleware } from '@slack/bolt';
import type { RequestLoad } from '../request-load.js';

/**
 * Requests being handled, from the first middleware to the end of every listener (including work
 * after the ack, like a late views.update). A graceful shutdown stops taking requests, then waits
 * for this to reach zero, bounded, before it closes the store.
 */
export class InFlight {
  private count = 0;
  private waiters: Array<() => void> = [];

  /** `load` is told when each request begins. */
  constructor(private readonly load?: RequestLoad) {}

  get size(): number {
    return this.count;
  }

  /** Global middleware: the first one registered, so it spans the whole request. */
  readonly middleware: Middleware<AnyMiddlewareArgs> = async ({ next }) => {
    this.count += 1;
    this.load?.started();
    try {
      await next();
    } finally {
      this.count -= 1;
      if (this.count === 0) for (const resolve of this.waiters.splice(0)) resolve();
    }
  };

  /** Resolves when nothing is in flight, or after `ms`; says which. */
  async drained(ms: number): Promise<boolean> {
    if (this.count === 0) return true;
    let timer: NodeJS.Timeout | undefined;
    const idle = new Promise<true>((resolve) => this.waiters.push(() => resolve(true)));
    const late = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), ms);
    });
    try {
      return await Promise.race([idle, late]);
    } finally {
      clearTimeout(timer);
    }
  }
}
