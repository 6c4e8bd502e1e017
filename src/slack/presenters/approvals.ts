import type { types, webApi } from '@slack/bolt';
import type { DeclaredCommand } from '../../config.js';
import type { ApprovalEnd, ApprovalRequest, Authority, Proof, Settled } from '../../core/approvals.js';
import type { RequestState } from '../../core/requests.js';
import type { Services } from '../../services.js';
import type { ApprovalAction, Places } from '../approval-state.js';
import type { Confirms } from '../input/view-state.js';
import { postMessageToResponseUrl } from '../reply.js';
import {
  type ApprovalView,
  approvalRefused,
  approverMessage,
  breakGlassModal,
  breakGlassNotice,
  denyModal,
  requesterStatus,
} from '../views/approvals.js';
import { messageModal } from '../views/modals.js';
import { runAdminCommand } from './admin-command.js';
import { answerWhereTyped, runDeclaredWith } from './declared-command.js';
import { explain, openRequestWindow } from './request-window.js';

/**
 * Approvals in Slack: asking the approvers (a DM each, or one message in approval_channel), the
 * requester's status where they typed, the approvers' own code windows, and the end: the command run
 * once, every message updated in place. The rules are core/approvals.ts; what runs is kept on the
 * server (approval-state.ts); a button carries only the request's unguessable id.
 */

export type Deps = Pick<
  Services,
  | 'admin'
  | 'approvals'
  | 'approvalState'
  | 'audit'
  | 'clock'
  | 'config'
  | 'logger'
  | 'requests'
  | 'sender'
  | 'sessions'
  | 'signingKeys'
>;
type Client = webApi.WebClient;
type Request = ApprovalRequest<ApprovalAction>;

/** A break-glass code window is bound to this approval id, apart from the request's approvers' windows. */
const BREAK_GLASS = 'break-glass:';
/** How long a built-in admin command waits for another admin's approval. */
export const ADMIN_APPROVAL_MINUTES = 30;

/** What a declared command needs after its gate: to run now, a reason first, or approvals. */
export function declaredNext(command: DeclaredCommand): 'run' | 'reason' | 'ask' {
  if (command.reason !== 'off') return 'reason';
  return command.approval ? 'ask' : 'run';
}

/** P4: who may approve, and whether the requester may still run it, as this instance's config says now. */
export function authorityFor(s: Pick<Deps, 'admin' | 'config'>, request: Request): Authority {
  const { action, requesterId } = request;
  if (action.kind === 'admin')
    return {
      isApprover: (id) => id !== requesterId && s.admin.isAdmin(id),
      requesterAllowed: () => s.admin.isAdmin(requesterId),
    };
  const command = s.config.commands.find((c) => c.name === action.run.name);
  return {
    isApprover: (id) => id !== requesterId && command?.approval?.approvers.includes(id) === true,
    requesterAllowed: () =>
      command?.approval !== undefined && (!command.allowed || command.allowed.includes(requesterId)),
  };
}

export interface Ask {
  requesterId: string;
  action: ApprovalAction;
  approvers: string[];
  needed: number;
  minutes: number;
  breakGlass: boolean;
  reason?: string | undefined;
  ticket?: string | undefined;
  proof: Proof;
  /** Where the requester typed: their status is shown there. */
  responseUrl?: string | undefined;
  channelId?: string | undefined;
}

