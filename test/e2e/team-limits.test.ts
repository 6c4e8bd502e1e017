import { describe, expect, test } from 'vitest';
import { botsPerTest, type Harness, logIn, openCodeEntry, USERS } from '../helpers/harness.js';

/**
 * Issue 18 §8, end to end (real Bolt receiver, real SQLite, Slack and Bandwidth stubbed at their URLs):
 * the spend caps as a user reads them, as /metrics counts them and as the log warns of them, and the
 * region rule where an admin links a phone.
 */

const bot = botsPerTest();
let h: Harness;

const { alice: ADMIN, bob, carol, stranger } = USERS;
const HOUR = 60 * 60_000;

/** The text of a view, its blocks included. */
const textOf = (view: unknown) => JSON.stringify(view);

/** /login up to the window's answer after the delivery choice (a code entry, or why no code was sent). */
async function loginWindow(userId: string): Promise<string> {
  const updates = h.slack.callsOf('views.update').length;
  const opens = h.slack.callsOf('views.open').length;
  await h.requests.command('/login', userId);
  await h.slack.waitFor((calls) => calls.filter((c) => c.method === 'views.open').length > opens, 'views.open');
  // A user who chose before is sent a code at once; else the delivery choice comes first.
  if (h.slack.lastView().view.callback_id === 'delivery_choice')
    await h.requests.chooseDelivery(userId, h.slack.lastView(), 'sms');
  await h.slack.waitFor(
    (calls) => calls.filter((c) => c.method === 'views.update').length > updates,
    'the window after the send',
  );
  return textOf(h.slack.lastView().view);
}

async function metric(sample: string): Promise<number | undefined> {
  const text = await (await fetch(`${h.requests.baseUrl}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${sample} `));
  return line === undefined ? undefined : Number(line.slice(sample.length + 1));
}

const capWarnings = () =>
  h.logs.lines().filter((l) => l.level === 'warn' && String(l.msg).startsWith('the hourly cap on codes is reached'));

describe('max_sends_per_hour_total: the spend guard', () => {
  test('past the cap nobody gets a code: the user is told to tell an admin, /metrics counts each refusal, the log warns once per hour', async () => {
    h = await bot({ env: { POLICY_MAX_SENDS_PER_HOUR_TOTAL: '2' } });
    await openCodeEntry(h, ADMIN);
    const bobsEntry = await openCodeEntry(h, bob);
    expect(h.bandwidth.sent).toHaveLength(2);

    const refused = await loginWindow(carol);
    expect(refused).toContain("I've sent the most codes I'm allowed to in an hour, for everyone together");
    expect(refused).toContain(`Please tell an admin (<@${ADMIN}>).`);
    expect(refused).toContain('(1 h from now)');
    expect(refused).toContain('"action_id":"resend_code"'); // the window stays open, to try again later
    expect(h.bandwidth.sent).toHaveLength(2);
    expect(await metric('phonegate_send_caps_reached_total{cap="total"}')).toBe(1);
    expect(capWarnings()).toEqual([
      expect.objectContaining({
        limit: 'sends_per_hour_total',
        max: 2,
        until: new Date(h.bandwidth.sent[0]!.at + HOUR).toISOString(),
        msg: expect.stringContaining('([policy] max_sends_per_hour_total = 2): no code goes out, to anyone, until'),
      }),
    ]);

    // A second refusal in the same hour is counted, not warned of again.
    h.clock.advance(31_000); // past Bob's resend cooldown
    const updates = h.slack.callsOf('views.update').length;
    await h.requests.clickInView(bob, bobsEntry, 'resend_code');
    await h.slack.waitFor(
      (calls) => calls.filter((c) => c.method === 'views.update').length > updates,
      'the resend answer',
    );
    expect(textOf(h.slack.lastView().view)).toContain("I've sent the most codes I'm allowed to in an hour");
    expect(await metric('phonegate_send_caps_reached_total{cap="total"}')).toBe(2);
    expect(capWarnings()).toHaveLength(1);

    // The next hour starts afresh: codes go out again, and reaching the cap again warns again.
    h.clock.advance(HOUR);
    expect(await loginWindow(carol)).toContain('Enter it below');
    await openCodeEntry(h, ADMIN);
    expect(await loginWindow(bob)).toContain("I've sent the most codes I'm allowed to in an hour");
    expect(capWarnings()).toHaveLength(2);
  });
});

describe('max_sends_per_phone_per_hour: users who share one phone', () => {
  test("user_number makes one phone everyone's: past its cap the next user reads that codes to this phone are paused", async () => {
    h = await bot({
      env: { NUMBERS_USER_NUMBER: '+14155550177', POLICY_MAX_SENDS_PER_PHONE_PER_HOUR: '1' },
    });
    await openCodeEntry(h, stranger); // not in [phones]: user_number's phone
    const refused = await loginWindow('U0DAVE001'); // the same phone
    expect(refused).toContain('Codes to your phone are paused until');
    expect(refused).toContain('counting everyone who uses that phone');
    expect(refused).not.toContain('5550177');
    expect(refused).toContain('"action_id":"resend_code"');
    expect(h.bandwidth.sent).toHaveLength(1);
    expect(await metric('phonegate_send_caps_reached_total{cap="phone"}')).toBe(1);
    expect(await metric('phonegate_refusals_total{reason="sends_per_phone_per_hour"}')).toBe(1);
    expect(capWarnings()).toEqual([]);
    // Bob has a phone of his own.
    expect(await loginWindow(bob)).toContain('Enter it below');
  });
});

describe('/admin link holds to allowed_regions', () => {
  test('a Jamaican number is refused with its region, and Bob keeps his phone', async () => {
    h = await bot();
    await logIn(h, ADMIN);
    const opened = h.slack.callsOf('views.open').length;
    await h.requests.command('/admin', ADMIN, `link <@${bob}> +1 876 210 1234`);
    await h.slack.waitFor(
      (calls) => calls.filter((c) => c.method === 'views.open').length > opened,
      'the step-up window',
    );
    await h.slack.waitFor(() => h.slack.lastView().view.callback_id === 'code_entry', 'the admin code entry');
    await h.requests.submitCode(ADMIN, h.slack.lastView(), h.bandwidth.lastCode());
    await h.slack.waitFor(() => h.slack.responses.length > 0, 'the command result at the response_url');
    expect(h.slack.responses[0]!.body.text).toBe(
      "I didn't link that number. Numbers in Jamaica (JM) are not allowed here (allowed: US, CA).",
    );
    expect(await h.bot.services.phones.phoneOf(bob)).toBe('+14155550102');
  });
});
