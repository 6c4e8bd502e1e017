import type { webApi } from '@slack/bolt';
import type { Services } from '../services.js';
import { readStatus } from './status.js';
import { homeView } from './views/home.js';

/** Publishes the user's Home tab. Failures are logged: the tab is a convenience, not a control. */
export async function publishHome(s: Services, client: webApi.WebClient, userId: string): Promise<void> {
  try {
    await client.views.publish({ user_id: userId, view: homeView(await readStatus(s, userId), s.clock.now()) });
  } catch (error) {
    s.logger.warn({ err: error, userId }, 'could not publish the Home tab');
  }
}
