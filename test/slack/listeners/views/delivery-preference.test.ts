import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { deliveryPreferenceSaved } from '../../../../src/slack/listeners/views/delivery-preference.js';
import { chooseDeliveryError, deliveryPreferenceModal } from '../../../../src/slack/views/modals.js';
import { unavailable } from '../../../../src/slack/views/text.js';
import { type Core, FakeBolt, picked, realCore, textOf } from '../../../helpers/bolt-args.js';
import { USERS } from '../../../helpers/harness.js';

let core: Core;
beforeEach(async () => {
  core = await realCore();
});
afterEach(() => core.close());

describe('delivery preference saved (Home tab)', () => {
  test('saves the method, closes the modal, and publishes the Home tab showing it; no code is sent', async () => {
    const slack = new FakeBolt();
    await deliveryPreferenceSaved(core.s)(
      slack.submit(USERS.carol, deliveryPreferenceModal(undefined), picked('voice')),
    );
    expect(slack.acks).toEqual([undefined]);
    expect(await core.s.sessions.delivery(USERS.carol)).toBe('voice');
    const [home] = slack.of('views.publish');
    expect(home.user_id).toBe(USERS.carol);
    expect(textOf(home.view)).toContain('*Codes arrive by*\\nvoice call');
    expect(core.provider.sent).toHaveLength(0);
  });

  test('nothing picked: the inline "choose" error, nothing saved', async () => {
    const slack = new FakeBolt();
    await deliveryPreferenceSaved(core.s)(slack.submit(USERS.carol, deliveryPreferenceModal(undefined), picked()));
    expect(slack.acks).toEqual([chooseDeliveryError]);
    expect(await core.s.sessions.delivery(USERS.carol)).toBeUndefined();
  });

  test('when the store fails: the "try again" under the choice, and no Home tab', async () => {
    await core.store.close();
    const slack = new FakeBolt();
    await deliveryPreferenceSaved(core.s)(slack.submit(USERS.carol, deliveryPreferenceModal('sms'), picked('voice')));
    expect(slack.acks).toEqual([{ response_action: 'errors', errors: { delivery: unavailable } }]);
    expect(slack.calls).toEqual([]);
  });
});
