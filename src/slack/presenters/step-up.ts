import type { types, webApi } from '@slack/bolt';
import type { Proof } from '../../core/approvals.js';
import type { Services } from '../../services.js';
import type { AdminCommand } from '../input/admin-command.js';
import type { PendingCommand } from '../pending-commands.js';
import { postToResponseUrl } from '../reply.js';
import { adminRefused, describeAdminCommand } from '../views/admin-text.js';
import { reasonModal } from '../views/approvals.js';
import { typed } from '../views/declared-text.js';
import { unavailable } from '../views/text.js';
import { runAdminCommand } from './admin-command.js';
import { ADMIN_APPROVAL_MINUTES, type Deps as ApprovalDeps, askForApproval, declaredNext } from './approvals.js';
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
  s: Pick<Services, 'admin' | 'approvals' | 'audit' | 'clock' | 'config' | 'logger' | 'sessions' | 'signingKeys'>,
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

/** What follows a command's gate: the window shows `line` (or becomes `view`), then `after` runs, once Slack has the answer. */
export interface Next {
  line?: string | undefined;
  view?: types.ModalView | undefined;
  after?: (() => Promise<void>) | undefined;
}

/**
 * What a pending command does once its step-up was granted: run now, ask for a reason first (the window
 * becomes the reason form), or ask its approvers (a declared command with approvers, or a built-in admin
 * command in `[policy] admin_approvals`). `proof`: the step-up that was just granted.
 */
export async function nextAfterStepUp(
  s: ApprovalDeps & Pick<Services, 'pending' | 'slackDeadlineMs'>,
  client: webApi.WebClient,
  userId: string,
  pending: PendingCommand,
  proof: Proof,
): Promise<Next> {
  if (pending.kind === 'declared') {
    const command = s.config.commands.find((c) => c.name === pending.name);
    const next = command ? declaredNext(command) : 'run';
    if (command && next === 'reason') {
      const shows = describePending(pending);
      const draftId = await s.approvalState.keepDraft({ run: pending, proof, shows });
      return { view: reasonModal(draftId, shows, command.reason === 'optional', command.approval !== undefined) };
    }
    if (command?.approval && next === 'ask') {
      const approval = command.approval;
      return {
        line: `I'm asking for approval of ${describePending(pending)}; you'll see who was asked where you typed it.`,
        after: async () => {
          await askForApproval(s, client, {
            requesterId: userId,
            action: { kind: 'declared', run: pending, shows: describePending(pending) },
            approvers: approval.approvers,
            needed: approval.needed,
            minutes: approval.minutes,
            breakGlass: approval.breakGlass,
            proof,
            responseUrl: pending.responseUrl,
            channelId: pending.channelId,
          });
        },
      };
    }
  } else if (needsAdminApproval(s, pending.command)) {
    const asked = await askAdminApproval(s, client, userId, pending.command, {
      responseUrl: pending.responseUrl,
      channelId: undefined,
    });
    return { line: asked.line, after: asked.after };
  }
  return { line: pendingStarted(pending), after: () => runPending(s, client, userId, pending) };
}

/** Whether a built-in admin command needs another admin's approval ([policy] admin_approvals). */
export function needsAdminApproval(s: Pick<Services, 'config'>, command: AdminCommand): boolean {
  return (s.config.policy.adminApprovals as readonly string[]).includes(command.kind);
}

/**
 * Asks every other admin to approve a built-in admin command ([policy] admin_approvals): checked first as
 * it would be when it runs (nothing is asked that would be refused), the new phone of a link masked to its
 * last four digits, with its region. Returns the sentence for the admin, and what to do after answering.
 */
export async function askAdminApproval(
  s: ApprovalDeps,
  client: webApi.WebClient,
  userId: string,
  command: AdminCommand,
  where: { responseUrl?: string | undefined; channelId?: string | undefined },
): Promise<{ line: string; after?: () => Promise<void> }> {
  if (command.kind !== 'link' && command.kind !== 'unlink' && command.kind !== 'revoke')
    return { line: 'Only link, unlink and revoke can be asked of other admins.' };
  const actor = { kind: 'admin' as const, userId };
  const checked = await s.admin.precheck(
    actor,
    command.kind === 'link'
      ? { kind: 'link', targetId: command.target, input: command.phone }
      : { kind: command.kind, targetId: command.target },
  );
  if (!checked.ok) return { line: 'detail' in checked ? `I didn't ask: ${checked.detail}` : adminRefused(checked) };
  const shows =
    command.kind === 'link'
      ? `\`/admin link\` <@${command.target}> *${checked.shows ?? ''}*`
      : describeAdminCommand(command);
  const approvers = s.config.policy.admins.filter((id) => id !== userId);
  return {
    line: `${shows} needs another admin's approval; you'll see who was asked where you typed it.`,
    after: async () => {
      await askForApproval(s, client, {
        requesterId: userId,
        action: { kind: 'admin', command, responseUrl: where.responseUrl, channelId: where.channelId, shows },
        approvers,
        needed: 1,
        minutes: ADMIN_APPROVAL_MINUTES,
        breakGlass: false,
        proof: { authTime: s.clock.now(), methods: [] },
        responseUrl: where.responseUrl,
        channelId: where.channelId,
      });
    },
  };
}
