import type { App, BlockAction } from '@slack/bolt';
import type { Services } from '../../../compose.js';
import { ACTION } from '../../ids.js';
import { homeChangeDelivery, homeLogin, homeLogout } from './home-buttons.js';
import { resendCode, switchDelivery } from './resend-code.js';

export function registerActions(app: App, s: Services): void {
  app.action<BlockAction>(ACTION.resendCode, resendCode(s));
  app.action<BlockAction>(ACTION.switchDelivery, switchDelivery(s));
  app.action<BlockAction>(ACTION.homeLogin, homeLogin(s));
  app.action<BlockAction>(ACTION.homeLogout, homeLogout(s));
  app.action<BlockAction>(ACTION.homeChangeDelivery, homeChangeDelivery(s));
}
