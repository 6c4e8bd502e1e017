import type { Services } from '../../../services.js';
import { gatedUser } from '../../middleware/gate.js';
import { readStatus, statusOf } from '../../presenters/home-tab.js';
import { ephemeral } from '../../reply.js';
import { status, unavailable } from '../../views/text.js';
import type { CommandArgs } from '../args.js';

type Deps = Pick<Services, 'clock' | 'logger' | 'phones' | 'sessions'>;

/**
 * /whoami: an ordinary command behind the `login` gate. Shows the user's own status, from what the
 * gate read (no store read of its own); read here only when called without the gate.
 */
export function whoami(s: Deps) {
  return async ({ ack, command, context }: CommandArgs): Promise<void> => {
    const userId = command.user_id;
    try {
      const user = gatedUser(context);
      const shown = user?.userId === userId ? statusOf(user) : await readStatus(s, userId);
      await ack(ephemeral(status(shown, s.clock.now())));
    } catch (error) {
      s.logger.error({ err: error, userId }, '/whoami failed');
      await ack(ephemeral(unavailable));
    }
  };
}
