import type { App } from '@slack/bolt';
import type { Services } from '../../../services.js';
import { adminsOnly, gate } from '../../middleware/gate.js';
import { admin } from './admin.js';
import { registerDeclaredCommands } from './declared.js';
import { login } from './login.js';
import { logout } from './logout.js';
import { whoami } from './whoami.js';

export function registerCommands(app: App, s: Services): void {
  app.command('/login', login(s));
  app.command('/logout', logout(s));
  // An ordinary command: one gate in front of it, nothing else to do.
  app.command('/whoami', gate('login', s), whoami(s));
  app.command('/admin', adminsOnly(s), gate('login', s), admin(s));
  registerDeclaredCommands(app, s);
}
