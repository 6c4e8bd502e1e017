import type { LinkResult } from '../../core/admin.js';
import type { AuditRecord } from '../../core/audit.js';
import type { LiveScope, LiveSession } from '../../core/sessions.js';
import { USAGE, type AdminCommand } from '../admin/parse.js';
import { formatDuration, slackTime } from './format.js';

export const notAnAdmin = 'Only admins can use `/admin`. If you need something done, ask an admin.';

export function help(unknown?: string): string {
  return [
    ...(unknown ? [`I don't know \`${unknown.replace(/[`<>&]/g, '')}\`. Here's what I can do:`] : ['*Admin commands* (each needs a fresh admin code, good for a while):']),
    `• \`${USAGE.sessions}\`: who is logged in, with the time left`,
    `• \`${USAGE.revoke}\`: end that user's session; they get a direct message`,
    `• \`${USAGE.link}\`: link or change a user's phone; ends their session and tells them`,
    `• \`${USAGE.unlink}\`: remove a user's phone; they can't log in until one is linked`,
    `• \`${USAGE.audit}\`: the latest security events`,
    '• `/admin help`: this list',
  ].join('\n');
}

export function usage(command: Extract<AdminCommand, { kind: 'usage' }>): string {
  return `${command.problem} Usage: \`${command.usage}\``;
}

export function sessions(live: LiveSession[], now: number): string {
  if (live.length === 0) return 'No one is logged in right now.';
  const byUser = new Map<string, string[]>();
  for (const s of live) byUser.set(s.userId, [...(byUser.get(s.userId) ?? []), `\`${s.scope}\` ${formatDuration(s.expiresAt - now)} left`]);
  return ['*Live sessions*', ...[...byUser].map(([userId, scopes]) => `• <@${userId}>: ${scopes.join(', ')}`)].join('\n');
}

const endedText = (ended: LiveScope[]) => (ended.length === 0 ? 'they had no live session' : `their session (${ended.map((e) => e.scope).join(', ')}) was ended`);

export function revoked(target: string, ended: LiveScope[]): string {
  return ended.length === 0 ? `<@${target}> had no live session; nothing to end.` : `Ended <@${target}>'s session (${ended.map((e) => e.scope).join(', ')}). They got a direct message saying so.`;
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

export function auditEvents(events: AuditRecord[]): string {
  if (events.length === 0) return 'No security events are stored yet.';
  const line = (e: AuditRecord) =>
    [
      slackTime(e.at),
      `<@${e.userId}>`,
      `\`${e.event}\``,
      e.scope ?? '-',
      e.outcome,
      ...(e.actorId ? [`by <@${e.actorId}>`] : []),
      ...(e.detail?.maskedPhone ? [String(e.detail.maskedPhone)] : []),
    ].join('  ');
  return [`*Latest ${events.length} security events* (newest first)`, ...events.map(line)].join('\n');
}

export function stepUpStarted(commandText: string): string {
  return `I'm running \`/admin ${commandText.trim().replace(/`/g, '')}\` now; the result appears where you typed it.`;
}
