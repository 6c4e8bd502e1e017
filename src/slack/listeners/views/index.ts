import type { App, ViewSubmitAction } from '@slack/bolt';
import type { Services } from '../../../services.js';
import { CALLBACK } from '../../ids.js';
import type { SubmitArgs } from '../args.js';
import { breakGlassReasonSubmitted, denyNoteSubmitted, reasonSubmitted } from './approval-forms.js';
import { codeEntered } from './code-entry.js';
import { deliveryChosen } from './delivery-choice.js';
import { deliveryPreferenceSaved } from './delivery-preference.js';

/** Every modal submission, by callback_id, under one registration (see actions/index.ts for why). */
export function registerViews(app: App, s: Services): void {
  const submissions: Record<string, (args: SubmitArgs) => Promise<void>> = {
    [CALLBACK.deliveryChoice]: deliveryChosen(s),
    [CALLBACK.codeEntry]: codeEntered(s),
    [CALLBACK.deliveryPreference]: deliveryPreferenceSaved(s),
    [CALLBACK.approvalReason]: reasonSubmitted(s),
    [CALLBACK.approvalDeny]: denyNoteSubmitted(s),
    [CALLBACK.breakGlass]: breakGlassReasonSubmitted(s),
  };
  const callbackIds = new RegExp(`^(?:${Object.keys(submissions).join('|')})$`); // ids are [a-z_]: nothing to escape
  app.view<ViewSubmitAction>({ type: 'view_submission', callback_id: callbackIds }, (args) =>
    submissions[args.view.callback_id]!(args),
  );
}
