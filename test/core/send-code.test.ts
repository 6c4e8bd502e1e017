import { afterEach, describe, expect, test } from 'vitest';
import { ProviderError } from '../../src/core/ports.js';
import { type CoreFixture, coreFixture, MINUTE, requestCode, U1, U2 } from '../helpers/core-fixture.js';

/** Sending a code (core/send-code.ts): cooldown, hourly cap, one send at a time, provider errors. */

let f: CoreFixture;
afterEach(async () => {
  await f?.store.close().catch(() => {});
});

describe('send limits', () => {
  test('resend cooldown counts from the last code sent', async () => {
    f = await coreFixture();
    const { requestId } = await requestCode(f);
    f.clock.advance(10_000);
    expect(await f.sender.send(U1, requestId, 'sms')).toMatchObject({
      ok: false,
      reason: 'cooldown',
      retryAt: f.provider.sent[0]!.at + 30_000,
    });
    f.clock.advance(20_000);
    expect(await f.sender.send(U1, requestId, 'sms')).toMatchObject({ ok: true });
    expect(f.provider.sent).toHaveLength(2);
  });

  test('the cooldown is per request: a step-up right after login, or a login right after a logout, sends at once; the hourly cap counts every scope', async () => {
    f = await coreFixture({ policy: { maxSendsPerHour: 3 } });
    const login = await requestCode(f, U1, 'login');
    expect(await f.verifier.verify(U1, login.requestId, login.code)).toMatchObject({ ok: true });
    await requestCode(f, U1, 'admin'); // at once
    await f.sessions.end(U1); // logout
    await requestCode(f, U1, 'login'); // at once
    await f.sessions.end(U1);
    const begun = await f.requests.open(U1, 'login');
    if (!begun.ok) throw new Error('open refused');
    expect(await f.sender.send(U1, begun.request.requestId, 'sms')).toMatchObject({ ok: false, reason: 'send_limit' }); // a fourth send this hour
    expect(f.provider.sent).toHaveLength(3);
  });

  test('max_sends_per_hour caps sends per user, with an audit event', async () => {
    f = await coreFixture();
    const { requestId } = await requestCode(f);
    for (let i = 1; i < 5; i++) {
      f.clock.advance(30_000);
      expect(await f.sender.send(U1, requestId, 'sms')).toMatchObject({ ok: true });
    }
    f.clock.advance(30_000);
    const refused = await f.sender.send(U1, requestId, 'sms');
    expect(refused).toMatchObject({ ok: false, reason: 'send_limit', retryAt: f.provider.sent[0]!.at + 60 * MINUTE });
    expect(f.provider.sent).toHaveLength(5);
    expect(f.audit.at(-1)).toMatchObject({ event: 'excess_rate_limit_exceeded', outcome: 'refused' });
    f.clock.advance(60 * MINUTE);
    expect(await f.sender.send(U1, requestId, 'sms')).toMatchObject({ ok: true });
  });

  test('ten simultaneous send requests send one code', async () => {
    f = await coreFixture();
    const begun = await f.requests.open(U1, 'login');
    if (!begun.ok) throw new Error('open refused');
    const results = await Promise.all(
      Array.from({ length: 10 }, () => f.sender.send(U1, begun.request.requestId, 'sms')),
    );
    expect(results.filter((r) => r.ok)).toHaveLength(1);
    expect(f.provider.sent).toHaveLength(1);
  });
});

describe('fail closed', () => {
  test('a provider error on send leaves no usable code behind', async () => {
    f = await coreFixture();
    const begun = await f.requests.open(U1, 'login');
    if (!begun.ok) throw new Error('open refused');
    f.provider.failNext('send', new ProviderError('unavailable', 'Bandwidth send: no response (ECONNABORTED)'));
    expect(await f.sender.send(U1, begun.request.requestId, 'sms')).toEqual({
      ok: false,
      reason: 'provider',
      failure: 'unavailable',
    });
    expect(f.audit.at(-1)).toMatchObject({ event: 'authn_otp_send_failed', outcome: 'error' });
    expect(await f.verifier.verify(U1, begun.request.requestId, '123456')).toMatchObject({
      ok: false,
      reason: 'no_code',
    });
    // Every refusal is audited with its precise reason.
    expect(f.audit.at(-1)).toMatchObject({
      event: 'authn_login_fail',
      outcome: 'refused',
      detail: { reason: 'no_code' },
    });
  });
});

