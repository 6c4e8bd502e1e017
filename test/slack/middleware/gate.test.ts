import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { adminsOnly, gate } from '../../../src/slack/middleware/gate.js';
import { notAnAdmin } from '../../../src/slack/views/admin-text.js';
import { loginRequired, unavailable } from '../../../src/slack/views/text.js';
import { type Core, errorsLogged, FakeBolt, realCore } from '../../helpers/bolt-args.js';
import { USERS } from '../../helpers/harness.js';

let core: Core;
beforeEach(async () => {
  core = await realCore();
});
afterEach(() => core.close());

async function grant(userId: string, scope: 'login' | 'admin'): Promise<void> {
  await core.s.sessions.grant(userId, scope, await core.s.sessions.epoch(userId), ['sms']);
}

describe('gate(scope)', () => {
  // Rule: a live scope passes without an ack: the command itself answers.
  test('a live scope: next() runs, nothing is acknowledged or audited here', async () => {
    await grant(USERS.bob, 'login');
    const slack = new FakeBolt();
    await gate('login', core.s)(slack.command('/whoami', USERS.bob));
    expect(slack.nextCalls).toBe(1);
    expect(slack.acks).toEqual([]);
    expect(core.logs.audit('authz_fail')).toEqual([]);
  });

  // Rule: the gate's one read goes on to the command (context.user), so the command reads nothing again.
  test('what the gate read goes on to the command as context.user', async () => {
    await grant(USERS.bob, 'login');
    const slack = new FakeBolt();
    const args = slack.command('/whoami', USERS.bob);
    await gate('login', core.s)(args);
    expect(args.context.user).toMatchObject({ userId: USERS.bob, phone: '+14155550102', scopes: [{ scope: 'login' }] });
  });

  test('no live scope: refused in the ack with the command named, audited, next() never runs', async () => {
    const slack = new FakeBolt();
    await gate('login', core.s)(slack.command('/whoami', USERS.bob));
    expect(slack.nextCalls).toBe(0);
    expect(slack.acks).toEqual([{ response_type: 'ephemeral', text: loginRequired('/whoami') }]);
    expect(loginRequired('/whoami')).toContain('`/whoami` needs you to log in first');
    expect(core.logs.audit('authz_fail')).toMatchObject([
      { userId: USERS.bob, scope: 'login', outcome: 'refused', detail: { command: '/whoami' } },
    ]);
  });

  // Rule: a scope is per scope: a live login does not pass an admin gate, and an expired one passes nothing.
  test('the scope asked for, and only while it lasts', async () => {
    await grant(USERS.bob, 'login');
    const admin = new FakeBolt();
    await gate('admin', core.s)(admin.command('/admin', USERS.bob));
    expect(admin.nextCalls).toBe(0);
    core.clock.advance(12 * 60 * 60_000 + 1);
    const later = new FakeBolt();
    await gate('login', core.s)(later.command('/whoami', USERS.bob));
    expect(later.nextCalls).toBe(0);
  });

  // Rule (invariant 4): fail closed.
  test('the store fails: the plain "try again" in the ack, next() never runs', async () => {
    await grant(USERS.bob, 'login');
    await core.store.close();
    const slack = new FakeBolt();
    await gate('login', core.s)(slack.command('/whoami', USERS.bob));
    expect(slack.nextCalls).toBe(0);
    expect(slack.acks).toEqual([{ response_type: 'ephemeral', text: unavailable }]);
    expect(errorsLogged(core.logs).map((l) => l.msg)).toContain('gate could not read the session');
  });
});

describe('adminsOnly', () => {
  test('an admin passes', async () => {
    const slack = new FakeBolt();
    await adminsOnly(core.s)(slack.command('/admin', USERS.alice, 'sessions'));
    expect(slack.nextCalls).toBe(1);
    expect(slack.acks).toEqual([]);
  });

  // Rule: anyone else is refused before anything happens: no code is sent, and the refusal is audited.
  test('anyone else: refused in the ack, audited with the reason, no code sent, next() never runs', async () => {
    await grant(USERS.bob, 'login');
    await grant(USERS.bob, 'admin'); // even a (stray) admin scope does not make Bob an admin
    const slack = new FakeBolt();
    await adminsOnly(core.s)(slack.command('/admin', USERS.bob, `revoke <@${USERS.alice}>`));
    expect(slack.nextCalls).toBe(0);
    expect(slack.acks).toEqual([{ response_type: 'ephemeral', text: notAnAdmin }]);
    expect(core.logs.audit('authz_fail')).toMatchObject([
      { userId: USERS.bob, scope: 'admin', outcome: 'refused', detail: { command: '/admin', reason: 'not_admin' } },
    ]);
    expect(core.provider.sent).toHaveLength(0);
  });
});
