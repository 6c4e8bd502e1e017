import { setTimeout as sleep } from 'node:timers/promises';

export interface UntilOptions {
  /** How long to keep asking before giving up. */
  timeoutMs?: number;
  /** How long to wait between two asks. */
  everyMs?: number;
  /** Added to the error, to show what the test was looking at (a cluster's logs, say). */
  context?: () => string | undefined;
}

/**
 * Asks `condition` until it holds, for tests that wait on another process or an event loop they do not
 * drive. Throws, naming `what`, once `timeoutMs` has passed without it.
 */
export async function until(
  condition: () => boolean | Promise<boolean>,
  what: string,
  { timeoutMs = 3000, everyMs = 20, context }: UntilOptions = {},
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) {
      const seen = context?.();
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${seen ? `\n${seen}` : ''}`);
    }
    await sleep(everyMs);
  }
}
