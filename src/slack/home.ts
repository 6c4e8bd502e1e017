import type { webApi } from '@slack/bolt';
import { maskPhone } from '../core/phones.js';
import type { Services } from '../services.js';
import { homeView } from './views/home.js';

/** Publishes the user's Home tab. Failures are logged: the tab is a convenience, not a control. */
export async function publishHome(s: Services, client: webApi.WebClient, userId: string): Promise<void> {
  try {
    const [phone, delivery, scopes] = await Promise.all([s.phones.phoneOf(userId), s.sessions.delivery(userId), s.sessions.liveScopes(userId)]);
    await client.views.publish({ user_id: userId, view: homeView({ userId, maskedPhone: phone && maskPhone(phone), delivery, scopes }, s.clock.now()) });
  } catch (error) {
    s.logger.warn({ err: error, userId }, 'could not publish the Home tab');
  }
}
