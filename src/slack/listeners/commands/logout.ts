import type { AllMiddlewareArgs, SlackCommandMiddlewareArgs } from '@slack/bolt';
import type { Services } from '../../../services.js';
import { ephemeral } from '../../reply.js';
import { loggedOut, unavailable } from '../../views/text.js';

/** /logout: ends every scope, drops any open code request and forgets the delivery preference. */
export function logout(s: Services) {
  return async ({ ack, command }: SlackCommandMiddlewareArgs & AllMiddlewareArgs): Promise<void> => {
    const userId = command.user_id;
    try {
      const ended = await s.sessions.endAll(userId);
      await s.challenges.cancel(userId);
      await s.sessions.forgetDelivery(userId);
      await ack(ephemeral(loggedOut(ended.length > 0)));
      await s.audit.record({ event: 'authn_logout', userId, outcome: 'success', detail: { scopes: ended.map((e) => e.scope).join(',') } });
    } catch (error) {
      s.logger.error({ err: error, userId }, '/logout failed');
      await ack(ephemeral(unavailable));
    }
  };
}
