import { performance } from 'node:perf_hooks';

/** The longest pause between two batches, however long a batch took. */
export const MAX_PAUSE_MS = 50;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Background work done in batches (the purge, the audit trim) takes turns with the requests: after
 * each batch it pauses as long as the batch took, so it holds at most about half of the store's time
 * and of the event loop's, and the requests that queued behind a batch run before the next one.
 * `startedAt` is when the batch began, by `now`.
 */
export async function pauseAfter(
  startedAt: number,
  now: () => number = () => performance.now(),
  wait: (ms: number) => Promise<void> = sleep,
): Promise<void> {
  await wait(Math.min(Math.max(now() - startedAt, 0), MAX_PAUSE_MS));
}
