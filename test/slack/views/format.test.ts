import { describe, expect, test } from 'vitest';
import { userText } from '../../../src/slack/views/format.js';

describe('userText: what a user typed, safe to echo in mrkdwn', () => {
  // Rule: Slack's three control characters are escaped, so typed text cannot become a mention or link.
  test('escapes &, < and >', () => {
    expect(userText('<!channel> & <https://evil.example|click>')).toBe('&lt;!channel&gt; &amp; &lt;https://evil.example|click&gt;');
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
