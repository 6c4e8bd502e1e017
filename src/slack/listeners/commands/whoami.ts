import type { AllMiddlewareArgs, SlackCommandMiddlewareArgs } from '@slack/bolt';
import type { Services } from '../../../services.js';
import { ephemeral } from '../../reply.js';
import { readStatus } from '../../presenters/home-tab.js';
import { status, unavailable } from '../../views/text.js';

/** /whoami: an ordinary command behind the `login` gate. Shows the user's own status. */
export function whoami(s: Services) {
  return async ({ ack, command }: SlackCommandMiddlewareArgs & AllMiddlewareArgs): Promise<void> => {
    const userId = command.user_id;
    try {
      await ack(ephemeral(status(await readStatus(s, userId), s.clock.now())));
    } catch (error) {
      s.logger.error({ err: error, userId }, '/whoami failed');
      await ack(ephemeral(unavailable));
    }
  };
}
