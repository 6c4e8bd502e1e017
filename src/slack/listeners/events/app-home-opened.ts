import type { Services } from '../../../services.js';
import { publishHome } from '../../presenters/home-tab.js';
import type { HomeOpenedArgs } from '../args.js';

type Deps = Pick<Services, 'clock' | 'logger' | 'phones' | 'sessions'>;

/** The user opened the app's Home tab: show their status. */
export function appHomeOpened(s: Deps) {
  return async ({ event, client }: HomeOpenedArgs): Promise<void> => {
    if (event.tab !== 'home') return;
    await publishHome(s, client, event.user);
  };
}
