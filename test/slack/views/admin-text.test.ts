import { describe, expect, test } from 'vitest';
import type { AuditRecord } from '../../../src/core/audit.js';
import type { LiveSession } from '../../../src/core/sessions.js';
import { parseAdminCommand } from '../../../src/slack/input/admin-command.js';
import { pendingStarted } from '../../../src/slack/presenters/step-up.js';
import {
  auditEvents,
  describeAdminCommand,
  help,
  linked,
  notAnAdmin,
  revoked,
  sessions,
  unlinked,
  usage,
} from '../../../src/slack/views/admin-text.js';
import { typed } from '../../../src/slack/views/declared-text.js';
import { maskNumbers } from '../../../src/slack/views/format.js';
import { messageModal } from '../../../src/slack/views/modals.js';
import { granted } from '../../../src/slack/views/text.js';
import { messageProblems, viewProblems } from '../slack-limits.js';

const NOW = Date.UTC(2026, 11, 2, 10, 0);
const MINUTE = 60_000;
const ok = <T>(value: T) => ({ ok: true as const, value });

/** Every page of a paged reply, following its "…and N more: `/admin …`" links from page 1. */
function allPages(render: (page: number) => string, command: RegExp): string[] {
  const pages = [render(1)];
  for (;;) {
    const next = command.exec(pages.at(-1)!);
    if (!next) return pages;
    expect(Number(next[1])).toBe(pages.length + 1);
    pages.push(render(Number(next[1])));
  }
}

