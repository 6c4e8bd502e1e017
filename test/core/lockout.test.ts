import { afterEach, describe, expect, test } from 'vitest';
import { type CoreFixture, coreFixture, MINUTE, requestCode, U1 } from '../helpers/core-fixture.js';

/** Lockout (core/lockout.ts): wrong codes in a row, across challenges, block the user for a while. */

let f: CoreFixture;
afterEach(async () => {
  await f?.store.close().catch(() => {});
});

describe('lockout', () => {
  test('lockout_failures wrong codes in a row, across challenges, lock the user for lockout_minutes and tell them', async () => {
    f = await coreFixture();
    for (let round = 0; round < 2; round++) {
      const { requestId } = await requestCode(f);
      for (let i = 0; i < 5; i++) await f.verifier.verify(U1, requestId, f.provider.wrongCode());
      f.clock.advance(MINUTE);
    }
    const until = await f.lockout.lockedUntil(U1);
    expect(until).toBeGreaterThan(f.clock.now());
    expect(f.notices).toEqual([{ userId: U1, notice: { kind: 'locked', until } }]);
    expect(f.audit.filter((a) => a.event === 'authn_login_lock')).toHaveLength(1);
    expect(await f.requests.open(U1, 'login')).toMatchObject({ ok: false, reason: 'locked', until });

    f.clock.advance(15 * MINUTE);
    expect(await f.lockout.lockedUntil(U1)).toBeUndefined();
    expect(await f.requests.open(U1, 'login')).toMatchObject({ ok: true });
  });

  test('a locked user cannot submit codes either, even the right one', async () => {
    f = await coreFixture({ policy: { lockoutFailures: 3 } });
    const { requestId, code } = await requestCode(f);
    for (let i = 0; i < 2; i++) await f.verifier.verify(U1, requestId, f.provider.wrongCode());
    expect(await f.verifier.verify(U1, requestId, f.provider.wrongCode())).toMatchObject({
      ok: false,
      reason: 'locked',
    });
    expect(await f.verifier.verify(U1, requestId, code)).toMatchObject({ ok: false });
    expect(await f.sessions.isLive(U1, 'login')).toBe(false);
  });

  test('a resend does not reset the failure run; a success does', async () => {
    f = await coreFixture({ policy: { lockoutFailures: 4, maxAttempts: 10 } });
    const { requestId } = await requestCode(f);
    for (let i = 0; i < 3; i++) await f.verifier.verify(U1, requestId, f.provider.wrongCode());
    f.clock.advance(30_000);
    await f.sender.send(U1, requestId, 'sms');
    expect(await f.verifier.verify(U1, requestId, f.provider.wrongCode())).toMatchObject({ reason: 'locked' });

    f.clock.advance(16 * MINUTE);
    const next = await requestCode(f);
    for (let i = 0; i < 3; i++) await f.verifier.verify(U1, next.requestId, f.provider.wrongCode());
    expect(await f.verifier.verify(U1, next.requestId, next.code)).toMatchObject({ ok: true });
    await f.sessions.end(U1);
    f.clock.advance(MINUTE);
    const after = await requestCode(f);
    for (let i = 0; i < 3; i++)
      expect(await f.verifier.verify(U1, after.requestId, f.provider.wrongCode())).toMatchObject({
        reason: 'wrong_code',
      });
  });
});
