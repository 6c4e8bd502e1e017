import { afterEach, describe, expect, test } from 'vitest';
import { type Actor, AdminActions, OPERATOR, UnfinishedChange } from '../../src/core/admin.js';
import { AuditLog, type AuditRecord, AuditTrail } from '../../src/core/audit.js';
import { parsePhone } from '../../src/core/phones.js';
import { type Notice, StoreError } from '../../src/core/ports.js';
import { type CoreFixture, coreFixture, MINUTE, PHONE1, requestCode, U1, U2 } from '../helpers/core-fixture.js';

const ADMIN = 'U0000ADMIN';
/** The defaults: [policy] allowed_regions = US, CA, no calling code allowed whole. */
const US_CA = { allowedRegions: ['US', 'CA'], allowedCallingCodes: [] };
const rules = (allowedRegions: string[], allowedCallingCodes: string[] = []) => ({
  allowedRegions,
  allowedCallingCodes,
});

describe('parsePhone', () => {
  // Rule: any common notation of a valid personal number normalises to E.164.
  test.each([
    '+14155550199',
    '(415) 555-0199',
    '415.555.0199',
    '415 555 0199',
    '1-415-555-0199',
    'tel:+1-415-555-0199',
    '+1 (415) 555-0199',
  ])('%s -> +14155550199', (input) => {
    expect(parsePhone(input, US_CA)).toEqual({ ok: true, e164: '+14155550199' });
  });

  // Rule: non-personal lines are refused, each with the reason.
  test.each([
    ['+1 900 555 0101', 'a premium-rate number'],
    ['+1 800 555 0199', 'a toll-free number'],
    ['+1 500 555 0006', 'a personal (follow-me) forwarding number'],
    ['+44 909 879 0000', 'a premium-rate number'],
    ['+33 810 12 34 56', 'a shared-cost number'],
  ])('%s is refused as %s', (input, name) => {
    expect(parsePhone(input, rules(['US', 'GB', 'FR']))).toEqual({
      ok: false,
      reason: 'not_personal',
      detail: `That is ${name}; codes only go to a personal phone.`,
    });
  });

  // Rule: only numbers in an allowed region are accepted, and the refusal names the number's region and what is allowed.
  test('a number outside allowed_regions is refused', () => {
    expect(parsePhone('+44 7400 123456', US_CA)).toEqual({
      ok: false,
      reason: 'country',
      detail: 'Numbers in United Kingdom (GB) are not allowed here (allowed: US, CA).',
    });
    expect(parsePhone('+44 7400 123456', rules(['US', 'GB']))).toEqual({ ok: true, e164: '+447400123456' });
  });

  // Rule (toll fraud, issue 18 §8): +1 is not a region. By default the Caribbean numbers of the North
  // American plan are refused, each naming its region; US and Canadian numbers are accepted.
  test.each([
    ['+1 876 210 1234', 'Jamaica (JM)'],
    ['+1 809 234 5678', 'Dominican Republic (DO)'],
    ['+1 284 300 1234', 'British Virgin Islands (VG)'],
    ['+1 649 231 1234', 'Turks & Caicos Islands (TC)'],
    ['+1 264 235 1234', 'Anguilla (AI)'],
  ])('%s (%s) is refused by default', (input, region) => {
    expect(parsePhone(input, US_CA)).toEqual({
      ok: false,
      reason: 'country',
      detail: `Numbers in ${region} are not allowed here (allowed: US, CA).`,
    });
  });
  test.each([
    ['+1 415 555 0199', '+14155550199'],
    ['+1 613 555 0123', '+16135550123'],
    ['+1 506 234 5678', '+15062345678'],
  ])('%s (US or Canada) is accepted by default', (input, e164) => {
    expect(parsePhone(input, US_CA)).toEqual({ ok: true, e164 });
  });

  // Rule: a calling code in allowed_country_codes admits every number in it, whatever its region.
  test('allowed_country_codes = 1 admits the Caribbean numbers too', () => {
    for (const input of ['+18762101234', '+18092345678', '+12843001234', '+16492311234', '+12642351234'])
      expect(parsePhone(input, rules(['US', 'CA'], ['1']))).toEqual({ ok: true, e164: input });
    expect(parsePhone('+44 7400 123456', rules(['US'], ['1']))).toEqual({
      ok: false,
      reason: 'country',
      detail: 'Numbers in United Kingdom (GB) are not allowed here (allowed: US, any number in +1).',
    });
  });

  // Rule: a number written without a country code is read in the first allowed region.
  test('a national number is read in the first allowed region', () => {
    expect(parsePhone('(876) 210-1234', US_CA)).toMatchObject({
      ok: false,
      detail: expect.stringContaining('Jamaica'),
    });
    expect(parsePhone('07400 123456', rules(['GB', 'US']))).toEqual({ ok: true, e164: '+447400123456' });
    expect(parsePhone('07400 123456', US_CA)).toMatchObject({ ok: false, reason: 'invalid' });
  });

  // Rule: garbage and extensions are refused.
  test.each(['12', 'call me', '+1 415 555', ''])('%j is not a valid number', (input) => {
    expect(parsePhone(input, US_CA)).toMatchObject({ ok: false, reason: 'invalid' });
  });
  test('a number with an extension is refused', () => {
    expect(parsePhone('+1 415 555 0199 ext. 12', US_CA)).toMatchObject({ ok: false, reason: 'extension' });
  });
});

