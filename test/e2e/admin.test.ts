import nock from 'nock';
import { afterAll, afterEach, beforeEach, describe, expect, test } from 'vitest';
import { type Harness, logIn, openCodeEntry, PHONES, removeTempDirs, startBot, USERS } from '../helpers/harness.js';

let h: Harness;
beforeEach(async () => {
  h = await startBot();
});
afterEach(async () => {
  await h.stop();
});
afterAll(() => {
  removeTempDirs();
  nock.restore();
});

const viewText = (view: unknown) => JSON.stringify(view);
const { alice: ADMIN, bob, carol } = USERS;

/** Runs `/admin <text>` without a live admin scope: returns the code-entry window of the step-up. */
async function startStepUp(text: string) {
  const opened = h.slack.callsOf('views.open').length;
  const ack = await h.requests.command('/admin', ADMIN, text);
  expect(ack.status).toBe(200);
  expect(ack.text).toBe(''); // the modal opens at once; the reply comes later
  await h.slack.waitFor(
    (calls) => calls.filter((c) => c.method === 'views.open').length > opened,
    'the step-up window',
  );
  await h.slack.waitFor(() => h.slack.lastView().view.callback_id === 'code_entry', 'the admin code entry');
  return h.slack.lastView();
}

async function stepUp(text: string) {
  const entry = await startStepUp(text);
  const done = await h.requests.submitCode(ADMIN, entry, h.bandwidth.lastCode());
  expect(viewText(done.json.view)).toContain('Admin commands are unlocked for 15 min');
  await h.slack.waitFor(() => h.slack.responses.length > 0, 'the command result at the response_url');
  return done;
}

describe('who may use /admin', () => {
  test('a non-admin is refused before any code is sent, and the refusal is audited', async () => {
    await logIn(h, bob);
    const sentBefore = h.bandwidth.sent.length;
    const refused = await h.requests.command('/admin', bob, 'sessions');
    expect(refused.json).toEqual({
      response_type: 'ephemeral',
      text: 'Only admins can use `/admin`. If you need something done, ask an admin.',
    });
    expect(h.bandwidth.sent.length).toBe(sentBefore);
    expect(h.slack.callsOf('views.open')).toHaveLength(1); // bob's login only
    expect(h.logs.audit('authz_fail').at(-1)).toMatchObject({
      userId: bob,
      scope: 'admin',
      outcome: 'refused',
      detail: { reason: 'not_admin' },
    });
  });

  test('an admin must be logged in first', async () => {
    const refused = await h.requests.command('/admin', ADMIN, 'sessions');
    expect(refused.json.text).toContain('`/admin` needs you to log in first');
    expect(h.bandwidth.sent).toEqual([]);
  });

  test('help, unknown subcommands and bad arguments are answered at once, without a code', async () => {
    await logIn(h, ADMIN);
    expect((await h.requests.command('/admin', ADMIN, '')).json.text).toContain('*Admin commands*');
    expect((await h.requests.command('/admin', ADMIN, 'frobnicate')).json.text).toContain("I don't know `frobnicate`");
    expect((await h.requests.command('/admin', ADMIN, 'revoke')).json.text).toBe(
      'Name exactly one user, as an @mention. Usage: `/admin revoke @user`',
    );
    expect((await h.requests.command('/admin', ADMIN, 'audit 500')).json.text).toContain('Usage: `/admin audit');
    expect(h.bandwidth.sent).toHaveLength(1); // the login code only
  });
});

