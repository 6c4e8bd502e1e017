import type { webApi } from '@slack/bolt';
import { OPERATOR } from '../core/admin.js';
import type { Notice, Notifier } from '../core/ports.js';
import type { Logger } from '../logger.js';
import { formatDuration, slackTime } from './views/format.js';

/** Who did it, as the user reads it: an admin by mention, or the operator at the bot's host. */
const byWhom = (by: string) => (by === OPERATOR ? "An operator of this bot (at the bot's host)" : `<@${by}>`);

export function noticeText(notice: Notice, now: number): string {
  switch (notice.kind) {
    case 'locked':
      return `:lock: Too many wrong codes were entered for your account, so codes are blocked until ${slackTime(notice.until)} (${formatDuration(notice.until - now)}). If that wasn't you, tell an admin now.`;
    case 'revoked':
      return `:information_source: ${byWhom(notice.by)} ended your session. Run \`/login\` to log in again. If you don't know why, ask them.`;
    case 'phone_linked':
      return `:iphone: ${byWhom(notice.by)} linked the phone *${notice.maskedPhone}* to your account, and your session was ended. Codes now go to that phone. If that's not your phone, tell an admin now.`;
    case 'phone_unlinked':
      return `:iphone: ${byWhom(notice.by)} removed the phone linked to your account, and your session was ended. Until an admin links a phone, you can't log in.`;
  }
}

/**
 * Direct messages for events a user must know about even if someone else caused them. A failed DM is
 * logged, never thrown: the event itself (a lock, a revoke) has already happened and must stand.
 */
export class SlackNotifier implements Notifier {
  constructor(
    private readonly client: webApi.WebClient,
    private readonly logger: Logger,
    private readonly now: () => number,
  ) {}

  async notify(userId: string, notice: Notice): Promise<void> {
    try {
      await this.client.chat.postMessage({ channel: userId, text: noticeText(notice, this.now()) });
    } catch (error) {
      this.logger.warn({ err: error, userId, notice: notice.kind }, 'could not send a direct message');
    }
  }
}
