import { afterEach, describe, expect, test } from 'vitest';
import { ProviderError, StoreError } from '../../src/core/ports.js';
import { type CoreFixture, coreFixture, MINUTE, PHONE1, requestCode, U1, U2 } from '../helpers/core-fixture.js';

/** Verifying a code (core/verify-code.ts): scope binding, single use, attempts, lifetime, fail closed. */

let f: CoreFixture;
afterEach(async () => {
  await f?.store.close().catch(() => {});
});

describe('a code grants its scope', () => {
  test('the right code grants the scope of the request, once, and ends the request', async () => {
    f = await coreFixture();
    const { requestId, code } = await requestCode(f, U1, 'login');
    // A provider scope of this challenge's own; the text is built from `purpose` (bandwidth/message.ts).
    expect(f.provider.sent[0]).toMatchObject({
      to: PHONE1,
      scope: expect.stringMatching(/^login-[0-9a-f]{12}$/),
      purpose: 'login',
      digits: 6,
      lifetimeMinutes: 5,
      delivery: 'sms',
    });

    const result = await f.verifier.verify(U1, requestId, code);
    expect(result).toMatchObject({ ok: true, scope: 'login', expiresAt: f.clock.now() + 720 * MINUTE });
    expect(await f.sessions.isLive(U1, 'login')).toBe(true);
    expect(await f.sessions.isLive(U1, 'admin')).toBe(false);
    expect(f.audit.map((a) => a.event)).toEqual(['authn_otp_sent', 'authn_login_success']);
    // The same window cannot be used again.
    expect(await f.verifier.verify(U1, requestId, code)).toMatchObject({ ok: false, reason: 'already_used' });
  });

  test('spaces and dashes in a typed code are ignored', async () => {
    f = await coreFixture();
    const { requestId, code } = await requestCode(f);
    expect(await f.verifier.verify(U1, requestId, ` ${code.slice(0, 3)}-${code.slice(3)} `)).toMatchObject({
      ok: true,
    });
  });
});

describe('scope binding', () => {
  test('a login code never grants admin, and an admin code never grants login', async () => {
    f = await coreFixture();
    const login = await requestCode(f, U1, 'login');
    f.clock.advance(MINUTE); // past the resend cooldown
    const admin = await requestCode(f, U1, 'admin');
    expect(f.provider.sent.map((s) => s.scope.split('-')[0])).toEqual(['login', 'admin']);

    // The admin request is current; the login code is refused for it.
    expect(await f.verifier.verify(U1, admin.requestId, login.code)).toMatchObject({ ok: false, reason: 'wrong_code' });
    expect(await f.sessions.isLive(U1, 'admin')).toBe(false);

    f.clock.advance(MINUTE);
    const login2 = await requestCode(f, U1, 'login');
    expect(await f.verifier.verify(U1, login2.requestId, admin.code)).toMatchObject({
      ok: false,
      reason: 'wrong_code',
    });
    expect(await f.sessions.isLive(U1, 'login')).toBe(false);
  });

  test('the scope comes from the server: an old window id cannot reach a newer request', async () => {
    f = await coreFixture();
    const login = await requestCode(f, U1, 'login');
    f.clock.advance(MINUTE);
    const admin = await requestCode(f, U1, 'admin');
    // Submitting the admin code through the login window's id is refused outright.
    expect(await f.verifier.verify(U1, login.requestId, admin.code)).toMatchObject({ ok: false, reason: 'stale' });
    expect(await f.sessions.isLive(U1, 'admin')).toBe(false);
    expect(f.provider.verifies).toHaveLength(0);
  });

  test("one user's code and window cannot serve another user", async () => {
    f = await coreFixture();
    const mine = await requestCode(f, U1);
    expect(await f.verifier.verify(U2, mine.requestId, mine.code)).toMatchObject({ ok: false, reason: 'no_request' });
    const theirs = await requestCode(f, U2);
    expect(await f.verifier.verify(U2, theirs.requestId, mine.code)).toMatchObject({ ok: false, reason: 'wrong_code' });
    expect(await f.sessions.isLive(U2, 'login')).toBe(false);
  });
});

