import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { appHomeOpened } from '../../../../src/slack/listeners/events/app-home-opened.js';
import { type Core, FakeBolt, realCore, textOf } from '../../../helpers/bolt-args.js';
import { PHONES, USERS } from '../../../helpers/harness.js';

let core: Core;
beforeEach(async () => {
  core = await realCore();
});
afterEach(() => core.close());

describe('app_home_opened', () => {
  test("the Home tab: publishes the user's own status, with the phone masked", async () => {
    await core.s.sessions.grant(USERS.carol, 'login', await core.s.sessions.epoch(USERS.carol), ['sms']);
    const slack = new FakeBolt();
    await appHomeOpened(core.s)(slack.homeOpened(USERS.carol));
    const [home] = slack.of('views.publish');
    expect(home).toMatchObject({ user_id: USERS.carol, view: { type: 'home' } });
    expect(textOf(home.view)).toContain('•••• 0103');
    expect(textOf(home.view)).not.toContain(PHONES.carol);
    expect(textOf(home.view)).toContain('`login`: 12 h left');
  });

  test('the Messages tab: nothing is published', async () => {
    const slack = new FakeBolt();
    await appHomeOpened(core.s)(slack.homeOpened(USERS.carol, 'messages'));
    expect(slack.calls).toEqual([]);
  });

  // The tab is a convenience, not a control: a store failure publishes nothing and does not throw.
  test('when the store fails: nothing is published, a warning is logged', async () => {
    await core.store.close();
    const slack = new FakeBolt();
    await appHomeOpened(core.s)(slack.homeOpened(USERS.carol));
    expect(slack.calls).toEqual([]);
    expect(
      core.logs
        .lines()
        .filter((l) => l.level === 'warn')
        .map((l) => l.msg),
    ).toContain('could not publish the Home tab');
  });

  test('a Slack error on publish is logged, not thrown', async () => {
    const slack = new FakeBolt((method) => (method === 'views.publish' ? 'not_enabled' : undefined));
    await appHomeOpened(core.s)(slack.homeOpened(USERS.carol));
    expect(slack.of('views.publish')).toHaveLength(1);
    expect(
      core.logs
        .lines()
        .filter((l) => l.level === 'warn')
        .map((l) => l.msg),
    ).toContain('could not publish the Home tab');
  });
});
