import { describe, expect, test, vi } from 'vitest';
import { RequestLoad } from '../../src/slack/request-load.js';
import { SqliteConnection } from '../../src/store/sqlite-connection.js';
import { botsPerTest, logIn, USERS } from '../helpers/harness.js';

/**
 * SQLite statements run on the main thread; while requests come together their gate reads are joined
 * into one statement (main.ts wires a RequestLoad into the bot and the store). The joining itself is in
 * test/store/key-reads.test.ts and measured by `npm run bench` (a client in this process sends one
 * request a turn, never several). One request at a time is read at once, one statement each.
 */

const bots = botsPerTest();

/** How many gate reads (the SELECT of keys, joined or not) ran while `send` did its requests. */
async function gateReadsDuring(send: () => Promise<unknown>): Promise<number> {
  const query = vi.spyOn(SqliteConnection.prototype, 'query');
  try {
    await send();
    return query.mock.calls.filter(([sql]) => sql.includes('json_each')).length;
  } finally {
    query.mockRestore();
  }
}

describe('gate reads under load', () => {
  test('each request that begins is told to the RequestLoad, which the store asks', async () => {
    const load = new RequestLoad();
    const started = vi.spyOn(load, 'started');
    const busy = vi.spyOn(load, 'busy');
    const h = await bots({ load });
    await logIn(h, USERS.alice);
    started.mockClear();
    busy.mockClear();
    await h.requests.command('/whoami', USERS.alice);
    expect(started).toHaveBeenCalledTimes(1);
    expect(busy).toHaveBeenCalledTimes(1); // by the gate's read
    expect(busy).toHaveLastReturnedWith(false);
  });

  test('one command at a time: one statement each', async () => {
    const h = await bots({ load: new RequestLoad() });
    await logIn(h, USERS.alice);
    const reads = await gateReadsDuring(async () => {
      for (let i = 0; i < 5; i++)
        expect((await h.requests.command('/whoami', USERS.alice)).json.text).toContain('`login`');
    });
    expect(reads).toBe(5);
  });

  test('without a RequestLoad (a store opened alone) every read runs at once, one statement each', async () => {
    const h = await bots();
    await logIn(h, USERS.alice);
    const reads = await gateReadsDuring(() =>
      Promise.all(Array.from({ length: 24 }, () => h.requests.command('/whoami', USERS.alice))),
    );
    expect(reads).toBe(24);
  });
});
