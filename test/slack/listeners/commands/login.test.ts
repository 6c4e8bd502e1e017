import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { login } from '../../../../src/slack/listeners/commands/login.js';
import { windowNotShown } from '../../../../src/slack/presenters/request-window.js';
import { requestMetadata } from '../../../../src/slack/views/modals.js';
import { unavailable } from '../../../../src/slack/views/text.js';
import { type Core, errorsLogged, FakeBolt, realCore, textOf } from '../../../helpers/bolt-args.js';
import { PHONES, USERS } from '../../../helpers/harness.js';

let core: Core;
beforeEach(async () => {
  core = await realCore();
});
afterEach(() => core.close());

describe('/login', () => {
  // Rule: a first login asks how the code should arrive; the window carries the request id only.
  test('with no delivery preference: an empty ack, then the delivery choice for a new request', async () => {
    const slack = new FakeBolt();
    await login(core.s)(slack.command('/login', USERS.alice));
    expect(slack.acks).toEqual([undefined]);
    const [opened] = slack.of('views.open');
    expect(opened).toMatchObject({ trigger_id: `trigger-${USERS.alice}`, view: { callback_id: 'delivery_choice' } });
    // Only the request id, and it names Alice's open login request.
    const { requestId } = JSON.parse(opened.view.private_metadata);
    expect(opened.view.private_metadata).toBe(requestMetadata(requestId));
    expect(await core.s.requests.describe(USERS.alice, requestId)).toMatchObject({
      ok: true,
      request: { scope: 'login', sent: undefined },
    });
    expect(textOf(opened.view)).toContain('0101');
    expect(textOf(opened.view)).not.toContain(PHONES.alice);
    expect(core.provider.sent).toHaveLength(0);
  });

  // Rule: with a remembered method, the code goes out at once and the window becomes the code entry.
  test('with a preference: "sending…", one code sent, then the code entry in the same window', async () => {
    await core.s.sessions.rememberDelivery(USERS.alice, 'voice');
    const slack = new FakeBolt();
    await login(core.s)(slack.command('/login', USERS.alice));
    expect(slack.acks).toEqual([undefined]);
    expect(textOf(slack.of('views.open')[0].view)).toContain('Sending a code by voice call');
    expect(core.provider.sent).toMatchObject([{ to: PHONES.alice, delivery: 'voice', purpose: 'login' }]);
    const [update] = slack.of('views.update');
    expect(update).toMatchObject({ view_id: 'V0OPENED1', view: { callback_id: 'code_entry' } });
  });

  // Rule: a window Slack refuses (a trigger that expired under load) is told where the command was typed, not left silent.
  test('Slack refuses to open the window: the user is told where they typed, and nothing crashes', async () => {
    const slack = new FakeBolt((method) => (method === 'views.open' ? 'expired_trigger_id' : undefined));
    await login(core.s)(slack.command('/login', USERS.alice));
    expect(slack.acks).toEqual([undefined]);
    expect(slack.responds).toEqual([{ response_type: 'ephemeral', text: windowNotShown }]);
    expect(errorsLogged(core.logs)).toEqual([]);
  });

  // Rule: running /login again while a code is out reopens the code entry; no second code is sent.
  test('with a code already out: the code entry again, and no new code', async () => {
    await core.s.sessions.rememberDelivery(USERS.alice, 'sms');
    await login(core.s)(new FakeBolt().command('/login', USERS.alice));
    const slack = new FakeBolt();
    await login(core.s)(slack.command('/login', USERS.alice));
    expect(slack.of('views.open')).toMatchObject([{ view: { callback_id: 'code_entry' } }]);
    expect(textOf(slack.of('views.open')[0].view)).toContain('The code I sent you earlier still works.');
    expect(core.provider.sent).toHaveLength(1);
  });

  test('when already logged in: says so in the ack, opens nothing', async () => {
    const epoch = await core.s.sessions.epoch(USERS.alice);
    await core.s.sessions.grant(USERS.alice, 'login', epoch, ['sms']);
    const slack = new FakeBolt();
    await login(core.s)(slack.command('/login', USERS.alice));
    expect(slack.acks).toHaveLength(1);
    expect(slack.acks[0]).toMatchObject({
      response_type: 'ephemeral',
      text: expect.stringContaining("You're already logged in"),
    });
    expect(slack.calls).toEqual([]);
    expect(core.provider.sent).toHaveLength(0);
  });

  test('with no phone linked: says who can link one, opens nothing', async () => {
    const slack = new FakeBolt();
    await login(core.s)(slack.command('/login', USERS.stranger));
    expect(slack.acks).toEqual([{ response_type: 'ephemeral', text: expect.stringContaining('No phone is linked') }]);
    expect(textOf(slack.acks)).toContain(`<@${USERS.alice}>`);
    expect(slack.calls).toEqual([]);
  });

  // Rule: fail closed: a store that cannot be read gives the plain "try again" in the ack, and nothing else.
  test('when the store fails: the plain "try again" in the ack, nothing opened, an error logged', async () => {
    await core.store.close();
    const slack = new FakeBolt();
    await login(core.s)(slack.command('/login', USERS.alice));
    expect(slack.acks).toEqual([{ response_type: 'ephemeral', text: unavailable }]);
    expect(slack.calls).toEqual([]);
    expect(errorsLogged(core.logs).map((l) => l.msg)).toEqual(['/login could not start']);
  });
});
