import type { types } from '@slack/bolt';
import type { Approval, ApprovalEnd, ApprovalRefusal } from '../../core/approvals.js';
import { ACTION, BLOCK, CALLBACK } from '../ids.js';
import { formatDuration, mentionList, slackTime, userText } from './format.js';

/**
 * Approvals as people see them: the approvers' message, the requester's status, the break-glass notice
 * and the three small forms. Pure functions of data. What a person typed (the command, a reason, a
 * ticket, a note) is shown as plain text or escaped, cut to fit, so that no mention, `<!here>` or link in
 * it can ping or mislead.
 */

/** One approval request as every message about it shows it. */
export interface ApprovalView {
  id: string;
  requesterId: string;
  /** The command, as describePending shows it: mrkdwn, escaped, numbers masked. */
  shows: string;
  reason?: string | undefined;
  ticket?: string | undefined;
  /** Who was asked (the requester left out). */
  asked: string[];
  /** Asked in a channel rather than by direct messages. */
  channel?: string | undefined;
  needed: number;
  expiresAt: number;
  approvals: Approval[];
  end?: ApprovalEnd | undefined;
  /** What the endpoint (or the admin command) said, once it ran. */
  result?: { ran: boolean; status?: number | undefined; text: string } | undefined;
  breakGlass: boolean;
}

/** Most a reason, ticket or note may hold: what the form's input allows. */
export const REASON_MAX = 500;
export const TICKET_MAX = 100;

type Message = { text: string; blocks: types.KnownBlock[] };

const plain = (text: string) => ({ type: 'plain_text' as const, text, emoji: true });
const mrkdwn = (text: string): types.SectionBlock => ({ type: 'section', text: { type: 'mrkdwn', text } });
const context = (text: string): types.ContextBlock => ({ type: 'context', elements: [{ type: 'mrkdwn', text }] });
/** Text someone typed, as plain text: nothing in it is a mention, a link or markup. */
const typed = (label: string, text: string, max = REASON_MAX): types.SectionBlock => ({
  type: 'section',
  text: plain(`${label}: ${cut(text.replace(/\s+/g, ' ').trim(), max)}`),
});
const cut = (text: string, max: number) => (text.length > max ? `${text.slice(0, max - 1)}…` : text);
const button = (actionId: string, text: string, value: string, style?: 'primary' | 'danger'): types.Button => ({
  type: 'button',
  action_id: actionId,
  text: plain(text),
  value,
  ...(style ? { style } : {}),
});
const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;

/** "<@A> at 10:02 and <@B> at 10:05" */
function approvedBy(approvals: Approval[]): string {
  return approvals.map((a) => `<@${a.sub}> at ${slackTime(a.approvedAt)}`).join(', ');
}

/** How it ended, in one sentence, with what ran. */
export function endSentence(view: ApprovalView): string {
  const { end, result } = view;
  if (!end) return '';
  const ran = result
    ? result.ran
      ? result.status !== undefined
        ? ` It ran: HTTP ${result.status}.`
        : ' It ran.'
      : ' It did not run.'
    : ' Running it now…';
  switch (end.state) {
    case 'approved':
      return `:white_check_mark: Approved by ${approvedBy(end.approvals)}.${ran}`;
    case 'break_glass':
      return `:rotating_light: <@${view.requesterId}> broke glass at ${slackTime(end.at)} and ran it without approvals.${ran}`;
    case 'denied':
      return `:no_entry: Denied by <@${end.by}> at ${slackTime(end.at)}. Nothing ran.`;
    case 'cancelled':
      return `Cancelled by <@${view.requesterId}> at ${slackTime(end.at)}. Nothing ran.`;
    case 'expired':
      return `Expired at ${slackTime(end.at)} without the approvals it needed. Nothing ran.`;
    case 'ended':
      return end.why === 'requester_ended'
        ? `Ended at ${slackTime(end.at)}: <@${view.requesterId}>'s session ended before it was approved. Nothing ran.`
        : `Ended at ${slackTime(end.at)}: <@${view.requesterId}> may no longer run this command. Nothing ran.`;
  }
}