describe('step-up', () => {
  test('a fresh admin code, by the method chosen at login; the command then runs once, where it was typed', async () => {
    await logIn(h, ADMIN, 'voice');
    await logIn(h, bob);
    await stepUp('sessions');
    const adminCode = h.bandwidth.sent.at(-1)!;
    expect(adminCode).toMatchObject({
      channel: 'voice',
      scope: expect.stringMatching(/^admin-[0-9a-f]{12}$/),
      to: PHONES.alice,
    });
    expect(adminCode.message).toContain('Your PhoneGate admin code is {CODE}');
    expect(adminCode.message).not.toContain(adminCode.scope);
    expect(h.slack.responses).toHaveLength(1);
    expect(h.slack.responses[0]!.body).toEqual({
      response_type: 'ephemeral',
      text: expect.stringContaining('*Live sessions*'),
    });
    expect(h.slack.responses[0]!.body.text).toContain(`<@${bob}>: \`login\` 12 h left`);
    expect(h.slack.responses[0]!.body.text).toContain(`<@${ADMIN}>: \`admin\` 15 min left`);

    // Submitting the same window again neither grants nor runs anything twice.
    const again = await h.requests.submitCode(ADMIN, h.slack.lastView(), adminCode.code);
    expect(viewText(again.json)).not.toContain('unlocked');
    await new Promise((r) => setTimeout(r, 50));
    expect(h.slack.responses).toHaveLength(1);
  });

  test('if the response_url is refused, the result of the pending command comes by direct message', async () => {
    await logIn(h, ADMIN);
    h.slack.refuseResponseUrls = true;
    const entry = await startStepUp('sessions');
    await h.requests.submitCode(ADMIN, entry, h.bandwidth.lastCode());
    await h.slack.waitFor(
      (calls) => calls.some((c) => c.method === 'chat.postMessage' && c.args.channel === ADMIN),
      'the DM',
    );
    expect(h.slack.callsOf('chat.postMessage').find((c) => c.args.channel === ADMIN)!.args.text).toContain(
      '*Live sessions*',
    );
  });

  test('with a live admin scope, the next command runs at once, in the acknowledgement', async () => {
    await logIn(h, ADMIN);
    await stepUp('sessions');
    const sent = h.bandwidth.sent.length;
    const direct = await h.requests.command('/admin', ADMIN, 'sessions');
    expect(direct.json.text).toContain('*Live sessions*');
    expect(h.bandwidth.sent.length).toBe(sent);
  });

  test('a login code never unlocks admin', async () => {
    const loginCode = await logIn(h, ADMIN);
    const entry = await startStepUp('sessions'); // at once: no wait after the login code
    const refused = await h.requests.submitCode(ADMIN, entry, loginCode);
    expect(refused.json.response_action).toBe('errors');
    // Used codes are remembered, so the provider is not even asked; nothing under an admin scope accepted it.
    expect(h.bandwidth.verifies.filter((v) => v.scope.startsWith('admin-') && v.valid)).toEqual([]);
    expect(h.slack.responses).toEqual([]);
    expect(await h.bot.services.sessions.isLive(ADMIN, 'admin')).toBe(false);
  });

  test('an admin code never unlocks login', async () => {
    await logIn(h, ADMIN);
    await startStepUp('sessions');
    const adminCode = h.bandwidth.lastCode();
    await h.requests.command('/logout', ADMIN);
    const entry = await openCodeEntry(h, ADMIN);
    const refused = await h.requests.submitCode(ADMIN, entry, adminCode);
    expect(refused.json.response_action).toBe('errors');
    expect(h.bandwidth.verifies.at(-1)).toMatchObject({
      scope: expect.stringMatching(/^login-/),
      code: adminCode,
      valid: false,
    });
    expect((await h.requests.command('/whoami', ADMIN)).json.text).toContain('needs you to log in first');
  });
});

describe('subcommands', () => {
  test("revoke ends the user's session and tells them by direct message", async () => {
    await logIn(h, ADMIN);
    await logIn(h, bob);
    await stepUp(`revoke <@${bob}|bob>`);
    expect(h.slack.responses[0]!.body.text).toBe(
      `Ended <@${bob}>'s session (login). They got a direct message saying so.`,
    );
    expect(h.slack.callsOf('chat.postMessage').find((c) => c.args.channel === bob)!.args.text).toContain(
      `<@${ADMIN}> ended your session`,
    );
    expect((await h.requests.command('/whoami', bob)).json.text).toContain('needs you to log in first');
    expect(h.logs.audit('authn_session_revoked')[0]).toMatchObject({ userId: bob, actorId: ADMIN });
  });

  test('link changes a phone: refuses bad numbers with the reason, ends the session, DMs the user; the link wins over config', async () => {
    await logIn(h, ADMIN);
    await logIn(h, bob);
    await stepUp('sessions');
    const refusals = await Promise.all(
      ['1-900-555-0101', '+1 800 555 0199', '+44 7911 123456', 'not a number'].map(
        async (phone) => (await h.requests.command('/admin', ADMIN, `link <@${bob}> ${phone}`)).json.text,
      ),
    );
    expect(refusals).toEqual([
      "I didn't link that number. That is a premium-rate number; codes only go to a personal phone.",
      "I didn't link that number. That is a toll-free number; codes only go to a personal phone.",
      "I didn't link that number. Numbers in Guernsey (GG) are not allowed here (allowed: US, CA).",
      "I didn't link that number. That is not a valid phone number.",
    ]);
    expect((await h.requests.command('/whoami', bob)).json.text).toContain('`login`');

    const linked = await h.requests.command('/admin', ADMIN, `link <@${bob}|bob> (415) 555-0177`);
    expect(linked.json.text).toBe(
      `Linked the phone *•••• 0177* to <@${bob}>; their session (login) was ended. They got a direct message.`,
    );
    expect(h.slack.callsOf('chat.postMessage').find((c) => c.args.channel === bob)!.args.text).toContain(
      'linked the phone *•••• 0177*',
    );
    expect((await h.requests.command('/whoami', bob)).json.text).toContain('needs you to log in first');
    await logIn(h, bob); // at once, to the new phone
    expect(h.bandwidth.sent.at(-1)!.to).toBe('+14155550177');
  });

  test('unlink leaves the user with no phone until one is linked', async () => {
    await logIn(h, ADMIN);
    await logIn(h, carol);
    await stepUp(`unlink <@${carol}>`);
    expect(h.slack.responses[0]!.body.text).toContain(`Removed <@${carol}>'s phone; their session (login) was ended.`);
    const login = await h.requests.command('/login', carol);
    expect(login.json.text).toContain('No phone is linked to your Slack account');
    expect(h.logs.audit('authn_phone_unlinked')[0]).toMatchObject({
      userId: carol,
      actorId: ADMIN,
      detail: { hadPhone: true },
    });
  });

  test('audit lists the latest events with masked phones only', async () => {
    await logIn(h, bob);
    await logIn(h, ADMIN);
    await stepUp('audit 5');
    const text = h.slack.responses[0]!.body.text as string;
    expect(text).toContain('*Latest 5 security events* (newest first)');
    expect(text.split('\n')).toHaveLength(6);
    expect(text).toContain('`authn_login_success`');
    expect(text).not.toContain(PHONES.alice);
    expect(text).not.toContain(PHONES.bob);
    const direct = await h.requests.command('/admin', ADMIN, 'audit');
    expect(direct.json.text).toContain('`authn_otp_sent`');
    expect(direct.json.text).toContain('•••• 0102');
  });
});

