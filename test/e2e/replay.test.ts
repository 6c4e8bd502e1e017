import { describe, expect, test } from 'vitest';
import { StoreError } from '../../src/core/ports.js';
import { wrongCode } from '../helpers/codes.js';
import { botsPerTest, type Harness, logIn, openCodeEntry, USERS } from '../helpers/harness.js';
import { until as waitFor } from '../helpers/until.js';

/**
 * Invariant 9: a signed request is acted on once. Slack's signature bounds only the timestamp, so
 * the same bytes are valid for five minutes; these tests send captured bytes again, as an attacker
 * on the path (or a confused proxy) would, and Slack's own event retries.
 */

const { alice: ADMIN, bob, carol } = USERS;
const bot = botsPerTest();

const until = (condition: () => boolean, what: string, timeoutMs = 3000) =>
  waitFor(condition, what, { timeoutMs, everyMs: 10 });

/** Runs `/admin <text>` through the step-up, so the admin scope is live afterwards. */
async function stepUp(h: Harness, text: string): Promise<void> {
  await h.requests.command('/admin', ADMIN, text);
  await h.slack.waitFor(() => h.slack.lastView().view.callback_id === 'code_entry', 'the admin code entry');
  const done = await h.requests.submitCode(ADMIN, h.slack.lastView(), h.bandwidth.lastCode());
  expect(JSON.stringify(done.json)).toContain('Admin commands are unlocked');
  await h.slack.waitFor(() => h.slack.responses.length > 0, 'the command result');
}

const dmsTo = (h: Harness, userId: string) =>
  h.slack.callsOf('chat.postMessage').filter((c) => c.args.channel === userId);

