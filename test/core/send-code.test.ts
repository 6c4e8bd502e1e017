import { afterEach, describe, expect, test } from 'vitest';
import { ProviderError } from '../../src/core/ports.js';
import { type CoreFixture, coreFixture, MINUTE, requestCode, U1 } from '../helpers/core-fixture.js';

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
