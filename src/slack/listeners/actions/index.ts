import type { App, BlockAction } from '@slack/bolt';
import type { Services } from '../../../services.js';
import { ACTION } from '../../ids.js';
import type { ButtonArgs } from '../args.js';
import { approvalButton } from './approval-buttons.js';
import { homeChangeDelivery, homeLogin, homeLogout } from './home-buttons.js';
import { resendCode, switchDelivery } from './resend-code.js';

/**
 * Every button, by action_id, under one registration: Bolt runs the matchers of every registered
 * listener on every request (a /whoami included), so one anchored RegExp costs less than five listeners.
 */
export function registerActions(app: App, s: Services): void {
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
  const actionIds = new RegExp(`^(?:${Object.keys(buttons).join('|')})$`); // ids are [a-z_]: nothing to escape
  app.action<BlockAction>({ type: 'block_actions', action_id: actionIds }, (args) =>
    buttons[args.action.action_id]!(args),
  );
}
