import type { LinkResult } from '../../core/admin.js';
import type { AuditRecord } from '../../core/audit.js';
import type { LiveScope, LiveSession } from '../../core/sessions.js';
import { type AdminCommand, USAGE } from '../input/admin-command.js';
import { formatDuration, slackTime, userText } from './format.js';

export const notAnAdmin = 'Only admins can use `/admin`. If you need something done, ask an admin.';

export function help(unknown?: string): string {
  return [
    ...(unknown
      ? [`I don't know \`${userText(unknown.replace(/`/g, ''), 40)}\`. Here's what I can do:`]
      : ['*Admin commands* (each needs a fresh admin code, good for a while):']),
    `• \`${USAGE.sessions}\`: who is logged in, with the time left; a long list comes in pages`,
    `• \`${USAGE.revoke}\`: end that user's session; they get a direct message`,
    `• \`${USAGE.link}\`: link or change a user's phone; ends their session and tells them`,
    `• \`${USAGE.unlink}\`: remove a user's phone; they can't log in until one is linked`,
    `• \`${USAGE.audit}\`: the latest security events, in pages if they don't fit in one message`,
    '• `/admin help`: this list',
  ].join('\n');
}

export function usage(command: Extract<AdminCommand, { kind: 'usage' }>): string {
  return `${command.problem} Usage: \`${command.usage}\``;
}

export function sessions(live: LiveSession[], now: number, page = 1): string {
  if (live.length === 0) return 'No one is logged in right now.';
  const byUser = new Map<string, string[]>();
  for (const s of live)
    byUser.set(s.userId, [...(byUser.get(s.userId) ?? []), `\`${s.scope}\` ${formatDuration(s.expiresAt - now)} left`]);
  const lines = [...byUser].map(([userId, scopes]) => `• <@${userId}>: ${scopes.join(', ')}`);
  return paged(lines, page, {
    title: `*Live sessions* (${byUser.size} ${byUser.size === 1 ? 'user' : 'users'})`,
    command: (n) => `/admin sessions ${n}`,
  });
}

const endedText = (ended: LiveScope[]) =>
  ended.length === 0 ? 'they had no live session' : `their session (${ended.map((e) => e.scope).join(', ')}) was ended`;

export function revoked(target: string, ended: LiveScope[]): string {
  return ended.length === 0
    ? `<@${target}> had no live session; nothing to end.`
    : `Ended <@${target}>'s session (${ended.map((e) => e.scope).join(', ')}). They got a direct message saying so.`;
}

export function linked(target: string, result: LinkResult): string {
  if (!result.ok) return `I didn't link that number. ${result.detail}`;
  if (!result.changed) return `<@${target}> already has the phone *${result.maskedPhone}*. Nothing changed.`;
  return `Linked the phone *${result.maskedPhone}* to <@${target}>; ${endedText(result.ended)}. They got a direct message.`;
}

export function unlinked(target: string, hadPhone: boolean, ended: LiveScope[]): string {
  return hadPhone
    ? `Removed <@${target}>'s phone; ${endedText(ended)}. They got a direct message and can't log in until a phone is linked.`
    : `<@${target}> had no phone; they now stay without one until an admin links one.`;
}

/**
 * `/admin audit`: security events and counted rows (free refusals, `×N`: how many in that hour, the
 * first at the time shown), newest first. A refusal or failure names its command and reason.
 * `count` is how many were asked for, for the paging links.
 */
export function auditEvents(events: AuditRecord[], page = 1, count = events.length): string {
  if (events.length === 0) return 'No security events are stored yet.';
  const quoted = (value: unknown) => `\`${userText(String(value).replace(/`/g, ''), 40)}\``;
  const line = (e: AuditRecord) => {
    const refused = e.outcome !== 'success';
    const command = e.detail?.command;
    const reason = e.detail?.reason ?? e.detail?.failure;
    return [
      slackTime(e.at),
      `<@${e.userId}>`,
      `\`${e.event}\``,
      e.scope ?? '-',
      e.outcome,
      ...(e.actorId ? [`by <@${e.actorId}>`] : []),
      ...(e.detail?.maskedPhone ? [String(e.detail.maskedPhone)] : []),
      // Which command was refused, failed or run (a declared command's run: and what its endpoint answered).
      ...(command !== undefined && (refused || e.event === 'action_run') ? [quoted(command)] : []),
      ...(e.event === 'action_run' ? [`HTTP ${e.detail?.status ?? '-'}`] : []),
      ...(refused && reason !== undefined ? [userText(String(reason), 40)] : []),
      ...(e.count !== undefined ? [`×${e.count}`] : []),
    ].join('  ');
  };
  const counted = events.filter((e) => e.count !== undefined).length;
  const stored = events.length - counted;
  const securityEvents = `${stored} security ${stored === 1 ? 'event' : 'events'}`;
  const title =
    counted === 0
      ? `*Latest ${securityEvents}* (newest first)`
      : `*Latest ${securityEvents}, and ${counted} counted ${counted === 1 ? 'line' : 'lines'} of refusals anyone can cause* (×N: how many in that hour; newest first)`;
  return paged(events.map(line), page, { title, command: (n) => `/admin audit ${count} ${n}` });
}

/** Slack cuts a message past 40,000 characters and advises 4,000: each page stays under this. */
const MESSAGE_MAX = 3_900;
/** One line never takes more than this, so a page always holds at least one. */
const LINE_MAX = 500;

/** Splits lines into pages that each fit in one message, in order; the same lines always split the same way. */
function pages(lines: string[], budget: number): string[][] {
  const result: string[][] = [];
  let current: string[] = [];
  let size = 0;
  for (const raw of lines) {
    const line = raw.length > LINE_MAX ? `${raw.slice(0, LINE_MAX - 1)}…` : raw;
    if (current.length > 0 && size + line.length + 1 > budget) {
      result.push(current);
      current = [];
      size = 0;
    }
    current.push(line);
    size += line.length + 1;
  }
  if (current.length > 0) result.push(current);
  return result;
}

/** Room left for the title and the "… more" line. */
const FRAME = 300;

function paged(lines: string[], page: number, how: { title: string; command: (page: number) => string }): string {
  const all = pages(lines, MESSAGE_MAX - FRAME);
  if (page > all.length)
    return `There ${all.length === 1 ? 'is only 1 page' : `are only ${all.length} pages`} now. The first is \`${how.command(1)}\`.`;
  const shown = all[page - 1]!;
  const before = all.slice(0, page - 1).reduce((n, p) => n + p.length, 0);
  const after = lines.length - before - shown.length;
  const title = all.length === 1 ? how.title : `${how.title}, page ${page} of ${all.length}`;
  return [title, ...shown, ...(after > 0 ? [`…and ${after} more: \`${how.command(page + 1)}\``] : [])].join('\n');
}

export function stepUpStarted(commandText: string): string {
  return `I'm running \`/admin ${userText(commandText.replace(/`/g, ''), 200)}\` now; the result appears where you typed it.`;
}
