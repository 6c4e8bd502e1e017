import nock from 'nock';
import { afterAll, afterEach, beforeEach, describe, expect, test } from 'vitest';
import { type Harness, logIn, openCodeEntry, removeTempDirs, startBot, USERS } from '../helpers/harness.js';
import { atErrorLevel } from '../helpers/logs.js';
import { messageProblems, viewProblems } from '../slack/slack-limits.js';

/** Issue 6, item 6: everything the bot builds stays inside Slack's limits, and a window changes only for its owner. */

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

const { alice: ADMIN, bob } = USERS;

/** `/admin <text>` without a live admin scope, then the right admin code: returns the acknowledged view. */
async function stepUp(text: string) {
  const opened = h.slack.callsOf('views.open').length;
  await h.requests.command('/admin', ADMIN, text);
  await h.slack.waitFor(
    (calls) => calls.filter((c) => c.method === 'views.open').length > opened,
    'the step-up window',
  );
  await h.slack.waitFor(() => h.slack.lastView().view.callback_id === 'code_entry', 'the admin code entry');
  const done = await h.requests.submitCode(ADMIN, h.slack.lastView(), h.bandwidth.lastCode());
  await h.slack.waitFor(() => h.slack.responses.length > 0, 'the command result at the response_url');
  return done.json;
}

describe('echoes and long lists', () => {
  test('a 4,000-character /admin command: the success view is one Slack accepts, and names the command with the number masked', async () => {
    await logIn(h, ADMIN);
    const command = `link <@${bob}> ${'1'.repeat(3980)}`;
    expect(command.length).toBeGreaterThan(3990);
    const done = await stepUp(command);
    expect(done.response_action).toBe('update');
    expect(viewProblems(done.view)).toEqual([]);
    const text = JSON.stringify(done.view);
    expect(text).toContain('Admin commands are unlocked');
    expect(text).toContain(`\`/admin link\` <@${bob}> *•••• 1111*`);
    expect(text).not.toContain('11111');
    // The command did run, and its reply fits in a message.
    expect(h.slack.responses[0]!.body.text).toBe("I didn't link that number. That is not a valid phone number.");
  });

  test('/admin sessions with 400 users: every reply fits in one message, and the pages reach everyone', async () => {
    await logIn(h, ADMIN);
    const { sessions } = h.bot.services;
    const users = Array.from({ length: 400 }, (_, i) => `U${String(i).padStart(9, '0')}`);
    for (const userId of users) await sessions.grant(userId, 'login', await sessions.epoch(userId), ['sms']);
    await stepUp('sessions');
    const first = h.slack.responses[0]!.body.text as string;
    const pages = [first];
    for (
      let next = /more: `\/admin sessions (\d+)`/.exec(first);
      next;
      next = /more: `\/admin sessions (\d+)`/.exec(pages.at(-1)!)
    ) {
      pages.push((await h.requests.command('/admin', ADMIN, `sessions ${next[1]}`)).json.text);
    }
    expect(pages.length).toBeGreaterThan(1);
    for (const page of pages) expect(messageProblems(page)).toEqual([]);
    const listed = new Set(pages.flatMap((page) => [...page.matchAll(/^• <@(U\w+)>/gm)].map((m) => m[1])));
    expect(listed).toEqual(new Set([...users, ADMIN]));
  });
});

describe('a window changes only for its owner, and only forward', () => {
  test("Bob's forged click on Alice's code window changes nothing in it, and her code still works", async () => {
    const entry = await openCodeEntry(h, USERS.alice);
    h.clock.advance(60_000); // past the resend cooldown, so a resend would go through
    const updatesBefore = h.slack.callsOf('views.update').length;
    const clicked = await h.requests.clickInView(bob, entry, 'resend_code');
    expect(clicked.status).toBe(200);
    await h.slack.waitFor((calls) => calls.some((c) => c.method === 'views.push'), 'the answer to Bob');
    expect(h.slack.callsOf('views.update').slice(updatesBefore)).toEqual([]);
    expect(h.bandwidth.sent).toHaveLength(1);
    const done = await h.requests.submitCode(USERS.alice, entry, h.bandwidth.lastCode());
    expect(JSON.stringify(done.json.view)).toContain("You're logged in");
  });

  test('a resend whose window changed meanwhile (hash_conflict) is dropped quietly', async () => {
    const entry = await openCodeEntry(h, USERS.alice);
    h.clock.advance(60_000);
    h.slack.failNext('views.update', 'hash_conflict');
    const updatesBefore = h.slack.callsOf('views.update').length;
    await h.requests.clickInView(USERS.alice, entry, 'resend_code');
    await h.slack.waitFor(
      () => h.logs.lines().some((l) => String(l.msg).includes('changed meanwhile')),
      'the conflict',
    );
    const updates = h.slack.callsOf('views.update').slice(updatesBefore);
    expect(updates).toHaveLength(1);
    expect(updates[0]!.args).toMatchObject({ view_id: entry.id, hash: expect.stringMatching(/\.abc$/) });
    expect(h.logs.lines().filter(atErrorLevel)).toEqual([]);
  });
});
