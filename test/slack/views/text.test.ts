import { describe, expect, test } from 'vitest';
import type { Refusal } from '../../../src/core/refusals.js';
import {
  alreadyLoggedIn,
  codeSent,
  granted,
  loggedOut,
  loginRequired,
  plainText,
  refusal,
  status,
  unavailable,
} from '../../../src/slack/views/text.js';
import { messageProblems } from '../slack-limits.js';

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
    expect(plainText(refusal({ ok: false, reason: 'dead' }, NOW, []))).toBe(
      'Too many wrong codes for this code, so it no longer works. Use Resend code to get a new one.',
    );
    expect(plainText('Run `/login`, then _wait_ (or ~not~).')).toBe('Run /login, then wait (or not).');
    expect(plainText(`Blocked until <!date^${NOW / 1000}^{time}|2026-12-02T10:00:00.000Z>.`)).toBe(
      'Blocked until 2026-12-02T10:00:00.000Z.',
    );
  });

  // Rule: what is not emphasis is left alone (emoji names, snake_case words).
  test('emoji and underscores inside words are kept', () => {
    expect(plainText(':white_check_mark: user_number is set')).toBe(':white_check_mark: user_number is set');
  });
});

describe('refusal: one sentence per cause', () => {
  const MINUTE = 60_000;
  const every: Refusal[] = [
    { ok: false, reason: 'no_phone' },
    { ok: false, reason: 'locked', until: NOW + 15 * MINUTE },
    { ok: false, reason: 'no_request' },
    { ok: false, reason: 'stale' },
    { ok: false, reason: 'ended' },
    { ok: false, reason: 'no_code' },
    { ok: false, reason: 'code_expired' },
    { ok: false, reason: 'phone_changed' },
    { ok: false, reason: 'already_used' },
    { ok: false, reason: 'dead' },
    { ok: false, reason: 'malformed', digits: 6 },
    { ok: false, reason: 'wrong_code', attemptsLeft: 3 },
    { ok: false, reason: 'cooldown', retryAt: NOW + 20_000 },
    { ok: false, reason: 'send_limit', retryAt: NOW + 40 * MINUTE },
    { ok: false, reason: 'phone_send_limit', retryAt: NOW + 40 * MINUTE },
    { ok: false, reason: 'total_send_limit', retryAt: NOW + 40 * MINUTE },
    ...(['rate_limited', 'unavailable', 'misconfigured', 'rejected'] as const).map(
      (failure): Refusal => ({ ok: false, reason: 'provider', failure }),
    ),
  ];

  // Rule: a user can tell each cause apart: no two causes read the same, and none falls through to the catch-all.
  test('every cause has its own sentence, none is the catch-all, each fits a message', () => {
    const sentences = every.map((r) => refusal(r, NOW, []));
    expect(new Set(sentences).size).toBe(every.length);
    for (const sentence of sentences) {
      expect(sentence).not.toMatch(/^Something went wrong/);
      expect(messageProblems(sentence)).toEqual([]);
    }
    expect(refusal({ ok: false, reason: 'unavailable' }, NOW, [])).toBe(unavailable);
  });

  test('the numbers a cause carries are in its sentence', () => {
    expect(refusal({ ok: false, reason: 'wrong_code', attemptsLeft: 1 }, NOW, [])).toBe(
      "That code isn't right. 1 attempt left.",
    );
    expect(refusal({ ok: false, reason: 'wrong_code', attemptsLeft: 3 }, NOW, [])).toContain('3 attempts left');
    expect(refusal({ ok: false, reason: 'cooldown', retryAt: NOW + 20_000 }, NOW, [])).toContain('in 20 s');
    expect(refusal({ ok: false, reason: 'send_limit', retryAt: NOW + 40 * MINUTE }, NOW, [])).toContain('in 40 min');
    const locked = refusal({ ok: false, reason: 'locked', until: NOW + 15 * MINUTE }, NOW, []);
    expect(locked).toContain(`<!date^${(NOW + 15 * MINUTE) / 1000}^{time}|`);
    expect(locked).toContain('(15 min from now)');
  });

  // Rule (issue 18 §8): the phone's cap says codes to this phone are paused until when; the bot's cap
  // says the bot reached its hourly limit and to tell an admin (named, when there are some).
  test('the spend caps: until when, and whom to tell', () => {
    const until = `<!date^${(NOW + 40 * MINUTE) / 1000}^{time}|`;
    const phone = refusal({ ok: false, reason: 'phone_send_limit', retryAt: NOW + 40 * MINUTE }, NOW, []);
    expect(phone).toMatch(/^Codes to your phone are paused until /);
    expect(phone).toContain(until);
    expect(phone).toContain('(40 min from now)');
    expect(phone).toContain('counting everyone who uses that phone');
    const total = refusal({ ok: false, reason: 'total_send_limit', retryAt: NOW + 40 * MINUTE }, NOW, ['UADMIN1']);
    expect(total).toMatch(/^I've sent the most codes I'm allowed to in an hour, for everyone together/);
    expect(total).toContain(until);
    expect(total).toContain('Please tell an admin (<@UADMIN1>).');
    expect(refusal({ ok: false, reason: 'total_send_limit', retryAt: NOW + MINUTE }, NOW, [])).toContain(
      'Please tell whoever runs this bot.',
    );
  });

  test('no phone: names the admins when there are some, else whoever runs the bot', () => {
    expect(refusal({ ok: false, reason: 'no_phone' }, NOW, ['UADMIN1', 'UADMIN2'])).toContain(
      'Ask an admin (<@UADMIN1>, <@UADMIN2>) to link one.',
    );
    expect(refusal({ ok: false, reason: 'no_phone' }, NOW, [])).toContain('Ask whoever runs this bot');
  });
});

