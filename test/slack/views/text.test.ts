import { describe, expect, test } from 'vitest';
import type { Refusal } from '../../../src/core/refusals.js';
import { plainText, refusal } from '../../../src/slack/views/text.js';

const NOW = Date.UTC(2026, 11, 2, 10, 0);

describe('inline errors are plain text', () => {
  // The refusals code-entry shows under the input (response_action: errors), where mrkdwn is not rendered.
  const inline: Refusal[] = [
    { ok: false, reason: 'malformed', digits: 6 },
    { ok: false, reason: 'wrong_code', attemptsLeft: 2 },
    { ok: false, reason: 'dead' },
    { ok: false, reason: 'no_code' },
    { ok: false, reason: 'code_expired' },
    { ok: false, reason: 'already_used' },
    { ok: false, reason: 'provider', failure: 'unavailable' },
  ];

  // Rule: no mrkdwn mark shows up as a literal character.
  test.each(inline.map((r) => [r.reason, r] as const))('%s has no mrkdwn marks', (_reason, r) => {
    expect(plainText(refusal(r, NOW, []))).not.toMatch(/[*_`~]|<!date/);
  });

  test('the words stay; only the marks go', () => {
    expect(plainText(refusal({ ok: false, reason: 'dead' }, NOW, []))).toBe('Too many wrong codes for this code, so it no longer works. Use Resend code to get a new one.');
    expect(plainText('Run `/login`, then _wait_ (or ~not~).')).toBe('Run /login, then wait (or not).');
    expect(plainText(`Blocked until <!date^${NOW / 1000}^{time}|2026-12-02T10:00:00.000Z>.`)).toBe('Blocked until 2026-12-02T10:00:00.000Z.');
  });

  // Rule: what is not emphasis is left alone (emoji names, snake_case words).
  test('emoji and underscores inside words are kept', () => {
    expect(plainText(':white_check_mark: user_number is set')).toBe(':white_check_mark: user_number is set');
  });
});
