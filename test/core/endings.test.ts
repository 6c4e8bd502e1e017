import { afterEach, describe, expect, test } from 'vitest';
import { type Actor, AdminActions } from '../../src/core/admin.js';
import { AuditLog, AuditTrail } from '../../src/core/audit.js';
import { logOut } from '../../src/core/logout.js';
import { type CoreFixture, coreFixture, PHONE1, requestCode, U1 } from '../helpers/core-fixture.js';

/**
 * Invariant 8: an ending wins. Logout, revoke, link, unlink and lock end the user's open request and
 * its challenge; a verify in flight when that happens grants nothing and hands over no pending command.
 */

const ADMIN = 'U0000ADMIN';
let f: CoreFixture;
afterEach(async () => {
  await f?.store.close().catch(() => {});
});

function adminActions(fx: CoreFixture): AdminActions {
  const trail = new AuditTrail(fx.store);
  const audit = new AuditLog(fx.clock, [(r) => trail.append(r)]);
  const notifier = { notify: async () => {} };
  return new AdminActions({
    admins: [ADMIN],
    phoneRules: { allowedRegions: ['US', 'CA'], allowedCallingCodes: [] },
    store: fx.store.kv,
    phones: fx.phones,
    sessions: fx.sessions,
    requests: fx.requests,
    audit,
    trail,
    notifier,
    clock: fx.clock,
  });
}

/** The endings are the same whoever causes them; an operator needs no step-up of their own. */
const OPERATOR: Actor = { kind: 'operator' };

const endings: Record<string, (fx: CoreFixture) => Promise<unknown>> = {
  logout: (fx) => logOut({ sessions: fx.sessions, requests: fx.requests, audit: new AuditLog(fx.clock, []) }, U1),
  revoke: (fx) => adminActions(fx).revoke(OPERATOR, U1),
  'link to a new phone': (fx) => adminActions(fx).link(OPERATOR, U1, '+1 415 555 0177'),
  unlink: (fx) => adminActions(fx).unlink(OPERATOR, U1),
  lock: async (fx) => {
    for (let i = 0; i < fx.policy.lockoutFailures; i++) await fx.lockout.recordFailure(U1, 'admin');
  },
};

describe.each(Object.entries(endings))('%s', (_name, end) => {
  test('racing a slow verify of the right code: nothing is granted', async () => {
    f = await coreFixture();
    const login = await requestCode(f, U1, 'login');
    expect(await f.verifier.verify(U1, login.requestId, login.code)).toMatchObject({ ok: true });
    const begun = await f.requests.open(U1, 'admin');
    if (!begun.ok) throw new Error(`open refused: ${begun.reason}`);
    expect(await f.sender.send(U1, begun.request.requestId, 'sms')).toMatchObject({ ok: true });

    let release!: () => void;
    f.provider.hold = new Promise((resolve) => (release = resolve));
    const reached = f.provider.verifyReached();
    const verifying = f.verifier.verify(U1, begun.request.requestId, f.provider.lastCode());
    await reached; // the verify is past every check before the provider, and waiting on it
    await end(f);
    release();

    expect(await verifying).toEqual({ ok: false, reason: 'ended' });
    expect(await f.sessions.isLive(U1, 'admin')).toBe(false);
    expect(await f.sessions.isLive(U1, 'login')).toBe(false);
    expect(await f.sessions.liveScopes(U1)).toEqual([]);
  });

  test('the open request and its code die; the next request sends a new code at once', async () => {
    f = await coreFixture();
    const first = await requestCode(f);
    await end(f);
    expect(await f.verifier.verify(U1, first.requestId, first.code)).toMatchObject({ ok: false });
    expect(await f.sessions.isLive(U1, 'login')).toBe(false);

    if (_name === 'lock') f.clock.advance(f.policy.lockoutMs);
    if (_name === 'unlink') await f.phones.link(U1, PHONE1, ADMIN, f.clock.now());
    const again = await f.requests.open(U1, 'login');
    if (!again.ok) throw new Error(`open refused: ${again.reason}`);
    // Not "the code I sent you earlier still works": a new request, with no code out yet.
    expect(again.request.sent).toBeUndefined();
    expect(again.request.requestId).not.toBe(first.requestId);
    expect(await f.sender.send(U1, again.request.requestId, 'sms')).toMatchObject({ ok: true });
    expect(await f.verifier.verify(U1, again.request.requestId, first.code)).toMatchObject({
      ok: false,
      reason: 'wrong_code',
    });
    expect(await f.verifier.verify(U1, again.request.requestId, f.provider.lastCode())).toMatchObject({ ok: true });
  });
});

test('a grant written in an ended epoch is dead on arrival, whichever write lands last', async () => {
  f = await coreFixture();
  const before = await f.sessions.epoch(U1);
  await f.sessions.end(U1);
  expect(await f.sessions.grant(U1, 'login', before, ['sms'])).toBeUndefined();
  expect(await f.sessions.isLive(U1, 'login')).toBe(false);
  expect(await f.sessions.allLive()).toEqual([]);
  const now = await f.sessions.epoch(U1);
  expect(await f.sessions.grant(U1, 'login', now, ['sms'])).toBeGreaterThan(f.clock.now());
  expect(await f.sessions.isLive(U1, 'login')).toBe(true);
});
