import { type Delivery, otherDelivery } from '../../../core/ports.js';
import type { Services } from '../../../services.js';
import { windowOf } from '../../input/view-state.js';
import { explain, replacedBy, sendAndShow } from '../../presenters/request-window.js';
import { replacedText } from '../../presenters/step-up.js';
import { updateView } from '../../view-update.js';
import { messageModal } from '../../views/modals.js';
import { unavailable } from '../../views/text.js';
import type { ButtonArgs } from '../args.js';

type Deps = Pick<Services, 'clock' | 'config' | 'logger' | 'pending' | 'requests' | 'sender' | 'sessions'>;

/** "Resend code": a new code by the same method, for the same request. */
export function resendCode(s: Deps) {
  return resend(s, (current) => current);
}

/** "Call me instead" / "Text me instead": a new code by the other method. */
export function switchDelivery(s: Deps) {
  return resend(s, otherDelivery);
}

/**
 * A window is updated by its id only when the server says its request is the clicker's current one
 * (the request id is a secret only the owner's windows carry), and then with the view's hash, so a
 * result that comes late never overwrites a newer view. Anything else (an old window of the
 * clicker's, a store error, or a click forged on someone else's window) is told on the clicker's own
 * trigger, on top of the window, which stays as it was.
 */
function resend(s: Deps, choose: (current: Delivery) => Delivery) {
  return async ({ ack, body, client }: ButtonArgs): Promise<void> => {
    await ack();
    const view = body.view;
    if (!view) return;
    const userId = body.user.id;
    const title = view.title.text.slice(0, 24);
    const tellClicker = (text: string) =>
      client.views
        .push({ trigger_id: body.trigger_id, view: messageModal(title, text) })
        .catch((error: unknown) => s.logger.warn({ err: error, userId }, 'could not show why a resend did not happen'));
    const window = windowOf(view.private_metadata);
    let current: Awaited<ReturnType<Services['requests']['describe']>>;
    try {
      const replaced = await replacedBy(s, window);
      if (replaced) {
        await updateView(client, view.id, view.hash, messageModal(title, replacedText(replaced)), s.logger);
        return;
      }
      current = await s.requests.describe(userId, window.requestId);
    } catch (error) {
      s.logger.error({ err: error, userId }, 'resending a code failed');
      await tellClicker(unavailable);
      return;
    }
    if (!current.ok && (current.reason === 'stale' || current.reason === 'no_request')) {
      await tellClicker(explain(s, current));
      return;
    }
    try {
      if (!current.ok) {
        await updateView(client, view.id, view.hash, messageModal(title, explain(s, current)), s.logger);
        return;
      }
      const delivery = choose(current.request.sent?.delivery ?? current.request.preferredDelivery ?? 'sms');
      await sendAndShow(s, client, view.id, userId, current.request, delivery, true, view.hash, window.confirms);
    } catch (error) {
      s.logger.error({ err: error, userId }, 'resending a code failed');
      await updateView(client, view.id, view.hash, messageModal(title, unavailable), s.logger).catch(() => {});
    }
  };
}
