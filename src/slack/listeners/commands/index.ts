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

/** A command's middleware (a gate first) and its listener, as `app.command` takes them after the name. */
export type CommandSteps = Parameters<typeof chain>;

/**
 * Commands added in code, by name, built from the services (README, "Adding a gated command in code"):
 *   (s) => ({ '/deploy': [gate('login', s), deploy(s)] })
 * They join the router below; a separate `app.command` would never be reached: every request is
 * routed before Bolt's listeners (listeners/index.ts), and the router answers every command it does not know.
 */
export type AddedCommands = (s: Services) => Record<string, CommandSteps>;

/**
 * Every slash command, routed by name. Each command keeps its own chain of middleware, run as Bolt
 * would run it.
 */
export function routeCommands(s: Services, added?: AddedCommands): (args: CommandArgs) => Promise<void> {
  const commands = new Map<string, (args: CommandArgs) => Promise<void>>([
    ['/login', login(s)],
    ['/logout', logout(s)],
    // An ordinary command: one gate in front of it, nothing else to do.
    ['/whoami', chain(gate('login', s), whoami(s))],
    ['/admin', chain(adminsOnly(s), gate('login', s), admin(s))],
    ...declaredCommands(s),
  ]);
  for (const [name, steps] of Object.entries(added?.(s) ?? {})) {
    if (commands.has(name)) throw new Error(`${name} is built in or declared in config.ini: add it under another name`);
    commands.set(name, chain(...steps));
  }
  return async (args) => {
    const command = commands.get(args.command.command);
    if (command) await command(args);
    else await args.ack(ephemeral(notSetUp(args.command.command)));
  };
}
