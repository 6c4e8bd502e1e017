import type { Services } from '../../../services.js';
import { ACTION } from '../../ids.js';
import type { ButtonArgs } from '../args.js';
import { approvalButton } from './approval-buttons.js';
import { homeChangeDelivery, homeLogin, homeLogout } from './home-buttons.js';
import { resendCode, switchDelivery } from './resend-code.js';

/** Every button, by action_id; one the app did not draw is left alone. */
export function routeButtons(s: Services): (args: ButtonArgs) => Promise<void> {
  const buttons: Record<string, (args: ButtonArgs) => Promise<void>> = {
    [ACTION.resendCode]: resendCode(s),
    [ACTION.switchDelivery]: switchDelivery(s),
    [ACTION.homeLogin]: homeLogin(s),
    [ACTION.homeLogout]: homeLogout(s),
    [ACTION.homeChangeDelivery]: homeChangeDelivery(s),
    [ACTION.approve]: approvalButton(s, 'approve'),
    [ACTION.deny]: approvalButton(s, 'deny'),
    [ACTION.cancelApproval]: approvalButton(s, 'cancel'),
    [ACTION.breakGlass]: approvalButton(s, 'break_glass'),
  };
  return async (args) => {
    const clicked = Object.hasOwn(buttons, args.action.action_id) && buttons[args.action.action_id];
    if (clicked) await clicked(args);
  };
}
