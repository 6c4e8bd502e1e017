import { describe, expect, test } from 'vitest';
import { RequestLoad } from '../../src/slack/request-load.js';

const endOfTurn = () => new Promise((resolve) => setImmediate(resolve));

describe('RequestLoad', () => {
  test('one request a turn is never busy, even turn after turn', async () => {
    const load = new RequestLoad();
    for (let i = 0; i < 5; i++) {
      load.started();
      expect(load.busy()).toBe(false);
      await endOfTurn();
    }
  });

  test('two requests in a turn are busy, in that turn and the next; two quiet turns later, not', async () => {
    const load = new RequestLoad();
    load.started();
    load.started();
    expect(load.busy()).toBe(true);
    await endOfTurn();
    expect(load.busy()).toBe(true); // the turn before had two: a request arriving now waits for the others
    load.started();
    expect(load.busy()).toBe(true);
    await endOfTurn();
    await endOfTurn();
    expect(load.busy()).toBe(false);
  });
});
