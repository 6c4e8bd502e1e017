import type { Middleware, SlackCommandMiddlewareArgs } from '@slack/bolt';
import type { DeclaredCommand } from '../../../config.js';
import type { Opened } from '../../../core/requests.js';
import type { Services } from '../../../services.js';
import { auditAfterAnswer } from '../../audit-after-answer.js';
import type { Confirms } from '../../input/view-state.js';
import { gate } from '../../middleware/gate.js';
import type { DeclaredRun } from '../../pending-commands.js';
import { type Deps as ApprovalDeps, askForApproval, declaredNext } from '../../presenters/approvals.js';
import { answerWhereTyped, runDeclared } from '../../presenters/declared-command.js';
import { explain, openCommandWindow } from '../../presenters/request-window.js';
import { describePending } from '../../presenters/step-up.js';
import { ephemeral } from '../../reply.js';
import { reasonModal } from '../../views/approvals.js';
import { notAllowed, running } from '../../views/declared-text.js';
import { loginRequired, unavailable } from '../../views/text.js';
import type { CommandArgs } from '../args.js';
import { chain } from '../chain.js';

/** What approvals need (presenters/approvals.ts), and what this listener needs besides. */
type Deps = ApprovalDeps & Pick<Services, 'pending'>;

/** Each `[command /name]` of config.ini, behind `allow` and the same login gate as the built-in commands. */
export function declaredCommands(s: Services): Array<[string, (args: CommandArgs) => Promise<void>]> {
  return s.config.commands.map((command) => [
    command.name,
    chain(allowedOnly(command, s), gate('login', s), declared(command, s)),
  ]);
}

/** `allow`: anyone else is refused before anything else happens (no code sent, nothing called), and audited. */
export function allowedOnly(
  command: DeclaredCommand,
  s: Pick<Services, 'audit' | 'logger'>,
): Middleware<SlackCommandMiddlewareArgs> {
  return async ({ ack, command: typed, next }) => {
    if (!command.allowed || command.allowed.includes(typed.user_id)) {
      await next();
      return;
    }
    await ack(ephemeral(notAllowed(command.name)));
    await auditAfterAnswer(s, {
      event: 'authz_fail',
      userId: typed.user_id,
      scope: command.scope,
      outcome: 'refused',
      detail: { command: command.name, reason: 'not_allowed' },
    });
  };
}

/**
 * A declared command for a logged-in user. `scope = admin` without a live admin scope starts a step-up,
 * as /admin does, and the command is kept server-side to run once the code is right. Otherwise it is
 * acknowledged at once and the endpoint's answer follows where it was typed.
 */
export function declared(command: DeclaredCommand, s: Deps) {
  return async ({ ack, command: typed, client, respond }: CommandArgs): Promise<void> => {
    const userId = typed.user_id;
    const run: DeclaredRun = {
      name: command.name,
      text: typed.text,
      userId,
      teamId: typed.team_id,
      channelId: typed.channel_id,
      responseUrl: typed.response_url,
    };
    if (command.scope === 'admin') {
      let stepUp: Opened | undefined;
      let confirms: Confirms | undefined;
      try {
        if (!(await s.sessions.isLive(userId, 'admin'))) {
          stepUp = await s.requests.open(userId, 'admin');
          if (stepUp.ok) {
            const pending = { kind: 'declared' as const, ...run };
            confirms = {
              windowId: await s.pending.keep(stepUp.request.requestId, pending),
              shows: describePending(pending),
            };
          }
        }
      } catch (error) {
        s.logger.error({ err: error, userId, command: command.name }, 'a declared command could not start');
        await ack(ephemeral(unavailable));
        return;
      }
      if (stepUp && !stepUp.ok) {
        await ack(ephemeral(explain(s, stepUp)));
        return;
      }
      if (stepUp) {
        await ack();
        await openCommandWindow(s, client, respond, typed.trigger_id, userId, stepUp.request, confirms);
        return;
      }
    }
    const next = declaredNext(command);
    if (next === 'run') {
      await ack(ephemeral(running(command.name, typed.text)));
      await answerWhereTyped(s, client, run, await runDeclared(s, run));
      return;
    }
    // A reason first, or approvals: the requester's proof is the grant their gate just read.
    let grant: Awaited<ReturnType<Deps['sessions']['liveGrant']>>;
    try {
      grant = await s.sessions.liveGrant(userId, command.scope);
    } catch (error) {
      s.logger.error({ err: error, userId, command: command.name }, 'a declared command could not start');
      await ack(ephemeral(unavailable));
      return;
    }
    if (!grant) {
      await ack(ephemeral(loginRequired(command.name)));
      return;
    }
    await ack();
    const proof = { authTime: grant.grantedAt, methods: grant.methods };
    const shows = describePending({ kind: 'declared', ...run });
    try {
      if (next === 'reason') {
        const draftId = await s.approvalState.keepDraft({ run, proof, shows });
        const optional = command.reason === 'optional';
        await client.views.open({
          trigger_id: typed.trigger_id,
          view: reasonModal(draftId, shows, optional, command.approval !== undefined),
        });
        return;
      }
      const approval = command.approval!;
      await askForApproval(s, client, {
        requesterId: userId,
        action: { kind: 'declared', run, shows },
        approvers: approval.approvers,
        needed: approval.needed,
        minutes: approval.minutes,
        breakGlass: approval.breakGlass,
        proof,
        responseUrl: run.responseUrl,
        channelId: run.channelId,
      });
    } catch (error) {
      s.logger.error({ err: error, userId, command: command.name }, 'a declared command could not ask for approval');
      await answerWhereTyped(s, client, run, unavailable);
    }
  };
}
