import { beforeEach, describe, expect, test } from 'vitest';
import { ACTION, BLOCK } from '../../src/slack/ids.js';
import { RESPONSE_URL_ORIGIN } from '../helpers/fake-slack.js';
import { botsPerTest, type Harness, openCodeEntry, PHONES, USERS } from '../helpers/harness.js';

/**
 * The whole bot at `debug` (the harness logs at debug into a LogCapture): whatever Bolt, its Web API
 * client and our own code write, no line holds what a Slack payload carries and a log must not.
 */

const bot = botsPerTest();
let h: Harness;
beforeEach(async () => {
  h = await bot();
});

/** A code as a user may type it: `123 456`. */
const spaced = (code: string) => `${code.slice(0, 3)} ${code.slice(3)}`;
const typedState = (value: string) => ({ [BLOCK.code]: { [ACTION.code]: { type: 'plain_text_input', value } } });

describe('at debug, no payload reaches the log', () => {
  test('a /login with the code typed as `123 456`, a click, a view submission and slash commands: no code, token, response_url or phone number in any line', async () => {
    // Slack keeps what the user typed across views.update when the input keeps its block_id and action_id
    // (research/slack.md, "Preserving input entry"), and views.update answers with the view, state and all.
    let typed: Record<string, Record<string, unknown>> = {};
    const handle = h.slack.handle.bind(h.slack);
    h.slack.handle = async (path, body, authorization) => {
      const [status, answer] = await handle(path, body, authorization);
      if (path === '/api/views.update' && (answer as { ok?: boolean }).ok)
        (answer as { view: Record<string, unknown> }).view.state = { values: typed };
      return [status, answer];
    };

    const entry = await openCodeEntry(h, USERS.alice);
    const first = h.bandwidth.lastCode();
    // The user types the code, then clicks "Resend code" instead of Verify (past the resend cooldown).
    typed = typedState(spaced(first));
    h.clock.advance(h.config.policy.resendCooldownMs + 1);
    const updates = h.slack.callsOf('views.update').length;
    expect((await h.requests.clickInView(USERS.alice, entry, ACTION.resendCode, typed)).status).toBe(200);
    await h.slack.waitFor((calls) => calls.filter((c) => c.method === 'views.update').length > updates, 'the resend');
    expect(h.bandwidth.sent).toHaveLength(2);

    // The new code, typed with a space, in a view submission.
    const second = h.bandwidth.lastCode();
    const verified = await h.requests.submitCode(USERS.alice, h.slack.lastView(), spaced(second));
    expect(JSON.stringify(verified.json)).toContain("You're logged in");
    await h.slack.waitFor((calls) => calls.some((c) => c.method === 'views.publish'), 'the Home tab');

    // Slash commands: each carries the legacy verification token and a response_url.
    const commands = [
      h.requests.commandBody('/whoami', USERS.alice),
      h.requests.commandBody('/whoami', USERS.bob),
      h.requests.commandBody('/logout', USERS.alice),
    ];
    for (const body of commands) expect((await h.requests.post(body)).status).toBe(200);

    const text = h.logs.text();
    // The log did record the flow at debug (so an empty log cannot pass this test).
    expect(h.logs.lines().filter((l) => l.level === 'debug').length).toBeGreaterThan(10);
    expect(h.logs.audit().map((l) => l.event)).toContain('authn_login_success');
    for (const code of [first, second]) {
      expect(text).not.toContain(code);
      expect(text).not.toContain(spaced(code));
    }
    const token = new URLSearchParams(commands[0]).get('token')!;
    expect(token).not.toBe('');
    expect(text).not.toContain(token);
    for (const body of commands) expect(text).not.toContain(new URLSearchParams(body).get('response_url')!);
    expect(text).not.toContain(RESPONSE_URL_ORIGIN.replace('https://', ''));
    for (const phone of Object.values(PHONES)) {
      expect(text).not.toContain(phone);
      expect(text).not.toContain(phone.slice(2)); // without +1
    }
  });
});
