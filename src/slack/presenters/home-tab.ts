import type { webApi } from '@slack/bolt';
import { maskPhone } from '../../core/phones.js';
import type { Services } from '../../compose.js';
import { homeView } from '../views/home.js';
import type { Status } from '../views/text.js';

type Deps = Pick<Services, 'clock' | 'logger' | 'phones' | 'sessions'>;

/** What /whoami and the Home tab show: the user's masked phone, delivery method and live scopes. */
export async function readStatus(s: Omit<Deps, 'logger' | 'clock'>, userId: string): Promise<Status> {
  const [phone, delivery, scopes] = await Promise.all([s.phones.phoneOf(userId), s.sessions.delivery(userId), s.sessions.liveScopes(userId)]);
  return { userId, maskedPhone: phone && maskPhone(phone), delivery, scopes };
}

/** Publishes the user's Home tab. Failures are logged: the tab is a convenience, not a control. */
export async function publishHome(s: Deps, client: webApi.WebClient, userId: string): Promise<void> {
  try {
    await client.views.publish({ user_id: userId, view: homeView(await readStatus(s, userId), s.clock.now()) });
  } catch (error) {
    s.logger.warn({ err: error, userId }, 'could not publish the Home tab');
  }
}
