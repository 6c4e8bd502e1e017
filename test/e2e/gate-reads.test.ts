import nock from 'nock';
import { afterAll, afterEach, beforeEach, describe, expect, test } from 'vitest';
import { type Harness, removeTempDirs, startBot, USERS } from '../helpers/harness.js';

/**
 * The cost of the gate: a gated /whoami makes exactly one store operation (the gate's read, which
 * also brings what /whoami shows), and the Home tab reads the user's state in one operation too.
 */

let h: Harness;
beforeEach(async () => {
  h = await startBot();
});
afterEach(async () => {
  await h.stop();
});
afterAll(() => {
  removeTempDirs();
  nock.restore();
});

/** Records every call made on the store's ports (the same objects the bot holds) from now on. */
function countStoreCalls(harness: Harness): string[] {
  const calls: string[] = [];
  for (const [name, port] of [
    ['kv', harness.store.kv],
    ['counters', harness.store.counters],
  ] as const) {
    const target = port as unknown as Record<string, unknown>;
    let proto = Object.getPrototypeOf(port) as object | null;
    const methods = new Set<string>();
    while (proto && proto !== Object.prototype) {
      for (const key of Object.getOwnPropertyNames(proto))
        if (key !== 'constructor' && typeof target[key] === 'function') methods.add(key);
      proto = Object.getPrototypeOf(proto) as object | null;
    }
    for (const method of methods) {
      const original = (target[method] as (...args: unknown[]) => unknown).bind(port);
      target[method] = (...args: unknown[]) => {
        calls.push(`${name}.${method}`);
        return original(...args);
      };
    }
  }
  return calls;
}

async function logInDirectly(userId: string): Promise<void> {
  const { sessions } = h.bot.services;
  await sessions.rememberDelivery(userId, 'voice');
  expect(await sessions.grant(userId, 'login', await sessions.epoch(userId), ['sms'])).toBeDefined();
}

describe('store operations per request', () => {
  test('a gated /whoami makes exactly one store operation, and shows phone, delivery and scope from it', async () => {
    await logInDirectly(USERS.alice);
    const calls = countStoreCalls(h);

    const whoami = await h.requests.command('/whoami', USERS.alice);

    expect(whoami.json.text).toContain('•••• 0101');
    expect(whoami.json.text).toContain('voice call');
    expect(whoami.json.text).toContain('`login` (12 h left)');
    expect(calls).toEqual(['kv.getMany']);
  });

  test('a refused /whoami also reads once (then records the refusal)', async () => {
    const calls = countStoreCalls(h);
    const whoami = await h.requests.command('/whoami', USERS.bob);
    expect(whoami.json.text).toContain('/login');
    expect(calls[0]).toBe('kv.getMany');
    expect(calls.filter((c) => c.startsWith('kv.get'))).toEqual(['kv.getMany']);
  });

  test('the Home tab reads the user state in one store operation', async () => {
    await logInDirectly(USERS.alice);
    const calls = countStoreCalls(h);

    await h.requests.event({ type: 'app_home_opened', user: USERS.alice, channel: 'D0000001', tab: 'home' });
    await h.slack.waitFor((all) => all.some((c) => c.method === 'views.publish'));

    const published = JSON.stringify(h.slack.callsOf('views.publish')[0]);
    expect(published).toContain('•••• 0101');
    expect(published).toContain('login');
    // The event's replay claim (invariant 9) is a counter; the state is one read.
    expect(calls.filter((c) => c.startsWith('kv.'))).toEqual(['kv.getMany']);
  });
});
