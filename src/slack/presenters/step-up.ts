import type { webApi } from '@slack/bolt';
import type { Services } from '../../services.js';
import type { PendingCommand } from '../pending-commands.js';
import { postToResponseUrl } from '../reply.js';
import { stepUpStarted } from '../views/admin-text.js';
import { runningAfterStepUp } from '../views/declared-text.js';
import { refusal, unavailable } from '../views/text.js';
import { runAdminCommand } from './admin-command.js';
import { answerWhereTyped, runDeclared } from './declared-command.js';

/** The line the step-up window shows under "unlocked", saying what runs now. */
export function pendingStarted(pending: PendingCommand): string {
  return pending.kind === 'declared' ? runningAfterStepUp(pending.name, pending.text) : stepUpStarted(pending.text);
}

/**
 * Runs the command that asked for a step-up, now that its code was verified. The reply goes to the
 * command's response_url (where the user typed it), or by direct message if that fails.
 */
export async function runPending(
  s: Pick<Services, 'admin' | 'audit' | 'clock' | 'config' | 'logger' | 'sessions' | 'signingKeys'>,
  client: webApi.WebClient,
  userId: string,
  pending: PendingCommand,
): Promise<void> {
  if (pending.kind === 'declared') {
    // runDeclared reads the live admin grant right before acting, as below.
    await answerWhereTyped(s, client, pending, await runDeclared(s, pending));
    return;
  }
  let reply: string;
  try {
    // The grant was checked against endings when it was made; check once more right before acting.
    reply = (await s.sessions.isLive(userId, 'admin'))
      ? await runAdminCommand(s, userId, pending.command)
      : refusal({ ok: false, reason: 'ended' }, s.clock.now(), s.config.policy.admins);
  } catch (error) {
    s.logger.error({ err: error, userId }, 'the pending admin command failed');
    reply = unavailable;
  }
  try {
    if (!pending.responseUrl) throw new Error('no response_url');
    await postToResponseUrl(pending.responseUrl, reply);
  } catch (error) {
    s.logger.warn({ err: error, userId }, 'could not reply at the response_url; sending a direct message');
    await client.chat
      .postMessage({ channel: userId, text: reply })
      .catch((dmError: unknown) => s.logger.error({ err: dmError, userId }, 'could not send the admin result'));
  }
}
