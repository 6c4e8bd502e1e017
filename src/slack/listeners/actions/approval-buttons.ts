import type { Services } from '../../../services.js';
import {
  type Deps as ApprovalDeps,
  approveClicked,
  breakGlassClicked,
  cancelClicked,
  denyClicked,
} from '../../presenters/approvals.js';
import { messageModal } from '../../views/modals.js';
import { unavailable } from '../../views/text.js';
import type { ButtonArgs } from '../args.js';

type Deps = ApprovalDeps & Pick<Services, 'slackDeadlineMs'>;
type Step = 'approve' | 'deny' | 'cancel' | 'break_glass';

/**
 * The buttons of an approval request: Approve and Deny on the approvers' messages, Cancel and Break
 * glass on the requester's status. A button carries only the request's id; who clicked comes from
 * Slack's signed payload, and everything else from the server.
 */
export function approvalButton(s: Deps, step: Step) {
  return async ({ ack, body, action, client }: ButtonArgs): Promise<void> => {
    await ack();
    const userId = body.user.id;
    const id = 'value' in action && typeof action.value === 'string' ? action.value : '';
    const responseUrl = (body as { response_url?: string }).response_url;
    try {
      switch (step) {
        case 'approve':
          return await approveClicked(s, client, userId, id, body.trigger_id);
        case 'deny':
          return await denyClicked(s, client, userId, id, body.trigger_id);
        case 'cancel':
          return await cancelClicked(s, client, userId, id, responseUrl, body.trigger_id);
        case 'break_glass':
          return await breakGlassClicked(s, client, userId, id, responseUrl, body.trigger_id);
      }
    } catch (error) {
      s.logger.error({ err: error, userId, step }, 'an approval button failed');
      await client.views
        .open({ trigger_id: body.trigger_id, view: messageModal('Approval', unavailable) })
        .catch(() => {});
    }
  };
}
