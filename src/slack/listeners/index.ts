import type { App } from '@slack/bolt';
import type { Services } from '../../services.js';
import { registerActions } from './actions/index.js';
import { type AddedCommands, registerCommands } from './commands/index.js';
import { registerEvents } from './events/index.js';
import { registerViews } from './views/index.js';

export function registerListeners(app: App, s: Services, commands?: AddedCommands): void {
  registerCommands(app, s, commands);
  registerViews(app, s);
  registerActions(app, s);
  registerEvents(app, s);
}
