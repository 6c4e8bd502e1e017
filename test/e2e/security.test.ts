import nock from 'nock';
import { afterAll, afterEach, describe, expect, test } from 'vitest';
import {
  type Harness,
  logIn,
  openCodeEntry,
  PHONES,
  removeTempDirs,
  SECRETS,
  startBot,
  USERS,
} from '../helpers/harness.js';

let h: Harness;
afterEach(async () => {
  await h?.stop();
});
afterAll(() => {
  removeTempDirs();
  nock.restore();
});

describe('request authenticity', () => {
  test('a bad signature gets 401 and runs nothing', async () => {
    h = await startBot();
    const body = h.requests.commandBody('/login', USERS.alice);
    const headers = h.requests.sign(body);
    headers['x-slack-signature'] = headers['x-slack-signature']!.replace(/.$/, (c) => (c === '0' ? '1' : '0'));
    expect((await h.requests.post(body, headers)).status).toBe(401);
    expect(
      (await h.requests.post(body, { 'x-slack-request-timestamp': String(Math.floor(Date.now() / 1000)) })).status,
    ).toBe(401);
    expect(h.slack.callsOf('views.open')).toEqual([]);
  });

  test.each([
    ['6 minutes old', -360, 401],
    ['6 minutes ahead (Bolt alone accepts these)', 360, 401],
    ['4 minutes old', -240, 200],
    ['4 minutes ahead', 240, 200],
  ])('a request signed %s gets %s', async (_label, offsetSeconds, status) => {
    h = await startBot();
    const body = h.requests.commandBody('/whoami', USERS.alice);
    const result = await h.requests.post(body, h.requests.sign(body, Math.floor(Date.now() / 1000) + offsetSeconds));
    expect(result.status).toBe(status);
  });
});

describe('nothing secret in logs or messages', () => {
  test('a whole flow (wrong code, resend, success, whoami, logout) logs no code, phone, token or password', async () => {
    h = await startBot();
    const entry = await openCodeEntry(h, USERS.alice);
    await h.requests.submitCode(USERS.alice, entry, h.bandwidth.wrongCode());
    h.clock.advance(30_000);
    await h.requests.clickInView(USERS.alice, entry, 'resend_code');
    await h.slack.waitFor(() => h.bandwidth.sent.length === 2, 'the resend');
    await h.slack.waitFor(() => JSON.stringify(h.slack.lastView().view).includes('New code sent'), 'the new code view');
    await h.requests.submitCode(USERS.alice, h.slack.lastView(), h.bandwidth.lastCode());
    await h.requests.command('/whoami', USERS.alice);
    await h.requests.command('/logout', USERS.alice);

    const logs = h.logs.text();
    const slackMessages = JSON.stringify([h.slack.calls, h.slack.responses]);
    const codes = h.bandwidth.sent.map((s) => s.code);
    expect(codes).toHaveLength(2);
    for (const secret of [
      ...codes,
      PHONES.alice,
      PHONES.alice.slice(1),
      SECRETS.botToken,
      SECRETS.signingSecret,
      SECRETS.apiPassword,
      SECRETS.apiUser,
    ]) {
      expect(logs).not.toContain(secret);
    }
    for (const secret of [...codes, PHONES.alice, PHONES.alice.slice(1), SECRETS.signingSecret, SECRETS.apiPassword]) {
      expect(slackMessages).not.toContain(secret);
    }
    // Every line is JSON, and the security events are there as structured audit entries.
    expect(h.logs.lines().length).toBeGreaterThan(5);
    expect(h.logs.audit().map((a) => a.event)).toEqual([
      'authn_otp_sent',
      'authn_login_fail',
      'authn_otp_sent',
      'authn_login_successafterfail',
      'authn_logout',
    ]);
    expect(h.logs.audit('authn_login_fail')[0]).toMatchObject({
      userId: USERS.alice,
      scope: 'login',
      outcome: 'failure',
      detail: { attempt: 1, attemptsLeft: 4 },
    });
    expect(h.logs.audit('authn_otp_sent')[0]?.detail.maskedPhone).toBe('•••• 0101');
  });

  test('a Bandwidth error logs status and requestId, not the password or the phone number', async () => {
    h = await startBot();
    h.bandwidth.failNext('messaging', {
      status: 400,
      body: { error: `to number ${PHONES.alice} is invalid`, requestId: 'req-abc123' },
    });
    await h.requests.command('/login', USERS.alice);
    await h.slack.waitFor((calls) => calls.some((c) => c.method === 'views.open'));
    await h.requests.chooseDelivery(USERS.alice, h.slack.lastView(), 'sms');
    await h.slack.waitFor(() => JSON.stringify(h.slack.lastView().view).includes('refused the request'), 'the refusal');
    const failed = h.logs.audit('authn_otp_send_failed')[0];
    expect(failed).toMatchObject({ outcome: 'error', detail: { failure: 'rejected', status: 400 } });
    expect(h.logs.text()).not.toContain(PHONES.alice);
    expect(h.logs.text()).not.toContain(SECRETS.apiPassword);
  });
});

describe('OAuth2 client credentials', () => {
  test('a whole login fetches one token from the token URL and uses it as a bearer', async () => {
    h = await startBot({ auth: 'oauth' });
    await logIn(h, USERS.alice);
    expect(h.bandwidth.tokenRequests).toBe(1);
    expect(h.bandwidth.authorizations.length).toBe(2);
    expect(h.bandwidth.authorizations.every((a) => /^Bearer tok-\d+$/.test(a))).toBe(true);
    expect(h.logs.text()).not.toContain(SECRETS.clientSecret);
  });

  test('Basic mode sends the api user and password', async () => {
    h = await startBot({ auth: 'basic' });
    await logIn(h, USERS.alice);
    expect(h.bandwidth.tokenRequests).toBe(0);
    expect(h.bandwidth.authorizations).toEqual(
      Array(2).fill(`Basic ${Buffer.from(`${SECRETS.apiUser}:${SECRETS.apiPassword}`).toString('base64')}`),
    );
  });
});