function facts(view: ApprovalView): types.KnownBlock[] {
  const blocks: types.KnownBlock[] = [];
  if (view.reason) blocks.push(typed('Reason', view.reason));
  if (view.ticket) blocks.push(typed('Ticket', view.ticket, TICKET_MAX));
  const who = view.channel ? `anyone of ${mentionList(view.asked)}` : mentionList(view.asked);
  blocks.push(
    context(
      `Needs ${plural(view.needed, 'approval', 'approvals')} from ${who}, each with a code to their own phone · Asked until ${slackTime(view.expiresAt)}`,
    ),
  );
  return blocks;
}

function progress(view: ApprovalView): types.KnownBlock[] {
  if (view.end || view.approvals.length === 0) return [];
  return [context(`Approved so far by ${approvedBy(view.approvals)} (${view.approvals.length} of ${view.needed}).`)];
}

/** The message each approver gets (a DM), or the one in approval_channel: Approve and Deny while it is open. */
export function approverMessage(view: ApprovalView): Message {
  const asks = `<@${view.requesterId}> asks to run ${view.shows}.`;
  const blocks: types.KnownBlock[] = [
    { type: 'header', text: plain(view.end ? 'Approval request' : 'Approval requested') },
    mrkdwn(asks),
    ...facts(view),
    ...progress(view),
    ...(view.end
      ? [mrkdwn(endSentence(view))]
      : [
          {
            type: 'actions' as const,
            block_id: 'approval',
            elements: [
              button(ACTION.approve, 'Approve', view.id, 'primary'),
              button(ACTION.deny, 'Deny', view.id, 'danger'),
            ],
          },
        ]),
  ];
  const text = view.end ? `${asks} ${endSentence(view)}` : `${asks} Approve or deny it.`;
  return { text, blocks };
}

/** What the requester sees where they typed: who was asked, how many are needed, until when; Cancel (and Break glass). */
export function requesterStatus(view: ApprovalView, now: number): Message {
  const who = view.channel ? `<#${view.channel}>` : mentionList(view.asked);
  const asked = `I asked ${who} to approve ${view.shows}: ${plural(view.needed, 'approval', 'approvals')} needed, until ${slackTime(view.expiresAt)} (${formatDuration(view.expiresAt - now)} from now).`;
  const blocks: types.KnownBlock[] = [
    mrkdwn(view.end ? `${view.shows}: ${endSentence(view)}` : asked),
    ...progress(view),
  ];
  if (!view.end)
    blocks.push({
      type: 'actions',
      block_id: 'approval_status',
      elements: [
        button(ACTION.cancelApproval, 'Cancel', view.id),
        ...(view.breakGlass ? [button(ACTION.breakGlass, 'Break glass', view.id, 'danger')] : []),
      ],
    });
  return { text: view.end ? endSentence(view) : asked, blocks };
}

/** Posted to security_channel (or a DM to every admin) when someone breaks glass. */
export function breakGlassNotice(view: ApprovalView, reason: string): Message {
  const text = `:rotating_light: Break glass: <@${view.requesterId}> ran ${view.shows} without the approvals it needed.`;
  return {
    text,
    blocks: [
      mrkdwn(text),
      typed('Why', reason),
      ...(view.ticket ? [typed('Ticket', view.ticket, TICKET_MAX)] : []),
      context(`Request ${userText(view.id, 40)} · ${view.result ? endSentence(view) : 'Running it now.'}`),
    ],
  };
}

const input = (
  blockId: string,
  label: string,
  element: types.PlainTextInput,
  optional: boolean,
  hint?: string,
): types.InputBlock => ({
  type: 'input',
  block_id: blockId,
  label: plain(label),
  element,
  optional,
  ...(hint ? { hint: plain(hint) } : {}),
});

const reasonInput = (optional: boolean, placeholder: string): types.InputBlock =>
  input(
    BLOCK.reason,
    'Reason',
    {
      type: 'plain_text_input',
      action_id: ACTION.reason,
      multiline: true,
      max_length: REASON_MAX,
      placeholder: plain(placeholder),
    },
    optional,
    'Approvers and the endpoint see it.',
  );

