import nock from 'nock';
import { afterAll, afterEach, describe, expect, test } from 'vitest';
import { type Harness, logIn, PHONES, removeTempDirs, startBot, USERS } from '../helpers/harness.js';

/**
 * Invariant 8 over the real receiver: an admin's code is being checked (Bandwidth takes 1.5 s) for a
 * pending `/admin unlink @bob`; meanwhile the admin's session is ended. Nothing is granted and the
 * pending command never runs.
 */

let h: Harness;
afterEach(async () => {
  await h.stop().catch(() => {});
});
afterAll(() => {
  removeTempDirs();
  nock.restore();
});

const viewText = (view: unknown) => JSON.stringify(view);
const { alice, bob, carol } = USERS;

async function codeEntryFor(userId: string, text: string) {
  const opened = h.slack.callsOf('views.open').length;
  await h.requests.command('/admin', userId, text);
  await h.slack.waitFor(
    (calls) => calls.filter((c) => c.method === 'views.open').length > opened,
    'the step-up window',
  );
  await h.slack.waitFor(() => h.slack.lastView().view.callback_id === 'code_entry', 'the admin code entry');
  return h.slack.lastView();
}

const endings: Record<string, () => Promise<unknown>> = {
  '/logout by the admin': () => h.requests.command('/logout', alice),
  '/admin revoke by another admin': () => h.requests.command('/admin', carol, `revoke <@${alice}|alice>`),
  '/admin unlink by another admin': () => h.requests.command('/admin', carol, `unlink <@${alice}|alice>`),
  '/admin link (a new phone) by another admin': () =>
    h.requests.command('/admin', carol, `link <@${alice}|alice> +1 415 555 0188`),
};

describe.each(Object.entries(endings))('%s while the admin code is checked', (_name, end) => {
  test('grants nothing and runs no pending command', async () => {
    h = await startBot({ slackDeadlineMs: 200, env: { POLICY_ADMINS: `${alice},${carol}` } });
    await logIn(h, carol);
    const carolEntry = await codeEntryFor(carol, 'sessions');
    await h.requests.submitCode(carol, carolEntry, h.bandwidth.lastCode());
    await h.slack.waitFor(() => h.slack.responses.length > 0, "carol's step-up result");

    await logIn(h, alice);
    const entry = await codeEntryFor(alice, `unlink <@${bob}|bob>`);
    h.bandwidth.failNext('verify', { delayMs: 1500 }); // answers normally, late
    const updates = () => h.slack.callsOf('views.update').filter((c) => c.args.view_id === entry.id);
    const before = updates().length;
    const answer = await h.requests.submitCode(alice, entry, h.bandwidth.lastCode());
    expect(viewText(answer.json.view)).toContain('Checking your code');
    await end();

    await h.slack.waitFor(() => updates().length > before, 'the outcome in the window', 5000);
    expect(viewText(updates().at(-1)!.args.view)).toContain('This request was ended');
    expect(h.bandwidth.verifies.at(-1)).toMatchObject({ valid: true }); // the code itself was right
    expect(await h.bot.services.phones.phoneOf(bob)).toBe(PHONES.bob); // the pending unlink never ran
    expect(h.logs.audit('authn_phone_unlinked').filter((e) => e.userId === bob)).toEqual([]);
    expect(await h.bot.services.sessions.isLive(alice, 'admin')).toBe(false);
    expect((await h.requests.command('/whoami', alice)).json.text).toContain('needs you to log in first');
  });
});
