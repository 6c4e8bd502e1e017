import { describe, expect, test } from 'vitest';
import { MAX_PAUSE_MS, pauseAfter } from '../../src/core/pacing.js';

/** The purge's batches take turns with requests: a pause as long as the batch, within bounds. */
describe('pauseAfter', () => {
  const paused = async (startedAt: number, now: number) => {
    const waits: number[] = [];
    await pauseAfter(
      startedAt,
      () => now,
      async (ms) => {
        waits.push(ms);
      },
    );
    return waits;
  };

  test('pauses as long as the batch took', async () => {
    expect(await paused(1000, 1012)).toEqual([12]);
  });

  test(`never more than ${MAX_PAUSE_MS} ms, never less than nothing`, async () => {
    expect(await paused(1000, 1000 + 10 * MAX_PAUSE_MS)).toEqual([MAX_PAUSE_MS]);
    expect(await paused(1000, 990)).toEqual([0]);
  });

  test('with the real clock and timer it resolves', async () => {
    await pauseAfter(performance.now());
  });
});
