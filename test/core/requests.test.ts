import { afterEach, describe, expect, test } from 'vitest';
import { type CoreFixture, coreFixture, requestCode, U1 } from '../helpers/core-fixture.js';

/** Opening a request (core/requests.ts): who may open one, and what a new or continued request holds. */

let f: CoreFixture;
afterEach(async () => {
  await f?.store.close().catch(() => {});
});

describe('opening a request', () => {
  test('a user with no phone gets no code', async () => {
    f = await coreFixture();
    expect(await f.requests.open('U0NOPHONE', 'login')).toEqual({ ok: false, reason: 'no_phone' });
    expect(f.provider.sent).toHaveLength(0);
  });
});

describe('a request and its challenge', () => {
  test('after a code died of too many attempts, a new request sends at once and the old code never works', async () => {
    f = await coreFixture();
    const first = await requestCode(f);
    for (let i = 0; i < 5; i++) await f.verifier.verify(U1, first.requestId, f.provider.wrongCode()); // kills it

    const begun = await f.requests.open(U1, 'login');
    if (!begun.ok) throw new Error('open refused');
    expect(begun.request.requestId).not.toBe(first.requestId);
    expect(begun.request.sent).toBeUndefined();
    expect(await f.sender.send(U1, begun.request.requestId, 'sms')).toMatchObject({ ok: true }); // no wait
    const [old, fresh] = f.provider.sent;
    expect(fresh!.scope).not.toBe(old!.scope);
    // The provider still holds the old code (same number, within its window), but under the old challenge's scope.
    expect(await f.verifier.verify(U1, begun.request.requestId, first.code)).toMatchObject({
      ok: false,
      reason: 'wrong_code',
    });
    expect(f.provider.verifies.at(-1)).toMatchObject({ code: first.code, scope: fresh!.scope, valid: false });
    expect(await f.verifier.verify(U1, begun.request.requestId, f.provider.lastCode())).toMatchObject({ ok: true });
  });

  test('running the command again while a code is out continues that challenge (its attempts carry over)', async () => {
    f = await coreFixture();
    const first = await requestCode(f);
    for (let i = 0; i < 3; i++) await f.verifier.verify(U1, first.requestId, f.provider.wrongCode());
    const again = await f.requests.open(U1, 'login');
    if (!again.ok) throw new Error('open refused');
    expect(again.request.sent).toMatchObject({ delivery: 'sms' }); // the window goes straight to code entry
    expect(await f.verifier.verify(U1, again.request.requestId, f.provider.wrongCode())).toMatchObject({
      reason: 'wrong_code',
      attemptsLeft: 1,
    });
    expect(await f.verifier.verify(U1, again.request.requestId, first.code)).toMatchObject({ ok: true });
  });
});
