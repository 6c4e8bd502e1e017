import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { botsPerTest, type Harness, logIn, PHONES, USERS } from '../helpers/harness.js';
import { serve } from '../helpers/serve.js';

/**
 * Invariants 11 and 12: what a person confirms is what runs, and authority is read when it acts.
 * A step-up window runs the command it shows or nothing; an admin removed from the config, or a user
 * no longer in a declared command's `allow`, runs nothing with a code entered afterwards.
 */

const { alice: ADMIN, bob, carol } = USERS;
const bot = botsPerTest();

const viewText = (view: unknown) => JSON.stringify(view);

/** Types `/admin <text>` and waits for its window to take a code; returns that window. */
async function adminWindow(h: Harness, text: string): Promise<{ id: string; view: any }> {
  const opened = h.slack.callsOf('views.open').length;
  await h.requests.command('/admin', ADMIN, text);
  await h.slack.waitFor((calls) => calls.filter((c) => c.method === 'views.open').length > opened, 'a window');
  const id = h.slack.lastView().id;
  if (h.slack.lastView().view.callback_id === 'delivery_choice')
    await h.requests.chooseDelivery(ADMIN, h.slack.lastView(), 'sms');
  await h.slack.waitFor(
    () => h.slack.lastView().id === id && h.slack.lastView().view.callback_id === 'code_entry',
    'the code entry',
  );
  return h.slack.lastView();
}

describe('a step-up window runs the command it shows, or nothing (invariant 11)', () => {
  test('two commands on one open request: the first window is replaced and runs nothing; the second runs its own', async () => {
    const h = await bot();
    await logIn(h, ADMIN);
    await logIn(h, bob);
    const first = await adminWindow(h, `revoke <@${bob}>`);
    expect(viewText(first.view)).toContain(`This code runs \`/admin revoke\` <@${bob}>`);
    const second = await adminWindow(h, `unlink <@${carol}>`);
    expect(viewText(second.view)).toContain(`This code runs \`/admin unlink\` <@${carol}>`);
    expect(viewText(second.view)).toContain('The code I sent you earlier still works');
    const code = h.bandwidth.lastCode();
    const verifies = h.bandwidth.verifies.length;

    // The code typed in the first window (which shows the revoke) unlinks nobody and revokes nobody.
    const inFirst = await h.requests.submitCode(ADMIN, first, code);
    expect(inFirst.json.response_action).toBe('update');
    expect(viewText(inFirst.json.view)).toContain('This window was replaced');
    expect(viewText(inFirst.json.view)).toContain(`\`/admin unlink\` <@${carol}>`);
    expect(h.bandwidth.verifies).toHaveLength(verifies); // no code was checked, so none was used up
    expect(await h.bot.services.phones.phoneOf(carol)).toBe(PHONES.carol);
    expect(await h.bot.services.sessions.isLive(bob, 'login')).toBe(true);

    // The second window runs what it shows.
    const inSecond = await h.requests.submitCode(ADMIN, second, code);
    expect(viewText(inSecond.json.view)).toContain(`I'm running \`/admin unlink\` <@${carol}> now`);
    await h.slack.waitFor(() => h.slack.responses.length > 0, 'the result');
    expect(await h.bot.services.phones.phoneOf(carol)).toBeUndefined();
    expect(await h.bot.services.sessions.isLive(bob, 'login')).toBe(true);
  });

  test('a replaced window sends no code either: Resend says it was replaced', async () => {
    const h = await bot();
    await logIn(h, ADMIN);
    const first = await adminWindow(h, `revoke <@${bob}>`);
    await adminWindow(h, 'sessions');
    h.clock.advance(31_000);
    const sent = h.bandwidth.sent.length;
    await h.requests.clickInView(ADMIN, first, 'resend_code');
    await h.slack.waitFor(
      (calls) => calls.some((c) => c.method === 'views.update' && viewText(c.args.view).includes('was replaced')),
      'the replaced notice',
    );
    expect(h.bandwidth.sent).toHaveLength(sent);
  });

  test('the success view and the window never show the whole number of an /admin link', async () => {
    const h = await bot();
    await logIn(h, ADMIN);
    const window = await adminWindow(h, `link <@${carol}> +1 (415) 555-0177`);
    expect(viewText(window.view)).toContain('*•••• 0177*');
    const done = await h.requests.submitCode(ADMIN, window, h.bandwidth.lastCode());
    const shown = viewText(done.json.view);
    expect(shown).toContain(`\`/admin link\` <@${carol}> *•••• 0177*`);
    expect(shown).not.toMatch(/555.?0177/);
    expect(viewText(window.view)).not.toMatch(/555.?0177/);
  });
});

