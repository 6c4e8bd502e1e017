import type { Services } from '../../../services.js';
import type { HomeOpenedArgs } from '../args.js';
import { appHomeOpened } from './app-home-opened.js';

/** The events the app subscribes to (manifest.yml): only app_home_opened; any other is left alone. */
export function routeEvents(s: Services): (args: HomeOpenedArgs) => Promise<void> {
  const homeOpened = appHomeOpened(s);
  return async (args) => {
    if (args.event.type === 'app_home_opened') await homeOpened(args);
  };
}
