import { logOut } from '../../../core/logout.js';
import type { Services } from '../../../services.js';
import { publishHome } from '../../presenters/home-tab.js';
import { ephemeral } from '../../reply.js';
import { loggedOut, logoutUnfinished } from '../../views/text.js';
import type { CommandArgs } from '../args.js';

type Deps = Pick<Services, 'audit' | 'clock' | 'logger' | 'phones' | 'requests' | 'sessions'>;

/** /logout: ends every scope, drops any open code request and forgets the delivery preference. */
export function logout(s: Deps) {
  return async ({ ack, command, client }: CommandArgs): Promise<void> => {
    const userId = command.user_id;
    try {
      const ended = await logOut(s, userId);
      await ack(ephemeral(loggedOut(ended.length > 0)));
    } catch (error) {
      s.logger.error({ err: error, userId }, '/logout failed');
      await ack(ephemeral(logoutUnfinished));
      return;
    }
    await publishHome(s, client, userId);
  };
}
