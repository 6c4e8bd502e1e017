import type { App } from '@slack/bolt';
import type { Services } from '../../../services.js';
import { appHomeOpened } from './app-home-opened.js';

export function registerEvents(app: App, s: Services): void {
  app.event('app_home_opened', appHomeOpened(s));
}