/** Opens a request, asks its approvers, and shows the requester who was asked, with Cancel (and Break glass). */
export async function askForApproval(s: Deps, client: Client, ask: Ask): Promise<Request> {
  const { responseUrl, channelId, minutes, ...rest } = ask;
  const request = await s.approvals.open<ApprovalAction>({ ...rest, minutes });
  const places: Places = {
    posts: [],
    status: { userId: ask.requesterId, responseUrl, channelId, posted: false },
  };
  await s.approvalState.saveStatus(request.id, places.status);
  const view = viewOf(s, request, undefined, [], places);
  const message = approverMessage(view);
  const channel = s.config.policy.approvalChannel;
  // A requester who is also an approver gets no message of their own.
  for (const to of channel ? [channel] : view.asked) {
    try {
      const posted = await client.chat.postMessage({ channel: to, ...message });
      if (posted.channel && posted.ts) places.posts.push({ channel: posted.channel, ts: posted.ts });
    } catch (error) {
      s.logger.warn({ err: error, approval: request.id }, 'could not post an approval request');
    }
  }
  await s.approvalState.savePosts(request.id, places.posts);
  if (places.posts.length === 0) {
    // Nobody was asked (the bot is not in approval_channel, or Slack refused every DM): say so, and end it.
    await s.approvals.cancel(request.id, ask.requesterId);
    await showStatus(s, client, places, { text: nobodyAsked(channel) });
    return request;
  }
  await showStatus(s, client, places, requesterStatus(view, s.clock.now()));
  await s.approvalState.saveStatus(request.id, places.status);
  return request;
}

function nobodyAsked(channel: string | undefined): string {
  return channel
    ? `:warning: I couldn't post the approval request in <#${channel}>, so nobody was asked and nothing will run. Whoever runs this bot must invite it to that channel (\`/invite\`); then run the command again.`
    : ":warning: I couldn't send the approval request to any approver, so nobody was asked and nothing will run. Please tell whoever runs this bot, then run the command again.";
}

// --- the approvers -------------------------------------------------------------------------

/** Approve: the approver's own code window for this request, or why not (no code sent). */
export async function approveClicked(
  s: Deps,
  client: Client,
  userId: string,
  id: string,
  triggerId: string,
): Promise<void> {
  const request = await mayClick(s, client, userId, id, triggerId, 'approve');
  if (!request) return;
  const opened = await s.requests.open(userId, 'approval', id);
  if (!opened.ok) {
    await tellOnTrigger(s, client, triggerId, 'Approve', explain(s, opened, userId));
    return;
  }
  const confirms: Confirms = {
    shows: `This code approves <@${request.requesterId}>'s request to run ${request.action.shows}.`,
  };
  await openRequestWindow(s, client, triggerId, userId, opened.request, confirms);
}

/**
 * An approver's code for `approvalId` was verified: record the approval (or break glass, for the
 * requester's own window). Returns what the code window shows, and the end if this settled it: the
 * caller runs `finish` after answering Slack.
 */
export async function approvalCodeVerified(
  s: Deps,
  userId: string,
  approvalId: string,
  proof: Proof,
): Promise<{ text: string; settled?: Settled<ApprovalAction> | undefined; refresh?: string | undefined }> {
  if (approvalId.startsWith(BREAK_GLASS)) {
    const id = approvalId.slice(BREAK_GLASS.length);
    const reason = await s.approvalState.takeBreakGlassReason(id, userId);
    const found = await s.approvals.read<ApprovalAction>(id);
    if (!found || reason === undefined)
      return {
        text: 'This break-glass request is no longer open, so nothing ran. Use *Break glass* again if you still need it.',
      };
    const result = await s.approvals.breakGlass<ApprovalAction>(
      id,
      userId,
      reason,
      proof,
      authorityFor(s, found.request),
    );
    if (!result.ok) return { text: approvalRefused(result, 'break_glass', found.request) };
    return {
      text:
        result.end.state === 'break_glass'
          ? `:rotating_light: Glass broken: ${found.request.action.shows} runs now, and everyone is told.`
          : 'You may no longer run this command, so nothing ran.',
      settled: { request: result.request, end: result.end },
    };
  }
  const found = await s.approvals.read<ApprovalAction>(approvalId);
  if (!found) return { text: approvalRefused({ ok: false, reason: 'no_request' }, 'approve') };
  const result = await s.approvals.approve<ApprovalAction>(approvalId, userId, proof, authorityFor(s, found.request));
  if (!result.ok) return { text: approvalRefused(result, 'approve', found.request) };
  const { request, approvals, end } = result;
  if (end?.state === 'approved')
    return { text: `:white_check_mark: Approved. ${request.action.shows} runs now.`, settled: { request, end } };
  if (end)
    return {
      text: 'Your approval was recorded, but the requester may no longer run this command, so nothing runs.',
      settled: { request, end },
    };
  return {
    text: `:white_check_mark: Your approval is recorded: ${approvals.length} of ${request.needed}. It runs once ${request.needed - approvals.length} more ${request.needed - approvals.length === 1 ? 'approver approves' : 'approvers approve'}.`,
    refresh: request.id,
  };
}

