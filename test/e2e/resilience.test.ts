import nock from 'nock';
import { afterAll, afterEach, describe, expect, test } from 'vitest';
import { type Harness, logIn, openCodeEntry, removeTempDirs, startBot, USERS } from '../helpers/harness.js';

let h: Harness;
afterEach(async () => {
  await h.stop().catch(() => {});
});
afterAll(() => {
  removeTempDirs();
  nock.restore();
});

const viewText = (view: unknown) => JSON.stringify(view);

describe("Slack's 3-second deadline when Bandwidth is slow", () => {
  test('verify takes 10 s: the submission is answered within 3 s, and the window shows the outcome when the call times out', async () => {
    h = await startBot({ env: { BANDWIDTH_TIMEOUT_SECONDS: '4' } });
    const entry = await openCodeEntry(h, USERS.alice);
    h.bandwidth.failNext('verify', { delayMs: 10_000, status: 200, body: { valid: true } });
    const answer = await h.requests.submitCode(USERS.alice, entry, h.bandwidth.lastCode());
    expect(answer.ms).toBeLessThan(3000);
    expect(answer.json.response_action).toBe('update');
    expect(viewText(answer.json.view)).toContain('Checking your code');

    await h.slack.waitFor(
      () => viewText(h.slack.lastView().view).includes("didn't answer in time"),
      'the timeout outcome',
      8000,
    );
    expect(h.slack.lastView().id).toBe(entry.id);
    expect(h.slack.lastView().view.callback_id).toBe('code_entry'); // the user can try again in place
    expect((await h.requests.command('/whoami', USERS.alice)).json.text).toContain('needs you to log in first');
  }, 20_000);

  test('verify answers after the deadline: the success replaces "checking" with views.update', async () => {
    h = await startBot({ slackDeadlineMs: 200 });
    const entry = await openCodeEntry(h, USERS.alice);
    const code = h.bandwidth.lastCode();
    h.bandwidth.failNext('verify', { delayMs: 600 });
    // The delayed fault above has no status: the fake answers normally after the delay.
    const answer = await h.requests.submitCode(USERS.alice, entry, code);
    expect(viewText(answer.json.view)).toContain('Checking your code');
    await h.slack.waitFor(() => viewText(h.slack.lastView().view).includes("You're logged in"), 'the late success');
    expect((await h.requests.command('/whoami', USERS.alice)).json.text).toContain('`login`');
  });

  test('send takes 10 s: the delivery choice is answered at once with "sending", then the failure is shown', async () => {
    h = await startBot({ env: { BANDWIDTH_TIMEOUT_SECONDS: '3' } });
    await h.requests.command('/login', USERS.alice);
    await h.slack.waitFor((calls) => calls.some((c) => c.method === 'views.open'));
    h.bandwidth.failNext('messaging', { delayMs: 10_000, status: 200, body: { messageId: 'late' } });
    const chosen = await h.requests.chooseDelivery(USERS.alice, h.slack.lastView(), 'sms');
    expect(chosen.ms).toBeLessThan(3000);
    expect(viewText(chosen.json.view)).toContain('Sending a code');
    await h.slack.waitFor(
      () => viewText(h.slack.lastView().view).includes("didn't answer in time"),
      'the send timeout',
      8000,
    );
    expect(viewText(h.slack.lastView().view)).toContain('Resend code');
  }, 20_000);
});

