import { describe, expect, test } from 'vitest';
import type { Counters, KeyValueStore } from '../src/core/ports.js';
import { Metrics } from '../src/metrics.js';

/** A port as a class with state (methods must run on it) and a method that is not async. */
class FakeKv {
  readonly name = 'fake';
  private readonly values = new Map<string, unknown>([['a', 1]]);
  async get(key: string) {
    return this.values.get(key);
  }
  async set(_key: string) {
    throw new Error('store down');
  }
  entries() {
    return [...this.values];
  }
}

const count = (text: string, series: string) => {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
};

describe('Metrics', () => {
  test('timeStore: every method of a port times its promise by operation and outcome, on the port itself', async () => {
    const metrics = new Metrics(() => 0);
    const kv = new FakeKv();
    const store = metrics.timeStore({ kv: kv as unknown as KeyValueStore, counters: {} as Counters, other: 1 });
    const timed = store.kv as unknown as FakeKv;
    expect(await timed.get('a')).toBe(1);
    expect(await timed.get('b')).toBeUndefined();
    await expect(timed.set('a')).rejects.toThrow('store down');
    expect(timed.entries()).toEqual([['a', 1]]); // not a promise: passed through, not timed
    expect(timed.name).toBe('fake');
    expect(store.other).toBe(1);
    const text = await metrics.registry.metrics();
    expect(count(text, 'phonegate_store_seconds_count{operation="get",outcome="ok"}')).toBe(2);
    expect(count(text, 'phonegate_store_seconds_count{operation="set",outcome="error"}')).toBe(1);
    expect(count(text, 'phonegate_store_seconds_count{operation="set",outcome="ok"}')).toBeUndefined();
    expect(text).not.toContain('operation="entries"');
  });

  test('observeAck counts each answer under its kind', async () => {
    const metrics = new Metrics(() => 0);
    metrics.observeAck('http', performance.now());
    metrics.observeAck('http', performance.now());
    metrics.observeAck('socket', performance.now());
    const text = await metrics.registry.metrics();
    expect(count(text, 'phonegate_slack_ack_seconds_count{kind="http"}')).toBe(2);
    expect(count(text, 'phonegate_slack_ack_seconds_count{kind="socket"}')).toBe(1);
  });
});
