import type { Opened } from '../../../core/requests.js';
import type { Services } from '../../../services.js';
import { withinDeadline } from '../../deadline.js';
import { needsStepUp, parseAdminCommand } from '../../input/admin-command.js';
import type { Confirms } from '../../input/view-state.js';
import { runAdminCommand } from '../../presenters/admin-command.js';
import type { Deps as ApprovalDeps } from '../../presenters/approvals.js';
import { explain, openCommandWindow } from '../../presenters/request-window.js';
import { askAdminApproval, describePending, needsAdminApproval } from '../../presenters/step-up.js';
import { ephemeral } from '../../reply.js';
import { help, usage } from '../../views/admin-text.js';
import { unavailable } from '../../views/text.js';
import type { CommandArgs } from '../args.js';

/** What approvals need (presenters/approvals.ts), and what this listener needs besides. */
type Deps = ApprovalDeps & Pick<Services, 'pending' | 'slackDeadlineMs'>;

/**
 * /admin <subcommand>, behind adminsOnly and gate('login'). Help and bad arguments are answered at
 * once. Anything else needs a live `admin` scope: with one, it runs now; without, a step-up starts
 * (a request for scope `admin`) and the parsed command is kept server-side, bound to the window that
 * shows it, to run once that window's code is right.
 */
export function admin(s: Deps) {
  return async ({ ack, command, client, respond }: CommandArgs): Promise<void> => {
    const userId = command.user_id;
    const parsed = parseAdminCommand(command.text);
    if (!needsStepUp(parsed)) {
      await ack(
        ephemeral(parsed.kind === 'usage' ? usage(parsed) : help(parsed.kind === 'help' ? parsed.unknown : undefined)),
      );
      return;
    }
    let stepUp: Opened;
    let confirms: Confirms | undefined;
    try {
      if ((await s.sessions.isLive(userId, 'admin')) && needsAdminApproval(s, parsed)) {
        const asked = await askAdminApproval(s, client, userId, parsed, {
          responseUrl: command.response_url,
          channelId: command.channel_id,
        });
        await ack(ephemeral(asked.line));
        await asked.after?.();
        return;
      }
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
      stepUp = await s.requests.open(userId, 'admin');
      if (stepUp.ok) {
        const pending = { command: parsed, text: command.text, responseUrl: command.response_url };
        const windowId = await s.pending.keep(stepUp.request.requestId, pending);
        confirms = { windowId, shows: describePending(pending) };
      }
    } catch (error) {
      s.logger.error({ err: error, userId }, '/admin could not start');
      await ack(ephemeral(unavailable));
      return;
    }
    if (!stepUp.ok) {
      await ack(ephemeral(explain(s, stepUp, userId)));
      return;
    }
    await ack();
    await openCommandWindow(s, client, respond, command.trigger_id, userId, stepUp.request, confirms);
  };
}