describe('AdminActions', () => {
  let f: CoreFixture;
  let admin: AdminActions;
  let trail: AuditTrail;
  let records: AuditRecord[];
  let notices: Array<{ userId: string; notice: Notice }>;
  /** The audit sinks call this first; a test may make it throw, as a failing audit write would. */
  let auditHook: (r: AuditRecord) => void;
  const AS_ADMIN: Actor = { kind: 'admin', userId: ADMIN };
  const OTHER_ADMIN = 'U0OTHERADM';

  function actions(admins: string[]): AdminActions {
    const audit = new AuditLog(f.clock, [(r) => auditHook(r), (r) => void records.push(r), (r) => trail.append(r)]);
    return new AdminActions({
      admins,
      phoneRules: { allowedRegions: ['US', 'CA'], allowedCallingCodes: [] },
      store: f.store.kv,
      phones: f.phones,
      sessions: f.sessions,
      requests: f.requests,
      audit,
      trail,
      notifier: { notify: async (userId, notice) => void notices.push({ userId, notice }) },
      clock: f.clock,
    });
  }

  /** An admin whose step-up is live, as an /admin command needs. */
  async function setup(admins: string[] = [ADMIN]) {
    f = await coreFixture();
    records = [];
    notices = [];
    auditHook = () => {};
    trail = new AuditTrail(f.store);
    admin = actions(admins);
    await f.sessions.grant(ADMIN, 'admin', await f.sessions.epoch(ADMIN), ['sms']);
  }
  const logIn = async (userId: string) => f.sessions.grant(userId, 'login', await f.sessions.epoch(userId), ['sms']);
  afterEach(async () => {
    await f.store.close().catch(() => {});
  });

  test('isAdmin is the configured list', async () => {
    await setup();
    expect(admin.isAdmin(ADMIN)).toBe(true);
    expect(admin.isAdmin(U1)).toBe(false);
  });

  test('link: a new phone wins over config, ends the session and the open request, tells the user, is audited', async () => {
    await setup();
    await logIn(U1);
    f.clock.advance(MINUTE);
    const pending = await requestCode(f, U1, 'admin');
    const result = await admin.link(AS_ADMIN, U1, '(415) 555-0199');
    expect(result).toEqual({
      ok: true,
      changed: true,
      resumed: false,
      maskedPhone: '•••• 0199',
      ended: [expect.objectContaining({ scope: 'login' })],
      endedRequest: true,
    });
    expect(await f.phones.phoneOf(U1)).toBe('+14155550199');
    expect(await f.sessions.isLive(U1, 'login')).toBe(false);
    expect(await f.verifier.verify(U1, pending.requestId, pending.code)).toMatchObject({
      ok: false,
      reason: 'no_request',
    });
    expect(notices).toEqual([{ userId: U1, notice: { kind: 'phone_linked', maskedPhone: '•••• 0199', by: ADMIN } }]);
    expect(records.find((r) => r.event === 'authn_phone_linked')).toMatchObject({
      userId: U1,
      actorId: ADMIN,
      outcome: 'success',
      detail: { maskedPhone: '•••• 0199', replaced: true },
    });
    expect(JSON.stringify(records)).not.toContain('5550199');
  });

  test('link: the same phone again changes nothing and ends nothing', async () => {
    await setup();
    await logIn(U1);
    expect(await admin.link(AS_ADMIN, U1, PHONE1)).toEqual({
      ok: true,
      changed: false,
      resumed: false,
      maskedPhone: '•••• 0111',
      ended: [],
      endedRequest: false,
    });
    expect(await f.sessions.isLive(U1, 'login')).toBe(true);
    expect(notices).toEqual([]);
  });

  test('link: a refused number changes nothing, and the refusal is audited with its reason', async () => {
    await setup();
    await logIn(U1);
    expect(await admin.link(AS_ADMIN, U1, '1-900-555-0101')).toMatchObject({ ok: false, reason: 'not_personal' });
    expect(await f.phones.phoneOf(U1)).toBe(PHONE1);
    expect(await f.sessions.isLive(U1, 'login')).toBe(true);
    expect(records.at(-1)).toMatchObject({
      event: 'authn_phone_linked',
      outcome: 'refused',
      detail: { reason: 'not_personal' },
    });
  });

  // Rule (toll fraud): /admin link holds to allowed_regions: a Jamaican number is refused by default, naming the region.
  test('link: a number outside allowed_regions changes nothing, and the refusal names the region', async () => {
    await setup();
    expect(await admin.link(AS_ADMIN, U1, '+1 876 210 1234')).toEqual({
      ok: false,
      reason: 'country',
      detail: 'Numbers in Jamaica (JM) are not allowed here (allowed: US, CA).',
    });
    expect(await f.phones.phoneOf(U1)).toBe(PHONE1);
    expect(records.at(-1)).toMatchObject({
      event: 'authn_phone_linked',
      outcome: 'refused',
      detail: { reason: 'country' },
    });
  });

  test('unlink: the user has no phone whatever config says, until linked again', async () => {
    await setup();
    await logIn(U1);
    expect(await admin.unlink(AS_ADMIN, U1)).toEqual({
      ok: true,
      hadPhone: true,
      resumed: false,
      ended: [expect.objectContaining({ scope: 'login' })],
      endedRequest: false,
    });
    expect(await f.phones.phoneOf(U1)).toBeUndefined();
    expect(await f.requests.open(U1, 'login')).toEqual({ ok: false, reason: 'no_phone' });
    expect(notices).toEqual([{ userId: U1, notice: { kind: 'phone_unlinked', by: ADMIN } }]);
    await admin.link(AS_ADMIN, U1, '+14155550177');
    expect(await f.phones.phoneOf(U1)).toBe('+14155550177');
  });

  test('revoke: ends every scope of the target only, tells them, is audited; nothing live means no message', async () => {
    await setup();
    await logIn(U1);
    await f.sessions.grant(U1, 'admin', await f.sessions.epoch(U1), ['sms']);
    await logIn(U2);
    expect(await admin.revoke(AS_ADMIN, U1)).toMatchObject({ ok: true, endedRequest: false });
    expect(await f.sessions.liveScopes(U1)).toEqual([]);
    expect(await f.sessions.isLive(U2, 'login')).toBe(true);
    expect(notices).toEqual([{ userId: U1, notice: { kind: 'revoked', by: ADMIN } }]);
    expect(records.at(-1)).toMatchObject({
      event: 'authn_session_revoked',
      userId: U1,
      actorId: ADMIN,
      detail: { scopes: 'login,admin' },
    });
    expect(await admin.revoke(AS_ADMIN, U1)).toEqual({
      ok: true,
      resumed: false,
      ended: [],
      endedRequest: false,
    });
    expect(notices).toHaveLength(1);
  });

  // Issue 18 §4: an ending of an open code request is an ending like any other.
  test('revoke of a user with no session but an open code request: the request ends, and the user is told', async () => {
    await setup();
    const pending = await requestCode(f, U1, 'login');
    expect(await admin.revoke(AS_ADMIN, U1)).toEqual({ ok: true, resumed: false, ended: [], endedRequest: true });
    expect(notices).toEqual([{ userId: U1, notice: { kind: 'revoked', by: ADMIN } }]);
    expect(await f.verifier.verify(U1, pending.requestId, pending.code)).toMatchObject({ ok: false });
  });

  test('liveSessions and recentEvents are audited as admin commands', async () => {
    await setup();
    await logIn(U2);
    expect(await admin.liveSessions(AS_ADMIN)).toEqual({
      ok: true,
      value: [
        expect.objectContaining({ userId: ADMIN, scope: 'admin' }),
        expect.objectContaining({ userId: U2, scope: 'login' }),
      ],
    });
    const events = await admin.recentEvents(AS_ADMIN, 5);
    expect(events.ok && events.value.map((e) => e.event)).toEqual(['authz_admin']);
    expect(records.map((r) => r.event)).toEqual(['authz_admin', 'authz_admin']);
  });

  describe('authority is read when the action runs (invariant 12)', () => {
    test('an actor no longer in [policy] admins is refused, with their admin scope still live; nothing changes', async () => {
      await setup();
      await logIn(U1);
      const later = actions([OTHER_ADMIN]); // the config changed, or another replica has another one
      expect(await later.revoke(AS_ADMIN, U1)).toEqual({ ok: false, reason: 'no_longer_admin' });
      expect(await later.link(AS_ADMIN, U1, '+14155550177')).toEqual({ ok: false, reason: 'no_longer_admin' });
      expect(await later.unlink(AS_ADMIN, U1)).toEqual({ ok: false, reason: 'no_longer_admin' });
      expect(await later.liveSessions(AS_ADMIN)).toEqual({ ok: false, reason: 'no_longer_admin' });
      expect(await later.recentEvents(AS_ADMIN, 5)).toEqual({ ok: false, reason: 'no_longer_admin' });
      expect(await f.sessions.isLive(U1, 'login')).toBe(true);
      expect(await f.phones.phoneOf(U1)).toBe(PHONE1);
      expect(notices).toEqual([]);
      expect(records.at(-1)).toMatchObject({
        event: 'authz_fail',
        userId: ADMIN,
        outcome: 'refused',
        detail: { command: '/admin audit', reason: 'no_longer_admin' },
      });
    });

    test('an admin whose step-up ended is refused', async () => {
      await setup();
      await logIn(U1);
      await f.sessions.end(ADMIN);
      expect(await admin.revoke(AS_ADMIN, U1)).toEqual({ ok: false, reason: 'admin_scope_ended' });
      expect(await f.sessions.isLive(U1, 'login')).toBe(true);
    });

    test('an operator at the shell needs neither, and is audited as `operator`', async () => {
      await setup();
      await logIn(U1);
      expect(await admin.revoke({ kind: 'operator' }, U1)).toMatchObject({ ok: true });
      expect(records.at(-1)).toMatchObject({ event: 'authn_session_revoked', actorId: OPERATOR });
      expect(notices).toEqual([{ userId: U1, notice: { kind: 'revoked', by: OPERATOR } }]);
    });
  });

  describe('nobody can lock the team out (issue 18 §5)', () => {
    test('an admin cannot link or unlink their own phone from chat; an operator can', async () => {
      await setup();
      expect(await admin.unlink(AS_ADMIN, ADMIN)).toEqual({ ok: false, reason: 'own_phone' });
      expect(await admin.link(AS_ADMIN, ADMIN, '+14155550177')).toEqual({ ok: false, reason: 'own_phone' });
      expect(await f.phones.phoneOf(ADMIN)).toBeUndefined();
      await f.phones.link(ADMIN, PHONE1, OPERATOR, f.clock.now());
      expect(await admin.unlink(AS_ADMIN, ADMIN)).toEqual({ ok: false, reason: 'own_phone' });
      expect(await f.phones.phoneOf(ADMIN)).toBe(PHONE1);
      expect(records.at(-1)).toMatchObject({
        event: 'authn_phone_unlinked',
        outcome: 'refused',
        detail: { reason: 'own_phone' },
      });
      expect(await admin.link({ kind: 'operator' }, ADMIN, '+14155550177')).toMatchObject({ ok: true, changed: true });
    });

    test('the last admin with a phone cannot be unlinked; with another admin who has one, they can', async () => {
      await setup([ADMIN, OTHER_ADMIN]);
      await f.sessions.grant(OTHER_ADMIN, 'admin', await f.sessions.epoch(OTHER_ADMIN), ['sms']);
      await f.phones.link(OTHER_ADMIN, '+14155550188', OPERATOR, f.clock.now());
      // ADMIN has no phone: OTHER_ADMIN is the last admin who can step up.
      expect(await admin.unlink(AS_ADMIN, OTHER_ADMIN)).toEqual({ ok: false, reason: 'last_admin_phone' });
      expect(await f.phones.phoneOf(OTHER_ADMIN)).toBe('+14155550188');
      await f.phones.link(ADMIN, PHONE1, OPERATOR, f.clock.now());
      expect(await admin.unlink(AS_ADMIN, OTHER_ADMIN)).toMatchObject({ ok: true, hadPhone: true });
      expect(await admin.adminsWithPhone()).toEqual([ADMIN]);
    });
  });

  describe('a change is whole (invariant 13)', () => {
    /** Makes `method` of `target` throw a StoreError the next time it is called, once. */
    function failOnce<T extends object>(target: T, method: keyof T): void {
      const original = (target[method] as (...args: unknown[]) => unknown).bind(target);
      (target as Record<keyof T, unknown>)[method] = async () => {
        (target as Record<keyof T, unknown>)[method] = original;
        throw new StoreError('database is locked');
      };
    }

    test('link: the ending fails once: nothing is half done; the retry makes the whole change', async () => {
      await setup();
      await logIn(U1);
      failOnce(f.sessions, 'end');
      await expect(admin.link(AS_ADMIN, U1, '+14155550177')).rejects.toBeInstanceOf(UnfinishedChange);
      expect(await f.phones.phoneOf(U1)).toBe(PHONE1); // the phone is changed only after the ending
      expect(notices).toEqual([]);
      expect(await admin.link(AS_ADMIN, U1, '+14155550177')).toMatchObject({ ok: true, changed: true });
      expect(await f.phones.phoneOf(U1)).toBe('+14155550177');
      expect(await f.sessions.isLive(U1, 'login')).toBe(false);
      expect(notices).toHaveLength(1);
      expect(records.filter((r) => r.event === 'authn_phone_linked' && r.outcome === 'success')).toHaveLength(1);
    });

    test('link: the phone changed but the audit and the DM did not happen: the retry finishes them, not "nothing changed"', async () => {
      await setup();
      await logIn(U1);
      auditHook = (r) => {
        if (r.event === 'authn_phone_linked') {
          auditHook = () => {};
          throw new StoreError('the process stopped here');
        }
      };
      await expect(admin.link(AS_ADMIN, U1, '+14155550177')).rejects.toBeInstanceOf(UnfinishedChange);
      expect(await f.phones.phoneOf(U1)).toBe('+14155550177');
      expect(await f.sessions.isLive(U1, 'login')).toBe(false); // access ended before the phone changed
      expect(notices).toEqual([]);
      expect(await admin.link(AS_ADMIN, U1, '+14155550177')).toMatchObject({ ok: true, changed: true, resumed: true });
      expect(notices).toEqual([{ userId: U1, notice: { kind: 'phone_linked', maskedPhone: '•••• 0177', by: ADMIN } }]);
      expect(records.filter((r) => r.event === 'authn_phone_linked' && r.outcome === 'success')).toHaveLength(1);
      // Done: a third run is "already has the phone".
      expect(await admin.link(AS_ADMIN, U1, '+14155550177')).toMatchObject({ ok: true, changed: false });
    });

    test('unlink: the phone write fails after the ending: the user is logged out, and the retry completes it', async () => {
      await setup();
      await logIn(U1);
      failOnce(f.phones, 'link');
      await expect(admin.unlink(AS_ADMIN, U1)).rejects.toBeInstanceOf(UnfinishedChange);
      expect(await f.sessions.isLive(U1, 'login')).toBe(false);
      expect(await admin.unlink(AS_ADMIN, U1)).toMatchObject({ ok: true, hadPhone: true });
      expect(await f.phones.phoneOf(U1)).toBeUndefined();
      expect(notices).toEqual([{ userId: U1, notice: { kind: 'phone_unlinked', by: ADMIN } }]);
    });

    test('revoke: the DM step failed after the ending: the retry tells the user, though nothing is live any more', async () => {
      await setup();
      await logIn(U1);
      auditHook = (r) => {
        if (r.event === 'authn_session_revoked') {
          auditHook = () => {};
          throw new StoreError('the process stopped here');
        }
      };
      await expect(admin.revoke(AS_ADMIN, U1)).rejects.toBeInstanceOf(UnfinishedChange);
      expect(await f.sessions.isLive(U1, 'login')).toBe(false);
      expect(await admin.revoke(AS_ADMIN, U1)).toMatchObject({ ok: true, resumed: true, ended: [] });
      expect(notices).toEqual([{ userId: U1, notice: { kind: 'revoked', by: ADMIN } }]);
    });

    test('a failure before the change began (its record) changes nothing and is a plain store error', async () => {
      await setup();
      await logIn(U1);
      failOnce(f.store.kv, 'set');
      await expect(admin.revoke(AS_ADMIN, U1)).rejects.toMatchObject({ name: 'StoreError' });
      expect(await f.sessions.isLive(U1, 'login')).toBe(true);
    });
  });
});

