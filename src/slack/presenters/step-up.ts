import type { webApi } from '@slack/bolt';
import type { Services } from '../../services.js';
import type { PendingCommand } from '../pending-commands.js';
import { postToResponseUrl } from '../reply.js';
import { describeAdminCommand } from '../views/admin-text.js';
import { typed } from '../views/declared-text.js';
import { unavailable } from '../views/text.js';
import { runAdminCommand } from './admin-command.js';
import { answerWhereTyped, runDeclared } from './declared-command.js';

/** The command a step-up window confirms, as the window and every message show it (numbers masked). */
export function describePending(pending: PendingCommand): string {
  return pending.kind === 'declared' ? typed(pending.name, pending.text) : describeAdminCommand(pending.command);
}

/** The line the step-up window shows under "unlocked", saying what runs now. */
export function pendingStarted(pending: PendingCommand): string {
  return `I'm running ${describePending(pending)} now; the result appears where you typed it.`;
}

/** A window whose command a newer one replaced: it runs nothing, and says which window to use. */
export function replacedText(by: PendingCommand): string {
  return `This window was replaced: while it was open you typed ${describePending(by)}, which has a window of its own. Nothing ran from this one. Use the newest window.`;
}

/** The code of a replaced window was right after all (the replacement came while it was being checked). */
export function replacedAfterGrant(by: PendingCommand): string {
  return `The command this window showed did not run: you typed ${describePending(by)} while it was open, and that did not run either. Admin commands are unlocked now: run the one you want again.`;
}

export const pendingLost =
  "I couldn't load the command that asked for this code, so it did not run. Admin commands are unlocked now: run it again.";

/**
 * Runs the command that asked for a step-up, now that its code was verified. Authority is read again
 * as it acts (runAdminCommand's core, runDeclared). The reply goes to the command's response_url (where
 * the user typed it), or by direct message if that fails.
 */
export async function runPending(
  s: Pick<Services, 'admin' | 'audit' | 'clock' | 'config' | 'logger' | 'sessions' | 'signingKeys'>,
  client: webApi.WebClient,
  userId: string,
  pending: PendingCommand,
): Promise<void> {
  if (pending.kind === 'declared') {
    await answerWhereTyped(s, client, pending, await runDeclared(s, pending));
    return;
  }
  let reply: string;
  try {
    reply = await runAdminCommand(s, userId, pending.command);
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
