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

describe('/login, end to end over a signed HTTP receiver', () => {
  test('SMS: command -> delivery modal -> code sent -> code entry -> logged in -> /whoami works', async () => {
    const ack = await h.requests.command('/login', USERS.alice);
    expect(ack.status).toBe(200);
    expect(ack.text).toBe('');

    await h.slack.waitFor((calls) => calls.some((c) => c.method === 'views.open'));
    const choice = h.slack.lastView();
    expect(choice.view.callback_id).toBe('delivery_choice');
    expect(viewText(choice.view)).toContain('•••• 0101');
    expect(viewText(choice.view)).not.toContain(PHONES.alice);
    expect(h.slack.callsOf('views.open')[0]!.authorization).toBe(`Bearer ${h.config.slack.botToken}`);

    const chosen = await h.requests.chooseDelivery(USERS.alice, choice, 'sms');
    expect(chosen.json.response_action).toBe('update');
    expect(viewText(chosen.json.view)).toContain('Sending a code');

    await h.slack.waitFor(() => h.slack.lastView().view.callback_id === 'code_entry');
    const entry = h.slack.lastView();
    expect(entry.id).toBe(choice.id);
    expect(viewText(entry.view)).toContain('6-digit code by text message to *•••• 0101*');

    expect(h.bandwidth.sent).toHaveLength(1);
    const sent = h.bandwidth.sent[0]!;
    expect(sent).toMatchObject({
      channel: 'messaging',
      to: PHONES.alice,
      from: '+14155550100',
      applicationId: 'messaging-app-0001',
      scope: expect.stringMatching(/^login-[0-9a-f]{12}$/),
      digits: 6,
    });
    expect(sent.message).toContain('{CODE}');
    expect(sent.message).toContain('PhoneGate');
    expect(sent.message).toContain('login');

    const verified = await h.requests.submitCode(USERS.alice, entry, sent.code);
    expect(verified.json.response_action).toBe('update');
    expect(viewText(verified.json.view)).toContain("You're logged in for 12 h");
    expect(h.bandwidth.verifies).toEqual([
      expect.objectContaining({
        to: PHONES.alice,
        scope: sent.scope,
        code: sent.code,
        expirationTimeInMinutes: 5,
        valid: true,
      }),
    ]);

    const whoami = await h.requests.command('/whoami', USERS.alice);
    expect(whoami.json.response_type).toBe('ephemeral');
    expect(whoami.json.text).toContain('•••• 0101');
    expect(whoami.json.text).toContain('text message');
    expect(whoami.json.text).toContain('`login` (12 h left)');
    expect(h.bandwidth.badRequests).toEqual([]);
  });

  test('voice: the voice endpoint with the voice application id', async () => {
    await logIn(h, USERS.bob, 'voice');
    expect(h.bandwidth.sent[0]).toMatchObject({
      channel: 'voice',
      applicationId: 'voice-app-0001',
      to: PHONES.bob,
      scope: expect.stringMatching(/^login-/),
    });
    expect(h.bandwidth.verifies[0]).toMatchObject({ to: PHONES.bob, scope: h.bandwidth.sent[0]!.scope, valid: true });
  });

  test('a chosen delivery method is reused: the next /login skips the choice', async () => {
    await logIn(h, USERS.alice, 'voice');
    await h.requests.command('/logout', USERS.alice); // forgets it...
    const shown = await openCodeEntry(h, USERS.alice, 'sms');
    expect(h.slack.callsOf('views.open').at(-1)!.args.view.callback_id).toBe('delivery_choice'); // ...so it asks again
    expect(shown.view.callback_id).toBe('code_entry');

    // Within a session, a second request (here: after closing the window) skips the choice.
    const opened = h.slack.callsOf('views.open').length;
    await h.requests.command('/login', USERS.alice);
    await h.slack.waitFor((calls) => calls.filter((c) => c.method === 'views.open').length === opened + 1);
    expect(h.slack.callsOf('views.open').at(-1)!.args.view.callback_id).toBe('code_entry');
  });

  test('a wrong code shows an inline error with the attempts left; the right one still works', async () => {
    const entry = await openCodeEntry(h, USERS.alice);
    const wrong = await h.requests.submitCode(USERS.alice, entry, h.bandwidth.wrongCode());
    expect(wrong.json).toEqual({
      response_action: 'errors',
      errors: { code: "That code isn't right. 4 attempts left." },
    });
    const right = await h.requests.submitCode(USERS.alice, entry, h.bandwidth.lastCode());
    expect(viewText(right.json.view)).toContain("You're logged in");
  });

  test('malformed input gets an inline error and no Bandwidth call', async () => {
    const entry = await openCodeEntry(h, USERS.alice);
    for (const bad of ['abcdef', '12345', '123456789']) {
      const answer = await h.requests.submitCode(USERS.alice, entry, bad);
      expect(answer.json).toEqual({
        response_action: 'errors',
        errors: { code: 'Enter the 6-digit code from your phone, digits only.' },
      });
    }
    expect(h.bandwidth.verifies).toHaveLength(0);
  });

  test('max_attempts wrong codes: the right code is refused, the user is told to get a new one, Bandwidth is not asked again', async () => {
    const entry = await openCodeEntry(h, USERS.alice);
    for (let i = 0; i < 5; i++) await h.requests.submitCode(USERS.alice, entry, h.bandwidth.wrongCode());
    const right = await h.requests.submitCode(USERS.alice, entry, h.bandwidth.lastCode());
    expect(right.json).toEqual({
      response_action: 'errors',
      errors: { code: 'Too many wrong codes for this code, so it no longer works. Use Resend code to get a new one.' },
    });
    expect(h.bandwidth.verifies).toHaveLength(5);
    const whoami = await h.requests.command('/whoami', USERS.alice);
    expect(whoami.json.text).toContain('needs you to log in first');
  });

  test('Resend code honours the cooldown, then sends a new code; switching sends by the other method', async () => {
    const entry = await openCodeEntry(h, USERS.alice);
    await h.requests.clickInView(USERS.alice, entry, 'resend_code');
    await h.slack.waitFor(
      () => viewText(h.slack.lastView().view).includes('You can ask for another in'),
      'the cooldown note',
    );
    expect(viewText(h.slack.lastView().view)).toContain('You can ask for another in 30 s');
    expect(h.bandwidth.sent).toHaveLength(1);

    h.clock.advance(30_000);
    await h.requests.clickInView(USERS.alice, h.slack.lastView(), 'switch_delivery');
    await h.slack.waitFor(
      () => h.bandwidth.sent.length === 2 && viewText(h.slack.lastView().view).includes('New code sent'),
      'the resend',
    );
    expect(h.bandwidth.sent[1]).toMatchObject({ channel: 'voice', applicationId: 'voice-app-0001' });
    expect(viewText(h.slack.lastView().view)).toContain('by voice call to *•••• 0101*');
    expect(viewText(h.slack.lastView().view)).toContain('Text me instead');

    const right = await h.requests.submitCode(USERS.alice, h.slack.lastView(), h.bandwidth.lastCode());
    expect(viewText(right.json.view)).toContain("You're logged in");
  });

  test('two simultaneous submissions of the right code: exactly one success', async () => {
    const entry = await openCodeEntry(h, USERS.alice);
    const code = h.bandwidth.lastCode();
    const [a, b] = await Promise.all([
      h.requests.submitCode(USERS.alice, entry, code),
      h.requests.submitCode(USERS.alice, entry, code),
    ]);
    const successes = [a, b].filter((r) => viewText(r.json).includes("You're logged in"));
    expect(successes).toHaveLength(1);
    expect([...h.logs.audit('authn_login_success'), ...h.logs.audit('authn_login_successafterfail')]).toHaveLength(1);
  });

  test('a code that worked once does not work again, in a later login', async () => {
    const code = await logIn(h, USERS.alice);
    await h.requests.command('/logout', USERS.alice);
    const entry = await openCodeEntry(h, USERS.alice); // a new code at once, no wait
    const replay = await h.requests.submitCode(USERS.alice, entry, code);
    expect(replay.json.response_action).toBe('errors');
    expect(viewText(replay.json)).not.toContain('logged in');
  });

  test('/logout ends the session and forgets the delivery preference', async () => {
    await logIn(h, USERS.alice, 'voice');
    const out = await h.requests.command('/logout', USERS.alice);
    expect(out.json).toEqual({ response_type: 'ephemeral', text: expect.stringContaining("You're logged out") });
    expect((await h.requests.command('/whoami', USERS.alice)).json.text).toContain('needs you to log in first');
    expect(await h.bot.services.sessions.delivery(USERS.alice)).toBeUndefined();
    expect(h.logs.audit('authn_logout')[0]).toMatchObject({ userId: USERS.alice, outcome: 'success' });
  });

  test('a gated command before login is refused in the ack, pointing to /login, and nothing else happens', async () => {
    const refused = await h.requests.command('/whoami', USERS.bob);
    expect(refused.status).toBe(200);
    expect(refused.json).toEqual({
      response_type: 'ephemeral',
      text: "`/whoami` needs you to log in first. Run `/login` and I'll send a code to your phone.",
    });
    expect(h.slack.calls.filter((c) => c.method !== 'auth.test')).toEqual([]);
    expect(h.slack.responses).toEqual([]);
    expect(h.bandwidth.sent).toEqual([]);
  });

  test('/login when already logged in says so instead of sending a code', async () => {
    await logIn(h, USERS.alice);
    const again = await h.requests.command('/login', USERS.alice);
    expect(again.json.text).toContain("You're already logged in, for another 12 h");
    expect(h.bandwidth.sent).toHaveLength(1);
  });

  test('a user with no linked phone is told so and whom to ask', async () => {
    const answer = await h.requests.command('/login', USERS.stranger);
    expect(answer.json.text).toBe(
      `No phone is linked to your Slack account, so I can't send you a code. Ask an admin (<@${USERS.alice}>) to link one.`,
    );
    expect(h.slack.callsOf('views.open')).toEqual([]);
  });
});
