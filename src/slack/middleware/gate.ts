import type { Context, Middleware, SlackCommandMiddlewareArgs } from '@slack/bolt';
import type { Scope } from '../../core/ports.js';
import type { UserState } from '../../core/sessions.js';
import type { Services } from '../../services.js';
import { auditAfterAnswer } from '../audit-after-answer.js';
import { ephemeral } from '../reply.js';
import { notAnAdmin } from '../views/admin-text.js';
import { loginRequired, unavailable } from '../views/text.js';

/** The user's state as the gate read it, for the command behind the gate (`context.user`). */
export function gatedUser(context: Context): UserState | undefined {
  return context.user as UserState | undefined;
}

/**
 * Middleware for a command that needs a live `scope`, in front of it (listeners/commands/index.ts):
 *   ['/whoami', chain(gate('login', s), whoami(s))]
 * One store read, which also brings what the command shows about the user (phone, delivery, scopes):
 * it goes on to the command as `context.user` (see gatedUser), so the command reads nothing again.
 * On refusal the reply goes in the acknowledgement itself and the command never runs; if the store
 * cannot be read, the command is refused too (fail closed).
 */
export function gate(
  scope: Scope,
  services: Pick<Services, 'audit' | 'logger' | 'phones' | 'sessions'>,
): Middleware<SlackCommandMiddlewareArgs> {
  return async ({ ack, command, context, next }) => {
    let user: UserState;
    try {
      user = await services.sessions.userState(command.user_id, services.phones);
    } catch (error) {
      services.logger.error(
        { err: error, userId: command.user_id, command: command.command },
        'gate could not read the session',
      );
      await ack(ephemeral(unavailable));
      return;
    }
    if (user.scopes.some((live) => live.scope === scope)) {
      context.user = user;
      await next();
      return;
    }
    await ack(ephemeral(loginRequired(command.command)));
    await auditAfterAnswer(services, {
      event: 'authz_fail',
      userId: command.user_id,
      scope,
      outcome: 'refused',
      detail: { command: command.command, reason: 'no_scope' },
    });
  };
}

/**
 * Listener middleware for /admin: only users in `[policy] admins` get past, before anything else
 * happens (no code is sent to anyone else). Refusals are audited.
 */
export function adminsOnly(
  services: Pick<Services, 'admin' | 'audit' | 'logger'>,
): Middleware<SlackCommandMiddlewareArgs> {
  return async ({ ack, command, next }) => {
    if (services.admin.isAdmin(command.user_id)) {
      await next();
      return;
    }
    await ack(ephemeral(notAnAdmin));
    await auditAfterAnswer(services, {
      event: 'authz_fail',
      userId: command.user_id,
      scope: 'admin',
      outcome: 'refused',
      detail: { command: command.command, reason: 'not_admin' },
    });
  };
}
