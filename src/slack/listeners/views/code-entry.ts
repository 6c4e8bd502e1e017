import type { types } from '@slack/bolt';
import type { Verified } from '../../../core/verify-code.js';
import type { Services } from '../../../services.js';
import { withinDeadline } from '../../deadline.js';
import { BLOCK } from '../../ids.js';
import { typedCode, type WindowRef, windowOf } from '../../input/view-state.js';
import type { PendingCommand, Taken } from '../../pending-commands.js';
import { publishHome } from '../../presenters/home-tab.js';
import { explain, refusalView, replacedBy, windowStaysOpen } from '../../presenters/request-window.js';
import { pendingLost, pendingStarted, replacedAfterGrant, replacedText, runPending } from '../../presenters/step-up.js';
import { scopeTitle } from '../../views/format.js';
import { messageModal } from '../../views/modals.js';
import { checking, granted, plainText, type Unavailable } from '../../views/text.js';
import type { SubmitArgs } from '../args.js';

type Deps = Pick<
  Services,
  | 'admin'
  | 'audit'
  | 'clock'
  | 'config'
  | 'logger'
  | 'pending'
  | 'phones'
  | 'requests'
  | 'sender'
  | 'sessions'
  | 'signingKeys'
  | 'slackDeadlineMs'
  | 'verifier'
>;

/** A window that a newer one replaced: it checks no code and runs nothing. */
type Replaced = { ok: false; reason: 'replaced'; by: PendingCommand };
/** After a grant: the window's own command, or why none runs (`lost`: it could not be read). */
type Granted = Extract<Verified, { ok: true }> & { command?: Taken | { kind: 'lost' } | undefined };
type Outcome = Granted | Exclude<Verified, { ok: true }> | Replaced | Unavailable;

/**
 * A code was submitted. Bandwidth's verify runs against Slack's 3-second deadline: if it answers in
 * time, the result goes in the acknowledgement (an inline error, or the success view); if not, the
 * window shows "checking…" and the result replaces it when it comes. (`title` is only the window's
 * own title, echoed back for display.) A step-up window runs the command it shows, or nothing: a
 * window that a newer command replaced checks no code, and a granted code takes only its own
 * window's command, once.
 */
export function codeEntered(s: Deps) {
  return async ({ ack, body, view, client }: SubmitArgs): Promise<void> => {
    const userId = body.user.id;
    const window = windowOf(view.private_metadata);
    const verifying: Promise<Outcome> = check(s, userId, window, typedCode(view)).catch((error: unknown) => {
      s.logger.error({ err: error, userId }, 'verifying a code failed');
      return { ok: false as const, reason: 'unavailable' as const };
    });

    const early = await withinDeadline(verifying, s.slackDeadlineMs);
    let outcome: Outcome;
    if (early.done) {
      outcome = early.value;
      // A refusal the user can act on in place is shown under the input; the window stays as it is.
      if (!outcome.ok && outcome.reason !== 'replaced' && windowStaysOpen(outcome.reason)) {
        const text = plainText(explain(s, outcome));
        await ack({ response_action: 'errors', errors: { [BLOCK.code]: text } });
        return;
      }
      await ack({ response_action: 'update', view: await finalView(s, userId, window, outcome, view.title.text) });
    } else {
      await ack({ response_action: 'update', view: messageModal(view.title.text, checking) });
      outcome = await verifying;
      await client.views.update({
        view_id: view.id,
        view: await finalView(s, userId, window, outcome, view.title.text),
      });
    }
    if (!outcome.ok) return;
    if (outcome.command?.kind === 'taken') await runPending(s, client, userId, outcome.command.pending);
    await publishHome(s, client, userId);
  };
}

async function check(s: Deps, userId: string, window: WindowRef, code: string): Promise<Outcome> {
  const replaced = await replacedBy(s, window);
  if (replaced) return { ok: false, reason: 'replaced', by: replaced };
  const verified = await s.verifier.verify(userId, window.requestId, code);
  if (!verified.ok) {
    if (verified.reason === 'not_granted' || verified.reason === 'grant_unknown')
      s.logger.error({ err: verified.cause, userId, outcome: verified.reason }, 'a right code could not be granted');
    return verified;
  }
  if (!window.confirms) return verified;
  // The grant stands whatever follows: a command that cannot be read is told, not "nothing changed".
  const command = await s.pending.take(window.requestId, window.confirms.windowId).catch((error: unknown) => {
    s.logger.error({ err: error, userId }, 'the command waiting for this code could not be read');
    return { kind: 'lost' as const };
  });
  return { ...verified, command };
}

async function finalView(
  s: Deps,
  userId: string,
  window: WindowRef,
  outcome: Outcome,
  title: string,
): Promise<types.ModalView> {
  const now = s.clock.now();
  if (outcome.ok) {
    const { command } = outcome;
    const next =
      command?.kind === 'taken'
        ? pendingStarted(command.pending)
        : command?.kind === 'replaced'
          ? replacedAfterGrant(command.by)
          : command?.kind === 'lost'
            ? pendingLost
            : undefined;
    return messageModal(
      scopeTitle[outcome.scope],
      granted(outcome.scope, outcome.expiresAt, now) + (next ? `\n${next}` : ''),
    );
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
