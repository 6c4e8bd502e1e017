import type { types } from '@slack/bolt';
import type { Verified } from '../../../core/verify-code.js';
import type { Services } from '../../../services.js';
import { withinDeadline } from '../../deadline.js';
import { BLOCK } from '../../ids.js';
import { requestIdOf, typedCode } from '../../input/view-state.js';
import type { PendingCommand } from '../../pending-commands.js';
import { publishHome } from '../../presenters/home-tab.js';
import { explain, refusalView, windowStaysOpen } from '../../presenters/request-window.js';
import { pendingStarted, runPending } from '../../presenters/step-up.js';
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
type Outcome = (Verified & { pending?: PendingCommand | undefined }) | Unavailable;

/**
 * A code was submitted. Bandwidth's verify runs against Slack's 3-second deadline: if it answers in
 * time, the result goes in the acknowledgement (an inline error, or the success view); if not, the
 * window shows "checking…" and the result replaces it when it comes. (`title` is only the window's
 * own title, echoed back for display.) A granted step-up hands over its pending command, once.
 */
export function codeEntered(s: Deps) {
  return async ({ ack, body, view, client }: SubmitArgs): Promise<void> => {
    const userId = body.user.id;
    const requestId = requestIdOf(view.private_metadata);
    const verifying: Promise<Outcome> = s.verifier
      .verify(userId, requestId, typedCode(view))
      .then(
        async (verified): Promise<Outcome> =>
          verified.ok && verified.scope === 'admin'
            ? { ...verified, pending: await s.pending.take(requestId) }
            : verified,
      )
      .catch((error: unknown) => {
        s.logger.error({ err: error, userId }, 'verifying a code failed');
        return { ok: false as const, reason: 'unavailable' as const };
      });

    const early = await withinDeadline(verifying, s.slackDeadlineMs);
    let outcome: Outcome;
    if (early.done) {
      outcome = early.value;
      // A refusal the user can act on in place is shown under the input; the window stays as it is.
      if (!outcome.ok && windowStaysOpen(outcome.reason)) {
        const text = plainText(explain(s, outcome));
        await ack({ response_action: 'errors', errors: { [BLOCK.code]: text } });
        return;
      }
      await ack({ response_action: 'update', view: await finalView(s, userId, requestId, outcome, view.title.text) });
    } else {
      await ack({ response_action: 'update', view: messageModal(view.title.text, checking) });
      outcome = await verifying;
      await client.views.update({
        view_id: view.id,
        view: await finalView(s, userId, requestId, outcome, view.title.text),
      });
    }
    if (!outcome.ok) return;
    if (outcome.pending) await runPending(s, client, userId, outcome.pending);
    await publishHome(s, client, userId);
  };
}

async function finalView(
  s: Deps,
  userId: string,
  requestId: string,
  outcome: Outcome,
  title: string,
): Promise<types.ModalView> {
  const now = s.clock.now();
  if (outcome.ok) {
    const next = outcome.pending ? `\n${pendingStarted(outcome.pending)}` : '';
    return messageModal(scopeTitle[outcome.scope], granted(outcome.scope, outcome.expiresAt, now) + next);
  }
  if (outcome.reason === 'unavailable') return messageModal(title, explain(s, outcome));
  try {
    return await refusalView(s, userId, requestId, outcome, title);
  } catch (error) {
    s.logger.error({ err: error, userId }, 'showing a refusal failed');
    return messageModal(title, explain(s, outcome));
  }
}