/**
 * The request if `userId` may approve (no approval of theirs yet) or deny it now, as the core decides;
 * otherwise the reason is shown on the click's trigger and nothing is returned.
 */
async function mayClick(
  s: Deps,
  client: Client,
  userId: string,
  id: string,
  triggerId: string,
  step: 'approve' | 'deny',
): Promise<Request | undefined> {
  const request = (await s.approvals.read<ApprovalAction>(id))?.request;
  const authority = request && authorityFor(s, request);
  const may = !authority
    ? ({ ok: false, reason: 'no_request' } as const)
    : step === 'approve'
      ? await s.approvals.mayApprove<ApprovalAction>(id, userId, authority)
      : await s.approvals.mayDecide<ApprovalAction>(id, userId, authority);
  if (may.ok) return may.request;
  await tellOnTrigger(
    s,
    client,
    triggerId,
    step === 'approve' ? 'Approve' : 'Deny',
    approvalRefused(may, step, request),
  );
  return undefined;
}

/** Deny: a small form for an optional note; no code is needed. */
export async function denyClicked(
  s: Deps,
  client: Client,
  userId: string,
  id: string,
  triggerId: string,
): Promise<void> {
  const request = await mayClick(s, client, userId, id, triggerId, 'deny');
  if (!request) return;
  const { requesterId, action } = request;
  await client.views.open({ trigger_id: triggerId, view: denyModal(id, { requesterId, shows: action.shows }) });
}

/** The deny form was sent: the request ends, naming who denied it. Returns the sentence the form shows. */
export async function denySubmitted(
  s: Deps,
  client: Client,
  userId: string,
  id: string,
  note: string | undefined,
): Promise<string> {
  const found = await s.approvals.read<ApprovalAction>(id);
  if (!found) return approvalRefused({ ok: false, reason: 'no_request' }, 'deny');
  const result = await s.approvals.deny<ApprovalAction>(id, userId, note, authorityFor(s, found.request));
  if (!result.ok) return approvalRefused(result, 'deny', found.request);
  await finish(s, client, { request: result.request, end: result.end });
  return `You denied <@${found.request.requesterId}>'s request. Nothing ran, and they were told.`;
}

// --- the requester -------------------------------------------------------------------------

/** Cancel, on the requester's status. `responseUrl`: the click's, which updates that status. */
export async function cancelClicked(
  s: Deps,
  client: Client,
  userId: string,
  id: string,
  responseUrl: string | undefined,
  triggerId: string,
): Promise<void> {
  await freshStatusUrl(s, id, responseUrl);
  const found = await s.approvals.read<ApprovalAction>(id);
  const result = found
    ? await s.approvals.cancel<ApprovalAction>(id, userId)
    : ({ ok: false, reason: 'no_request' } as const);
  if (!result.ok) {
    await tellOnTrigger(s, client, triggerId, 'Cancel', approvalRefused(result, 'cancel', found?.request));
    return;
  }
  await finish(s, client, { request: result.request, end: result.end });
}

