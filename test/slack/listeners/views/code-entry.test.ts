import { afterEach, describe, expect, test, vi } from 'vitest';
import { logOut } from '../../../../src/core/logout.js';
import { admin } from '../../../../src/slack/listeners/commands/admin.js';
import { codeEntered } from '../../../../src/slack/listeners/views/code-entry.js';
import { codeEntryModal } from '../../../../src/slack/views/modals.js';
import { plainText, unavailable } from '../../../../src/slack/views/text.js';
import { type Core, FakeBolt, realCore, textOf, typed } from '../../../helpers/bolt-args.js';
import { USERS } from '../../../helpers/harness.js';
import { serveOverHttp } from '../../../helpers/serve.js';

let core: Core;
afterEach(() => core.close());

/** Alice's code-entry window for a new `scope` request with a code out, as she sees it. */
async function aliceWindow(scope: 'login' | 'admin' = 'login') {
  const opened = await core.s.requests.open(USERS.alice, scope);
  if (!opened.ok) throw new Error(opened.reason);
  const sent = await core.s.sender.send(USERS.alice, opened.request.requestId, 'sms');
  if (!sent.ok) throw new Error(sent.reason);
  return { view: codeEntryModal(sent.request, core.clock.now()), code: core.provider.lastCode() };
}

describe('code entry, answered within the deadline', () => {
  test('a wrong code: an inline error in plain text under the input; the window stays; nothing is granted', async () => {
    core = await realCore();
    const { view } = await aliceWindow();
    const slack = new FakeBolt();
    await codeEntered(core.s)(slack.submit(USERS.alice, view, typed(core.provider.wrongCode())));
    expect(slack.acks).toEqual([
      { response_action: 'errors', errors: { code: "That code isn't right. 4 attempts left." } },
    ]);
    expect(slack.calls).toEqual([]);
    expect(await core.s.sessions.isLive(USERS.alice, 'login')).toBe(false);
  });

  // Rule: an inline error is plain text: Slack does not render mrkdwn there.
  test('a malformed code: the inline error has no mrkdwn marks, and the provider is not asked', async () => {
    core = await realCore();
    const { view } = await aliceWindow();
    const slack = new FakeBolt();
    await codeEntered(core.s)(slack.submit(USERS.alice, view, typed('12ab')));
    expect(slack.acks).toEqual([
      { response_action: 'errors', errors: { code: 'Enter the 6-digit code from your phone, digits only.' } },
    ]);
    expect(core.provider.verifies).toHaveLength(0);
  });

  test('the right code: the success view in the ack, the session live, and the Home tab published', async () => {
    core = await realCore();
    const { view, code } = await aliceWindow();
    const slack = new FakeBolt();
    await codeEntered(core.s)(slack.submit(USERS.alice, view, typed(code)));
    expect(slack.acks).toHaveLength(1);
    expect(slack.acks[0]).toMatchObject({
      response_action: 'update',
      view: { type: 'modal', title: { text: 'Log in' } },
    });
    expect(textOf(slack.acks[0])).toContain("You're logged in for 12 h");
    expect(await core.s.sessions.isLive(USERS.alice, 'login')).toBe(true);
    expect(slack.calls.map((c) => c.method)).toEqual(['views.publish']);
    expect(textOf(slack.of('views.publish')[0])).toContain('home_logout');
  });

  // Rule (invariant 1): the request id in a window only names a request; another user's id reaches nothing.
  test("Bob submitting Alice's code on a window carrying Alice's request id: refused, nobody logged in", async () => {
    core = await realCore();
    const { view, code } = await aliceWindow();
    const slack = new FakeBolt();
    await codeEntered(core.s)(slack.submit(USERS.bob, view, typed(code)));
    expect(slack.acks[0]).toMatchObject({ response_action: 'update' });
    expect(textOf(slack.acks[0])).toContain('This request is no longer open');
    expect(await core.s.sessions.isLive(USERS.bob, 'login')).toBe(false);
    expect(await core.s.sessions.isLive(USERS.alice, 'login')).toBe(false);
    expect(core.provider.verifies).toHaveLength(0);
    expect(slack.calls).toEqual([]);
  });

  test('when the store fails: the plain "try again" under the input', async () => {
    core = await realCore();
    const { view, code } = await aliceWindow();
    await core.store.close();
    const slack = new FakeBolt();
    await codeEntered(core.s)(slack.submit(USERS.alice, view, typed(code)));
    expect(slack.acks).toEqual([{ response_action: 'errors', errors: { code: plainText(unavailable) } }]);
    expect(slack.calls).toEqual([]);
  });

  // Rule (invariant 8): a logout while the code is checked wins: the window says so, nothing is granted.
  test('an ending during the check: "ended", nothing granted, no Home tab', async () => {
    core = await realCore();
    const { view, code } = await aliceWindow();
    let release!: () => void;
    core.provider.hold = new Promise((resolve) => (release = resolve));
    const reached = core.provider.verifyReached();
    const slack = new FakeBolt();
    const submitted = codeEntered(core.s)(slack.submit(USERS.alice, view, typed(code)));
    await reached;
    await logOut(core.s, USERS.alice);
    release();
    await submitted;
    expect(slack.acks[0]).toMatchObject({ response_action: 'update' });
    expect(textOf(slack.acks[0])).toContain('This request was ended');
    expect(await core.s.sessions.isLive(USERS.alice, 'login')).toBe(false);
    expect(slack.calls).toEqual([]);
  });
});

