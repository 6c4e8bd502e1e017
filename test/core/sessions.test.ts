import { afterEach, describe, expect, test } from 'vitest';
import type { KeyValueStore } from '../../src/core/ports.js';
import { Sessions } from '../../src/core/sessions.js';
import { type CoreFixture, coreFixture, MINUTE, U1, U2 } from '../helpers/core-fixture.js';

let f: CoreFixture;
afterEach(async () => {
  await f?.store.close().catch(() => {});
});

describe('sessions', () => {
  test('each scope lasts its own ttl, checked against the injected clock', async () => {
    f = await coreFixture();
    await f.sessions.grant(U1, 'login', await f.sessions.epoch(U1), ['sms']);
    await f.sessions.grant(U1, 'admin', await f.sessions.epoch(U1), ['sms']);
    f.clock.advance(15 * MINUTE - 1);
    expect(await f.sessions.liveScopes(U1)).toEqual([
      { scope: 'login', expiresAt: expect.any(Number) },
      { scope: 'admin', expiresAt: expect.any(Number) },
    ]);
    f.clock.advance(1);
    expect(await f.sessions.isLive(U1, 'admin')).toBe(false);
    expect(await f.sessions.isLive(U1, 'login')).toBe(true);
    f.clock.advance(705 * MINUTE);
    expect(await f.sessions.isLive(U1, 'login')).toBe(false);
  });

  test('the gate check is one store read', async () => {
    f = await coreFixture();
    await f.sessions.grant(U1, 'login', await f.sessions.epoch(U1), ['sms']);
    let reads = 0;
    const counting: KeyValueStore = {
      ...f.store.kv,
      get: (key) => {
        reads += 1;
        return f.store.kv.get(key);
      },
      getMany: (keys) => {
        reads += 1;
        return f.store.kv.getMany(keys);
      },
      set: (...args) => f.store.kv.set(...args),
      delete: (key) => f.store.kv.delete(key),
      entries: (prefix) => f.store.kv.entries(prefix),
    };
    const sessions = new Sessions(counting, f.clock, { login: 720 * MINUTE, admin: 15 * MINUTE });
    expect(await sessions.isLive(U1, 'login')).toBe(true);
    expect(reads).toBe(1);
  });

  test('end ends every scope of one user only and says which were live', async () => {
    f = await coreFixture();
    await f.sessions.grant(U1, 'login', await f.sessions.epoch(U1), ['sms']);
    await f.sessions.grant(U2, 'login', await f.sessions.epoch(U2), ['sms']);
    expect((await f.sessions.end(U1)).map((s) => s.scope)).toEqual(['login']);
    expect(await f.sessions.isLive(U1, 'login')).toBe(false);
    expect(await f.sessions.isLive(U2, 'login')).toBe(true);
  });

  test('allLive lists every live scope of every user, soonest expiry first', async () => {
    f = await coreFixture();
    await f.sessions.grant(U1, 'login', await f.sessions.epoch(U1), ['sms']);
    f.clock.advance(MINUTE);
    await f.sessions.grant(U2, 'admin', await f.sessions.epoch(U2), ['sms']);
    await f.sessions.grant(U2, 'login', await f.sessions.epoch(U2), ['sms']);
    expect((await f.sessions.allLive()).map((s) => `${s.userId}:${s.scope}`)).toEqual([
      `${U2}:admin`,
      `${U1}:login`,
      `${U2}:login`,
    ]);
  });

  test('the delivery preference is kept until forgotten', async () => {
    f = await coreFixture();
    expect(await f.sessions.delivery(U1)).toBeUndefined();
    await f.sessions.rememberDelivery(U1, 'voice');
    f.clock.advance(1000 * MINUTE);
    expect(await f.sessions.delivery(U1)).toBe('voice');
    await f.sessions.forgetDelivery(U1);
    expect(await f.sessions.delivery(U1)).toBeUndefined();
  });
});
