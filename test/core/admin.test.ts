import { afterEach, describe, expect, test } from 'vitest';
import { AdminActions } from '../../src/core/admin.js';
import { AuditLog, type AuditRecord, AuditTrail } from '../../src/core/audit.js';
import { parsePhone } from '../../src/core/phones.js';
import type { Notice } from '../../src/core/ports.js';
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

  async function setup() {
    f = await coreFixture();
    records = [];
    notices = [];
    trail = new AuditTrail(f.store.kv);
    const audit = new AuditLog(f.clock, [(r) => void records.push(r), (r) => trail.append(r)]);
    admin = new AdminActions({
      admins: [ADMIN],
      phoneRules: { allowedRegions: ['US', 'CA'], allowedCallingCodes: [] },
      phones: f.phones,
      sessions: f.sessions,
      requests: f.requests,
      audit,
      trail,
      notifier: { notify: async (userId, notice) => void notices.push({ userId, notice }) },
      clock: f.clock,
    });
  }
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
    await f.sessions.grant(U1, 'login', await f.sessions.epoch(U1));
    f.clock.advance(MINUTE);
    const pending = await requestCode(f, U1, 'admin');
    const result = await admin.link(ADMIN, U1, '(415) 555-0199');
    expect(result).toEqual({
      ok: true,
      changed: true,
      maskedPhone: '•••• 0199',
      ended: [expect.objectContaining({ scope: 'login' })],
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
    await f.sessions.grant(U1, 'login', await f.sessions.epoch(U1));
    expect(await admin.link(ADMIN, U1, PHONE1)).toEqual({
      ok: true,
      changed: false,
      maskedPhone: '•••• 0111',
      ended: [],
    });
    expect(await f.sessions.isLive(U1, 'login')).toBe(true);
    expect(notices).toEqual([]);
  });

  test('link: a refused number changes nothing, and the refusal is audited with its reason', async () => {
    await setup();
    await f.sessions.grant(U1, 'login', await f.sessions.epoch(U1));
    expect(await admin.link(ADMIN, U1, '1-900-555-0101')).toMatchObject({ ok: false, reason: 'not_personal' });
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
    expect(await admin.link(ADMIN, U1, '+1 876 210 1234')).toEqual({
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
    await f.sessions.grant(U1, 'login', await f.sessions.epoch(U1));
    expect(await admin.unlink(ADMIN, U1)).toEqual({
      hadPhone: true,
      ended: [expect.objectContaining({ scope: 'login' })],
    });
    expect(await f.phones.phoneOf(U1)).toBeUndefined();
    expect(await f.requests.open(U1, 'login')).toEqual({ ok: false, reason: 'no_phone' });
    expect(notices).toEqual([{ userId: U1, notice: { kind: 'phone_unlinked', by: ADMIN } }]);
    await admin.link(ADMIN, U1, '+14155550177');
    expect(await f.phones.phoneOf(U1)).toBe('+14155550177');
  });

  test('revoke: ends every scope of the target only, tells them, is audited; nothing live means no message', async () => {
    await setup();
    await f.sessions.grant(U1, 'login', await f.sessions.epoch(U1));
    await f.sessions.grant(U1, 'admin', await f.sessions.epoch(U1));
    await f.sessions.grant(U2, 'login', await f.sessions.epoch(U2));
    expect((await admin.revoke(ADMIN, U1)).map((s) => s.scope)).toEqual(['login', 'admin']);
    expect(await f.sessions.liveScopes(U1)).toEqual([]);
    expect(await f.sessions.isLive(U2, 'login')).toBe(true);
    expect(notices).toEqual([{ userId: U1, notice: { kind: 'revoked', by: ADMIN } }]);
    expect(records.at(-1)).toMatchObject({
      event: 'authn_session_revoked',
      userId: U1,
      actorId: ADMIN,
      detail: { scopes: 'login,admin' },
    });
    expect(await admin.revoke(ADMIN, U1)).toEqual([]);
    expect(notices).toHaveLength(1);
  });

  test('liveSessions and recentEvents are audited as admin commands', async () => {
    await setup();
    await f.sessions.grant(U2, 'login', await f.sessions.epoch(U2));
    expect(await admin.liveSessions(ADMIN)).toEqual([expect.objectContaining({ userId: U2, scope: 'login' })]);
    const events = await admin.recentEvents(ADMIN, 5);
    expect(events.map((e) => e.event)).toEqual(['authz_admin']);
    expect(records.map((r) => r.event)).toEqual(['authz_admin', 'authz_admin']);
  });
});

describe('AuditTrail', () => {
  let f: CoreFixture;
  afterEach(async () => {
    await f.store.close().catch(() => {});
  });

  test('recent gives the newest first; trim keeps only maxEvents', async () => {
    f = await coreFixture();
    const trail = new AuditTrail(f.store.kv, { maxAgeMs: 60 * MINUTE, maxEvents: 3 });
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
    const trail = new AuditTrail(f.store.kv, { maxAgeMs: 40, maxEvents: 100 });
    await trail.append({ at: f.clock.now(), event: 'authn_logout', userId: U1, outcome: 'success' });
    expect(await trail.recent(10)).toHaveLength(1);
    await new Promise((r) => setTimeout(r, 80)); // keyv expires by real time
    expect(await trail.recent(10)).toHaveLength(0);
  });
});
