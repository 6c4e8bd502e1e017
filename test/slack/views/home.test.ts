import { describe, expect, test } from 'vitest';
import { homeView } from '../../../src/slack/views/home.js';
import { viewProblems } from '../slack-limits.js';

const NOW = Date.UTC(2026, 11, 2, 10, 0);
const MINUTE = 60_000;
const buttons = (view: ReturnType<typeof homeView>) =>
  (view.blocks.find((b) => b.type === 'actions') as any).elements.map((e: any) => e.action_id);

describe('homeView', () => {
  test('logged out: "Log in" (primary), the masked phone and the method; a home view within limits', () => {
    const view = homeView({ userId: 'U1', maskedPhone: '•••• 0101', delivery: 'voice', scopes: [] }, NOW);
    expect(view.type).toBe('home');
    expect(view.blocks.map((b) => b.type)).toEqual(['header', 'section', 'section', 'actions', 'context']);
    expect(buttons(view)).toEqual(['home_login', 'home_change_delivery']);
    const text = JSON.stringify(view);
    expect(text).toContain('*Phone*\\n•••• 0101');
    expect(text).toContain('*Codes arrive by*\\nvoice call');
    expect(text).toContain('_Not logged in._');
    expect(viewProblems(view)).toEqual([]);
  });

  test('logged in: "Log out" (danger) and each live scope with its time left', () => {
    const view = homeView(
      {
        userId: 'U1',
        maskedPhone: '•••• 0101',
        scopes: [
          { scope: 'login', expiresAt: NOW + 90 * MINUTE },
          { scope: 'admin', expiresAt: NOW + 30_000 },
        ],
      },
      NOW,
    );
    expect(buttons(view)).toEqual(['home_logout', 'home_change_delivery']);
    expect((view.blocks[3] as any).elements[0].style).toBe('danger');
    const text = JSON.stringify(view);
    expect(text).toContain('• `login`: 1 h 30 min left');
    expect(text).toContain('• `admin`: 30 s left');
    expect(text).toContain('not chosen yet');
  });

  // An admin scope alone (no login) does not show "Log out": the button follows the login scope.
  test('no phone linked: says to ask an admin', () => {
    const view = homeView({ userId: 'U1', scopes: [{ scope: 'admin', expiresAt: NOW + MINUTE }] }, NOW);
    expect(JSON.stringify(view)).toContain('none linked: ask an admin');
    expect(buttons(view)[0]).toBe('home_login');
  });
});
