import type { AllMiddlewareArgs, SlackCommandMiddlewareArgs } from '@slack/bolt';
import type { Services } from '../../../services.js';
import { openFlowWindow } from '../../flow.js';
import { ephemeral } from '../../reply.js';
import { alreadyLoggedIn, refusal, unavailable } from '../../views/text.js';

/** /login: prove possession of the linked phone to get scope `login`. */
export function login(s: Services) {
  return async ({ ack, command, client }: SlackCommandMiddlewareArgs & AllMiddlewareArgs): Promise<void> => {
    const userId = command.user_id;
    let begun;
    try {
      const live = (await s.sessions.liveScopes(userId)).find((l) => l.scope === 'login');
      if (live) {
        await ack(ephemeral(alreadyLoggedIn(live.expiresAt, s.clock.now())));
        return;
      }
      begun = await s.challenges.begin(userId, 'login');
    } catch (error) {
      s.logger.error({ err: error, userId }, '/login could not start');
      await ack(ephemeral(unavailable));
      return;
    }
    if (!begun.ok) {
      await ack(ephemeral(refusal(begun, s.clock.now(), s.config.policy.admins)));
      return;
    }
    await ack();
    await openFlowWindow(s, client, command.trigger_id, userId, begun.flow);
  };
}
