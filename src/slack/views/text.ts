import type { Delivery, Scope } from '../../core/ports.js';
import type { Refusal } from '../../core/refusals.js';
import type { LiveScope } from '../../core/sessions.js';
import { deliveryName, formatDuration, mentionList, slackTime } from './format.js';

/** Every sentence a user reads: plain, and each says what to do next. */

export const unavailable =
  "I can't reach my database right now, so I can't check your session. Nothing was changed. Please try again in a minute.";

export function loginRequired(command: string): string {
  return `\`${command}\` needs you to log in first. Run \`/login\` and I'll send a code to your phone.`;
}

export function alreadyLoggedIn(expiresAt: number, now: number): string {
  return `You're already logged in, for another ${formatDuration(expiresAt - now)}. Run \`/logout\` to end your session.`;
}

export function loggedOut(hadSession: boolean): string {
  return hadSession
    ? "You're logged out. Next time you run `/login`, I'll ask again whether codes should come by text or by voice call."
    : "You weren't logged in. I've forgotten your delivery preference, so `/login` will ask again how codes should arrive.";
}

/** A logout that failed partway: the session may already be ended, so "nothing was changed" would not be true. */
export const logoutUnfinished =
  "I couldn't reach my database to finish logging you out, so your session may or may not have ended. Run `/logout` again to be sure.";

/**
 * The Home tab's Log out failed. Not "nothing was changed": the session may have ended before a
 * later step failed, so the user is told to press it again, which finishes what was left.
 */
export const logoutFailed =
  "I couldn't log you out: I can't reach my database right now. Please press *Log out* again in a minute; until that works, your session may still be live.";

export function granted(scope: Scope, expiresAt: number, now: number): string {
  return scope === 'login'
    ? `:white_check_mark: You're logged in for ${formatDuration(expiresAt - now)}. Your commands work now.`
    : `:white_check_mark: Admin commands are unlocked for ${formatDuration(expiresAt - now)}.`;
}

export function codeSent(
  delivery: Delivery,
  maskedPhone: string,
  digits: number,
  codeExpiresAt: number,
  now: number,
): string {
  const how = `by ${deliveryName[delivery]} to *${maskedPhone}*`;
  return `I sent a ${digits}-digit code ${how}. Enter it below. It expires at ${slackTime(codeExpiresAt)} (in ${formatDuration(codeExpiresAt - now)}).`;
}

export function sending(delivery: Delivery, maskedPhone: string): string {
  return `:hourglass_flowing_sand: Sending a code by ${deliveryName[delivery]} to *${maskedPhone}*…`;
}

export const checking = ':hourglass_flowing_sand: Checking your code…';

/** Not a rule of the core: the store or an outside call failed, so nothing could be checked or changed. */
export type Unavailable = { ok: false; reason: 'unavailable' };

