import { describe, expect, test } from 'vitest';

/**
 * The demo page's mrkdwn (demo/page/mrkdwn.js, served as is to the browser): Slack's formatting, the
 * control sequences, and the rule that no text a person, the bot or an endpoint wrote becomes HTML.
 */

interface Mrkdwn {
  mrkdwnToHtml(text: string, names?: Record<string, string>): string;
  plainToHtml(text: string, emoji?: boolean): string;
}
const { mrkdwnToHtml, plainToHtml } = (await import(
  new URL('../../demo/page/mrkdwn.js', import.meta.url).href
)) as Mrkdwn;

const NAMES = { U0DEMOADA: 'Ada Park', C0DEMOGEN: 'general' };

/** The tags in an HTML string: what the renderer made, not text. */
const tags = (html: string) => [...html.matchAll(/<([a-z]+)\b/g)].map((m) => m[1]);

describe('mrkdwn on the demo page', () => {
  // Rule: *bold*, _italic_, ~strike~ and `code` between word boundaries, as Slack reads them.
  test('formatting', () => {
    expect(mrkdwnToHtml('*You:* done, _now_ ~not~ `code *x*`')).toBe(
      '<b>You:</b> done, <i>now</i> <s>not</s> <code>code *x*</code>',
    );
    expect(mrkdwnToHtml('snake_case_name and 2*3*4 stay as written')).toBe('snake_case_name and 2*3*4 stay as written');
    expect(mrkdwnToHtml('```a\nb```')).toBe('<pre>a\nb</pre>');
    expect(mrkdwnToHtml('one\ntwo')).toBe('one<br>two');
  });

  // Rule: mentions show names, a date its fallback, links only for http(s) and mailto.
  test('control sequences', () => {
    expect(mrkdwnToHtml('<@U0DEMOADA> in <#C0DEMOGEN>', NAMES)).toBe(
      '<span class="mention">@Ada Park</span> in <span class="mention">#general</span>',
    );
    expect(mrkdwnToHtml('<@U0UNKNOWN|someone>')).toBe('<span class="mention">@someone</span>');
    expect(mrkdwnToHtml('until <!date^1796679190^{time}|2026-12-07T21:33:10Z>')).toBe('until 2026-12-07T21:33:10Z');
    expect(mrkdwnToHtml('<!here>')).toBe('<span class="mention">@here</span>');
    expect(mrkdwnToHtml('*<@U0DEMOADA> ran it*', NAMES)).toBe('<b><span class="mention">@Ada Park</span> ran it</b>');
    expect(mrkdwnToHtml('<https://example.com/a?b=1&amp;c=2|the docs>')).toBe(
      '<a href="https://example.com/a?b=1&amp;c=2" target="_blank" rel="noopener noreferrer">the docs</a>',
    );
    expect(mrkdwnToHtml(':white_check_mark: :no_such_emoji:')).toBe('\u2705 :no_such_emoji:');
  });

  // Rule: no HTML injection. Whatever the text holds, the only tags in the result are the renderer's own,
  // and attribute values cannot be broken out of.
  test.each([
    '<img src=x onerror=alert(1)>',
    '<script>alert(1)</script>',
    '&lt;script&gt;alert(1)&lt;/script&gt;',
    '*<img src=x onerror=alert(1)>*',
    '`<b>not bold</b>`',
    '<javascript:alert(1)|click me>',
    '<https://example.com/"onmouseover="alert(1)|x>',
    '<@U0DEMOADA|<img src=x>>',
    '<!date^1^{time}|<script>alert(1)</script>>',
    '\ue0000\ue001 <@U0DEMOADA>',
  ])('%s stays text', (text) => {
    const html = mrkdwnToHtml(text, { U0DEMOADA: '<b>Ada</b>' });
    for (const tag of tags(html)) expect(['b', 'i', 's', 'code', 'pre', 'br', 'span', 'a']).toContain(tag);
    expect(html).not.toMatch(/<(img|script)/i);
    expect(html).not.toMatch(/href="javascript:/i);
    expect(html).not.toMatch(/"onmouseover=/);
    expect(html).not.toMatch(/<b>(Ada|not bold)<\/b>/);
  });

  // Rule: plain_text is escaped too.
  test('plain text', () => {
    expect(plainToHtml('<b>"Ada" & \'Ben\'</b> :lock:')).toBe(
      '&lt;b&gt;&quot;Ada&quot; &amp; &#39;Ben&#39;&lt;/b&gt; \ud83d\udd12',
    );
    expect(plainToHtml(':lock:', false)).toBe(':lock:');
  });
});
