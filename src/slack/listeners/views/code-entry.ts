import type { types } from '@slack/bolt';
import type { Verified } from '../../../core/verify-code.js';
import type { Services } from '../../../services.js';
import { withinDeadline } from '../../deadline.js';
import { BLOCK } from '../../ids.js';
import { typedCode, type WindowRef, windowOf } from '../../input/view-state.js';
import type { PendingCommand, Taken } from '../../pending-commands.js';
import { type Deps as ApprovalDeps, approvalCodeVerified, finish, refresh } from '../../presenters/approvals.js';
import { publishHome } from '../../presenters/home-tab.js';
import { explain, refusalView, replacedBy, windowStaysOpen } from '../../presenters/request-window.js';
import { type Next, nextAfterStepUp, pendingLost, replacedAfterGrant, replacedText } from '../../presenters/step-up.js';
import { scopeTitle } from '../../views/format.js';
import { messageModal } from '../../views/modals.js';
import { checking, granted, plainText, type Unavailable } from '../../views/text.js';
import type { SubmitArgs } from '../args.js';

/** What approvals need (presenters/approvals.ts), and what this listener needs besides. */
type Deps = ApprovalDeps & Pick<Services, 'pending' | 'phones' | 'slackDeadlineMs' | 'verifier'>;

/** A window that a newer one replaced: it checks no code and runs nothing. */
type Replaced = { ok: false; reason: 'replaced'; by: PendingCommand };
/** A scope granted; for a step-up, its window's own command, or why none runs (`lost`: it could not be read). */
type Granted = Extract<Verified, { ok: true; expiresAt: number }> & { command?: Taken | { kind: 'lost' } | undefined };
/** An approver's (or a break glass's) code: what the window says, and what to do once Slack has the answer. */
type Approved = { ok: true; scope: 'approval'; text: string; after?: (() => Promise<void>) | undefined };
type Outcome = Granted | Approved | Exclude<Verified, { ok: true }> | Replaced | Unavailable;

/**
 * A code was submitted. Bandwidth's verify runs against Slack's 3-second deadline: if it answers in
 * time, the result goes in the acknowledgement (an inline error, or the success view); if not, the
 * window shows "checking…" and the result replaces it when it comes. (`title` is only the window's
 * own title, echoed back for display.) A step-up window runs the command it shows, or nothing: a
 * window that a newer command replaced checks no code, and a granted code takes only its own
 * window's command, once. An approver's code counts for the one approval its request was made for.
 */
export function codeEntered(s: Deps) {
  return async ({ ack, body, view, client }: SubmitArgs): Promise<void> => {
    const userId = body.user.id;
    const window = windowOf(view.private_metadata);
    const verifying: Promise<Outcome> = check(s, client, userId, window, typedCode(view)).catch((error: unknown) => {
      s.logger.error({ err: error, userId }, 'verifying a code failed');
      return { ok: false as const, reason: 'unavailable' as const };
    });

    const early = await withinDeadline(verifying, s.slackDeadlineMs);
    let outcome: Outcome;
    let next: Next;
    if (early.done) {
      outcome = early.value;
      // A refusal the user can act on in place is shown under the input; the window stays as it is.
      if (!outcome.ok && outcome.reason !== 'replaced' && windowStaysOpen(outcome.reason)) {
        const text = plainText(explain(s, outcome));
        await ack({ response_action: 'errors', errors: { [BLOCK.code]: text } });
        return;
      }
      next = await nextStep(s, client, userId, outcome);
      await ack({
        response_action: 'update',
        view: await finalView(s, userId, window, outcome, next, view.title.text),
      });
    } else {
      await ack({ response_action: 'update', view: messageModal(view.title.text, checking) });
      outcome = await verifying;
      next = await nextStep(s, client, userId, outcome);
      await client.views.update({
        view_id: view.id,
        view: await finalView(s, userId, window, outcome, next, view.title.text),
      });
    }
    if (!outcome.ok) return;
    await next
      .after?.()
      .catch((error: unknown) => s.logger.error({ err: error, userId }, 'what follows a code failed'));
    if (outcome.scope !== 'approval') await publishHome(s, client, userId);
  };
}

async function check(
  s: Deps,
  client: SubmitArgs['client'],
  userId: string,
  window: WindowRef,
  code: string,
): Promise<Outcome> {
  const replaced = await replacedBy(s, window);
  if (replaced) return { ok: false, reason: 'replaced', by: replaced };
  const verified = await s.verifier.verify(userId, window.requestId, code);
  if (!verified.ok) {
    if (verified.reason === 'not_granted' || verified.reason === 'grant_unknown')
      s.logger.error({ err: verified.cause, userId, outcome: verified.reason }, 'a right code could not be granted');
    return verified;
  }
  if (verified.scope === 'approval') {
    const proof = { authTime: verified.provedAt, methods: verified.methods };
    const approved = await approvalCodeVerified(s, userId, verified.approvalId, proof);
    const { settled, refresh: id } = approved;
    return {
      ok: true,
      scope: 'approval',
      text: approved.text,
      after: settled ? () => finish(s, client, settled) : id ? () => refresh(s, client, id) : undefined,
    };
  }
  const windowId = window.confirms?.windowId;
  if (!windowId) return verified;
  // The grant stands whatever follows: a command that cannot be read is told, not "nothing changed".
  const command = await s.pending.take(window.requestId, windowId).catch((error: unknown) => {
    s.logger.error({ err: error, userId }, 'the command waiting for this code could not be read');
    return { kind: 'lost' as const };
  });
  return { ...verified, command };
}

/** What a granted step-up's command does next: run, ask for a reason, or ask its approvers. */
async function nextStep(s: Deps, client: SubmitArgs['client'], userId: string, outcome: Outcome): Promise<Next> {
  if (!outcome.ok) return {};
  if (outcome.scope === 'approval') return { line: outcome.text, after: outcome.after };
  const { command } = outcome;
  if (command?.kind === 'taken') {
    const proof = { authTime: s.clock.now(), methods: outcome.methods };
    return nextAfterStepUp(s, client, userId, command.pending, proof);
  }
  if (command?.kind === 'replaced') return { line: replacedAfterGrant(command.by) };
  if (command?.kind === 'lost') return { line: pendingLost };
  return {};
}

async function finalView(
  s: Deps,
  userId: string,
  window: WindowRef,
  outcome: Outcome,
  next: Next,
  title: string,
): Promise<types.ModalView> {
  const now = s.clock.now();
  if (outcome.ok) {
    if (next.view) return next.view;
    if (outcome.scope === 'approval') return messageModal(title, outcome.text);
    const line = next.line ? `\n${next.line}` : '';
    return messageModal(scopeTitle[outcome.scope], granted(outcome.scope, outcome.expiresAt, now) + line);
  }
  if (outcome.reason === 'replaced') return messageModal(title, replacedText(outcome.by));
  if (outcome.reason === 'unavailable' || !windowStaysOpen(outcome.reason))
    return messageModal(title, explain(s, outcome));
  try {
    return await refusalView(s, userId, window.requestId, outcome, title, window.confirms);
  } catch (error) {
    s.logger.error({ err: error, userId }, 'showing a refusal failed');
    return messageModal(title, explain(s, outcome));
  }
}
