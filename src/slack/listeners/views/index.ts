import type { App } from '@slack/bolt';
import type { Services } from '../../../compose.js';
import { CALLBACK } from '../../ids.js';
import { codeEntered } from './code-entry.js';
import { deliveryChosen } from './delivery-choice.js';
import { deliveryPreferenceSaved } from './delivery-preference.js';

export function registerViews(app: App, s: Services): void {
  app.view(CALLBACK.deliveryChoice, deliveryChosen(s));
  app.view(CALLBACK.codeEntry, codeEntered(s));
  app.view(CALLBACK.deliveryPreference, deliveryPreferenceSaved(s));
}
