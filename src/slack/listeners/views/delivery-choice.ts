import type { Opened } from '../../../core/requests.js';
import type { Services } from '../../../services.js';
import { chosenDelivery, requestIdOf } from '../../input/view-state.js';
import { explain, sendAndShow } from '../../presenters/request-window.js';
import { chooseDeliveryError, messageModal, sendingModal } from '../../views/modals.js';
import { unavailable } from '../../views/text.js';
import type { SubmitArgs } from '../args.js';

type Deps = Pick<Services, 'clock' | 'config' | 'logger' | 'requests' | 'sender' | 'sessions'>;

/** The delivery choice was submitted: show "sending…" at once, send the code, then show the code entry. */
export function deliveryChosen(s: Deps) {
  return async ({ ack, body, view, client }: SubmitArgs): Promise<void> => {
    const userId = body.user.id;
    const delivery = chosenDelivery(view);
    if (!delivery) {
      await ack(chooseDeliveryError);
      return;
    }
    let current: Opened;
    try {
      current = await s.requests.describe(userId, requestIdOf(view.private_metadata));
    } catch (error) {
      s.logger.error({ err: error, userId }, 'delivery choice could not read the request');
      await ack({ response_action: 'update', view: messageModal(view.title.text, unavailable) });
      return;
    }
    if (!current.ok) {
      await ack({ response_action: 'update', view: messageModal(view.title.text, explain(s, current)) });
      return;
    }
    await ack({ response_action: 'update', view: sendingModal(current.request, delivery) });
    await sendAndShow(s, client, view.id, userId, current.request, delivery, false);
  };
}