describe('the other sentences', () => {
  test('login required names the command; already logged in says for how long', () => {
    expect(loginRequired('/deploy')).toBe(
      "`/deploy` needs you to log in first. Run `/login` and I'll send a code to your phone.",
    );
    expect(alreadyLoggedIn(NOW + 61 * 60_000, NOW)).toContain('for another 1 h 1 min');
  });

  test('logged out, with or without a session before', () => {
    expect(loggedOut(true)).toMatch(/^You're logged out\./);
    expect(loggedOut(false)).toMatch(/^You weren't logged in\./);
  });

  test('granted: login and admin say different things, with the time left', () => {
    expect(granted('login', NOW + 12 * 60 * 60_000, NOW)).toContain("You're logged in for 12 h");
    expect(granted('admin', NOW + 15 * 60_000, NOW)).toContain('Admin commands are unlocked for 15 min');
  });

  test('code sent: the method, the masked phone, the digits and the expiry', () => {
    const text = codeSent('voice', '•••• 0101', 8, NOW + 5 * 60_000, NOW);
    expect(text).toContain('I sent a 8-digit code by voice call to *•••• 0101*');
    expect(text).toContain('(in 5 min)');
  });

  test('status: phone, method and scopes, or what is missing', () => {
    const full = status(
      {
        userId: 'U1',
        maskedPhone: '•••• 0101',
        delivery: 'sms',
        scopes: [{ scope: 'login', expiresAt: NOW + 30 * 60_000 }],
      },
      NOW,
    );
    expect(full.split('\n')).toEqual([
      '*You:* <@U1>',
      '*Phone:* •••• 0101',
      '*Codes arrive by:* text message',
      '*Scopes:* `login` (30 min left)',
    ]);
    const empty = status({ userId: 'U1', scopes: [] }, NOW);
    expect(empty).toContain('*Phone:* none linked');
    expect(empty).toContain('not chosen yet');
    expect(empty).toContain('*Scopes:* none');
  });
});