/**
 * Asks the requester why, before a command with a reason runs or is asked of its approvers.
 * `private_metadata` holds only the id of the command kept on the server.
 */
export function reasonModal(draftId: string, shows: string, optional: boolean, asking: boolean): types.ModalView {
  return {
    type: 'modal',
    callback_id: CALLBACK.approvalReason,
    private_metadata: JSON.stringify({ draftId }),
    title: plain(asking ? 'Ask for approval' : 'Reason'),
    submit: plain(asking ? 'Ask for approval' : 'Run'),
    close: plain('Cancel'),
    blocks: [
      mrkdwn(`${asking ? 'Approvers will be asked to approve' : 'This runs'} ${shows}.`),
      reasonInput(optional, 'What is this for?'),
      input(
        BLOCK.ticket,
        'Ticket',
        { type: 'plain_text_input', action_id: ACTION.ticket, max_length: TICKET_MAX, placeholder: plain('OPS-1234') },
        true,
      ),
    ],
  };
}

/** Deny needs no code: an optional note for the requester. */
export function denyModal(approvalId: string, view: Pick<ApprovalView, 'requesterId' | 'shows'>): types.ModalView {
  return {
    type: 'modal',
    callback_id: CALLBACK.approvalDeny,
    private_metadata: JSON.stringify({ approvalId }),
    title: plain('Deny'),
    submit: plain('Deny'),
    close: plain('Cancel'),
    blocks: [
      mrkdwn(`Deny <@${view.requesterId}>'s request to run ${view.shows}? Nothing will run.`),
      input(
        BLOCK.note,
        'Note',
        { type: 'plain_text_input', action_id: ACTION.note, multiline: true, max_length: REASON_MAX },
        true,
        'The requester sees it.',
      ),
    ],
  };
}

/** Break glass asks its own reason (required), then a fresh code of the requester. */
export function breakGlassModal(approvalId: string, shows: string): types.ModalView {
  return {
    type: 'modal',
    callback_id: CALLBACK.breakGlass,
    private_metadata: JSON.stringify({ approvalId }),
    title: plain('Break glass'),
    submit: plain('Continue'),
    close: plain('Cancel'),
    blocks: [
      mrkdwn(
        `Run ${shows} now, without the approvals it needs? Everyone asked, and the security channel or every admin, is told who, what and why. You confirm with a fresh code.`,
      ),
      reasonInput(false, 'Why can this not wait?'),
    ],
  };
}

/** `/admin approvals`: one line per open request. */
export function approvalLine(view: ApprovalView, now: number): string {
  return `• <@${view.requesterId}> ${view.shows}: ${view.approvals.length} of ${view.needed} ${view.needed === 1 ? 'approval' : 'approvals'}, ${formatDuration(view.expiresAt - now)} left`;
}

/** Why a click on an approval request did nothing (no code was sent), in plain words. */
export function approvalRefused(
  r: ApprovalRefusal,
  step: 'approve' | 'deny' | 'cancel' | 'break_glass',
  view?: Pick<ApprovalView, 'requesterId'> & Partial<ApprovalView>,
): string {
  switch (r.reason) {
    case 'no_request':
      return 'This approval request no longer exists, so there is nothing to do. No code was sent.';
    case 'closed':
      return r.end && view
        ? `This request has ended. ${endSentence({ ...(view as ApprovalView), end: r.end })}`
        : 'This request has just ended. Nothing more can be done with it.';
    case 'not_approver':
      return "You're not one of the approvers of this command, so you can't approve or deny it. No code was sent.";
    case 'own_request':
      return step === 'deny'
        ? 'This is your own request: to withdraw it, use *Cancel* where you asked for it.'
        : "You can't approve your own request: another approver must. No code was sent.";
    case 'already_approved':
      return "You've already approved this request; it needs approvals from others now. No code was sent.";
    case 'not_requester':
      return view
        ? `Only <@${view.requesterId}>, who asked for it, can ${step === 'cancel' ? 'cancel it' : 'break glass'}.`
        : 'Only the person who asked for it can do that.';
    case 'no_break_glass':
      return 'Break glass is not enabled for this command.';
  }
}
