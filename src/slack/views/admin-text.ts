import type { AdminRefusal, Ended, LinkResult, Listed, RevokeResult, UnlinkResult } from '../../core/admin.js';
import type { AuditRecord } from '../../core/audit.js';
import type { LiveSession } from '../../core/sessions.js';
import { type AdminCommand, USAGE } from '../input/admin-command.js';
import { echo, formatDuration, slackTime, userText } from './format.js';

export const notAnAdmin = 'Only admins can use `/admin`. If you need something done, ask an admin.';

export function help(unknown?: string): string {
  return [
    ...(unknown
      ? [`I don't know \`${echo(unknown.replace(/`/g, ''), 40)}\`. Here's what I can do:`]
      : ['*Admin commands* (each needs a fresh admin code, good for a while):']),
    `• \`${USAGE.sessions}\`: who is logged in, with the time left; a long list comes in pages`,
    `• \`${USAGE.approvals}\`: the approval requests still open, everyone's`,
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

/** Why an admin action did not run; nothing was changed. */
export function adminRefused(r: AdminRefusal): string {
  switch (r.reason) {
    case 'no_longer_admin':
      return "You're no longer an admin here, so nothing was run.";
    case 'admin_scope_ended':
      return 'Your admin step-up ended before this could run, so nothing was run. Run the command again.';
    case 'own_phone':
      return "You can't change your own phone from Slack, so nothing was changed. Ask another admin, or an operator with shell access to the bot's host (`npm run admin`).";
    case 'last_admin_phone':
      return "That admin is the last one with a phone: without it nobody could step up as admin again. Nothing was changed. Link another admin's phone first.";
  }
}

/** A change that failed midway: some of it may have been made, and running it again completes it. */
export const unfinished =
  ":warning: I couldn't finish this change: my database stopped answering partway through, so part of it may have been made. Run the same command again: it completes what was left.";

export function sessions(result: Listed<LiveSession[]>, now: number, page = 1): string {
  if (!result.ok) return adminRefused(result);
  const live = result.value;
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

const endedText = ({ ended, endedRequest }: Ended) =>
  ended.length > 0
    ? `their session (${ended.map((e) => e.scope).join(', ')}) was ended`
    : endedRequest
      ? 'they had no live session, but their open code request was ended'
      : 'they had no live session';

const finished = (resumed: boolean) => (resumed ? ' (This finished the change an earlier try left half done.)' : '');

export function revoked(target: string, result: RevokeResult): string {
  if (!result.ok) return adminRefused(result);
  if (result.ended.length > 0)
    return `Ended <@${target}>'s session (${result.ended.map((e) => e.scope).join(', ')}). They got a direct message saying so.${finished(result.resumed)}`;
  if (result.endedRequest)
    return `<@${target}> had no live session, but an open code request, which I ended. They got a direct message saying so.${finished(result.resumed)}`;
  return result.resumed
    ? `<@${target}> has no live session now. They got a direct message saying theirs was ended.${finished(true)}`
    : `<@${target}> had no live session; nothing to end.`;
}

export function linked(target: string, result: LinkResult): string {
  if (!result.ok) return 'detail' in result ? `I didn't link that number. ${result.detail}` : adminRefused(result);
  if (!result.changed) return `<@${target}> already has the phone *${result.maskedPhone}*. Nothing changed.`;
  return `Linked the phone *${result.maskedPhone}* to <@${target}>; ${endedText(result)}. They got a direct message.${finished(result.resumed)}`;
}

export function unlinked(target: string, result: UnlinkResult): string {
  if (!result.ok) return adminRefused(result);
  return result.hadPhone
    ? `Removed <@${target}>'s phone; ${endedText(result)}. They got a direct message and can't log in until a phone is linked.${finished(result.resumed)}`
    : `<@${target}> had no phone; they now stay without one until an admin links one.`;
}

/**
 * `/admin audit`: security events and counted rows (free refusals, `×N`: how many in that hour, the
 * first at the time shown), newest first. A refusal or failure names its command and reason.
 * `count` is how many were asked for, for the paging links.
 */
export function auditEvents(result: Listed<AuditRecord[]>, page = 1, count?: number): string {
  if (!result.ok) return adminRefused(result);
  const events = result.value;
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
  return paged(events.map(line), page, { title, command: (n) => `/admin audit ${count ?? events.length} ${n}` });
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

/**
 * A parsed /admin command as a window or a message shows it: what will run, never a whole phone
 * number (the one being linked is masked to its last four digits).
 */
export function describeAdminCommand(command: AdminCommand): string {
  switch (command.kind) {
    case 'sessions':
    case 'approvals':
      return `\`/admin ${command.kind}${command.page > 1 ? ` ${command.page}` : ''}\``;
    case 'revoke':
    case 'unlink':
      return `\`/admin ${command.kind}\` <@${command.target}>`;
    case 'link':
      return `\`/admin link\` <@${command.target}> *${echo(command.phone, 40)}*`;
    case 'audit':
      return `\`/admin audit ${command.count}${command.page > 1 ? ` ${command.page}` : ''}\``;
    case 'help':
    case 'usage':
      return '`/admin help`';
  }
}

/** `/admin approvals`: the open requests, paged like sessions; each line from views/approvals.ts. */
export function openApprovals(result: Listed<string[]>, page = 1): string {
  if (!result.ok) return adminRefused(result);
  if (result.value.length === 0) return 'No approval requests are open.';
  return paged(result.value, page, {
    title: `*Open approval requests* (${result.value.length})`,
    command: (n) => `/admin approvals ${n}`,
  });
}
