import { ACTION, BLOCK } from '../../ids.js';
import { formId, typedText } from '../../input/view-state.js';
import {
  type Deps as ApprovalDeps,
  askForApproval,
  breakGlassSubmitted,
  denySubmitted,
} from '../../presenters/approvals.js';
import { answerWhereTyped, runDeclaredWith } from '../../presenters/declared-command.js';
import { firstWindow, sendAndShow } from '../../presenters/request-window.js';
import { REASON_MAX, TICKET_MAX } from '../../views/approvals.js';
import { messageModal } from '../../views/modals.js';
import { unavailable } from '../../views/text.js';
import type { SubmitArgs } from '../args.js';

/**
 * The three approval forms: the requester's reason (then it runs, or is asked of its approvers), an
 * approver's deny note, the requester's break-glass reason (then their own code). Each form carries only
 * an id; what it acts on is read from the server.
 */

/** The reason (and ticket) for a declared command: then it runs with them, or its approvers are asked. */
export function reasonSubmitted(s: ApprovalDeps) {
  return async ({ ack, body, view, client }: SubmitArgs): Promise<void> => {
    const userId = body.user.id;
    const draftId = formId(view.private_metadata, 'draftId');
    const reason = typedText(view, BLOCK.reason, ACTION.reason);
    const ticket = typedText(view, BLOCK.ticket, ACTION.ticket);
    try {
      const draft = await s.approvalState.draft(draftId);
      const command = draft && s.config.commands.find((c) => c.name === draft.run.name);
      if (!draft || !command || draft.run.userId !== userId) {
        await ack({
          response_action: 'update',
          view: messageModal('Reason', 'This form has expired. Run the command again.'),
        });
        return;
      }
      const problem: Record<string, string> | undefined =
        command.reason === 'required' && reason === ''
          ? { [BLOCK.reason]: 'Say why: the approvers and the endpoint see it.' }
          : reason.length > REASON_MAX
            ? { [BLOCK.reason]: `At most ${REASON_MAX} characters.` }
            : ticket.length > TICKET_MAX
              ? { [BLOCK.ticket]: `At most ${TICKET_MAX} characters.` }
              : undefined;
      if (problem) {
        await ack({ response_action: 'errors', errors: problem });
        return;
      }
      // Taken once: the same form sent again (a double click, a replay) does nothing more.
      if (!(await s.approvalState.takeDraft(draftId))) {
        await ack({ response_action: 'clear' });
        return;
      }
      await ack({ response_action: 'clear' });
      const extras = { reason: reason || undefined, ticket: ticket || undefined };
      if (!command.approval) {
        const result = await runDeclaredWith(s, draft.run, extras);
        await answerWhereTyped(s, client, draft.run, result.text);
        return;
      }
      await askForApproval(s, client, {
        requesterId: userId,
        action: { kind: 'declared', run: draft.run, shows: draft.shows },
        approvers: command.approval.approvers,
        needed: command.approval.needed,
        minutes: command.approval.minutes,
        breakGlass: command.approval.breakGlass,
        proof: draft.proof,
        ...extras,
        responseUrl: draft.run.responseUrl,
        channelId: draft.run.channelId,
      });
    } catch (error) {
      s.logger.error({ err: error, userId }, 'a reason form failed');
      await ack({ response_action: 'update', view: messageModal('Reason', unavailable) }).catch(() => {});
    }
  };
}

/** An approver denies, with an optional note: the request ends, naming who. */
export function denyNoteSubmitted(s: ApprovalDeps) {
  return async ({ ack, body, view, client }: SubmitArgs): Promise<void> => {
    const note = typedText(view, BLOCK.note, ACTION.note);
    if (note.length > REASON_MAX) {
      await ack({ response_action: 'errors', errors: { [BLOCK.note]: `At most ${REASON_MAX} characters.` } });
      return;
    }
    let text: string;
    try {
      text = await denySubmitted(
        s,
        client,
        body.user.id,
        formId(view.private_metadata, 'approvalId'),
        note || undefined,
      );
    } catch (error) {
      s.logger.error({ err: error, userId: body.user.id }, 'a deny failed');
      text = unavailable;
    }
    await ack({ response_action: 'update', view: messageModal('Deny', text) });
  };
}

/** The break-glass reason: the form becomes the requester's own code window for it. */
export function breakGlassReasonSubmitted(s: ApprovalDeps) {
  return async ({ ack, body, view, client }: SubmitArgs): Promise<void> => {
    const userId = body.user.id;
    const reason = typedText(view, BLOCK.reason, ACTION.reason);
    if (reason === '' || reason.length > REASON_MAX) {
      const error = reason === '' ? 'Say why this cannot wait: everyone is told.' : `At most ${REASON_MAX} characters.`;
      await ack({ response_action: 'errors', errors: { [BLOCK.reason]: error } });
      return;
    }
    try {
      const started = await breakGlassSubmitted(s, userId, formId(view.private_metadata, 'approvalId'), reason);
      if (!started.ok) {
        await ack({ response_action: 'update', view: messageModal('Break glass', started.text) });
        return;
      }
      const first = firstWindow(s, started.request, started.confirms);
      await ack({ response_action: 'update', view: first.view });
      if (first.send)
        await sendAndShow(s, client, view.id, userId, started.request, first.send, false, undefined, started.confirms);
    } catch (error) {
      s.logger.error({ err: error, userId }, 'a break glass failed');
      await ack({ response_action: 'update', view: messageModal('Break glass', unavailable) }).catch(() => {});
    }
  };
}