describe('single use', () => {
  test('a consumed code is refused in a later request even by a provider that ignores scope and time', async () => {
    f = await coreFixture({ ignoreWindow: true, ignoreScope: true });
    const first = await requestCode(f);
    expect(await f.verifier.verify(U1, first.requestId, first.code)).toMatchObject({ ok: true });
    await f.sessions.end(U1);

    const second = await requestCode(f);
    const verifiesBefore = f.provider.verifies.length;
    expect(await f.verifier.verify(U1, second.requestId, first.code)).toEqual({ ok: false, reason: 'already_used' });
    expect(f.provider.verifies.length).toBe(verifiesBefore); // not even asked
    expect(await f.sessions.isLive(U1, 'login')).toBe(false);
    expect(await f.verifier.verify(U1, second.requestId, second.code)).toMatchObject({ ok: true });
  });

  test('the same right code submitted again after a success is "already used" and counts as no failure', async () => {
    f = await coreFixture({ policy: { lockoutFailures: 1 } });
    const { requestId, code } = await requestCode(f);
    expect(await f.verifier.verify(U1, requestId, code)).toMatchObject({ ok: true });
    expect(await f.verifier.verify(U1, requestId, code)).toEqual({ ok: false, reason: 'already_used' });
    // With lockout_failures = 1, one counted failure would have locked the user.
    expect(await f.lockout.lockedUntil(U1)).toBeUndefined();
    expect(f.audit.filter((a) => a.outcome === 'failure')).toHaveLength(0); // refused and audited, never counted
  });

  test('two simultaneous submissions of the right code give exactly one success (every interleaving of 30 rounds)', async () => {
    f = await coreFixture({ policy: { maxSendsPerHour: 50, maxSendsPerPhonePerHour: 50 } });
    for (let round = 0; round < 30; round++) {
      const { requestId, code } = await requestCode(f);
      let release!: () => void;
      f.provider.hold = new Promise((resolve) => (release = resolve));
      const both = Promise.all([f.verifier.verify(U1, requestId, code), f.verifier.verify(U1, requestId, code)]);
      setTimeout(release, round % 3); // vary where the two meet
      const results = await both;
      expect(results.filter((r) => r.ok)).toHaveLength(1);
      // The loser is told the code was used, and nothing is counted against the user.
      expect(results.find((r) => !r.ok)).toEqual({ ok: false, reason: 'already_used' });
      f.provider.hold = undefined;
      await f.sessions.end(U1);
    }
    expect(f.audit.filter((a) => a.event.startsWith('authn_login_success'))).toHaveLength(30);
    expect(f.audit.filter((a) => a.outcome === 'failure')).toHaveLength(0); // refused and audited, never counted
  });
});

describe('attempt limits', () => {
  test('max_attempts wrong codes kill the challenge: the right code is refused and the provider is not asked again', async () => {
    f = await coreFixture();
    const { requestId, code } = await requestCode(f);
    const results = [];
    for (let i = 0; i < 5; i++) results.push(await f.verifier.verify(U1, requestId, f.provider.wrongCode()));
    expect(results.map((r) => (r.ok ? 'ok' : r.reason === 'wrong_code' ? r.attemptsLeft : r.reason))).toEqual([
      4,
      3,
      2,
      1,
      'dead',
    ]);
    expect(await f.verifier.verify(U1, requestId, code)).toMatchObject({ ok: false, reason: 'dead' });
    expect(f.provider.verifies).toHaveLength(5);
    expect(await f.sessions.isLive(U1, 'login')).toBe(false);
    expect(f.audit.filter((a) => a.event === 'authn_login_fail_max')).toHaveLength(1);
  });

  test('twenty simultaneous wrong codes cannot exceed max_attempts', async () => {
    f = await coreFixture({ policy: { lockoutFailures: 100 } });
    const { requestId, code } = await requestCode(f);
    const results = await Promise.all(
      Array.from({ length: 20 }, () => f.verifier.verify(U1, requestId, f.provider.wrongCode())),
    );
    expect(f.provider.verifies).toHaveLength(5);
    expect(results.filter((r) => !r.ok && r.reason === 'wrong_code')).toHaveLength(4);
    expect(results.filter((r) => !r.ok && r.reason === 'dead')).toHaveLength(16);
    expect(await f.verifier.verify(U1, requestId, code)).toMatchObject({ ok: false, reason: 'dead' });
  });

  test('a resend never resets the attempt count: 4 wrong, resend, 1 wrong -> dead', async () => {
    f = await coreFixture();
    const { requestId } = await requestCode(f);
    for (let i = 0; i < 4; i++) await f.verifier.verify(U1, requestId, f.provider.wrongCode());
    f.clock.advance(30_000);
    expect(await f.sender.send(U1, requestId, 'voice')).toMatchObject({ ok: true });
    const newCode = f.provider.lastCode();
    expect(await f.verifier.verify(U1, requestId, f.provider.wrongCode())).toMatchObject({ ok: false, reason: 'dead' });
    expect(await f.verifier.verify(U1, requestId, newCode)).toMatchObject({ ok: false, reason: 'dead' });
  });

  test('a malformed code is refused without counting and without asking the provider', async () => {
    f = await coreFixture();
    const { requestId, code } = await requestCode(f);
    for (const bad of ['', 'abcdef', '12345', '1234567', '12a456', '١٢٣٤٥٦']) {
      expect(await f.verifier.verify(U1, requestId, bad)).toMatchObject({ ok: false, reason: 'malformed', digits: 6 });
    }
    expect(f.provider.verifies).toHaveLength(0);
    expect(await f.verifier.verify(U1, requestId, code)).toMatchObject({ ok: true });
  });
});

