import { describe, expect, test } from 'vitest';
import { botsPerTest, type Harness, logIn, openCodeEntry, USERS } from '../helpers/harness.js';

/**
 * Invariant 10: a delivery is what Slack signed (timestamp and body), however its headers are spelt.
 * Bolt reads `X-Slack-Signature` with split('=') and signs the timestamp as the number it parses, so a
 * captured request passes Bolt's check again under other spellings of its headers. Each spelling is
 * refused with 401, and nothing runs again: on a command, a click and a view submission.
 */

const { alice: ADMIN, bob, carol } = USERS;
const bot = botsPerTest();

type Captured = { body: string; headers: Record<string, string> };

/** The captured request's headers, respelt so that Bolt still accepts the signature. */
const SPELLINGS: Array<[string, (h: Record<string, string>) => Record<string, string>]> = [
  ['v0=<hex>=x', (h) => ({ ...h, 'x-slack-signature': `${h['x-slack-signature']}=x` })],
  ['v0=<hex>=', (h) => ({ ...h, 'x-slack-signature': `${h['x-slack-signature']}=` })],
  ['v0=<hex>==1', (h) => ({ ...h, 'x-slack-signature': `${h['x-slack-signature']}==1` })],
  [
    'v0=<hex> and 64 more characters',
    (h) => ({ ...h, 'x-slack-signature': `${h['x-slack-signature']}${'a'.repeat(64)}` }),
  ],
  [
    'a timestamp with a leading zero',
    (h) => ({ ...h, 'x-slack-request-timestamp': `0${h['x-slack-request-timestamp']}` }),
  ],
  [
    'a timestamp with a fraction',
    (h) => ({ ...h, 'x-slack-request-timestamp': `${h['x-slack-request-timestamp']}.0` }),
  ],
];

/** Sends every spelling of `captured`; each must be refused with 401. */
async function sendRespelt(h: Harness, captured: Captured): Promise<void> {
  for (const [name, respell] of SPELLINGS) {
    const answer = await h.requests.post(captured.body, respell(captured.headers));
    expect(answer.status, name).toBe(401);
  }
}

/** Lets any work after an ack finish before counting what happened. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 100));

describe('a captured request sent again under another spelling of its headers', () => {
  test('a command (/admin link): refused with 401; the phone stays, no second DM or audit event', async () => {
    const h = await bot();
    await logIn(h, ADMIN);
    await h.requests.command('/admin', ADMIN, 'sessions');
    await h.slack.waitFor(() => h.slack.lastView().view.callback_id === 'code_entry', 'the admin code entry');
    await h.requests.submitCode(ADMIN, h.slack.lastView(), h.bandwidth.lastCode());

    const first = await h.requests.command('/admin', ADMIN, `link <@${carol}> +1 415 555 0177`);
    expect(first.json.text).toContain('Linked the phone *•••• 0177*');
    const captured = h.requests.sent.at(-1)!;
    const second = await h.requests.command('/admin', ADMIN, `link <@${carol}> +1 415 555 0178`);
    expect(second.json.text).toContain('•••• 0178');

    await sendRespelt(h, captured);
    await settle();
    expect(await h.bot.services.phones.phoneOf(carol)).toBe('+14155550178');
    expect(h.slack.callsOf('chat.postMessage').filter((c) => c.args.channel === carol)).toHaveLength(2);
    expect(h.logs.audit('authn_phone_linked')).toHaveLength(2);
  });

  test('a command (/logout): refused with 401; a login made since stays', async () => {
    const h = await bot();
    await logIn(h, bob);
    await h.requests.command('/logout', bob);
    const captured = h.requests.sent.at(-1)!;
    await logIn(h, bob);

    await sendRespelt(h, captured);
    expect(await h.bot.services.sessions.isLive(bob, 'login')).toBe(true);
    expect(h.logs.audit('authn_logout')).toHaveLength(1);
  });

  test('a click (Resend code): refused with 401; no second code is sent', async () => {
    const h = await bot();
    const entry = await openCodeEntry(h, bob);
    h.clock.advance(31_000); // past the resend cooldown
    await h.requests.clickInView(bob, entry, 'resend_code');
    await h.slack.waitFor(() => h.bandwidth.sent.length === 2, 'the resent code');
    const captured = h.requests.sent.at(-1)!;

    h.clock.advance(31_000); // a replay is not stopped by the cooldown
    await sendRespelt(h, captured);
    await settle();
    expect(h.bandwidth.sent).toHaveLength(2);
  });

  test('a view submission (the delivery choice): refused with 401; no second code is sent', async () => {
    const h = await bot();
    await h.requests.command('/login', bob);
    await h.slack.waitFor((calls) => calls.some((c) => c.method === 'views.open'), 'views.open');
    const chosen = await h.requests.chooseDelivery(bob, h.slack.lastView(), 'sms');
    expect(chosen.json.response_action).toBe('update');
    await h.slack.waitFor(() => h.bandwidth.sent.length === 1, 'the code');
    const captured = h.requests.sent.at(-1)!;

    h.clock.advance(31_000);
    await sendRespelt(h, captured);
    await settle();
    expect(h.bandwidth.sent).toHaveLength(1);
  });

  test('the exact bytes again are still a replay (200, dropped and audited), and a fresh request still runs', async () => {
    const h = await bot();
    await logIn(h, bob);
    await h.requests.command('/logout', bob);
    const again = await h.requests.resend();
    expect(again.status).toBe(200);
    expect(h.logs.audit('replay_dropped')).toHaveLength(1);
    const fresh = await h.requests.command('/logout', bob);
    expect(fresh.json.text).toContain("You weren't logged in");
  });
});
