import type { App } from '@slack/bolt';
import type { Services } from '../../../services.js';
import { adminsOnly, gate } from '../../middleware/gate.js';
import { ephemeral } from '../../reply.js';
import { notSetUp } from '../../views/declared-text.js';
import type { CommandArgs } from '../args.js';
import { chain } from '../chain.js';
import { admin } from './admin.js';
import { declaredCommands } from './declared.js';
import { login } from './login.js';
import { logout } from './logout.js';
import { whoami } from './whoami.js';

/**
 * Every slash command under one registration, routed by name: Bolt runs the matchers of every
 * registered listener on every request, so one listener costs less than one per command (see
 * actions/index.ts). Each command keeps its own chain of middleware, run as Bolt would run it.
 */
export function registerCommands(app: App, s: Services): void {
  const commands = new Map<string, (args: CommandArgs) => Promise<void>>([
    ['/login', login(s)],
    ['/logout', logout(s)],
    // An ordinary command: one gate in front of it, nothing else to do.
    ['/whoami', chain(gate('login', s), whoami(s))],
    ['/admin', chain(adminsOnly(s), gate('login', s), admin(s))],
    ...declaredCommands(s),
  ]);
  app.command(/.*/, async (args) => {
    const command = commands.get(args.command.command);
    if (command) await command(args);
    else await args.ack(ephemeral(notSetUp(args.command.command)));
  });
}