describe('Bandwidth down or refusing', () => {
  test('a 500 on send: the user is told, nothing is granted, and the bot keeps serving', async () => {
    h = await startBot();
    await h.requests.command('/login', USERS.alice);
    await h.slack.waitFor((calls) => calls.some((c) => c.method === 'views.open'));
    h.bandwidth.failNext('messaging', { status: 500 });
    await h.requests.chooseDelivery(USERS.alice, h.slack.lastView(), 'sms');
    await h.slack.waitFor(() => viewText(h.slack.lastView().view).includes("didn't answer in time"), 'the failure');
    expect(h.logs.audit('authn_otp_send_failed')[0]).toMatchObject({ detail: { failure: 'unavailable', status: 500 } });

    // The window offers a retry; after the cooldown it works.
    h.clock.advance(30_000);
    await h.requests.clickInView(USERS.alice, h.slack.lastView(), 'resend_code');
    await h.slack.waitFor(() => h.slack.lastView().view.callback_id === 'code_entry', 'the code entry');
    const done = await h.requests.submitCode(USERS.alice, h.slack.lastView(), h.bandwidth.lastCode());
    expect(viewText(done.json.view)).toContain("You're logged in");
  });

  test('a 429 on verify tells the user to wait, inline, and grants nothing', async () => {
    h = await startBot();
    const entry = await openCodeEntry(h, USERS.alice);
    h.bandwidth.failNext('verify', {
      status: 429,
      body: { error: 'This number has exceeded verification attempts, please wait 2 minutes', requestId: 'r1' },
    });
    const answer = await h.requests.submitCode(USERS.alice, entry, h.bandwidth.lastCode());
    expect(answer.json).toEqual({
      response_action: 'errors',
      errors: {
        code: 'The code service is asking us to slow down. Please wait a couple of minutes, then try again. Nothing was changed.',
      },
    });
    expect((await h.requests.command('/whoami', USERS.alice)).json.text).toContain('needs you to log in first');
  });

  // Issue 18 §6: an error of Bandwidth is no guess. Three 500s used to leave the right code "too many wrong codes".
  test('errors of Bandwidth on verify never count as guesses: after 500s and a 429 the right code works', async () => {
    h = await startBot({ env: { POLICY_MAX_ATTEMPTS: '3' } });
    const entry = await openCodeEntry(h, USERS.alice);
    for (let i = 0; i < 3; i++) {
      h.bandwidth.failNext('verify', { status: 500 });
      const answer = await h.requests.submitCode(USERS.alice, entry, h.bandwidth.lastCode());
      expect(answer.json.errors.code).toContain("didn't answer in time");
    }
    h.bandwidth.failNext('verify', {
      status: 429,
      body: { error: 'This number has exceeded verification attempts, please wait 2 minutes', requestId: 'r2' },
    });
    const limited = await h.requests.submitCode(USERS.alice, entry, h.bandwidth.lastCode());
    expect(limited.json.errors.code).toContain('Please wait a couple of minutes');
    const right = await h.requests.submitCode(USERS.alice, entry, h.bandwidth.lastCode());
    expect(viewText(right.json.view)).toContain("You're logged in");
    expect(h.logs.audit('authn_login_fail_max')).toEqual([]);
  });

  test('a network failure on verify is "unavailable", not a crash', async () => {
    h = await startBot();
    const entry = await openCodeEntry(h, USERS.alice);
    h.bandwidth.failNext('verify', { networkError: 'ECONNRESET' });
    const answer = await h.requests.submitCode(USERS.alice, entry, h.bandwidth.lastCode());
    expect(answer.json.errors.code).toContain("didn't answer in time");
    expect((await h.requests.command('/whoami', USERS.alice)).status).toBe(200);
  });
});

describe('the store', () => {
  test('sessions survive a restart', async () => {
    h = await startBot();
    await logIn(h, USERS.alice, 'voice');
    const { dbFile, clock } = h;
    await h.stop();
    h = await startBot({ dbFile, clock });
    const whoami = await h.requests.command('/whoami', USERS.alice);
    expect(whoami.json.text).toContain('`login` (12 h left)');
    expect(whoami.json.text).toContain('voice call');
  });

  test('a store failure: commands are refused with a clear message, /healthz says 503, the process keeps serving', async () => {
    h = await startBot();
    await logIn(h, USERS.alice);
    const health = await fetch(`${h.requests.baseUrl}/healthz`);
    expect(health.status).toBe(200);

    await h.store.close();
    const whoami = await h.requests.command('/whoami', USERS.alice);
    expect(whoami.status).toBe(200);
    expect(whoami.json.text).toContain("I can't reach my database right now");
    const login = await h.requests.command('/login', USERS.bob);
    expect(login.json.text).toContain("I can't reach my database right now");
    expect(h.slack.callsOf('views.open')).toHaveLength(1); // only alice's earlier login
    expect((await fetch(`${h.requests.baseUrl}/healthz`)).status).toBe(503);
    expect(h.logs.lines().some((l) => l.level === 'error' && l.err?.type === 'StoreError')).toBe(true);
    const { bot } = h;
    h.stop = async () => {
      await bot.stop();
      nock.cleanAll();
    };
  });
});
