import type { webApi } from '@slack/bolt';
import type { PendingCommand } from '../core/challenges.js';
import type { Services } from '../services.js';
import { parseAdminCommand } from './admin/parse.js';
import { runAdminCommand } from './admin/run.js';
import { postToResponseUrl } from './reply.js';
import { notAnAdmin } from './views/admin-text.js';
import { refusal, unavailable } from './views/text.js';

/**
 * Runs the command that asked for a step-up, now that its code was verified. It was kept server-side
 * in the request and is handed over once, by the one successful verify. The reply goes to the
 * command's response_url (where the user typed it), or by direct message if that fails.
 */
export async function runPending(s: Services, client: webApi.WebClient, userId: string, pending: PendingCommand): Promise<void> {
  let reply: string;
  try {
    // The grant was checked against endings when it was made; check once more right before acting.
    if (!s.admin.isAdmin(userId)) reply = notAnAdmin;
    else if (!(await s.sessions.isLive(userId, 'admin'))) reply = refusal({ ok: false, reason: 'ended' }, s.clock.now(), s.config.policy.admins);
    else reply = await runAdminCommand(s, userId, parseAdminCommand(pending.text));
  } catch (error) {
    s.logger.error({ err: error, userId }, 'the pending admin command failed');
    reply = unavailable;
  }
  try {
    if (!pending.responseUrl) throw new Error('no response_url');
    await postToResponseUrl(pending.responseUrl, reply);
  } catch (error) {
    s.logger.warn({ err: error, userId }, 'could not reply at the response_url; sending a direct message');
    await client.chat.postMessage({ channel: userId, text: reply }).catch((dmError: unknown) => s.logger.error({ err: dmError, userId }, 'could not send the admin result'));
  }
}
