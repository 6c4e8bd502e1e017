import type { Middleware, SlackCommandMiddlewareArgs } from '@slack/bolt';
import type { CommandArgs } from './args.js';

/**
 * A command's middleware and listener run in order, as Bolt runs one listener's chain: each step goes
 * on by calling `next()`. Used where several commands share one Bolt registration (commands/index.ts).
 */
export function chain(
  ...steps: [...Array<Middleware<SlackCommandMiddlewareArgs>>, (args: CommandArgs) => Promise<void>]
): (args: CommandArgs) => Promise<void> {
  const run = async (args: CommandArgs, i: number): Promise<void> => {
    const step = steps[i];
    if (step) await step({ ...args, next: () => run(args, i + 1) });
  };
  return (args) => run(args, 0);
}
