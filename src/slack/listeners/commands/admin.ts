import type { AllMiddlewareArgs, SlackCommandMiddlewareArgs } from '@slack/bolt';
import type { Services } from '../../../services.js';
import { needsStepUp, parseAdminCommand } from '../../admin/parse.js';
import { runAdminCommand } from '../../admin/run.js';
import { withinDeadline } from '../../deadline.js';
import { explain, openFlowWindow } from '../../flow.js';
import { ephemeral } from '../../reply.js';
import { help, usage } from '../../views/admin-text.js';
import { unavailable } from '../../views/text.js';

/**
 * /admin <subcommand>, behind adminsOnly and gate('login'). Help and bad arguments are answered at
 * once. Anything else needs a live `admin` scope: with one, it runs now; without, a step-up starts
 * (a code with scope `admin`) and the command is kept server-side to run once the code is right.
 */
export function admin(s: Services) {
  return async ({ ack, command, client, respond }: SlackCommandMiddlewareArgs & AllMiddlewareArgs): Promise<void> => {
    const userId = command.user_id;
    const parsed = parseAdminCommand(command.text);
    if (!needsStepUp(parsed)) {
      await ack(ephemeral(parsed.kind === 'usage' ? usage(parsed) : help(parsed.kind === 'help' ? parsed.unknown : undefined)));
      return;
    }
    let stepUp;
    try {
      if (await s.sessions.isLive(userId, 'admin')) {
        // Answer in the ack if the work is quick; otherwise ack now and reply at the response_url.
        const work = runAdminCommand(s, userId, parsed).catch((error: unknown) => {
          s.logger.error({ err: error, userId }, '/admin failed');
          return unavailable;
        });
        const early = await withinDeadline(work, s.slackDeadlineMs);
        if (early.done) {
          await ack(ephemeral(early.value));
        } else {
          await ack();
          await respond(ephemeral(await work));
        }
        return;
      }
      stepUp = await s.challenges.begin(userId, 'admin', { text: command.text, channelId: command.channel_id, responseUrl: command.response_url });
    } catch (error) {
      s.logger.error({ err: error, userId }, '/admin could not start');
      await ack(ephemeral(unavailable));
      return;
    }
    if (!stepUp.ok) {
      await ack(ephemeral(explain(s, stepUp)));
      return;
    }
    await ack();
    await openFlowWindow(s, client, command.trigger_id, userId, stepUp.flow);
  };
}
