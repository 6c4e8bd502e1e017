import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { StoreError } from '../../../../src/core/ports.js';
import { ACTION } from '../../../../src/slack/ids.js';
import { homeChangeDelivery, homeLogin, homeLogout } from '../../../../src/slack/listeners/actions/home-buttons.js';
import { logoutFailed, unavailable } from '../../../../src/slack/views/text.js';
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

describe('Home tab "Log out" when it fails', () => {
  // Rule: a logout that fails is told to the user on the click's trigger (not only logged), in words
  // that do not claim nothing changed: the session may have ended before a later step failed.
  test('a window on the click says the logout did not go through and to press it again; the error is logged', async () => {
    await logIn(USERS.bob);
    await core.store.close();
    const slack = new FakeBolt();
    await homeLogout(core.s)(slack.click(USERS.bob, ACTION.homeLogout));
    expect(slack.acks).toEqual([undefined]);
    const [opened] = slack.of('views.open');
    expect(opened).toMatchObject({ trigger_id: `trigger-${USERS.bob}`, view: { title: { text: 'Log out' } } });
    expect(opened.view.blocks).toMatchObject([{ text: { text: logoutFailed } }]);
    expect(logoutFailed).toContain("couldn't log you out");
    expect(logoutFailed).toContain('again');
    expect(logoutFailed).not.toMatch(/nothing (was )?changed/i);
    expect(errorsLogged(core.logs).map((l) => l.msg)).toEqual(['Home tab logout failed']);
    expect(core.logs.audit('authn_logout')).toEqual([]);
  });

  // Rule: a logout that ended the session but failed afterwards (the open request could not be dropped) is told the same way.
  test('a failure after the session ended: told as well; pressing again finishes it', async () => {
    await logIn(USERS.bob);
    const cancel = core.s.requests.cancel.bind(core.s.requests);
    let failures = 1;
    core.s.requests.cancel = async (userId: string) => {
      if (failures-- > 0) throw new StoreError('store write timed out');
      return cancel(userId);
    };
    const slack = new FakeBolt();
    await homeLogout(core.s)(slack.click(USERS.bob, ACTION.homeLogout));
    expect(slack.of('views.open')[0].view.blocks).toMatchObject([{ text: { text: logoutFailed } }]);
    const again = new FakeBolt();
    await homeLogout(core.s)(again.click(USERS.bob, ACTION.homeLogout));
    expect(again.of('views.open')).toEqual([]);
    expect(await core.s.sessions.isLive(USERS.bob, 'login')).toBe(false);
    expect(core.logs.audit('authn_logout')).toHaveLength(1);
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