describe('slow work', () => {
  test('an admin command that misses the deadline is acknowledged at once and answered at the response_url', async () => {
    await h.stop();
    h = await startBot({ slackDeadlineMs: 0 });
    const login = await openCodeEntry(h, ADMIN);
    await h.requests.submitCode(ADMIN, login, h.bandwidth.lastCode()); // answered "checking…"; the success follows by views.update
    await h.slack.waitFor(() => viewText(h.slack.lastView().view).includes("You're logged in"), 'the login');
    const entry = await startStepUp('sessions');
    await h.requests.submitCode(ADMIN, entry, h.bandwidth.lastCode());
    await h.slack.waitFor(() => h.slack.responses.length === 1, 'the step-up result');
    const direct = await h.requests.command('/admin', ADMIN, 'sessions');
    expect(direct.status).toBe(200);
    expect(direct.text).toBe('');
    await h.slack.waitFor(() => h.slack.responses.length === 2, 'the late reply');
    expect(h.slack.responses[1]!.body).toEqual({
      response_type: 'ephemeral',
      text: expect.stringContaining('*Live sessions*'),
    });
  });
});

describe('App Home and notices', () => {
  test('opening the Home tab publishes the status; its buttons open the same modals', async () => {
    await h.requests.event({ type: 'app_home_opened', user: bob, channel: 'D0BOB', tab: 'home' });
    await h.slack.waitFor((calls) => calls.some((c) => c.method === 'views.publish'), 'views.publish');
    const home = h.slack.callsOf('views.publish')[0]!.args;
    expect(home.user_id).toBe(bob);
    expect(viewText(home.view)).toContain('•••• 0102');
    expect(viewText(home.view)).toContain('_Not logged in._');
    expect(viewText(home.view)).toContain('home_login');

    await h.requests.clickInHome(bob, 'home_login');
    await h.slack.waitFor((calls) => calls.some((c) => c.method === 'views.open'), 'the login modal');
    expect(h.slack.lastView().view.callback_id).toBe('delivery_choice');
    await h.requests.chooseDelivery(bob, h.slack.lastView(), 'voice');
    await h.slack.waitFor(() => h.slack.lastView().view.callback_id === 'code_entry');
    await h.requests.submitCode(bob, h.slack.lastView(), h.bandwidth.lastCode());
    await h.slack.waitFor(
      (calls) => calls.filter((c) => c.method === 'views.publish').length === 2,
      'the refreshed Home tab',
    );
    const after = h.slack.callsOf('views.publish')[1]!.args.view;
    expect(viewText(after)).toContain('`login`: 12 h left');
    expect(viewText(after)).toContain('voice call');
    expect(viewText(after)).toContain('home_logout');

    await h.requests.clickInHome(bob, 'home_change_delivery');
    await h.slack.waitFor(() => h.slack.lastView().view.callback_id === 'delivery_preference', 'the preference modal');
    const saved = await h.requests.chooseDelivery(bob, h.slack.lastView(), 'sms');
    expect(saved.status).toBe(200);
    expect(saved.text).toBe('');
    expect(await h.bot.services.sessions.delivery(bob)).toBe('sms');

    await h.requests.clickInHome(bob, 'home_logout');
    await h.slack.waitFor(
      (calls) => calls.filter((c) => c.method === 'views.publish').length === 4,
      'the Home tab after logout',
    );
    expect(viewText(h.slack.callsOf('views.publish')[3]!.args.view)).toContain('_Not logged in._');
    expect((await h.requests.command('/whoami', bob)).json.text).toContain('needs you to log in first');
  });

  test('a lock after too many wrong codes is told by direct message', async () => {
    h.clock.advance(0);
    for (let round = 0; round < 2; round++) {
      const entry = await openCodeEntry(h, bob);
      for (let i = 0; i < 5; i++) await h.requests.submitCode(bob, entry, h.bandwidth.wrongCode());
      h.clock.advance(61_000);
    }
    const dm = h.slack.callsOf('chat.postMessage').find((c) => c.args.channel === bob);
    expect(dm?.args.text).toContain('Too many wrong codes were entered for your account');
    expect((await h.requests.command('/login', bob)).json.text).toContain('codes are blocked until');
  });
});
