import { beforeEach, describe, expect, test } from 'vitest';
import { botsPerTest, type Harness, logIn, openCodeEntry, USERS } from '../helpers/harness.js';

/**
 * Anyone in the workspace can cause refusals for free (a /whoami while logged out, a malformed code in
 * an open window), as often as they like. They must not push a lock or a phone change out of
 * `/admin audit`: they are counted, one line with ×N per kind and hour, under a bound of their own.
 */

const bot = botsPerTest();
let h: Harness;
beforeEach(async () => {
  h = await bot({ env: { POLICY_LOCKOUT_FAILURES: '3' } });
});

const { alice: ADMIN, bob, carol, stranger } = USERS;

/** Sends `count` requests, `parallel` at a time, as a flood arrives. */
async function flood(count: number, send: () => Promise<{ status: number }>, parallel = 20): Promise<void> {
  for (let sent = 0; sent < count; sent += parallel) {
    const answers = await Promise.all(Array.from({ length: Math.min(parallel, count - sent) }, send));
    for (const answer of answers) expect(answer.status).toBe(200);
  }
}

describe('/admin audit after a flood of free refusals', () => {
  test('a lock and a phone link, then a flood of 1,000 (500 logged-out /whoami, 500 malformed codes): both are in `/admin audit 100`, the flood is a few counted lines', async () => {
    await logIn(h, ADMIN);
    // A phone link (through a step-up), then a lock.
    const entry = await (async () => {
      const ack = await h.requests.command('/admin', ADMIN, `link <@${carol}> (415) 555-0177`);
      expect(ack.status).toBe(200);
      await h.slack.waitFor(() => h.slack.lastView().view.callback_id === 'code_entry', 'the admin code entry');
      return h.slack.lastView();
    })();
    await h.requests.submitCode(ADMIN, entry, h.bandwidth.lastCode());
    await h.slack.waitFor(() => h.slack.responses.length > 0, 'the link result');
    expect(h.slack.responses[0]!.body.text).toContain('Linked the phone *•••• 0177*');
    const bobEntry = await openCodeEntry(h, bob);
    for (let i = 0; i < 3; i++) await h.requests.submitCode(bob, bobEntry, h.bandwidth.wrongCode());
    expect(h.logs.audit('authn_login_lock')).toHaveLength(1);

    // The flood: a stranger's /whoami while logged out, and malformed codes in carol's open window.
    const carolEntry = await openCodeEntry(h, carol);
    await flood(500, () => h.requests.command('/whoami', stranger));
    await flood(500, () => h.requests.submitCode(carol, carolEntry, 'abc'));
    // The log still has one line per event.
    expect(h.logs.audit('authz_fail').filter((l) => l.userId === stranger)).toHaveLength(500);
    expect(h.logs.audit('authn_login_fail').filter((l) => l.detail?.reason === 'malformed')).toHaveLength(500);

    const audit = await h.requests.command('/admin', ADMIN, 'audit 100'); // the admin scope is still live
    const text = audit.json.text as string;
    const lines = text.split('\n');
    expect(lines[0]).toMatch(/^\*Latest \d+ security events, and 2 counted lines of refusals anyone can cause\*/);
    const lock = lines.filter((l) => l.includes('`authn_login_lock`'));
    expect(lock).toHaveLength(1);
    expect(lock[0]).toContain(`<@${bob}>`);
    const link = lines.filter((l) => l.includes('`authn_phone_linked`'));
    expect(link).toHaveLength(1);
    expect(link[0]).toContain(`<@${carol}>  \`authn_phone_linked\`  -  success  by <@${ADMIN}>  •••• 0177`);
    const counted = lines.filter((l) => / ×\d+$/.test(l));
    expect(counted).toHaveLength(2);
    expect(counted).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          new RegExp(`<@${stranger}>  \`authz_fail\`  login  refused  \`/whoami\`  no_scope  ×500$`),
        ),
        expect.stringMatching(new RegExp(`<@${carol}>  \`authn_login_fail\`  -  refused  malformed  ×500$`)),
      ]),
    );
    // The purge trims nothing that is a security event because of the flood.
    const before = lines.filter((l) => !/ ×\d+$/.test(l)).length;
    const purged = await h.bot.purge();
    // On SQLite the purge says how long its longest statement held the event loop (main.ts logs it).
    expect(purged.longestStatementMs).toBeGreaterThan(0);
    const again = ((await h.requests.command('/admin', ADMIN, 'audit 100')).json.text as string).split('\n');
    expect(again.filter((l) => l.includes('`authn_login_lock`'))).toHaveLength(1);
    expect(again.filter((l) => !/ ×\d+$/.test(l)).length).toBeGreaterThanOrEqual(before);
  });
});
