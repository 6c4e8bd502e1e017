import type { AllMiddlewareArgs, SlackViewMiddlewareArgs, ViewSubmitAction } from '@slack/bolt';
import { DELIVERIES, type Delivery } from '../../../core/ports.js';
import type { Services } from '../../../services.js';
import { publishHome } from '../../home.js';
import { ACTION, BLOCK } from '../../ids.js';
import { unavailable } from '../../views/text.js';

/** The Home tab's delivery preference was saved. */
export function deliveryPreferenceSaved(s: Services) {
  return async ({ ack, body, view, client }: SlackViewMiddlewareArgs<ViewSubmitAction> & AllMiddlewareArgs): Promise<void> => {
    const chosen = view.state.values[BLOCK.delivery]?.[ACTION.delivery]?.selected_option?.value;
    if (!DELIVERIES.includes(chosen as Delivery)) {
      await ack({ response_action: 'errors', errors: { [BLOCK.delivery]: 'Choose text message or voice call.' } });
      return;
    }
    try {
      await s.sessions.rememberDelivery(body.user.id, chosen as Delivery);
    } catch (error) {
      s.logger.error({ err: error, userId: body.user.id }, 'saving the delivery preference failed');
      await ack({ response_action: 'errors', errors: { [BLOCK.delivery]: unavailable } });
      return;
    }
    await ack();
    await publishHome(s, client, body.user.id);
  };
}
