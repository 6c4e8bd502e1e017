import type { RespondArguments, types, webApi } from '@slack/bolt';
import type { Delivery } from '../../core/ports.js';
import type { Refusal, RefusalReason } from '../../core/refusals.js';
import type { RequestState } from '../../core/requests.js';
import type { Services } from '../../services.js';
import type { Confirms, WindowRef } from '../input/view-state.js';
import type { PendingCommand } from '../pending-commands.js';
import { ephemeral } from '../reply.js';
import { updateView } from '../view-update.js';
import { deliveryName, scopeTitle } from '../views/format.js';
import { codeEntryModal, deliveryChoiceModal, messageModal, retryModal, sendingModal } from '../views/modals.js';
import { alreadyLoggedIn, refusal, type Unavailable, unavailable } from '../views/text.js';

/**
 * The request window: the modal a user proves possession in, shared by /login, /admin, the delivery
 * choice and the resend buttons. Listeners call these; the rules are in core/ (requests.ts,
 * send-code.ts, verify-code.ts).
 */

type Deps = Pick<Services, 'clock' | 'config' | 'logger' | 'requests' | 'sender' | 'sessions'>;

/** A refusal as the sentence the user reads (`userId`: the reader, for what only admins are told). */
export function explain(s: Pick<Services, 'clock' | 'config'>, r: Refusal | Unavailable, userId?: string): string {
  return refusal(r, s.clock.now(), s.config.policy.admins, userId);
}

export type LoginStart = { ok: true; request: RequestState } | { ok: false; text: string };

/** /login and the Home tab's "Log in": a sentence saying why not, or an open request for `login`. */
export async function openLoginRequest(s: Deps, userId: string): Promise<LoginStart> {
  const live = (await s.sessions.liveScopes(userId)).find((l) => l.scope === 'login');
  if (live) return { ok: false, text: alreadyLoggedIn(live.expiresAt, s.clock.now()) };
  const opened = await s.requests.open(userId, 'login');
  return opened.ok ? opened : { ok: false, text: explain(s, opened, userId) };
}

/**
 * The first view of a request's window: the code entry if a code is out; else, with a known delivery
 * method, "sending…" (and `send` says by which method the caller sends now); else the delivery choice.
 */
export function firstWindow(
  s: Pick<Services, 'clock'>,
  request: RequestState,
  confirms?: Confirms,
): { view: types.ModalView; send?: Delivery | undefined } {
  if (request.sent)
    return { view: codeEntryModal(request, s.clock.now(), 'The code I sent you earlier still works.', confirms) };
  const delivery = request.preferredDelivery;
  if (!delivery) return { view: deliveryChoiceModal(request, confirms) };
  return { view: sendingModal(request, delivery, confirms), send: delivery };
}

/** Opens the window for a request: the code entry if a code is out, else sends by the known method, else asks. */
export async function openRequestWindow(
  s: Deps,
  client: webApi.WebClient,
  triggerId: string,
  userId: string,
  request: RequestState,
  confirms?: Confirms,
): Promise<void> {
  const first = firstWindow(s, request, confirms);
  const opened = await client.views.open({ trigger_id: triggerId, view: first.view });
  const viewId = opened.view?.id;
  if (first.send && viewId)
    await sendAndShow(s, client, viewId, userId, request, first.send, false, undefined, confirms);
}

/** Said where the command was typed when Slack would not show its window. */
export const windowNotShown =
  "Slack didn't let me show the code window (it may have taken too long). Run the command again: a code I already sent still works.";

/**
 * A command's window (see openRequestWindow); if Slack refuses it (a trigger that expired under load),
 * the user is told where they typed, instead of silence.
 */
export async function openCommandWindow(
  s: Deps,
  client: webApi.WebClient,
  respond: (message: RespondArguments) => Promise<unknown>,
  triggerId: string,
  userId: string,
  request: RequestState,
  confirms?: Confirms,
): Promise<void> {
  try {
    await openRequestWindow(s, client, triggerId, userId, request, confirms);
  } catch (error) {
    s.logger.warn({ err: error, userId }, 'could not show a code window');
    await respond(ephemeral(windowNotShown)).catch(() => undefined);
  }
}

/** Sends a code, then shows the code entry in the window, or why no code was sent. */
export async function sendAndShow(
  s: Deps,
  client: webApi.WebClient,
  viewId: string,
  userId: string,
  request: Pick<RequestState, 'requestId' | 'scope'>,
  delivery: Delivery,
  resend: boolean,
  hash?: string,
  confirms?: Confirms,
): Promise<void> {
  const view = await viewAfterSend(s, userId, request, delivery, resend, confirms);
  await updateView(client, viewId, hash, view, s.logger);
}

async function viewAfterSend(
  s: Deps,
  userId: string,
  request: Pick<RequestState, 'requestId' | 'scope'>,
  delivery: Delivery,
  resend: boolean,
  confirms: Confirms | undefined,
): Promise<types.ModalView> {
  try {
    const result = await s.sender.send(userId, request.requestId, delivery);
    if (result.ok)
      return codeEntryModal(
        result.request,
        s.clock.now(),
        resend ? `:incoming_envelope: New code sent by ${deliveryName[delivery]}.` : undefined,
        confirms,
      );
    return await refusalView(s, userId, request.requestId, result, scopeTitle[request.scope], confirms);
  } catch (error) {
    s.logger.error({ err: error, userId }, 'sending a code failed');
    return messageModal(scopeTitle[request.scope], unavailable);
  }
}

/** Refusals after which the request goes on in the same window (a typo, a wrong code, a wait, a limit, provider trouble, a dead or used code). */
const RECOVERABLE: ReadonlySet<RefusalReason> = new Set([
  'malformed',
  'wrong_code',
  'cooldown',
  'send_limit',
  'phone_send_limit',
  'total_send_limit',
  'provider',
  'dead',
  'no_code',
  'code_expired',
  'already_used',
  'not_granted',
]);

/** Whether the user can go on in the same window after this refusal (a code entry shows it under the input). */
export const windowStaysOpen = (reason: RefusalReason | Unavailable['reason']): boolean =>
  reason === 'unavailable' || RECOVERABLE.has(reason);

/**
 * A refusal that leaves the request open keeps the user in the window: the code entry if a code still
 * works, else a note with a "Resend code" button. Anything else closes the window with a message.
 */
export async function refusalView(
  s: Deps,
  userId: string,
  requestId: string,
  r: Refusal,
  title: string,
  confirms?: Confirms,
): Promise<types.ModalView> {
  const text = explain(s, r);
  if (!RECOVERABLE.has(r.reason)) return messageModal(title, text);
  const current = await s.requests.describe(userId, requestId);
  if (!current.ok) return messageModal(title, explain(s, current));
  return current.request.sent
    ? codeEntryModal(current.request, s.clock.now(), text, confirms)
    : retryModal(current.request, text, confirms);
}

/**
 * The command a newer window of the same request now confirms, if `window` confirms one and was
 * replaced: such a window can run nothing, and says so before it sends or checks a code.
 */
export async function replacedBy(s: Pick<Services, 'pending'>, window: WindowRef): Promise<PendingCommand | undefined> {
  const windowId = window.confirms?.windowId;
  return windowId ? s.pending.replacedFor(window.requestId, windowId) : undefined;
}