describe('authority is read when the command acts (invariant 12)', () => {
  test('an admin removed from [policy] admins before typing the code: nothing runs, in plain words, audited', async () => {
    const h = await bot();
    await logIn(h, ADMIN);
    await logIn(h, bob);
    const window = await adminWindow(h, `revoke <@${bob}>`);
    const code = h.bandwidth.lastCode();
    // The config changes and the bot restarts (or another replica with the new config answers).
    await h.stop();
    const later = await bot({ dbFile: h.dbFile, clock: h.clock, env: { POLICY_ADMINS: carol } });
    later.bandwidth.sent.push(...h.bandwidth.sent);

    const done = await later.requests.submitCode(ADMIN, window, code);
    expect(done.json.response_action).toBe('update');
    await later.slack.waitFor(() => later.slack.responses.length > 0, 'the result');
    expect(later.slack.responses[0]!.body.text).toBe("You're no longer an admin here, so nothing was run.");
    expect(await later.bot.services.sessions.isLive(bob, 'login')).toBe(true);
    expect(later.logs.audit('authz_fail').at(-1)).toMatchObject({
      userId: ADMIN,
      outcome: 'refused',
      detail: { command: '/admin revoke', reason: 'no_longer_admin' },
    });
    expect(later.logs.audit('authn_session_revoked')).toEqual([]);
  });
});

describe('a declared command reads its `allow` when it runs (invariant 12)', () => {
  test('a step-up for /deploy, then `allow` no longer lists the user: the right code calls no endpoint', async () => {
    const calls: string[] = [];
    const endpoint = await serve((req, res) => {
      calls.push(req.url ?? '');
      res.writeHead(200, { 'content-type': 'text/plain' }).end('deployed');
    });
    const keyDir = mkdtempSync(join(tmpdir(), 'phonegate-keys-'));
    const config = (allow: string) =>
      `[command /deploy]\nurl = ${endpoint.origin}/hooks/deploy\nscope = admin\nallow = ${allow}\n\n[actions]\nsigning_key_file = ${join(keyDir, 'key.pem')}\n`;
    try {
      const h = await bot({ fileText: config(bob) });
      await logIn(h, bob);
      await h.requests.command('/deploy', bob, 'api 1.4.2');
      await h.slack.waitFor(() => h.slack.lastView().view.callback_id === 'code_entry', 'the step-up window');
      const window = h.slack.lastView();
      expect(viewText(window.view)).toContain('This code runs `/deploy api 1.4.2`');
      const code = h.bandwidth.lastCode();
      await h.stop();

      const later = await bot({ dbFile: h.dbFile, clock: h.clock, fileText: config(carol) });
      later.bandwidth.sent.push(...h.bandwidth.sent);
      const done = await later.requests.submitCode(bob, window, code);
      expect(viewText(done.json.view)).toContain('Admin commands are unlocked');
      await later.slack.waitFor(() => later.slack.responses.length > 0, 'the result');
      expect(later.slack.responses[0]!.body.text).toContain("You're not on the list of people who can run `/deploy`");
      expect(calls).toEqual([]);
      expect(later.logs.audit('action_run')).toEqual([
        expect.objectContaining({
          userId: bob,
          outcome: 'refused',
          detail: { command: '/deploy', reason: 'not_allowed' },
        }),
      ]);
    } finally {
      await endpoint.close();
      rmSync(keyDir, { recursive: true, force: true });
    }
  });
});

describe('a send that lands after an ending saves nothing (issue 18 §4)', () => {
  test('/logout while the first code is on its way: the next /login asks for the delivery method again', async () => {
    const h = await bot();
    await h.requests.command('/login', bob);
    await h.slack.waitFor((calls) => calls.some((c) => c.method === 'views.open'), 'the delivery choice');
    h.bandwidth.failNext('messaging', { delayMs: 300 });
    await h.requests.chooseDelivery(bob, h.slack.lastView(), 'sms'); // acked at once; the send goes on
    const out = await h.requests.command('/logout', bob);
    expect(out.json.text).toContain("You weren't logged in");
    await h.slack.waitFor(() => h.bandwidth.sent.length === 1, 'the slow send to finish');
    await h.slack.waitFor(
      (calls) =>
        calls.some((c) => c.method === 'views.update' && viewText(c.args.view).includes('This request was ended')),
      'the window to say the request ended',
    );

    expect(await h.bot.services.sessions.delivery(bob)).toBeUndefined();
    const opened = h.slack.callsOf('views.open').length;
    await h.requests.command('/login', bob);
    await h.slack.waitFor((calls) => calls.filter((c) => c.method === 'views.open').length > opened, 'the next window');
    expect(h.slack.lastView().view.callback_id).toBe('delivery_choice');
    expect(h.bandwidth.sent).toHaveLength(1);
  });
});
