import type { types, webApi } from '@slack/bolt';
import type { FlowResult, FlowView, Refusal } from '../core/challenges.js';
import type { Delivery } from '../core/ports.js';
import type { Services } from '../services.js';
import { updateView } from './view-update.js';
import { deliveryName, scopeTitle } from './views/format.js';
import { codeEntryModal, deliveryChoiceModal, messageModal, retryModal, sendingModal } from './views/modals.js';
import { alreadyLoggedIn, refusal, unavailable } from './views/text.js';

/**
 * The steps a code request takes in a modal, shared by /login, /admin, the delivery choice and the
 * resend buttons. Listeners call these; the rules themselves are in core/challenges.ts.
 */

/** A refusal as the sentence the user reads. */
export function explain(s: Services, r: Refusal): string {
  return refusal(r, s.clock.now(), s.config.policy.admins);
}

export type LoginStart = { ok: true; flow: FlowView } | { ok: false; text: string };

/** /login and the Home tab's "Log in": a sentence saying why not, or a new request for `login`. */
export async function startLogin(s: Services, userId: string): Promise<LoginStart> {
  const live = (await s.sessions.liveScopes(userId)).find((l) => l.scope === 'login');
  if (live) return { ok: false, text: alreadyLoggedIn(live.expiresAt, s.clock.now()) };
  const begun = await s.challenges.begin(userId, 'login');
  return begun.ok ? begun : { ok: false, text: explain(s, begun) };
}

/** Opens the window for a request: the code entry if a code is out, else sends by the known method, else asks. */
export async function openFlowWindow(s: Services, client: webApi.WebClient, triggerId: string, userId: string, flow: FlowView): Promise<void> {
  if (flow.sent) {
    await client.views.open({ trigger_id: triggerId, view: codeEntryModal(flow, s.clock.now(), 'The code I sent you earlier still works.') });
    return;
  }
  const delivery = flow.preferredDelivery;
  if (!delivery) {
    await client.views.open({ trigger_id: triggerId, view: deliveryChoiceModal(flow) });
    return;
  }
  const opened = await client.views.open({ trigger_id: triggerId, view: sendingModal(flow, delivery) });
  const viewId = opened.view?.id;
  if (viewId) await sendAndShow(s, client, viewId, userId, flow, delivery, false);
}

/** Sends a code, then shows the code entry in the window, or why no code was sent. */
export async function sendAndShow(
  s: Services,
  client: webApi.WebClient,
  viewId: string,
  userId: string,
  flow: Pick<FlowView, 'flowId' | 'scope'>,
  delivery: Delivery,
  resend: boolean,
  hash?: string,
): Promise<void> {
  const view = await viewAfterSend(s, userId, flow, delivery, resend);
  await updateView(client, viewId, hash, view, s.logger);
}

async function viewAfterSend(s: Services, userId: string, flow: Pick<FlowView, 'flowId' | 'scope'>, delivery: Delivery, resend: boolean): Promise<types.ModalView> {
  try {
    const result = await s.challenges.send(userId, flow.flowId, delivery);
    const now = s.clock.now();
    if (result.ok) return codeEntryModal(result.flow, now, resend ? `:incoming_envelope: New code sent by ${deliveryName[delivery]}.` : undefined);
    return await refusalView(s, userId, flow.flowId, result, scopeTitle[flow.scope]);
  } catch (error) {
    s.logger.error({ err: error, userId }, 'sending a code failed');
    return messageModal(scopeTitle[flow.scope], unavailable);
  }
}

/**
 * A refusal that leaves the request open (wait, limit, provider trouble, dead code) keeps the user in
 * the window: the code entry if a code still works, else a note with a "Resend code" button.
 * Anything else closes the request with a message.
 */
export async function refusalView(s: Services, userId: string, flowId: string, r: Refusal, title: string): Promise<types.ModalView> {
  const text = explain(s, r);
  const recoverable: Refusal['reason'][] = ['cooldown', 'send_limit', 'provider', 'dead', 'expired', 'already_used'];
  if (!recoverable.includes(r.reason)) return messageModal(title, text);
  const current: FlowResult = await s.challenges.describe(userId, flowId);
  if (!current.ok) return messageModal(title, explain(s, current));
  return current.flow.sent ? codeEntryModal(current.flow, s.clock.now(), text) : retryModal(current.flow, text);
}