/** Issue 18 §8: caps per destination number (users may share one phone) and for the whole bot (the spend guard). */
describe('spend caps', () => {
  const SHARED = '+14155550199';
  const users = (n: number) => Array.from({ length: n }, (_, i) => `U${String(i).padStart(9, '0')}`);

  /** Opens a request for each user, then asks for all their codes at once. */
  async function sendAllAtOnce(userIds: string[]) {
    const requestIds: string[] = [];
    for (const userId of userIds) {
      const opened = await f.requests.open(userId, 'login');
      if (!opened.ok) throw new Error(`open refused: ${opened.reason}`);
      requestIds.push(opened.request.requestId);
    }
    return Promise.all(userIds.map((userId, i) => f.sender.send(userId, requestIds[i]!, 'sms')));
  }

  /** Every counter key the core takes from now on. */
  function counterKeys(): string[] {
    const keys: string[] = [];
    const increment = f.store.counters.increment.bind(f.store.counters);
    f.store.counters.increment = async (key, windowMs) => {
      keys.push(key);
      return increment(key, windowMs);
    };
    return keys;
  }

  // Rule: max_sends_per_phone_per_hour counts every user of one phone together (user_number makes it
  // everyone's), atomically: 50 users at once, each under their own cap, get exactly N codes out.
  test('50 simultaneous sends from different users to one phone send exactly max_sends_per_phone_per_hour', async () => {
    f = await coreFixture({ policy: { maxSendsPerPhonePerHour: 3 }, phones: { byUser: {}, fallback: SHARED } });
    const keys = counterKeys();
    const start = f.clock.now();
    const results = await sendAllAtOnce(users(50));
    expect(results.filter((r) => r.ok)).toHaveLength(3);
    expect(f.provider.sent).toHaveLength(3);
    const refused = results.filter((r) => !r.ok);
    expect(refused).toHaveLength(47);
    for (const r of refused) expect(r).toEqual({ ok: false, reason: 'phone_send_limit', retryAt: start + 60 * MINUTE });
    const events = f.audit.filter((a) => a.event === 'excess_rate_limit_exceeded');
    expect(events).toHaveLength(47);
    expect(events[0]).toMatchObject({
      outcome: 'refused',
      detail: { limit: 'sends_per_phone_per_hour', max: 3, maskedPhone: '•••• 0199' },
    });
    // The phone's counter key holds a hash, never the number; nor does the audit.
    expect(keys.filter((k) => k.startsWith('sends-phone:'))).toHaveLength(50);
    expect(keys.join(' ')).not.toContain('4155550199');
    expect(JSON.stringify(f.audit)).not.toContain('4155550199');
  });

  // Rule: the phone cap is per phone, and its window is an hour.
  test('another phone is not held back, and the capped phone gets codes again after the hour', async () => {
    f = await coreFixture({
      policy: { maxSendsPerPhonePerHour: 1 },
      phones: { byUser: { [U2]: '+14155550122' }, fallback: SHARED },
    });
    const [first, second] = await sendAllAtOnce(['U0000USER3', 'U0000USER4']);
    expect([first?.ok, second?.ok].sort()).toEqual([false, true]);
    expect((await sendAllAtOnce([U2]))[0]).toMatchObject({ ok: true });
    f.clock.advance(60 * MINUTE);
    expect((await sendAllAtOnce(['U0000USER5']))[0]).toMatchObject({ ok: true });
  });

  // Rule: max_sends_per_hour_total counts every send of the bot, atomically: 50 users with phones of
  // their own, at once, get exactly N codes out; one refusal (the first of the window) is marked for the warning.
  test('50 simultaneous sends from users with their own phones send exactly max_sends_per_hour_total', async () => {
    const all = users(50);
    const byUser = Object.fromEntries(all.map((u, i) => [u, `+1415555${String(1000 + i)}`]));
    f = await coreFixture({ policy: { maxSendsPerHourTotal: 4 }, phones: { byUser } });
    const start = f.clock.now();
    const results = await sendAllAtOnce(all);
    expect(results.filter((r) => r.ok)).toHaveLength(4);
    expect(f.provider.sent).toHaveLength(4);
    const refused = results.filter((r) => !r.ok);
    expect(refused).toHaveLength(46);
    for (const r of refused) expect(r).toEqual({ ok: false, reason: 'total_send_limit', retryAt: start + 60 * MINUTE });
    const events = f.audit.filter((a) => a.event === 'excess_rate_limit_exceeded');
    expect(events).toHaveLength(46);
    expect(events.every((e) => e.detail?.limit === 'sends_per_hour_total' && e.detail.max === 4)).toBe(true);
    expect(events.filter((e) => e.detail?.first === true)).toEqual([
      expect.objectContaining({
        detail: { limit: 'sends_per_hour_total', max: 4, first: true, until: start + 60 * MINUTE },
      }),
    ]);
    // The next window starts afresh, and its first refusal is marked again.
    f.clock.advance(60 * MINUTE);
    const later = await sendAllAtOnce(all.slice(0, 6));
    expect(later.filter((r) => r.ok)).toHaveLength(4);
    expect(f.audit.filter((a) => a.detail?.first === true)).toHaveLength(2);
  });
});
