import { logOut } from '../../../core/logout.js';
import type { Services } from '../../../services.js';
import { publishHome } from '../../presenters/home-tab.js';
import { openLoginRequest, openRequestWindow } from '../../presenters/request-window.js';
import { deliveryPreferenceModal, messageModal } from '../../views/modals.js';
import { logoutFailed, unavailable } from '../../views/text.js';
import type { ButtonArgs } from '../args.js';

type Deps = Pick<Services, 'audit' | 'clock' | 'config' | 'logger' | 'phones' | 'requests' | 'sender' | 'sessions'>;

/** Home tab "Log in": the same request and window as /login. */
export function homeLogin(s: Deps) {
  return async ({ ack, body, client }: ButtonArgs): Promise<void> => {
    await ack();
    const userId = body.user.id;
    try {
      const start = await openLoginRequest(s, userId);
      if (start.ok) await openRequestWindow(s, client, body.trigger_id, userId, start.request);
      else await client.views.open({ trigger_id: body.trigger_id, view: messageModal('Log in', start.text) });
    } catch (error) {
      s.logger.error({ err: error, userId }, 'Home tab login failed');
      await client.views
        .open({ trigger_id: body.trigger_id, view: messageModal('Log in', unavailable) })
        .catch(() => {});
    }
  };
}

/** Home tab "Log out": the same as /logout, then the tab shows the new status. A failure is told in a window. */
export function homeLogout(s: Deps) {
  return async ({ ack, body, client }: ButtonArgs): Promise<void> => {
    await ack();
    const userId = body.user.id;
    try {
      await logOut(s, userId);
    } catch (error) {
      s.logger.error({ err: error, userId }, 'Home tab logout failed');
      await client.views
        .open({ trigger_id: body.trigger_id, view: messageModal('Log out', logoutFailed) })
        .catch((openError: unknown) =>
          s.logger.warn({ err: openError, userId }, 'could not tell that the logout failed'),
        );
    }
    await publishHome(s, client, userId);
  };
}

/** Home tab "Change delivery method": a modal that only saves the preference. */
export function homeChangeDelivery(s: Deps) {
  return async ({ ack, body, client }: ButtonArgs): Promise<void> => {
    await ack();
    const current = await s.sessions.delivery(body.user.id).catch(() => undefined);
    await client.views.open({ trigger_id: body.trigger_id, view: deliveryPreferenceModal(current) });
  };
}