/** Break glass, on the requester's status: a form for its reason, then a fresh code of theirs. */
export async function breakGlassClicked(
  s: Deps,
  client: Client,
  userId: string,
  id: string,
  responseUrl: string | undefined,
  triggerId: string,
): Promise<void> {
  await freshStatusUrl(s, id, responseUrl);
  const may = await s.approvals.mayBreakGlass<ApprovalAction>(id, userId);
  if (!may.ok) {
    const found = await s.approvals.read<ApprovalAction>(id);
    await tellOnTrigger(s, client, triggerId, 'Break glass', approvalRefused(may, 'break_glass', found?.request));
    return;
  }
  await client.views.open({ trigger_id: triggerId, view: breakGlassModal(id, may.request.action.shows) });
}

/**
 * The break-glass reason was sent: keep it on the server and open the requester's own code request for
 * it; the form then becomes their code window. Returns the request, or the sentence saying why not.
 */
export async function breakGlassSubmitted(
  s: Deps,
  userId: string,
  id: string,
  reason: string,
): Promise<{ ok: true; request: RequestState; confirms: Confirms } | { ok: false; text: string }> {
  const may = await s.approvals.mayBreakGlass<ApprovalAction>(id, userId);
  if (!may.ok) {
    const found = await s.approvals.read<ApprovalAction>(id);
    return { ok: false, text: approvalRefused(may, 'break_glass', found?.request) };
  }
  await s.approvalState.keepBreakGlassReason(id, userId, reason);
  const opened = await s.requests.open(userId, 'approval', `${BREAK_GLASS}${id}`);
  if (!opened.ok) return { ok: false, text: explain(s, opened, userId) };
  const confirms: Confirms = {
    shows: `This code breaks glass: ${may.request.action.shows} runs now, without its approvals.`,
  };
  return { ok: true, request: opened.request, confirms };
}

// --- the end -------------------------------------------------------------------------------

/**
 * A request ended here (this call settled it): run what was approved (once: only the settler gets
 * here), then update every message in place and tell the requester; a break glass is also announced.
 */
export async function finish(s: Deps, client: Client, settled: Settled<ApprovalAction>): Promise<void> {
  const { request, end } = settled;
  if (end.state === 'approved' || end.state === 'break_glass') {
    await refresh(s, client, request.id); // "running it now"
    const result = await run(s, client, request, end);
    await s.approvalState.saveResult(request.id, result);
    if (end.state === 'break_glass') await announceBreakGlass(s, client, request, end.reason, result);
  }
  await refresh(s, client, request.id);
}

/** Updates every message of a request in place (its approvers' and the requester's status). */
export async function refresh(s: Deps, client: Client, id: string): Promise<void> {
  const [found, places] = await Promise.all([s.approvals.read<ApprovalAction>(id), s.approvalState.places(id)]);
  if (!found || !places) return;
  const view = viewOf(s, found.request, found.end, found.approvals, places);
  const message = approverMessage(view);
  for (const post of places.posts)
    await client.chat
      .update({ channel: post.channel, ts: post.ts, ...message })
      .catch((error: unknown) => s.logger.warn({ err: error, approval: id }, 'could not update an approval message'));
  await showStatus(s, client, places, requesterStatus(view, s.clock.now()));
  await s.approvalState.saveStatus(id, places.status);
}

/** Ends what is due (expiry, an ending of a requester) on every replica's sweep, and tells people. */
export async function sweepApprovals(s: Deps, client: Client): Promise<number> {
  const ended = await s.approvals.sweep<ApprovalAction>();
  for (const settled of ended) await finish(s, client, settled);
  return ended.length;
}

export function viewOf(
  s: Pick<Deps, 'config'>,
  request: Request,
  end: ApprovalEnd | undefined,
  approvals: ApprovalView['approvals'],
  places: Places | undefined,
): ApprovalView {
  const channel = s.config.policy.approvalChannel;
  return {
    id: request.id,
    requesterId: request.requesterId,
    shows: request.action.shows,
    reason: request.reason,
    ticket: request.ticket,
    asked: request.approvers.filter((id) => id !== request.requesterId),
    channel,
    needed: request.needed,
    expiresAt: request.expiresAt,
    approvals,
    end,
    result: places?.result,
    breakGlass: request.breakGlass,
  };
}

