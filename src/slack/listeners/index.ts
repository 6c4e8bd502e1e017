import type { App } from '@slack/bolt';
import type { Services } from '../../services.js';
import { registerActions } from './actions/index.js';
import { registerCommands } from './commands/index.js';
import { registerEvents } from './events/index.js';
import { registerViews } from './views/index.js';

export function registerListeners(app: App, s: Services): void {
  registerCommands(app, s);
  registerViews(app, s);
  registerActions(app, s);
  registerEvents(app, s);
}
