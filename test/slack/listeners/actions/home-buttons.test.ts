import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { ACTION } from '../../../../src/slack/ids.js';
import { homeChangeDelivery, homeLogin, homeLogout } from '../../../../src/slack/listeners/actions/home-buttons.js';
import { unavailable } from '../../../../src/slack/views/text.js';
import { type Core, errorsLogged, FakeBolt, realCore, textOf } from '../../../helpers/bolt-args.js';
import { USERS } from '../../../helpers/harness.js';

let core: Core;
beforeEach(async () => {
  core = await realCore();
});
afterEach(() => core.close());

async function logIn(userId: string): Promise<void> {
  await core.s.sessions.grant(userId, 'login', await core.s.sessions.epoch(userId), ['sms']);
}

describe('Home tab "Log in"', () => {
  test('acks, then opens the same window as /login (the delivery choice for a new request)', async () => {
    const slack = new FakeBolt();
    await homeLogin(core.s)(slack.click(USERS.bob, ACTION.homeLogin));
    expect(slack.acks).toEqual([undefined]);
    expect(slack.of('views.open')).toMatchObject([
      { trigger_id: `trigger-${USERS.bob}`, view: { callback_id: 'delivery_choice' } },
    ]);
  });

  test('when already logged in: a message window saying so, and no request', async () => {
    await logIn(USERS.bob);
    const slack = new FakeBolt();
    await homeLogin(core.s)(slack.click(USERS.bob, ACTION.homeLogin));
    const [opened] = slack.of('views.open');
    expect(opened.view.callback_id).toBeUndefined();
    expect(textOf(opened.view)).toContain("You're already logged in");
    expect(core.provider.sent).toHaveLength(0);
  });

  test('when the store fails: a window with the plain "try again", and an error logged', async () => {
    await core.store.close();
    const slack = new FakeBolt();
    await homeLogin(core.s)(slack.click(USERS.bob, ACTION.homeLogin));
    expect(slack.acks).toEqual([undefined]);
    expect(slack.of('views.open')).toMatchObject([
      { view: { title: { text: 'Log in' }, blocks: [{ text: { text: unavailable } }] } },
    ]);
    expect(errorsLogged(core.logs).map((l) => l.msg)).toEqual(['Home tab login failed']);
  });
});

describe('Home tab "Log out"', () => {
  test('ends the session like /logout, audits it, and republishes the tab', async () => {
    await logIn(USERS.bob);
    const slack = new FakeBolt();
    await homeLogout(core.s)(slack.click(USERS.bob, ACTION.homeLogout));
    expect(slack.acks).toEqual([undefined]);
    expect(await core.s.sessions.isLive(USERS.bob, 'login')).toBe(false);
    expect(core.logs.audit('authn_logout')).toMatchObject([{ userId: USERS.bob }]);
    const [home] = slack.of('views.publish');
    expect(home.user_id).toBe(USERS.bob);
    expect(textOf(home.view)).toContain(ACTION.homeLogin);
  });
});

describe('Home tab "Change delivery method"', () => {
  test('opens the preference modal with the current method selected', async () => {
    await core.s.sessions.rememberDelivery(USERS.bob, 'voice');
    const slack = new FakeBolt();
    await homeChangeDelivery(core.s)(slack.click(USERS.bob, ACTION.homeChangeDelivery));
    const [opened] = slack.of('views.open');
    expect(opened.view.callback_id).toBe('delivery_preference');
    expect(opened.view.blocks[1].element.initial_option.value).toBe('voice');
    expect(core.provider.sent).toHaveLength(0);
  });

  test('when the store fails: the modal still opens, with text message preselected', async () => {
    await core.store.close();
    const slack = new FakeBolt();
    await homeChangeDelivery(core.s)(slack.click(USERS.bob, ACTION.homeChangeDelivery));
    const [opened] = slack.of('views.open');
    expect(opened.view.blocks[1].element.initial_option.value).toBe('sms');
  });
});
