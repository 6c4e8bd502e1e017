import { describe, expect, test } from 'vitest';
import { botsPerTest, type Harness, logIn, USERS } from '../helpers/harness.js';

/**
 * Issue 18 §5: nobody can lock the team out. An admin cannot remove their own phone from Slack; a team
 * whose admins have no phone is warned at start-up, and such an admin's /login says how to fix it.
 */

const { alice: ADMIN } = USERS;
const bot = botsPerTest();
let h: Harness | undefined;

describe('an admin team that cannot step up', () => {
  test('start-up warns, naming the fix; the admin is told how to link their own phone from the host', async () => {
    h = await bot({ env: { PHONES_U0ALICE01: '' } });
    const [warning] = await h.bot.startupWarnings();
    expect(warning).toContain('[policy] admins: no admin has a phone (U0ALICE01)');
    expect(warning).toContain('npm run admin -- link U0ALICE01');

    const login = await h.requests.command('/login', ADMIN);
    expect(login.json.text).toContain(`npm run admin -- link ${ADMIN}`);
    expect(login.json.text).not.toContain('Ask an admin');
    // A member without a phone is still told to ask an admin.
    const stranger = await h.requests.command('/login', USERS.stranger);
    expect(stranger.json.text).toContain(`Ask an admin (<@${ADMIN}>)`);

    await h.bot.services.phones.link(ADMIN, '+14155550177', 'operator', h.clock.now());
    expect(await h.bot.startupWarnings()).toEqual([]);
  });
});

describe('an admin cannot take away their own way in', () => {
  test('/admin unlink of oneself and /admin link of one\u2019s own phone are refused in plain words; nothing changes', async () => {
    h = await bot();
    await logIn(h, ADMIN);
    await h.requests.command('/admin', ADMIN, `unlink <@${ADMIN}>`);
    await h.slack.waitFor(() => h!.slack.lastView().view.callback_id === 'code_entry', 'the step-up');
    await h.requests.submitCode(ADMIN, h.slack.lastView(), h.bandwidth.lastCode());
    await h.slack.waitFor(() => h!.slack.responses.length > 0, 'the result');
    expect(h.slack.responses[0]!.body.text).toContain("You can't change your own phone from Slack");
    const relink = await h.requests.command('/admin', ADMIN, `link <@${ADMIN}> +1 415 555 0177`);
    expect(relink.json.text).toContain("You can't change your own phone from Slack");
    expect(await h.bot.services.phones.phoneOf(ADMIN)).toBe('+14155550101');
    expect(h.logs.audit('authn_phone_unlinked')).toEqual([
      expect.objectContaining({ outcome: 'refused', detail: { reason: 'own_phone' } }),
    ]);
  });
});
