import type { AnyMiddlewareArgs, App, Middleware } from '@slack/bolt';
import type { Services } from '../../services.js';
import { routeButtons } from './actions/index.js';
import type { ButtonArgs, CommandArgs, HomeOpenedArgs, SubmitArgs } from './args.js';
import { type AddedCommands, routeCommands } from './commands/index.js';
import { routeEvents } from './events/index.js';
import { routeSubmissions } from './views/index.js';

/**
 * Every request the app answers, routed by kind (a slash command by its name, a modal submission by its
 * callback_id, a button by its action_id, an event by its type) from one global middleware, the last,
 * instead of Bolt listeners.
 *
 * Why: Bolt runs every listener's chain of matchers on every request, a copy of the whole argument
 * object for each step, so each listener costs every request (a /whoami included) a few microseconds,
 * whether it matches or not; one router costs one step. A request nothing here matches (a shortcut, a
 * button or view of another app) is left unacknowledged, as a Bolt app with no listener for it would.
 */
export function registerListeners(app: App, s: Services, commands?: AddedCommands): void {
  app.use(router(s, commands));
}

function router(s: Services, added?: AddedCommands): Middleware<AnyMiddlewareArgs> {
  const command = routeCommands(s, added);
  const submission = routeSubmissions(s);
  const button = routeButtons(s);
  const event = routeEvents(s);
  return async (args) => {
    const { body } = args;
    if ('command' in args) await command(args as CommandArgs);
    else if (body.type === 'view_submission') await submission(args as SubmitArgs);
    else if (body.type === 'block_actions') await button(args as ButtonArgs);
    else if ('event' in args) await event(args as HomeOpenedArgs);
  };
}