describe('a replayed request changes nothing', () => {
  test('/admin link sent again after a re-link: the phone stays, no DM, the replay is audited', async () => {
    const h = await bot();
    await logIn(h, ADMIN);
    await stepUp(h, 'sessions');

    const first = await h.requests.command('/admin', ADMIN, `link <@${carol}> +1 415 555 0177`);
    expect(first.json.text).toContain('Linked the phone *•••• 0177*');
    const captured = h.requests.sent.at(-1)!;
    const second = await h.requests.command('/admin', ADMIN, `link <@${carol}> +1 415 555 0178`);
    expect(second.json.text).toContain('Linked the phone *•••• 0178*');
    expect(dmsTo(h, carol)).toHaveLength(2);

    const replay = await h.requests.resend(captured);
    expect(await h.bot.services.phones.phoneOf(carol)).toBe('+14155550178');
    expect(dmsTo(h, carol)).toHaveLength(2);
    expect(h.logs.audit('authn_phone_linked')).toHaveLength(2);
    expect(replay.status).toBe(200);
    expect(replay.text).toBe('');
    expect(h.logs.audit('replay_dropped')).toEqual([
      expect.objectContaining({ userId: ADMIN, outcome: 'refused', detail: { kind: 'command', command: '/admin' } }),
    ]);
    // Nothing secret in the audit line: no number, no signature.
    expect(JSON.stringify(h.logs.audit('replay_dropped'))).not.toMatch(/0177|v0=/);
  });

  test('a replayed view_submission (a wrong code) does nothing: no second verify, no second attempt counted', async () => {
    const h = await bot();
    const entry = await openCodeEntry(h, bob);
    const wrong = await h.requests.submitCode(bob, entry, wrongCode(h.bandwidth.sent, 6));
    expect(wrong.json.response_action).toBe('errors');
    expect(h.bandwidth.verifies).toHaveLength(1);
    const failures = h.logs.audit('authn_login_fail').length;

    const replay = await h.requests.resend();
    expect(h.bandwidth.verifies).toHaveLength(1);
    expect(h.logs.audit('authn_login_fail')).toHaveLength(failures);
    expect(replay.status).toBe(200);
    expect(replay.text).toBe('');
    expect(h.logs.audit('replay_dropped')).toEqual([
      expect.objectContaining({ userId: bob, detail: { kind: 'view_submission' } }),
    ]);

    // The user's own next try still works.
    const right = await h.requests.submitCode(bob, entry, h.bandwidth.lastCode());
    expect(JSON.stringify(right.json)).toContain('logged in');
  });

  test('a replayed block_action (Resend code) sends no second code', async () => {
    const h = await bot();
    const entry = await openCodeEntry(h, bob);
    h.clock.advance(31_000); // past the resend cooldown
    const click = await h.requests.clickInView(bob, entry, 'resend_code');
    expect(click.status).toBe(200);
    await until(() => h.bandwidth.sent.length === 2, 'the resent code');
    const captured = h.requests.sent.at(-1)!;

    h.clock.advance(31_000); // a replay is not stopped by the cooldown
    const replay = await h.requests.resend(captured);
    expect(replay.status).toBe(200);
    // Wait for either outcome, then check which one it was.
    await until(
      () => h.logs.audit('replay_dropped').length === 1 || h.bandwidth.sent.length > 2,
      'the replay to be handled',
    );
    expect(h.bandwidth.sent).toHaveLength(2);
    expect(h.logs.audit('replay_dropped')[0]).toMatchObject({ userId: bob, detail: { kind: 'block_actions' } });
  });

  test('an event retried by Slack (X-Slack-Retry-Num, new signature, same event_id) runs once; the same bytes again too', async () => {
    const h = await bot();
    const first = await h.requests.event({ type: 'app_home_opened', user: bob, channel: 'D0BOB', tab: 'home' });
    expect(first.status).toBe(200);
    await h.slack.waitFor((calls) => calls.some((c) => c.method === 'views.publish'), 'the Home tab');
    const captured = h.requests.sent.at(-1)!;

    // Slack's retry: the same body, signed again at a later time, with the retry headers.
    const later = Math.floor(Date.now() / 1000) + 1;
    const retry = await h.requests.post(captured.body, {
      'content-type': 'application/json',
      ...h.requests.sign(captured.body, later),
      'x-slack-retry-num': '1',
      'x-slack-retry-reason': 'http_timeout',
    });
    expect(retry.status).toBe(200);
    const replay = await h.requests.resend(captured);
    expect(replay.status).toBe(200);
    await until(
      () => h.logs.audit('replay_dropped').length === 2 || h.slack.callsOf('views.publish').length > 1,
      'both deliveries to be handled',
    );
    expect(h.slack.callsOf('views.publish')).toHaveLength(1);
    expect(h.logs.audit('replay_dropped').map((l) => l.detail)).toEqual([
      { kind: 'event:app_home_opened', retryNum: 1 },
      { kind: 'event:app_home_opened' },
    ]);

    // Another event (a new event_id) still runs.
    await h.requests.event({ type: 'app_home_opened', user: bob, channel: 'D0BOB', tab: 'home' });
    await h.slack.waitFor(
      (calls) => calls.filter((c) => c.method === 'views.publish').length === 2,
      'the second Home tab',
    );
  });

  test('two instances on one database: the same bytes sent to both are acted on by one', async () => {
    const a = await bot();
    const b = await bot({ dbFile: a.dbFile, clock: a.clock });
    const opened = () => a.slack.callsOf('views.open').length + b.slack.callsOf('views.open').length;

    const first = await a.requests.command('/login', bob);
    expect(first.status).toBe(200);
    await until(() => opened() === 1, 'the login window');
    const again = await b.requests.resend(a.requests.sent.at(-1)!);
    await until(() => b.logs.audit('replay_dropped').length === 1 || opened() > 1, 'the second instance to handle it');
    expect(opened()).toBe(1);
    expect(again.status).toBe(200);
    expect(again.text).toBe('');
    expect(b.logs.audit('replay_dropped')[0]).toMatchObject({
      userId: bob,
      detail: { kind: 'command', command: '/login' },
    });
  });

  test('/whoami is not claimed: sent again, it still answers', async () => {
    const h = await bot();
    await logIn(h, bob);
    const first = await h.requests.command('/whoami', bob);
    expect(first.json.text).toContain('`login` (12 h left)');
    const again = await h.requests.resend();
    expect(again.json.text).toContain('`login` (12 h left)');
    expect(h.logs.audit('replay_dropped')).toEqual([]);
  });

  test('when the claim cannot be stored, nothing runs and the admin is told to try again', async () => {
    const h = await bot();
    await logIn(h, ADMIN);
    await stepUp(h, 'sessions');
    const dms = dmsTo(h, carol).length;
    const increment = h.store.counters.increment.bind(h.store.counters);
    h.store.counters.increment = async (key, windowMs) => {
      if (key.startsWith('seen:')) throw new StoreError('database is locked');
      return increment(key, windowMs);
    };

    const refused = await h.requests.command('/admin', ADMIN, `link <@${carol}> +1 415 555 0177`);
    expect(await h.bot.services.phones.phoneOf(carol)).not.toBe('+14155550177');
    expect(dmsTo(h, carol)).toHaveLength(dms);
    expect(h.logs.audit('authn_phone_linked')).toEqual([]);
    expect(refused.json).toEqual({
      response_type: 'ephemeral',
      text: expect.stringContaining("I can't reach my database right now"),
    });
  });
});
