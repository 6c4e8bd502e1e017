import type { Services } from '../../../services.js';
import { CALLBACK } from '../../ids.js';
import type { SubmitArgs } from '../args.js';
import { breakGlassReasonSubmitted, denyNoteSubmitted, reasonSubmitted } from './approval-forms.js';
import { codeEntered } from './code-entry.js';
import { deliveryChosen } from './delivery-choice.js';
import { deliveryPreferenceSaved } from './delivery-preference.js';

/** Every modal submission, by callback_id; one the app did not open is left alone. */
export function routeSubmissions(s: Services): (args: SubmitArgs) => Promise<void> {
  const submissions: Record<string, (args: SubmitArgs) => Promise<void>> = {
    [CALLBACK.deliveryChoice]: deliveryChosen(s),
    [CALLBACK.codeEntry]: codeEntered(s),
    [CALLBACK.deliveryPreference]: deliveryPreferenceSaved(s),
    [CALLBACK.approvalReason]: reasonSubmitted(s),
    [CALLBACK.approvalDeny]: denyNoteSubmitted(s),
    [CALLBACK.breakGlass]: breakGlassReasonSubmitted(s),
  };
  return async (args) => {
    const submitted = Object.hasOwn(submissions, args.view.callback_id) && submissions[args.view.callback_id];
    if (submitted) await submitted(args);
  };
}