describe('lifetime', () => {
  test('a code works until code_ttl after it was sent, not after', async () => {
    f = await coreFixture();
    const early = await requestCode(f);
    f.clock.advance(5 * MINUTE - 1000);
    expect(await f.verifier.verify(U1, early.requestId, early.code)).toMatchObject({ ok: true });

    await f.sessions.end(U1);
    f.clock.advance(MINUTE);
    const late = await requestCode(f);
    f.clock.advance(5 * MINUTE + 1000);
    const verifies = f.provider.verifies.length;
    expect(await f.verifier.verify(U1, late.requestId, late.code)).toMatchObject({ ok: false, reason: 'code_expired' });
    expect(f.provider.verifies.length).toBe(verifies);
  });

  test("the provider is asked under the challenge's own scope, for codes within the code lifetime", async () => {
    f = await coreFixture({ policy: { maxAttempts: 10, lockoutFailures: 100 } });
    const { requestId } = await requestCode(f);
    await f.verifier.verify(U1, requestId, f.provider.wrongCode());
    f.clock.advance(3.5 * MINUTE);
    await f.sender.send(U1, requestId, 'sms');
    await f.verifier.verify(U1, requestId, f.provider.wrongCode());
    f.clock.advance(4 * MINUTE);
    await f.verifier.verify(U1, requestId, f.provider.wrongCode());
    expect(f.provider.verifies.map((v) => v.windowMinutes)).toEqual([5, 5, 5]);
    expect(new Set(f.provider.verifies.map((v) => v.scope))).toEqual(new Set([f.provider.sent[0]!.scope]));
  });

  test("a code sent to a phone that is no longer the user's proves nothing", async () => {
    f = await coreFixture();
    const { requestId, code } = await requestCode(f);
    await f.phones.link(U1, '+14155550199', 'UADMIN', f.clock.now());
    expect(await f.verifier.verify(U1, requestId, code)).toMatchObject({ ok: false, reason: 'phone_changed' });
    expect(await f.sessions.isLive(U1, 'login')).toBe(false);
  });
});

