import type { AllMiddlewareArgs, SlackEventMiddlewareArgs } from '@slack/bolt';
import type { Services } from '../../../services.js';
import { publishHome } from '../../presenters/home-tab.js';

/** The user opened the app's Home tab: show their status. */
export function appHomeOpened(s: Services) {
  return async ({ event, client }: SlackEventMiddlewareArgs<'app_home_opened'> & AllMiddlewareArgs): Promise<void> => {
    if (event.tab !== 'home') return;
    await publishHome(s, client, event.user);
  };
}
