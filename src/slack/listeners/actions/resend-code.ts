import type { AllMiddlewareArgs, BlockAction, SlackActionMiddlewareArgs } from '@slack/bolt';
import type { Delivery } from '../../../core/ports.js';
import type { Services } from '../../../services.js';
import { explain, sendAndShow } from '../../flow.js';
import { flowIdOf, messageModal } from '../../views/modals.js';
import { unavailable } from '../../views/text.js';

type ButtonArgs = SlackActionMiddlewareArgs<BlockAction> & AllMiddlewareArgs;

/** "Resend code": a new code by the same method, for the same request. */
export function resendCode(s: Services) {
  return resend(s, (current) => current);
}

/** "Call me instead" / "Text me instead": a new code by the other method. */
export function switchDelivery(s: Services) {
  return resend(s, (current) => (current === 'sms' ? 'voice' : 'sms'));
}

function resend(s: Services, choose: (current: Delivery) => Delivery) {
  return async ({ ack, body, client }: ButtonArgs): Promise<void> => {
    await ack();
    const view = body.view;
    if (!view) return;
    const userId = body.user.id;
    const title = view.title.text;
    try {
      const current = await s.challenges.describe(userId, flowIdOf(view.private_metadata));
      if (!current.ok) {
        await client.views.update({ view_id: view.id, view: messageModal(title, explain(s, current)) });
        return;
      }
      const delivery = choose(current.flow.sent?.delivery ?? current.flow.preferredDelivery ?? 'sms');
      await sendAndShow(s, client, view.id, userId, current.flow, delivery, true);
    } catch (error) {
      s.logger.error({ err: error, userId }, 'resending a code failed');
      await client.views.update({ view_id: view.id, view: messageModal(title, unavailable) });
    }
  };
}
