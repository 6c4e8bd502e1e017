// Slack's mrkdwn as HTML, for the page: *bold*, _italic_, ~strike~, `code` and ```blocks```, line breaks,
// a few emoji, and the control sequences in angle brackets (<@U…> mentions by name, <#C…|name>,
// <!here>, <!date^…|fallback> as its fallback, <https://…|label> links). Everything else is text:
// every character a person or an app wrote is HTML-escaped before any markup of ours is added, so no
// message can inject HTML. Pure functions of strings (no DOM), so that a unit test can hold them to it.

const EMOJI = {
  white_check_mark: '\u2705',
  heavy_check_mark: '\u2714\ufe0f',
  x: '\u274c',
  hourglass_flowing_sand: '\u23f3',
  incoming_envelope: '\ud83d\udce8',
  information_source: '\u2139\ufe0f',
  iphone: '\ud83d\udcf1',
  lock: '\ud83d\udd12',
  unlock: '\ud83d\udd13',
  key: '\ud83d\udd11',
  warning: '\u26a0\ufe0f',
  rocket: '\ud83d\ude80',
  no_entry: '\u26d4',
  no_entry_sign: '\ud83d\udeab',
  bust_in_silhouette: '\ud83d\udc64',
  telephone_receiver: '\ud83d\udcde',
  rotating_light: '\ud83d\udea8',
  hammer_and_wrench: '\ud83d\udee0\ufe0f',
  thumbsup: '\ud83d\udc4d',
  '+1': '\ud83d\udc4d',
  tada: '\ud83c\udf89',
};

/** HTML-escapes text for an element's content or a quoted attribute. */
export function escapeHtml(text) {
  return String(text)
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');
}

/** Slack escapes &, < and > in message text; this undoes that (the result is raw text, to be escaped for HTML). */
export function decodeSlackEntities(text) {
  return String(text).replaceAll('&lt;', '<').replaceAll('&gt;', '>').replaceAll('&amp;', '&');
}

/** :shortcode: to its emoji, for the few the bot and the demo use; others stay as written. Input: escaped HTML. */
export function emojify(html) {
  return html.replace(/:([a-z0-9_+-]+):/g, (whole, name) => EMOJI[name] ?? whole);
}

/** A plain_text object's text as HTML (escaped; emoji when `emoji` is not false, as Slack does). */
export function plainToHtml(text, emoji = true) {
  const html = escapeHtml(text ?? '');
  return emoji ? emojify(html) : html;
}

// Control sequences are set aside as placeholders while the rest is formatted, so that formatting may
// span them (*<@U1> did it*). The placeholder characters are private-use ones, removed from the input first.
const OPEN = '\ue000';
const CLOSE = '\ue001';

/**
 * mrkdwn text as HTML. `names` maps user and channel ids to display names (a mention of an unknown id
 * shows the id).
 */
export function mrkdwnToHtml(text, names = {}) {
  const sequences = [];
  const source = String(text ?? '').replace(/[\ue000\ue001]/g, '\ufffd');
  const marked = source.replace(/<([^<>\n]*)>/g, (_, inner) => {
    sequences.push(controlSequence(inner, names));
    return `${OPEN}${sequences.length - 1}${CLOSE}`;
  });
  const html = formatted(marked);
  return html.replace(new RegExp(`${OPEN}(\\d+)${CLOSE}`, 'g'), (_, i) => sequences[Number(i)]);
}

function controlSequence(inner, names) {
  const [target = '', label] = splitOnce(decodeSlackEntities(inner), '|');
  const mention = (text) => `<span class="mention">${escapeHtml(text)}</span>`;
  if (target.startsWith('@')) return mention(`@${names[target.slice(1)] ?? label ?? target.slice(1)}`);
  if (target.startsWith('#')) return mention(`#${label ?? names[target.slice(1)] ?? target.slice(1)}`);
  if (target.startsWith('!date^')) return escapeHtml(label ?? target);
  if (target.startsWith('!subteam^')) return mention(label ?? '@group');
  if (/^!(here|channel|everyone)$/.test(target)) return mention(`@${target.slice(1)}`);
  if (/^(https?:\/\/|mailto:)/i.test(target))
    return `<a href="${escapeHtml(target)}" target="_blank" rel="noopener noreferrer">${escapeHtml(label ?? target)}</a>`;
  return escapeHtml(`<${inner}>`); // not a control sequence Slack knows: shown as written
}

function splitOnce(text, separator) {
  const at = text.indexOf(separator);
  return at === -1 ? [text] : [text.slice(0, at), text.slice(at + 1)];
}

/** Text with placeholders -> escaped HTML with Slack's formatting; code is left unformatted. */
function formatted(text) {
  let html = '';
  let last = 0;
  for (const match of text.matchAll(/```([\s\S]+?)```|`([^`\n]+)`/g)) {
    html += styled(text.slice(last, match.index));
    html +=
      match[1] !== undefined
        ? `<pre>${escapeHtml(decodeSlackEntities(match[1]))}</pre>`
        : `<code>${escapeHtml(decodeSlackEntities(match[2]))}</code>`;
    last = match.index + match[0].length;
  }
  return html + styled(text.slice(last));
}

/** Bold, italic and strike between word boundaries, as Slack reads them; then line breaks and emoji. */
function styled(raw) {
  let html = escapeHtml(decodeSlackEntities(raw));
  const around = (marker, tag) => {
    const m = `\\${marker}`;
    html = html.replace(
      new RegExp(`(^|[^\\w${m}])${m}(?=\\S)([^${m}\\n]*?\\S)${m}(?![\\w${m}])`, 'g'),
      `$1<${tag}>$2</${tag}>`,
    );
  };
  around('*', 'b');
  around('_', 'i');
  around('~', 's');
  return emojify(html).replaceAll('\n', '<br>');
}
