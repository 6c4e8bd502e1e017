import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { deliveryChosen } from '../../../../src/slack/listeners/views/delivery-choice.js';
import { chooseDeliveryError, deliveryChoiceModal } from '../../../../src/slack/views/modals.js';
import { unavailable } from '../../../../src/slack/views/text.js';
import { type Core, FakeBolt, picked, realCore, textOf } from '../../../helpers/bolt-args.js';
import { PHONES, USERS } from '../../../helpers/harness.js';

let core: Core;
beforeEach(async () => {
  core = await realCore();
});
afterEach(() => core.close());

/** Alice's delivery-choice window for a new login request. */
async function choiceWindow() {
  const opened = await core.s.requests.open(USERS.alice, 'login');
  if (!opened.ok) throw new Error(opened.reason);
  return deliveryChoiceModal(opened.request);
}

describe('delivery choice submitted', () => {
  test('nothing picked: the inline "choose" error, and no code', async () => {
    const slack = new FakeBolt();
    await deliveryChosen(core.s)(slack.submit(USERS.alice, await choiceWindow(), picked()));
    expect(slack.acks).toEqual([chooseDeliveryError]);
    expect(core.provider.sent).toHaveLength(0);
  });

  // Rule (invariant 5): "sending…" goes in the ack; the code entry replaces it in the same window when the send is done.
  test('voice picked: "sending…" in the ack, a voice code to the linked phone, then the code entry in that window', async () => {
    const slack = new FakeBolt();
    await deliveryChosen(core.s)(slack.submit(USERS.alice, await choiceWindow(), picked('voice'), 'V0CHOICE1'));
    expect(slack.acks).toHaveLength(1);
    expect(slack.acks[0]).toMatchObject({ response_action: 'update' });
    expect(textOf(slack.acks[0])).toContain('Sending a code by voice call to *•••• 0101*');
    expect(core.provider.sent).toMatchObject([{ to: PHONES.alice, delivery: 'voice' }]);
    const [update] = slack.of('views.update');
    expect(update).toMatchObject({ view_id: 'V0CHOICE1', view: { callback_id: 'code_entry' } });
    expect(textOf(update.view)).not.toContain(PHONES.alice);
  });

  test('a picked value that is not a method is refused like no choice', async () => {
    const slack = new FakeBolt();
    await deliveryChosen(core.s)(slack.submit(USERS.alice, await choiceWindow(), picked('carrier-pigeon')));
    expect(slack.acks).toEqual([chooseDeliveryError]);
    expect(core.provider.sent).toHaveLength(0);
  });

  test('a window a newer request replaced: says so and sends nothing', async () => {
    const old = await choiceWindow();
    await core.s.requests.open(USERS.alice, 'admin');
    const slack = new FakeBolt();
    await deliveryChosen(core.s)(slack.submit(USERS.alice, old, picked('sms')));
    expect(textOf(slack.acks)).toContain('A newer request replaced this one');
    expect(core.provider.sent).toHaveLength(0);
    expect(slack.calls).toEqual([]);
  });

  test('when the store fails: the plain "try again" replaces the window', async () => {
    const window = await choiceWindow();
    await core.store.close();
    const slack = new FakeBolt();
    await deliveryChosen(core.s)(slack.submit(USERS.alice, window, picked('sms')));
    expect(slack.acks).toMatchObject([{ response_action: 'update', view: { title: { text: 'Log in' } } }]);
    expect(textOf(slack.acks)).toContain(unavailable.slice(0, 40));
    expect(core.provider.sent).toHaveLength(0);
  });
});
