import { describe, expect, test } from 'vitest';
import { needsStepUp, parseAdminCommand } from '../../../src/slack/input/admin-command.js';

describe('/admin arguments as Slack sends them (should_escape on)', () => {
  // Rule: mentions arrive escaped with or without the name part; a bare id works too.
  test.each(['<@U0BOB0001|bob>', '<@U0BOB0001>', 'U0BOB0001'])('revoke %s targets U0BOB0001', (arg) => {
    expect(parseAdminCommand(`revoke ${arg}`)).toEqual({ kind: 'revoke', target: 'U0BOB0001' });
  });

  // Rule: the phone is the rest of the line, in any notation, with Slack's tel: links unwrapped.
  test.each([
    ['link <@U0BOB0001|bob> +1 415 555 0199', '+1 415 555 0199'],
    ['link <@U0BOB0001> (415) 555-0199', '(415) 555-0199'],
    ['link <@U0BOB0001|bob> <tel:+14155550199|+1 415 555 0199>', '+14155550199'],
  ])('%s', (text, phone) => {
    expect(parseAdminCommand(text)).toEqual({ kind: 'link', target: 'U0BOB0001', phone });
  });

  // Rule: help for none, "help", and anything unknown (which is named back, trimmed).
  test('help', () => {
    expect(parseAdminCommand('')).toEqual({ kind: 'help' });
    expect(parseAdminCommand('  HELP ')).toEqual({ kind: 'help' });
    expect(parseAdminCommand('frobnicate now')).toEqual({ kind: 'help', unknown: 'frobnicate' });
  });

  // Rule: audit takes an optional count from 1 to 100, then an optional page.
  test('audit', () => {
    expect(parseAdminCommand('audit')).toEqual({ kind: 'audit', count: 20, page: 1 });
    expect(parseAdminCommand('audit 5')).toEqual({ kind: 'audit', count: 5, page: 1 });
    expect(parseAdminCommand('audit 100 3')).toEqual({ kind: 'audit', count: 100, page: 3 });
    for (const bad of ['audit 0', 'audit 101', 'audit x', 'audit 2.5', 'audit 1 0', 'audit 1 x', 'audit 1 2 3'])
      expect(parseAdminCommand(bad)).toMatchObject({ kind: 'usage' });
  });

  // Rule: sessions takes an optional page, a whole number from 1.
  test('sessions', () => {
    expect(parseAdminCommand('sessions')).toEqual({ kind: 'sessions', page: 1 });
    expect(parseAdminCommand('sessions 2')).toEqual({ kind: 'sessions', page: 2 });
    for (const bad of ['sessions 0', 'sessions -1', 'sessions 1.5', 'sessions 1e3', 'sessions 1 2'])
      expect(parseAdminCommand(bad)).toMatchObject({ kind: 'usage' });
  });

  // Rule: bad arguments get usage, never a guess.
  test.each([
    ['revoke', '/admin revoke @user'],
    ['revoke bob', '/admin revoke @user'],
    ['revoke <@U0BOB0001> <@U0CAROL01>', '/admin revoke @user'],
    ['unlink <#C0001|general>', '/admin unlink @user'],
    ['link', '/admin link @user +14155550123'],
    ['link <@U0BOB0001>', '/admin link @user +14155550123'],
    ['link +14155550199 <@U0BOB0001>', '/admin link @user +14155550123'],
    ['sessions now', '/admin sessions [page]'],
  ])('%j -> usage %s', (text, usage) => {
    expect(parseAdminCommand(text)).toMatchObject({ kind: 'usage', usage });
  });

  // Rule: only commands that read or change others' state need the step-up.
  test('needsStepUp', () => {
    expect(needsStepUp(parseAdminCommand('help'))).toBe(false);
    expect(needsStepUp(parseAdminCommand('revoke'))).toBe(false);
    expect(needsStepUp(parseAdminCommand('sessions'))).toBe(true);
    expect(needsStepUp(parseAdminCommand('audit'))).toBe(true);
  });
});
