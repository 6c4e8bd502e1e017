import type { AllMiddlewareArgs, SlackCommandMiddlewareArgs } from '@slack/bolt';
import { maskPhone } from '../../../core/phones.js';
import type { Services } from '../../../services.js';
import { ephemeral } from '../../reply.js';
import { status, unavailable } from '../../views/text.js';

/** /whoami: an ordinary command behind the `login` gate. Shows the user's own status. */
export function whoami(s: Services) {
  return async ({ ack, command }: SlackCommandMiddlewareArgs & AllMiddlewareArgs): Promise<void> => {
    const userId = command.user_id;
    try {
      const [phone, delivery, scopes] = await Promise.all([s.phones.phoneOf(userId), s.sessions.delivery(userId), s.sessions.liveScopes(userId)]);
      await ack(ephemeral(status({ userId, maskedPhone: phone && maskPhone(phone), delivery, scopes }, s.clock.now())));
    } catch (error) {
      s.logger.error({ err: error, userId }, '/whoami failed');
      await ack(ephemeral(unavailable));
    }
  };
}
