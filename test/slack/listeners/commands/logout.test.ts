import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { StoreError } from '../../../../src/core/ports.js';
import { logout } from '../../../../src/slack/listeners/commands/logout.js';
import { loggedOut, logoutUnfinished } from '../../../../src/slack/views/text.js';
import { type Core, FakeBolt, realCore, textOf } from '../../../helpers/bolt-args.js';
import { USERS } from '../../../helpers/harness.js';

let core: Core;
beforeEach(async () => {
  core = await realCore();
});
afterEach(() => core.close());

async function logIn(userId: string): Promise<void> {
  await core.s.sessions.grant(userId, 'login', await core.s.sessions.epoch(userId), ['sms']);
}

describe('/logout', () => {
  test('ends the session, forgets the delivery method, says so in the ack, audits, and shows the new Home tab', async () => {
    await logIn(USERS.alice);
    await core.s.sessions.rememberDelivery(USERS.alice, 'voice');
    const slack = new FakeBolt();
    await logout(core.s)(slack.command('/logout', USERS.alice));
    expect(slack.acks).toEqual([{ response_type: 'ephemeral', text: loggedOut(true) }]);
    expect(await core.s.sessions.isLive(USERS.alice, 'login')).toBe(false);
    expect(await core.s.sessions.delivery(USERS.alice)).toBeUndefined();
    expect(core.logs.audit('authn_logout')).toMatchObject([
      { userId: USERS.alice, outcome: 'success', detail: { scopes: 'login' } },
    ]);
    const [home] = slack.of('views.publish');
    expect(home.user_id).toBe(USERS.alice);
    expect(textOf(home.view)).toContain('Not logged in');
  });

  // Rule: the reply tells apart "you were logged out" from "you were not logged in".
  test('when not logged in: the other sentence', async () => {
    const slack = new FakeBolt();
    await logout(core.s)(slack.command('/logout', USERS.bob));
    expect(slack.acks).toEqual([{ response_type: 'ephemeral', text: loggedOut(false) }]);
    expect(loggedOut(false)).not.toBe(loggedOut(true));
  });

  test('when the store fails: "may or may not have ended, run it again", and no Home tab', async () => {
    await logIn(USERS.alice);
    await core.store.close();
    const slack = new FakeBolt();
    await logout(core.s)(slack.command('/logout', USERS.alice));
    expect(slack.acks).toEqual([{ response_type: 'ephemeral', text: logoutUnfinished }]);
    expect(slack.calls).toEqual([]);
  });

  // Issue 18 §4: the session ended, then a later step failed: the reply must not say "nothing was changed".
  test('the ending lands but the next step fails: the reply does not claim nothing changed', async () => {
    await logIn(USERS.alice);
    core.s.requests.cancel = async () => {
      throw new StoreError('store write failed');
    };
    const slack = new FakeBolt();
    await logout(core.s)(slack.command('/logout', USERS.alice));
    expect(await core.s.sessions.isLive(USERS.alice, 'login')).toBe(false);
    expect(textOf(slack.acks[0])).not.toContain('Nothing was changed');
    expect(textOf(slack.acks[0])).toContain('may or may not have ended');
  });
});