describe('AuditTrail', () => {
  let f: CoreFixture;
  afterEach(async () => {
    await f.store.close().catch(() => {});
  });

  test('recent gives the newest first; trim keeps only maxEvents', async () => {
    f = await coreFixture();
    const trail = new AuditTrail(f.store, { maxAgeMs: 60 * MINUTE, maxEvents: 3 });
    for (let i = 0; i < 5; i++) {
      await trail.append({ at: f.clock.now(), event: 'authn_login_fail', userId: `U${i}AAA`, outcome: 'failure' });
      f.clock.advance(1000);
    }
    expect((await trail.recent(2)).map((r) => r.userId)).toEqual(['U4AAA', 'U3AAA']);
    expect(await trail.trim()).toBe(2);
    expect((await trail.recent(10)).map((r) => r.userId)).toEqual(['U4AAA', 'U3AAA', 'U2AAA']);
  });

  test('events expire after maxAge', async () => {
    f = await coreFixture();
    const trail = new AuditTrail(f.store, { maxAgeMs: 40, maxEvents: 100 });
    await trail.append({ at: f.clock.now(), event: 'authn_logout', userId: U1, outcome: 'success' });
    expect(await trail.recent(10)).toHaveLength(1);
    await new Promise((r) => setTimeout(r, 80)); // keyv expires by real time
    expect(await trail.recent(10)).toHaveLength(0);
  });
});
