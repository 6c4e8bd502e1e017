import { type Actor, UnfinishedChange } from '../../core/admin.js';
import type { Services } from '../../services.js';
import type { ApprovalAction } from '../approval-state.js';
import type { AdminCommand } from '../input/admin-command.js';
import * as text from '../views/admin-text.js';
import { approvalLine } from '../views/approvals.js';
import { viewOf } from './approvals.js';

/**
 * Runs a parsed /admin command for `actorId`; returns the reply. The core reads the actor's authority
 * again as it acts (still an admin, admin scope still live), whenever the command was typed.
 */
export async function runAdminCommand(
  s: Pick<Services, 'admin' | 'approvals' | 'clock' | 'config' | 'logger'>,
  actorId: string,
  command: AdminCommand,
  approved?: { approvedBy: string[] },
): Promise<string> {
  const actor: Actor = approved
    ? { kind: 'approved', userId: actorId, approvedBy: approved.approvedBy }
    : { kind: 'admin', userId: actorId };
  try {
    switch (command.kind) {
      case 'help':
        return text.help(command.unknown);
      case 'usage':
        return text.usage(command);
      case 'sessions':
        return text.sessions(await s.admin.liveSessions(actor), s.clock.now(), command.page);
      case 'revoke':
        return text.revoked(command.target, await s.admin.revoke(actor, command.target));
      case 'link':
        return text.linked(command.target, await s.admin.link(actor, command.target, command.phone));
      case 'unlink':
        return text.unlinked(command.target, await s.admin.unlink(actor, command.target));
      case 'approvals': {
        const lines = await s.admin.readAs(actor, { command: 'approvals' }, async () => {
          const now = s.clock.now();
          return (await s.approvals.listOpen<ApprovalAction>()).map(({ request, approvals }) =>
            approvalLine(viewOf(s, request, undefined, approvals, undefined), now),
          );
        });
        return text.openApprovals(lines, command.page);
      }
      case 'audit':
        return text.auditEvents(await s.admin.recentEvents(actor, command.count), command.page, command.count);
    }
  } catch (error) {
    if (!(error instanceof UnfinishedChange)) throw error;
    s.logger.error({ err: error, userId: actorId, command: command.kind }, 'an admin change did not finish');
    return text.unfinished;
  }
}
