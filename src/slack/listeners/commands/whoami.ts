import type { Services } from '../../../compose.js';
import type { CommandArgs } from '../args.js';
import { ephemeral } from '../../reply.js';
import { readStatus } from '../../presenters/home-tab.js';
import { status, unavailable } from '../../views/text.js';

type Deps = Pick<Services, 'clock' | 'logger' | 'phones' | 'sessions'>;

/** /whoami: an ordinary command behind the `login` gate. Shows the user's own status. */
export function whoami(s: Deps) {
  return async ({ ack, command }: CommandArgs): Promise<void> => {
    const userId = command.user_id;
    try {
      await ack(ephemeral(status(await readStatus(s, userId), s.clock.now())));
    } catch (error) {
      s.logger.error({ err: error, userId }, '/whoami failed');
      await ack(ephemeral(unavailable));
    }
  };
}