/** `userId`: who is told (an admin with no phone is told how to link their own). */
export function refusal(r: Refusal | Unavailable, now: number, admins: readonly string[], userId?: string): string {
  switch (r.reason) {
    case 'unavailable':
      return unavailable;
    case 'no_phone':
      if (userId !== undefined && admins.includes(userId)) return adminWithoutPhone(userId);
      return admins.length > 0
        ? `No phone is linked to your Slack account, so I can't send you a code. Ask an admin (${mentionList(admins)}) to link one.`
        : "No phone is linked to your Slack account, so I can't send you a code. Ask whoever runs this bot to add your phone to its configuration.";
    case 'locked':
      return `Too many wrong codes. For your safety, codes are blocked until ${slackTime(r.until)} (${formatDuration(r.until - now)} from now).`;
    case 'stale':
      return 'A newer request replaced this one. Use the newest window, or run the command again.';
    case 'no_request':
      return 'This request is no longer open. Run the command again to start over.';
    case 'no_code':
      return 'No code has been sent for this request yet. Use *Resend code* to get one.';
    case 'code_expired':
      return 'This code has expired. Use *Resend code* to get a new one, or run the command again.';
    case 'phone_changed':
      return 'Your linked phone changed after this code was sent. Run the command again to get a code on your phone.';
    case 'ended':
      return 'This request was ended: you logged out, an admin changed your access, or codes were blocked. Nothing was granted. Run the command again to start over.';
    case 'cooldown':
      return `A code was sent moments ago. You can ask for another in ${formatDuration(r.retryAt - now)}.`;
    case 'send_limit':
      return `You've asked for the most codes allowed in an hour. You can ask again in ${formatDuration(r.retryAt - now)}.`;
    case 'phone_send_limit':
      return `Codes to your phone are paused until ${slackTime(r.retryAt)} (${formatDuration(r.retryAt - now)} from now): it has been sent the most codes allowed in an hour, counting everyone who uses that phone.`;
    case 'total_send_limit':
      return `I've sent the most codes I'm allowed to in an hour, for everyone together, so no code can go out until ${slackTime(r.retryAt)} (${formatDuration(r.retryAt - now)} from now). Please tell ${admins.length > 0 ? `an admin (${mentionList(admins)})` : 'whoever runs this bot'}.`;
    case 'dead':
      return 'Too many wrong codes for this code, so it no longer works. Use *Resend code* to get a new one.';
    case 'provider':
      switch (r.failure) {
        case 'rate_limited':
          return 'The code service is asking us to slow down. Please wait a couple of minutes, then try again. Nothing was changed.';
        case 'unavailable':
          return "The code service didn't answer in time. Nothing was changed. Please try again in a minute.";
        case 'misconfigured':
          return 'The code service refused our credentials. Nothing was changed. Please tell an admin.';
        case 'rejected':
          return 'The code service refused the request. Nothing was changed. Please tell an admin.';
      }
      break;
    case 'malformed':
      return `Enter the ${r.digits}-digit code from your phone, digits only.`;
    case 'wrong_code':
      return `That code isn't right. ${r.attemptsLeft} ${r.attemptsLeft === 1 ? 'attempt' : 'attempts'} left.`;
    case 'already_used':
      return 'That code has already been used. Use *Resend code* to get a new one.';
    case 'not_granted':
      return "Your code was right, but I couldn't save your session, so nothing was granted. Use *Resend code* to get a new code and try again.";
    case 'grant_unknown':
      return "Your code was right, but my database stopped answering, so I can't tell whether your session was saved. Run `/whoami` to see; if it shows no session, run the command again.";
  }
  return 'Something went wrong. Nothing was changed. Please try again.';
}

/**
 * An admin with no phone cannot step up, and no other admin may be able to link one: say how to link
 * it without Slack, from the bot's host.
 */
export function adminWithoutPhone(userId: string): string {
  return [
    "No phone is linked to your Slack account, so I can't send you a code. As an admin, you can link your own from the bot's host, without Slack:",
    `\`npm run admin -- link ${userId} +1 415 555 0101\` (with your number), or add \`${userId} = +14155550101\` under \`[phones]\` in config.ini and restart the bot. Another admin can also link it with \`/admin link\`.`,
  ].join('\n');
}

export interface Status {
  userId: string;
  maskedPhone?: string | undefined;
  delivery?: Delivery | undefined;
  scopes: LiveScope[];
}

export function status({ userId, maskedPhone, delivery, scopes }: Status, now: number): string {
  const scopeLines =
    scopes.length === 0
      ? 'none'
      : scopes.map((s) => `\`${s.scope}\` (${formatDuration(s.expiresAt - now)} left)`).join(', ');
  return [
    `*You:* <@${userId}>`,
    `*Phone:* ${maskedPhone ?? 'none linked'}`,
    `*Codes arrive by:* ${delivery ? deliveryName[delivery] : 'not chosen yet (you choose at your next /login)'}`,
    `*Scopes:* ${scopeLines}`,
  ].join('\n');
}

/**
 * Inline errors under an input (`response_action: errors`) are plain text, so mrkdwn would show its
 * marks ("*Resend code*"): the same sentence with emphasis and code marks taken off, and a Slack
 * date shown as its fallback text.
 */
export function plainText(text: string): string {
  return text
    .replace(/<!date\^[^|>]*\|([^>]*)>/g, '$1')
    .replace(/(^|[\s(])([*_~`])([^*_~`\n]+?)\2(?=$|[\s.,;:!?)])/g, '$1$3');
}
