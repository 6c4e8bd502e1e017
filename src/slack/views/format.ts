import type { Delivery, Purpose } from '../../core/ports.js';

/** "11 h 20 min", "4 min", "30 s": rounded up, so "1 min" never means "already over". */
export function formatDuration(ms: number): string {
  const seconds = Math.max(1, Math.ceil(ms / 1000));
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.ceil(seconds / 60);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  const rest = minutes % 60;
  return rest === 0 ? `${hours} h` : `${hours} h ${rest} min`;
}

/** A time that Slack shows in the reader's own time zone. */
export function slackTime(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  return `<!date^${seconds}^{time}|${new Date(ms).toISOString()}>`;
}

/** The one wording of each delivery method, in a sentence ("by text message") and as a choice. */
export const deliveryName: Record<Delivery, string> = { sms: 'text message', voice: 'voice call' };
export const deliveryChoice: Record<Delivery, { label: string; description: string }> = {
  sms: { label: 'Text message (SMS)', description: 'A text with the code' },
  voice: { label: 'Voice call', description: 'A call that reads the code aloud' },
};

/** A request window's title, by what its code is for. */
export const scopeTitle: Record<Purpose, string> = { login: 'Log in', admin: 'Admin step-up', approval: 'Approve' };

export function mentionList(userIds: readonly string[]): string {
  return userIds.map((id) => `<@${id}>`).join(', ');
}

/**
 * Text a user typed, made safe to show in mrkdwn: Slack's three control characters escaped (an
 * entity Slack already escaped is kept as is), whitespace runs collapsed, and cut to `max` characters
 * so an echo can never push a block or message past Slack's limits.
 */
export function userText(text: string, max = 200): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  const cut = flat.length > max ? `${flat.slice(0, max - 1).replace(/&[a-z]*$/, '')}…` : flat;
  return cut
    .replace(/&(?!(?:amp|lt|gt);)/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;');
}

/** A run of digits long enough to be a phone number, as people write one (spaces, dashes, dots, brackets). */
const NUMBER_LIKE = /\+?\d[\d ().-]{5,}\d/g;

/**
 * Text with every phone number in it masked to its last four digits ("•••• 0177"): an echo of what
 * someone typed never shows a whole number, wherever it appears.
 */
export function maskNumbers(text: string): string {
  return text.replace(NUMBER_LIKE, (run) => {
    const digits = run.replace(/\D/g, '');
    return digits.length >= 7 ? `•••• ${digits.slice(-4)}` : run;
  });
}

/** What someone typed, as any message echoes it: numbers masked, then made safe for mrkdwn and cut (userText). */
export function echo(text: string, max = 200): string {
  return userText(maskNumbers(text), max);
}
