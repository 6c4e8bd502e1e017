import { describe, expect, test } from 'vitest';
import { withinDeadline } from '../../src/slack/deadline.js';

describe('withinDeadline', () => {
  test('work that settles in time gives its value; late work gives done: false and goes on', async () => {
    expect(await withinDeadline(Promise.resolve('v'), 50)).toEqual({ done: true, value: 'v' });
    let finish!: (value: string) => void;
    const slow = new Promise<string>((resolve) => (finish = resolve));
    expect(await withinDeadline(slow, 5)).toEqual({ done: false });
    finish('later');
    expect(await slow).toBe('later');
  });

  test('a deadline of 0 has passed already: even work that is done is late (the late path, deterministically)', async () => {
    expect(await withinDeadline(Promise.resolve('v'), 0)).toEqual({ done: false });
  });
});
