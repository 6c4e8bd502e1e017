import type { AllMiddlewareArgs, SlackViewMiddlewareArgs, ViewSubmitAction, types } from '@slack/bolt';
import type { VerifyResult } from '../../../core/challenges.js';
import type { Services } from '../../../services.js';
import { withinDeadline } from '../../deadline.js';
import { explain, refusalView } from '../../flow.js';
import { ACTION, BLOCK } from '../../ids.js';
import { scopeTitle } from '../../views/format.js';
import { publishHome } from '../../home.js';
import { runPending } from '../../pending.js';
import { stepUpStarted } from '../../views/admin-text.js';
import { flowIdOf, messageModal } from '../../views/modals.js';
import { checking, granted, plainText, unavailable } from '../../views/text.js';

type Outcome = VerifyResult | { ok: 'error' };

/** Refusals shown under the code input, with the window left open for another try or a resend. */
const INLINE: ReadonlyArray<string> = ['malformed', 'wrong_code', 'dead', 'expired', 'already_used', 'provider'];

/**
 * A code was submitted. Bandwidth's verify runs against Slack's 3-second deadline: if it answers in
 * time, the result goes in the acknowledgement (an inline error, or the success view); if not, the
 * window shows "checking…" and the result replaces it when it comes. (`title` is only the window's
 * own title, echoed back for display.)
 */
export function codeEntered(s: Services) {
  return async ({ ack, body, view, client }: SlackViewMiddlewareArgs<ViewSubmitAction> & AllMiddlewareArgs): Promise<void> => {
    const userId = body.user.id;
    const flowId = flowIdOf(view.private_metadata);
    const code = view.state.values[BLOCK.code]?.[ACTION.code]?.value ?? '';
    const verifying: Promise<Outcome> = s.challenges.verify(userId, flowId, code).catch((error: unknown) => {
      s.logger.error({ err: error, userId }, 'verifying a code failed');
      return { ok: 'error' as const };
    });

    const early = await withinDeadline(verifying, s.slackDeadlineMs);
    let outcome: Outcome;
    if (early.done) {
      outcome = early.value;
      if (outcome.ok !== true && (outcome.ok === 'error' || INLINE.includes(outcome.reason))) {
        const text = plainText(outcome.ok === 'error' ? unavailable : explain(s, outcome));
        await ack({ response_action: 'errors', errors: { [BLOCK.code]: text } });
        return;
      }
      await ack({ response_action: 'update', view: await finalView(s, userId, flowId, outcome, view.title.text) });
    } else {
      await ack({ response_action: 'update', view: messageModal(view.title.text, checking) });
      outcome = await verifying;
      await client.views.update({ view_id: view.id, view: await finalView(s, userId, flowId, outcome, view.title.text) });
    }
    if (outcome.ok !== true) return;
    if (outcome.pending) await runPending(s, client, userId, outcome.pending);
    await publishHome(s, client, userId);
  };
}

async function finalView(s: Services, userId: string, flowId: string, outcome: Outcome, title: string): Promise<types.ModalView> {
  const now = s.clock.now();
  if (outcome.ok === 'error') return messageModal(title, unavailable);
  if (outcome.ok) {
    const next = outcome.pending ? `\n${stepUpStarted(outcome.pending.text)}` : '';
    return messageModal(scopeTitle[outcome.scope], granted(outcome.scope, outcome.expiresAt, now) + next);
  }
  try {
    return await refusalView(s, userId, flowId, outcome, title);
  } catch (error) {
    s.logger.error({ err: error, userId }, 'showing a refusal failed');
    return messageModal(title, explain(s, outcome));
  }
}
