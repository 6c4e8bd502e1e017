import type { Services } from '../../../services.js';
import { BLOCK } from '../../ids.js';
import { chosenDelivery } from '../../input/view-state.js';
import { publishHome } from '../../presenters/home-tab.js';
import { chooseDeliveryError } from '../../views/modals.js';
import { unavailable } from '../../views/text.js';
import type { SubmitArgs } from '../args.js';

type Deps = Pick<Services, 'clock' | 'logger' | 'phones' | 'sessions'>;

/** The Home tab's delivery preference was saved. */
export function deliveryPreferenceSaved(s: Deps) {
  return async ({ ack, body, view, client }: SubmitArgs): Promise<void> => {
    const delivery = chosenDelivery(view);
    if (!delivery) {
      await ack(chooseDeliveryError);
      return;
    }
    try {
      await s.sessions.rememberDelivery(body.user.id, delivery);
    } catch (error) {
      s.logger.error({ err: error, userId: body.user.id }, 'saving the delivery preference failed');
      await ack({ response_action: 'errors', errors: { [BLOCK.delivery]: unavailable } });
      return;
    }
    await ack();
    await publishHome(s, client, body.user.id);
  };
}
