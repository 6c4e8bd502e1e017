import { describe, expect, test } from 'vitest';
import { formatDuration, mentionList, slackTime, userText } from '../../../src/slack/views/format.js';

describe('userText: what a user typed, safe to echo in mrkdwn', () => {
  // Rule: Slack's three control characters are escaped, so typed text cannot become a mention or link.
  test('escapes &, < and >', () => {
    expect(userText('<!channel> & <https://evil.example|click>')).toBe(
      '&lt;!channel&gt; &amp; &lt;https://evil.example|click&gt;',
    );
  });

  // Rule: Slack already escapes what a user types in a command; that is not escaped twice.
  test('keeps entities Slack already escaped', () => {
    expect(userText('a &amp; b &lt;x&gt;')).toBe('a &amp; b &lt;x&gt;');
  });

  // Rule: an echo has a bound, whatever was typed, and says it was cut.
  test('collapses whitespace and cuts to the limit with an ellipsis', () => {
    const cut = userText(`audit ${' '.repeat(3000)}5 ${'x'.repeat(4000)}`, 200);
    expect(cut).toHaveLength(200);
    expect(cut.startsWith('audit 5 xxx')).toBe(true);
    expect(cut.endsWith('…')).toBe(true);
    expect(userText('short', 200)).toBe('short');
  });

  // Rule: a cut never leaves half an entity behind (which would show as "&am").
  test('does not cut an entity in half', () => {
    const text = `${'a'.repeat(8)}&amp;rest`;
    expect(userText(text, 11)).toBe(`${'a'.repeat(8)}…`);
  });
});

describe('formatDuration', () => {
  // Rule: rounded up, so "1 min" never means "already over", and never "0 s".
  test('seconds, minutes, hours, rounded up', () => {
    expect(formatDuration(0)).toBe('1 s');
    expect(formatDuration(-5000)).toBe('1 s');
    expect(formatDuration(1)).toBe('1 s');
    expect(formatDuration(59_000)).toBe('59 s');
    expect(formatDuration(59_001)).toBe('1 min');
    expect(formatDuration(60_001)).toBe('2 min');
    expect(formatDuration(60 * 60_000)).toBe('1 h');
    expect(formatDuration(61 * 60_000)).toBe('1 h 1 min');
    expect(formatDuration(12 * 60 * 60_000 - 1)).toBe('12 h');
  });
});

describe('slackTime and mentionList', () => {
  test('a Slack date token with the ISO time as its fallback', () => {
    const at = Date.UTC(2026, 11, 2, 10, 0, 30, 500);
    expect(slackTime(at)).toBe(`<!date^${Math.floor(at / 1000)}^{time}|2026-12-02T10:00:30.500Z>`);
  });

  test('mentions, comma-separated', () => {
    expect(mentionList(['U1', 'W2'])).toBe('<@U1>, <@W2>');
    expect(mentionList([])).toBe('');
  });
});
