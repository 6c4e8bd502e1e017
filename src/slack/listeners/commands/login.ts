import type { AllMiddlewareArgs, SlackCommandMiddlewareArgs } from '@slack/bolt';
import type { Services } from '../../../services.js';
import { openLoginRequest, openRequestWindow, type LoginStart } from '../../presenters/request-window.js';
import { ephemeral } from '../../reply.js';
import { unavailable } from '../../views/text.js';

/** /login: prove possession of the linked phone to get scope `login`. */
export function login(s: Services) {
  return async ({ ack, command, client }: SlackCommandMiddlewareArgs & AllMiddlewareArgs): Promise<void> => {
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
    await openRequestWindow(s, client, command.trigger_id, userId, start.request);
  };
}
