import type { Services } from '../../services.js';
import type { AdminCommand } from '../input/admin-command.js';
import * as text from '../views/admin-text.js';

/** Runs a parsed /admin command for an admin whose `admin` scope is live; returns the reply. */
export async function runAdminCommand(
  s: Pick<Services, 'admin' | 'clock'>,
  actorId: string,
  command: AdminCommand,
): Promise<string> {
  switch (command.kind) {
    case 'help':
      return text.help(command.unknown);
    case 'usage':
      return text.usage(command);
    case 'sessions':
      return text.sessions(await s.admin.liveSessions(actorId), s.clock.now(), command.page);
    case 'revoke':
      return text.revoked(command.target, await s.admin.revoke(actorId, command.target));
    case 'link':
      return text.linked(command.target, await s.admin.link(actorId, command.target, command.phone));
    case 'unlink': {
      const { hadPhone, ended } = await s.admin.unlink(actorId, command.target);
      return text.unlinked(command.target, hadPhone, ended);
    }
    case 'audit':
      return text.auditEvents(await s.admin.recentEvents(actorId, command.count), command.page, command.count);
  }
}