describe('code entry, past the deadline', () => {
  // Rule (invariant 5): a slow verify is acknowledged with "checking…" in time; the result replaces it later.
  test('"checking…" in the ack, then views.update with the result, then the Home tab', async () => {
    core = await realCore({ slackDeadlineMs: 10 });
    const { view, code } = await aliceWindow();
    let release!: () => void;
    core.provider.hold = new Promise((resolve) => (release = resolve));
    const slack = new FakeBolt();
    const submitted = codeEntered(core.s)(slack.submit(USERS.alice, view, typed(code), 'V0LATE001'));
    await vi.waitFor(() => expect(slack.acks).toHaveLength(1));
    expect(slack.acks[0]).toMatchObject({ response_action: 'update' });
    expect(textOf(slack.acks[0])).toContain('Checking your code');
    expect(slack.calls).toEqual([]);
    release();
    await submitted;
    expect(slack.calls.map((c) => c.method)).toEqual(['views.update', 'views.publish']);
    expect(slack.of('views.update')[0].view_id).toBe('V0LATE001');
    expect(textOf(slack.of('views.update')[0].view)).toContain("You're logged in");
  });

  // Was a defect: a late wrong code closed the window ("4 attempts left" and only a Done button).
  test('a late wrong code cannot go under the input any more: the code entry comes back with the reason', async () => {
    core = await realCore({ slackDeadlineMs: 10 });
    const { view } = await aliceWindow();
    let release!: () => void;
    core.provider.hold = new Promise((resolve) => (release = resolve));
    const slack = new FakeBolt();
    const submitted = codeEntered(core.s)(slack.submit(USERS.alice, view, typed(core.provider.wrongCode())));
    await vi.waitFor(() => expect(slack.acks).toHaveLength(1));
    release();
    await submitted;
    const [update] = slack.of('views.update');
    expect(update.view.callback_id).toBe('code_entry'); // the code entry again, with the reason as a note
    expect(textOf(update.view)).toContain("That code isn't right. 4 attempts left.");
    expect(slack.of('views.publish')).toEqual([]);
  });
});

describe('a granted step-up', () => {
  // Rule: the pending command runs once, for the one submission that grants; its reply goes to the response_url.
  test('runs its pending command exactly once, replying where it was typed', async () => {
    core = await realCore();
    const replies: string[] = [];
    const responseUrl = await serveOverHttp(async (_path, body) => {
      replies.push(JSON.parse(body).text);
      return [200, 'ok'];
    });
    try {
      await core.s.sessions.grant(USERS.alice, 'login', await core.s.sessions.epoch(USERS.alice), ['sms']);
      await core.s.sessions.grant(USERS.bob, 'login', await core.s.sessions.epoch(USERS.bob), ['sms']);
      await core.s.sessions.rememberDelivery(USERS.alice, 'sms');
      const typedCommand = `revoke <@${USERS.bob}|bob>`;
      const slack = new FakeBolt();
      await admin(core.s)(slack.command('/admin', USERS.alice, typedCommand, `${responseUrl.origin}/commands/1`));
      const [window] = slack.of('views.update');
      expect(window.view.callback_id).toBe('code_entry');
      expect(await core.s.sessions.isLive(USERS.bob, 'login')).toBe(true); // not before the code

      const code = core.provider.lastCode();
      const first = new FakeBolt();
      await codeEntered(core.s)(first.submit(USERS.alice, window.view, typed(code)));
      expect(textOf(first.acks[0])).toContain('Admin commands are unlocked');
      expect(textOf(first.acks[0])).toContain(`I'm running \`/admin revoke\` <@${USERS.bob}> now`);
      expect(await core.s.sessions.isLive(USERS.bob, 'login')).toBe(false);

      const again = new FakeBolt();
      await codeEntered(core.s)(again.submit(USERS.alice, window.view, typed(code)));
      expect(again.acks).toEqual([
        {
          response_action: 'errors',
          errors: { code: 'That code has already been used. Use Resend code to get a new one.' },
        },
      ]);

      expect(replies).toEqual([expect.stringContaining(`Ended <@${USERS.bob}>'s session`)]);
      expect(core.logs.audit('authn_session_revoked')).toHaveLength(1);
      expect(first.of('chat.postMessage')).toEqual([]);
    } finally {
      await responseUrl.close();
    }
  });
});