async function run(
  s: Deps,
  client: Client,
  request: Request,
  end: ApprovalEnd,
): Promise<NonNullable<Places['result']>> {
  const { action } = request;
  const glass = end.state === 'break_glass';
  const approvals = end.state === 'approved' ? end.approvals : [];
  if (action.kind === 'declared') {
    const result = await runDeclaredWith(s, action.run, {
      reason: glass ? end.reason : request.reason,
      ticket: request.ticket,
      proof: glass ? end.proof : request.proof,
      approved: { approvals, breakGlass: glass },
      approvalId: request.id,
    });
    await answerWhereTyped(s, client, action.run, result.text);
    return { ran: result.ran, status: result.status, text: result.text };
  }
  let text: string;
  try {
    text = await runAdminCommand(s, request.requesterId, action.command, {
      approvedBy: approvals.map((a) => a.sub),
    });
  } catch (error) {
    s.logger.error({ err: error, approval: request.id }, 'an approved admin command failed');
    return { ran: false, text: 'It could not run: my database did not answer. Nothing was changed; ask again.' };
  }
  const where = {
    userId: request.requesterId,
    channelId: action.channelId ?? request.requesterId,
    responseUrl: action.responseUrl,
  };
  await answerWhereTyped(s, client, where, text);
  return { ran: true, text };
}

async function announceBreakGlass(
  s: Deps,
  client: Client,
  request: Request,
  reason: string,
  result: NonNullable<Places['result']>,
): Promise<void> {
  const view = { ...viewOf(s, request, undefined, [], undefined), result };
  const notice = breakGlassNotice(view, reason);
  const { securityChannel, admins } = s.config.policy;
  for (const to of securityChannel ? [securityChannel] : admins)
    await client.chat
      .postMessage({ channel: to, ...notice })
      .catch((error: unknown) =>
        s.logger.error({ err: error, approval: request.id }, 'could not announce a break glass'),
      );
}

/** The requester's status, where they typed: replaced in place at its response_url, else posted anew. */
async function showStatus(
  s: Pick<Deps, 'logger'>,
  client: Client,
  places: Places,
  message: { text: string; blocks?: types.KnownBlock[] },
): Promise<void> {
  const { status } = places;
  if (status.responseUrl) {
    try {
      await postMessageToResponseUrl(status.responseUrl, {
        response_type: 'ephemeral',
        replace_original: status.posted,
        ...message,
      });
      status.posted = true;
      return;
    } catch (error) {
      s.logger.info({ err: error, userId: status.userId }, 'the response_url of an approval status no longer answers');
      status.responseUrl = undefined; // expired or used up: later updates are posted anew
    }
  }
  try {
    if (!status.channelId) throw new Error('no channel');
    await client.chat.postEphemeral({ channel: status.channelId, user: status.userId, ...message });
  } catch {
    await client.chat
      .postMessage({ channel: status.userId, ...message })
      .catch((error: unknown) => s.logger.warn({ err: error, userId: status.userId }, 'could not tell a requester'));
  }
}

/** A click on the requester's status carries a fresh response_url for that message: later updates use it. */
async function freshStatusUrl(s: Deps, id: string, responseUrl: string | undefined): Promise<void> {
  if (!responseUrl) return;
  const places = await s.approvalState.places(id);
  if (!places) return;
  await s.approvalState.saveStatus(id, { ...places.status, responseUrl, posted: true });
}

async function tellOnTrigger(s: Pick<Deps, 'logger'>, client: Client, triggerId: string, title: string, text: string) {
  await client.views
    .open({ trigger_id: triggerId, view: messageModal(title, text) })
    .catch((error: unknown) => s.logger.warn({ err: error }, 'could not show why an approval step did nothing'));
}
