import type { types } from '@slack/bolt';
import { ACTION } from '../ids.js';
import { deliveryName, formatDuration } from './format.js';
import type { Status } from './text.js';

const plain = (text: string) => ({ type: 'plain_text' as const, text, emoji: true });
const button = (text: string, action_id: string, style?: 'primary' | 'danger'): types.Button => ({
  type: 'button',
  text: plain(text),
  action_id,
  ...(style ? { style } : {}),
});

/** The Home tab: the user's own status, with buttons that open the same modals as the commands. */
export function homeView({ maskedPhone, delivery, scopes }: Status, now: number): types.HomeView {
  const loggedIn = scopes.some((s) => s.scope === 'login');
  const scopeLines =
    scopes.length === 0
      ? '_Not logged in._'
      : scopes.map((s) => `• \`${s.scope}\`: ${formatDuration(s.expiresAt - now)} left`).join('\n');
  return {
    type: 'home',
    blocks: [
      { type: 'header', text: plain('Your PhoneGate status') },
      {
        type: 'section',
        fields: [
          { type: 'mrkdwn', text: `*Phone*\n${maskedPhone ?? 'none linked: ask an admin'}` },
          { type: 'mrkdwn', text: `*Codes arrive by*\n${delivery ? deliveryName[delivery] : 'not chosen yet'}` },
        ],
      },
      { type: 'section', text: { type: 'mrkdwn', text: `*Sessions*\n${scopeLines}` } },
      {
        type: 'actions',
        elements: [
          loggedIn ? button('Log out', ACTION.homeLogout, 'danger') : button('Log in', ACTION.homeLogin, 'primary'),
          button('Change delivery method', ACTION.homeChangeDelivery),
        ],
      },
      {
        type: 'context',
        elements: [
          { type: 'mrkdwn', text: 'Codes come by text or voice call: keep your phone close, and never share a code.' },
        ],
      },
    ],
  };
}