describe('fail closed', () => {
  test('a provider error on verify grants nothing and says why', async () => {
    f = await coreFixture();
    const { requestId, code } = await requestCode(f);
    f.provider.failNext('verify', new ProviderError('rate_limited', 'Bandwidth verify: HTTP 429', 429));
    expect(await f.verifier.verify(U1, requestId, code)).toEqual({
      ok: false,
      reason: 'provider',
      failure: 'rate_limited',
    });
    expect(await f.sessions.isLive(U1, 'login')).toBe(false);
    f.provider.failNext('verify', new ProviderError('unavailable', 'Bandwidth verify: HTTP 500', 500));
    expect(await f.verifier.verify(U1, requestId, code)).toEqual({
      ok: false,
      reason: 'provider',
      failure: 'unavailable',
    });
    expect(await f.verifier.verify(U1, requestId, code)).toMatchObject({ ok: true });
  });

  // Rule V7: only an answer of the provider counts as a guess (issue 18 §6).
  test('provider errors use up no attempt and count toward no lock: after max_attempts of them the right code works', async () => {
    f = await coreFixture({ policy: { maxAttempts: 3, lockoutFailures: 3 } });
    const { requestId, code } = await requestCode(f);
    for (let i = 0; i < 5; i++) {
      f.provider.failNext('verify', new ProviderError('unavailable', 'Bandwidth verify: HTTP 500', 500));
      expect(await f.verifier.verify(U1, requestId, code)).toMatchObject({
        reason: 'provider',
        failure: 'unavailable',
      });
    }
    f.provider.failNext('verify', new ProviderError('rate_limited', 'Bandwidth verify: HTTP 429', 429));
    expect(await f.verifier.verify(U1, requestId, code)).toMatchObject({ reason: 'provider', failure: 'rate_limited' });
    // Two wrong codes still leave one attempt: the errors took none of them.
    expect(await f.verifier.verify(U1, requestId, f.provider.wrongCode())).toMatchObject({ attemptsLeft: 2 });
    expect(await f.verifier.verify(U1, requestId, f.provider.wrongCode())).toMatchObject({ attemptsLeft: 1 });
    expect(await f.lockout.lockedUntil(U1)).toBeUndefined();
    expect(await f.verifier.verify(U1, requestId, code)).toMatchObject({ ok: true });
  });

  test('wrong codes still kill the challenge at max_attempts when provider errors came between them', async () => {
    f = await coreFixture({ policy: { maxAttempts: 2, lockoutFailures: 100 } });
    const { requestId, code } = await requestCode(f);
    await f.verifier.verify(U1, requestId, f.provider.wrongCode());
    f.provider.failNext('verify', new ProviderError('unavailable', 'Bandwidth verify: HTTP 500', 500));
    await f.verifier.verify(U1, requestId, code);
    expect(await f.verifier.verify(U1, requestId, f.provider.wrongCode())).toMatchObject({ reason: 'dead' });
    const verifies = f.provider.verifies.length;
    expect(await f.verifier.verify(U1, requestId, code)).toMatchObject({ reason: 'dead' });
    expect(f.provider.verifies.length).toBe(verifies);
  });

  // Rule V10 (issue 18 §4): a grant is whole; after a failure the user is never told "nothing changed" while a scope is live.
  test('the grant is written but its confirmation fails: it is taken back, and the refusal says nothing was granted', async () => {
    f = await coreFixture();
    const { requestId, code } = await requestCode(f);
    const grant = f.sessions.grant.bind(f.sessions);
    f.sessions.grant = async (...args) => {
      await grant(...args);
      throw new StoreError('store timed out after 1000 ms');
    };
    expect(await f.verifier.verify(U1, requestId, code)).toMatchObject({ ok: false, reason: 'not_granted' });
    expect(await f.sessions.isLive(U1, 'login')).toBe(false);
  });

  test('when even taking it back fails, the result is "unknown", never "nothing was granted"', async () => {
    f = await coreFixture();
    const { requestId, code } = await requestCode(f);
    const grant = f.sessions.grant.bind(f.sessions);
    f.sessions.grant = async (...args) => {
      await grant(...args);
      throw new StoreError('store timed out after 1000 ms');
    };
    f.sessions.withdraw = async () => {
      throw new StoreError('store write failed');
    };
    expect(await f.verifier.verify(U1, requestId, code)).toMatchObject({ ok: false, reason: 'grant_unknown' });
    expect(await f.sessions.isLive(U1, 'login')).toBe(true); // why the answer must not say "nothing changed"
  });

  test('a store failure grants nothing: verify rejects, and the session is not live afterwards', async () => {
    f = await coreFixture();
    const { requestId, code } = await requestCode(f);
    await f.store.close();
    await expect(f.verifier.verify(U1, requestId, code)).rejects.toMatchObject({ name: 'StoreError' });
    await expect(f.sessions.isLive(U1, 'login')).rejects.toMatchObject({ name: 'StoreError' });
    const reopened = await coreFixture({ dbFile: f.dbFile });
    expect(await reopened.sessions.isLive(U1, 'login')).toBe(false);
    await reopened.store.close();
  });
});
