import type { Services } from '../../../services.js';
import { type LoginStart, openCommandWindow, openLoginRequest } from '../../presenters/request-window.js';
import { ephemeral } from '../../reply.js';
import { unavailable } from '../../views/text.js';
import type { CommandArgs } from '../args.js';

type Deps = Pick<Services, 'clock' | 'config' | 'logger' | 'requests' | 'sender' | 'sessions'>;

/** /login: prove possession of the linked phone to get scope `login`. */
export function login(s: Deps) {
  return async ({ ack, command, client, respond }: CommandArgs): Promise<void> => {
    const userId = command.user_id;
    let start: LoginStart;
    try {
      start = await openLoginRequest(s, userId);
    } catch (error) {
      s.logger.error({ err: error, userId }, '/login could not start');
      await ack(ephemeral(unavailable));
      return;
    }
    if (!start.ok) {
      await ack(ephemeral(start.text));
      return;
    }
    await ack();
    await openCommandWindow(s, client, respond, command.trigger_id, userId, start.request);
  };
}
