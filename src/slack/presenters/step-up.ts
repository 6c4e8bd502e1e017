import type { webApi } from '@slack/bolt';
import type { Services } from '../../compose.js';
import type { KeyValueStore } from '../../core/ports.js';
import { KEEP_MS } from '../../core/requests.js';
import type { AdminCommand } from '../input/admin-command.js';
import { postToResponseUrl } from '../reply.js';
import { stepUpStarted } from '../views/admin-text.js';
import { runningAfterStepUp } from '../views/declared-text.js';
import { refusal, unavailable } from '../views/text.js';
import { runAdminCommand } from './admin-command.js';
import { answerWhereTyped, type DeclaredRun, runDeclared } from './declared-command.js';

/** An /admin command that asked for a step-up, parsed once when it was typed, and where to answer it. */
export interface PendingAdminCommand {
  /** Absent in what was kept before declared commands existed: those are /admin commands too. */
  kind?: 'admin' | undefined;
  command: AdminCommand;
  /** What was typed, for the success view. */
  text: string;
  responseUrl?: string | undefined;
}

/** A declared command with `scope = admin` that asked for a step-up; its URL is read from the config when it runs. */
export interface PendingDeclaredCommand extends DeclaredRun {
  kind: 'declared';
}

/** The command that asked for a step-up, to run once its code is right. */
export type PendingCommand = PendingAdminCommand | PendingDeclaredCommand;

/** The line the step-up window shows under "unlocked", saying what runs now. */
export function pendingStarted(pending: PendingCommand): string {
  return pending.kind === 'declared' ? runningAfterStepUp(pending.name, pending.text) : stepUpStarted(pending.text);
}

const pendingKey = (requestId: string) => `pending:${requestId}`;

/**
 * Step-up commands waiting for their code, kept server-side by request id (never in the window).
 * Only the one submission that grants a request gets to take its command, so it runs once.
 */
export class PendingCommands {
  constructor(private readonly store: KeyValueStore) {}

  async keep(requestId: string, pending: PendingCommand): Promise<void> {
    await this.store.set(pendingKey(requestId), pending, KEEP_MS);
  }

  async take(requestId: string): Promise<PendingCommand | undefined> {
    const pending = await this.store.get<PendingCommand>(pendingKey(requestId));
    if (pending) await this.store.delete(pendingKey(requestId));
    return pending;
  }
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
