import type { Opened } from '../../../core/requests.js';
import type { Services } from '../../../services.js';
import { chosenDelivery, windowOf } from '../../input/view-state.js';
import { explain, replacedBy, sendAndShow } from '../../presenters/request-window.js';
import { replacedText } from '../../presenters/step-up.js';
import { chooseDeliveryError, messageModal, sendingModal } from '../../views/modals.js';
import { unavailable } from '../../views/text.js';
import type { SubmitArgs } from '../args.js';

type Deps = Pick<Services, 'clock' | 'config' | 'logger' | 'pending' | 'requests' | 'sender' | 'sessions'>;

/**
 * The delivery choice was submitted: show "sending…" at once, send the code, then show the code entry.
 * A step-up window that a newer command replaced sends nothing and says so.
 */
export function deliveryChosen(s: Deps) {
  return async ({ ack, body, view, client }: SubmitArgs): Promise<void> => {
    const userId = body.user.id;
    const delivery = chosenDelivery(view);
    if (!delivery) {
      await ack(chooseDeliveryError);
      return;
    }
    const window = windowOf(view.private_metadata);
    let current: Opened;
    try {
      const replaced = await replacedBy(s, window);
      if (replaced) {
        await ack({ response_action: 'update', view: messageModal(view.title.text, replacedText(replaced)) });
        return;
      }
      current = await s.requests.describe(userId, window.requestId);
    } catch (error) {
      s.logger.error({ err: error, userId }, 'delivery choice could not read the request');
      await ack({ response_action: 'update', view: messageModal(view.title.text, unavailable) });
      return;
    }
    if (!current.ok) {
      await ack({ response_action: 'update', view: messageModal(view.title.text, explain(s, current)) });
      return;
    }
    await ack({ response_action: 'update', view: sendingModal(current.request, delivery, window.confirms) });
    await sendAndShow(s, client, view.id, userId, current.request, delivery, false, undefined, window.confirms);
  };
}
