import type { webApi } from '@slack/bolt';
import { maskPhone } from '../../core/phones.js';
import type { UserState } from '../../core/sessions.js';
import type { Services } from '../../services.js';
import { homeView } from '../views/home.js';
import type { Status } from '../views/text.js';

type Deps = Pick<Services, 'clock' | 'logger' | 'phones' | 'sessions'>;

/** What /whoami and the Home tab show: the user's masked phone, delivery method and live scopes. */
export function statusOf({ userId, phone, delivery, scopes }: UserState): Status {
  return { userId, maskedPhone: phone && maskPhone(phone), delivery, scopes };
}

/** The status, in one store read (for callers with no gate in front, such as the Home tab). */
export async function readStatus(s: Omit<Deps, 'logger' | 'clock'>, userId: string): Promise<Status> {
  return statusOf(await s.sessions.userState(userId, s.phones));
}

/** Publishes the user's Home tab. Failures are logged: the tab is a convenience, not a control. */
export async function publishHome(s: Deps, client: webApi.WebClient, userId: string): Promise<void> {
  try {
    await client.views.publish({ user_id: userId, view: homeView(await readStatus(s, userId), s.clock.now()) });
  } catch (error) {
    s.logger.warn({ err: error, userId }, 'could not publish the Home tab');
  }
}