describe('/admin sessions and /admin audit stay inside one message each', () => {
  const users = Array.from({ length: 1000 }, (_, i) => `U${String(i).padStart(9, '0')}`);
  const live: LiveSession[] = users.flatMap((userId, i) => [
    { userId, scope: 'login' as const, expiresAt: NOW + 720 * MINUTE - i },
    ...(i % 3 === 0 ? [{ userId, scope: 'admin' as const, expiresAt: NOW + 15 * MINUTE }] : []),
  ]);

  // Rule: 1,000 users fit in pages under 4,000 characters, and the pages together list each user once.
  test('1,000 sessions: pages under 4,000 characters that cover every user once, with the count left', () => {
    const pages = allPages((page) => sessions(ok(live), NOW, page), /…and \d+ more: `\/admin sessions (\d+)`/);
    expect(pages.length).toBeGreaterThan(1);
    for (const page of pages) expect(messageProblems(page)).toEqual([]);
    const listed = pages.flatMap((page) => [...page.matchAll(/^• <@(U\d+)>/gm)].map((m) => m[1]));
    expect(listed).toHaveLength(users.length);
    expect(new Set(listed)).toEqual(new Set(users));
    expect(pages[0]).toMatch(new RegExp(`^\\*Live sessions\\* \\(1000 users\\), page 1 of ${pages.length}`));
    const firstCount = pages[0]!.split('\n').filter((l) => l.startsWith('• ')).length;
    expect(pages[0]).toContain(`…and ${users.length - firstCount} more: \`/admin sessions 2\``);
    expect(pages.at(-1)).not.toContain('more:');
  });

  // Rule: 100 audit events, the most /admin audit shows, are paged the same way.
  test('100 audit events: pages under 4,000 characters that cover every event once, in order', () => {
    const events: AuditRecord[] = Array.from({ length: 100 }, (_, i) => ({
      at: NOW - i * MINUTE,
      event: i % 2 ? 'authn_login_successafterfail' : 'excess_rate_limit_exceeded',
      userId: `W${String(i).padStart(20, '0')}`,
      actorId: `W${String(i + 1).padStart(20, '0')}`,
      scope: 'admin',
      outcome: 'success',
      detail: { maskedPhone: '•••• 0101' },
    }));
    const pages = allPages((page) => auditEvents(ok(events), page), /…and \d+ more: `\/admin audit 100 (\d+)`/);
    expect(pages.length).toBeGreaterThan(1);
    for (const page of pages) expect(messageProblems(page)).toEqual([]);
    const listed = pages.flatMap((page) => [...page.matchAll(/<@(W\d+)> {2}`/g)].map((m) => m[1]));
    expect(listed).toEqual(events.map((e) => e.userId));
  });

  // Rule: a short list is one message, as before; a page past the end says how many there are.
  test('one page needs no paging; a page past the end says so', () => {
    const short = sessions(ok(live.slice(0, 3)), NOW);
    expect(short.split('\n')[0]).toBe('*Live sessions* (2 users)');
    expect(short).not.toContain('more:');
    expect(sessions(ok(live.slice(0, 3)), NOW, 2)).toBe('There is only 1 page now. The first is `/admin sessions 1`.');
    expect(sessions(ok(live), NOW, 999)).toMatch(
      /^There are only \d+ pages now\. The first is `\/admin sessions 1`\.$/,
    );
  });
});

describe('echoes of what the admin typed', () => {
  // Rule: the step-up's success view names the command, and stays within a section's 3,000 characters.
  test('a 4,000-character declared command still gives a valid success view', () => {
    const pending = {
      kind: 'declared' as const,
      name: '/deploy',
      text: `api ${'x'.repeat(4000)}`,
      userId: 'U1',
      teamId: 'T1',
      channelId: 'C1',
    };
    const text = `${granted('admin', NOW + 15 * MINUTE, NOW)}\n${pendingStarted(pending)}`;
    expect(viewProblems(messageModal('Admin step-up', text))).toEqual([]);
    expect(pendingStarted(pending)).toContain('`/deploy api xxx');
    expect(pendingStarted(pending)).toContain('…`');
  });

  // Rule (issue 18 §2): no echo shows a whole phone number.
  test('/admin link is shown with the new phone masked to its last four digits', () => {
    for (const typedText of [
      'link <@U0BOB0001> +1 415 555 0177',
      'link <@U0BOB0001> <tel:+14155550177|(415) 555-0177>',
    ]) {
      const shown = describeAdminCommand(parseAdminCommand(typedText));
      expect(shown).toBe('`/admin link` <@U0BOB0001> *•••• 0177*');
      expect(shown).not.toMatch(/415|555/);
    }
  });

  test('numbers are masked wherever they are written, and short digit runs are left alone', () => {
    expect(maskNumbers('call +1 (415) 555-0177 or 415.555.0188, build 1.4.2 on 2026-12')).toBe(
      'call •••• 0177 or •••• 0188, build 1.4.2 on 2026-12',
    );
    expect(typed('/page', 'oncall +14155550177 now')).toBe('`/page oncall •••• 0177 now`');
    expect(help('+14155550177')).toContain("I don't know `•••• 0177`");
  });

  // Rule: typed text cannot turn into a mention, a broadcast or a link.
  test('control characters are escaped', () => {
    expect(typed('/deploy', 'api <@U0BOB0001> <!channel>')).toBe('`/deploy api &lt;@U0BOB0001&gt; &lt;!channel&gt;`');
    expect(help('<!here>&')).toContain("I don't know `&lt;!here&gt;&amp;`");
  });
});

describe('the replies to each admin command', () => {
  const BOB = 'U0BOB0001';

  const done = { ok: true as const, resumed: false, endedRequest: false };

  test('revoke: what was ended, an open request ended, or that there was nothing', () => {
    expect(
      revoked(BOB, {
        ...done,
        ended: [
          { scope: 'login', expiresAt: NOW + MINUTE },
          { scope: 'admin', expiresAt: NOW + MINUTE },
        ],
      }),
    ).toBe(`Ended <@${BOB}>'s session (login, admin). They got a direct message saying so.`);
    expect(revoked(BOB, { ...done, ended: [] })).toBe(`<@${BOB}> had no live session; nothing to end.`);
    expect(revoked(BOB, { ...done, ended: [], endedRequest: true })).toBe(
      `<@${BOB}> had no live session, but an open code request, which I ended. They got a direct message saying so.`,
    );
    expect(revoked(BOB, { ...done, ended: [], resumed: true })).toContain(
      'This finished the change an earlier try left half done.',
    );
  });

  test('link: refused with the reason, unchanged, or linked with the masked phone only', () => {
    expect(linked(BOB, { ok: false, reason: 'country', detail: 'Numbers from +44 are not allowed.' })).toBe(
      "I didn't link that number. Numbers from +44 are not allowed.",
    );
    expect(linked(BOB, { ...done, changed: false, maskedPhone: '•••• 0102', ended: [] })).toContain(
      'already has the phone *•••• 0102*. Nothing changed.',
    );
    const linkedNow = linked(BOB, {
      ...done,
      changed: true,
      maskedPhone: '•••• 0177',
      ended: [{ scope: 'login', expiresAt: NOW + MINUTE }],
    });
    expect(linkedNow).toBe(
      `Linked the phone *•••• 0177* to <@${BOB}>; their session (login) was ended. They got a direct message.`,
    );
  });

  test('unlink: with or without a phone before', () => {
    expect(unlinked(BOB, { ...done, hadPhone: true, ended: [] })).toContain(
      `Removed <@${BOB}>'s phone; they had no live session.`,
    );
    expect(unlinked(BOB, { ...done, hadPhone: false, ended: [] })).toBe(
      `<@${BOB}> had no phone; they now stay without one until an admin links one.`,
    );
  });

  // Issue 18 §3, §5: each refusal in plain words.
  test('refusals: no longer an admin, step-up ended, own phone, last admin with a phone', () => {
    expect(revoked(BOB, { ok: false, reason: 'no_longer_admin' })).toBe(
      "You're no longer an admin here, so nothing was run.",
    );
    expect(sessions({ ok: false, reason: 'admin_scope_ended' }, NOW)).toContain('Your admin step-up ended');
    expect(unlinked(BOB, { ok: false, reason: 'own_phone' })).toContain("You can't change your own phone from Slack");
    expect(linked(BOB, { ok: false, reason: 'own_phone' })).toContain('`npm run admin`');
    expect(unlinked(BOB, { ok: false, reason: 'last_admin_phone' })).toContain('the last one with a phone');
  });

  test('usage and the refusal for non-admins', () => {
    expect(
      usage({ kind: 'usage', problem: 'Name exactly one user, as an @mention.', usage: '/admin revoke @user' }),
    ).toBe('Name exactly one user, as an @mention. Usage: `/admin revoke @user`');
    expect(notAnAdmin).toContain('Only admins can use `/admin`');
  });

  test('help lists every command, and an unknown one is named first', () => {
    for (const command of [
      '/admin sessions',
      '/admin revoke',
      '/admin link',
      '/admin unlink',
      '/admin audit',
      '/admin help',
    ])
      expect(help()).toContain(command);
    expect(help('frobnicate').split('\n')[0]).toBe("I don't know `frobnicate`. Here's what I can do:");
  });

  test('an empty list says so', () => {
    expect(sessions(ok([]), NOW)).toBe('No one is logged in right now.');
    expect(auditEvents(ok<AuditRecord[]>([]))).toBe('No security events are stored yet.');
  });
});

describe('/admin audit lines for declared commands', () => {
  // Rule: a run of a declared command says which command and what its endpoint answered.
  test('action_run shows the command and the HTTP status; other events do not', () => {
    const run: AuditRecord = {
      at: 0,
      event: 'action_run',
      userId: 'U0ALICE01',
      scope: 'admin',
      outcome: 'failure',
      detail: { command: '/deploy', status: 500, ms: 120 },
    };
    const login: AuditRecord = {
      at: 0,
      event: 'authn_login_success',
      userId: 'U0ALICE01',
      scope: 'login',
      outcome: 'success',
      detail: { retries: 0 },
    };
    const [runLine, loginLine] = auditEvents(ok<AuditRecord[]>([run, login]))
      .split('\n')
      .slice(1);
    expect(runLine).toContain('`/deploy`');
    expect(runLine).toContain('HTTP 500');
    expect(loginLine).not.toContain('HTTP');
  });
});

describe('/admin audit lines for refusals and counted repeats', () => {
  const base = { at: NOW, userId: 'U0BOB0001', outcome: 'refused' as const };

  // Rule: a refusal names the command it refused and why ("Bob refused /deploy" reads as such).
  test('a refusal shows its command and its reason; a success does not', () => {
    const [refusal, admin] = auditEvents(
      ok<AuditRecord[]>([
        { ...base, event: 'authz_fail', scope: 'admin', detail: { command: '/deploy', reason: 'not_allowed' } },
        { ...base, event: 'authz_admin', scope: 'admin', outcome: 'success', detail: { command: 'sessions' } },
      ]),
    )
      .split('\n')
      .slice(1);
    expect(refusal).toMatch(/`authz_fail` {2}admin {2}refused {2}`\/deploy` {2}not_allowed$/);
    expect(admin).not.toContain('sessions');
  });

  // Rule: a failure names its reason too; a provider error its failure.
  test('failures and errors show their reason', () => {
    const lines = auditEvents(
      ok<AuditRecord[]>([
        { ...base, event: 'authn_login_fail', scope: 'login', detail: { reason: 'malformed' } },
        { ...base, event: 'authn_login_fail', scope: 'login', outcome: 'error', detail: { failure: 'unavailable' } },
        {
          ...base,
          event: 'action_run',
          scope: 'login',
          outcome: 'failure',
          detail: { command: '/deploy', status: 500, reason: 'http' },
        },
      ]),
    )
      .split('\n')
      .slice(1);
    expect(lines[0]).toMatch(/refused {2}malformed$/);
    expect(lines[1]).toMatch(/error {2}unavailable$/);
    expect(lines[2]).toMatch(/failure {2}`\/deploy` {2}HTTP 500 {2}http$/);
  });

  // Rule: what the audit shows of a command or reason is escaped like any text a user typed.
  test('command and reason are escaped and cut', () => {
    const [line] = auditEvents(
      ok<AuditRecord[]>([
        {
          ...base,
          event: 'authz_fail',
          detail: { command: '/x`<!channel>`', reason: `<@U0ALICE01> ${'y'.repeat(100)}` },
        },
      ]),
    )
      .split('\n')
      .slice(1);
    expect(line).toContain('`/x&lt;!channel&gt;`');
    expect(line).toContain('&lt;@U0ALICE01&gt;');
    expect(line).not.toContain('<!channel>');
    expect(line).not.toContain('y'.repeat(50));
  });

  // Rule: a counted row is one line with ×N, and the title says what counted lines are.
  test('a counted row is one line with ×N; the paging keeps the count asked for', () => {
    const text = auditEvents(
      ok<AuditRecord[]>([
        {
          ...base,
          event: 'authz_fail',
          scope: 'login',
          detail: { command: '/whoami', reason: 'no_scope' },
          count: 1000,
        },
        { ...base, event: 'authn_login_lock', scope: 'login', outcome: 'failure' },
      ]),
      1,
      100,
    );
    const [title, counted, lock] = text.split('\n');
    expect(title).toBe(
      '*Latest 1 security event, and 1 counted line of refusals anyone can cause* (×N: how many in that hour; newest first)',
    );
    expect(counted).toMatch(/`authz_fail` {2}login {2}refused {2}`\/whoami` {2}no_scope {2}×1000$/);
    expect(lock).not.toContain('×');
  });
});
