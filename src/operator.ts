import { webApi } from '@slack/bolt';
import { adminPhoneWarning, buildCore } from './compose.js';
import type { Config } from './config.js';
import { type Actor, UnfinishedChange } from './core/admin.js';
import { AuditLog, AuditTrail } from './core/audit.js';
import type { Clock, Notifier } from './core/ports.js';
import type { Logger } from './logger.js';
import { SlackNotifier } from './slack/notifier.js';
import type { Store } from './store/index.js';

/**
 * `npm run admin -- <command>`: the operator's way in, from a shell on the bot's host. It needs no
 * Slack and no step-up (shell access to the host and its config is the authority), works on the
 * configured store whether the bot runs or not, and does what `/admin` does, through the same core:
 * every change ends the user's access, tells them by DM (when Slack answers) and is audited with the
 * actor `operator`. It is the way back when no admin can step up (no admin has a phone).
 */

export const USAGE = [
  'usage: npm run admin -- <command>',
  '  link <user id> <phone number>   link a phone (any common notation) to a Slack user, e.g. link U0123ABCD +1 415 555 0101',
  '  unlink <user id>                leave the user with no phone, whatever config.ini says',
  '  revoke <user id>                end the user\u2019s session and open code request',
  '  sessions                        who is logged in, with the time left',
].join('\n');

const USER_ID = /^[UW][A-Z0-9]{2,}$/;

export interface OperatorDeps {
  config: Config;
  store: Store;
  clock: Clock;
  /** Where audit events and warnings are logged (stderr): the record of last resort, as for the bot. */
  logger: Logger;
  /** Direct messages to the users a change is about; the bot's own Slack client unless given. */
  notifier?: Notifier | undefined;
  /** A line for the operator (stdout). */
  print: (line: string) => void;
}

/** Runs one operator command; returns the process exit code (0 done, 1 refused or failed, 2 usage). */
export async function operate(args: string[], deps: OperatorDeps): Promise<number> {
  const { config, store, clock, logger, print } = deps;
  const [command, target, ...rest] = args;
  const known = command === 'link' || command === 'unlink' || command === 'revoke' || command === 'sessions';
  const needsUser = command !== 'sessions';
  if (!known || (needsUser && !(target && USER_ID.test(target))) || (command === 'link' && rest.length === 0)) {
    print(command === undefined || command === 'help' ? USAGE : `${describeMistake(command, target)}\n${USAGE}`);
    return 2;
  }
  const trail = new AuditTrail(store);
  const auditLogger = logger.child({ audit: true });
  const audit = new AuditLog(clock, [
    (record) => auditLogger.info(record, record.event),
    (record) => trail.append(record),
  ]);
  const notifier = deps.notifier ?? slackNotifier(config, logger, clock);
  const { admin, sessions } = buildCore(config, { store, clock, audit, trail, notifier });
  const actor: Actor = { kind: 'operator' };
  try {
    switch (command) {
      case 'sessions': {
        const live = await sessions.allLive();
        if (live.length === 0) print('No one is logged in.');
        for (const s of live) print(`${s.userId}  ${s.scope}  until ${new Date(s.expiresAt).toISOString()}`);
        return 0;
      }
      case 'revoke': {
        const result = await admin.revoke(actor, target!);
        if (!result.ok) return refused(print, result.reason);
        print(
          result.ended.length > 0
            ? `Ended ${target}'s session (${result.ended.map((e) => e.scope).join(', ')}).`
            : result.endedRequest
              ? `${target} had no live session; their open code request was ended.`
              : `${target} had no live session; nothing to end.`,
        );
        return 0;
      }
      case 'link': {
        const result = await admin.link(actor, target!, rest.join(' '));
        if (!result.ok) return refused(print, 'detail' in result ? result.detail : result.reason);
        print(
          result.changed
            ? `Linked ${result.maskedPhone} to ${target}; their access was ended and they were told.`
            : `${target} already has ${result.maskedPhone}; it is now stored, so config.ini cannot change it.`,
        );
        await warnIfNoAdminPhone(config, admin, print);
        return 0;
      }
      case 'unlink': {
        const result = await admin.unlink(actor, target!);
        if (!result.ok) return refused(print, result.reason);
        print(
          result.hadPhone
            ? `Removed ${target}'s phone; their access was ended and they were told.`
            : `${target} had no phone; they now stay without one until one is linked.`,
        );
        await warnIfNoAdminPhone(config, admin, print);
        return 0;
      }
    }
  } catch (error) {
    if (error instanceof UnfinishedChange) {
      logger.error({ err: error }, 'an operator change did not finish');
      print(
        'The store stopped answering partway through, so part of the change may have been made. Run the same command again: it completes what was left.',
      );
      return 1;
    }
    logger.error({ err: error }, 'the store could not be read or written');
    print(
      'The store could not be read or written; nothing was changed. Check [store] url and that the store is up, then try again.',
    );
    return 1;
  }
  return 2;
}

function describeMistake(command: string, target: string | undefined): string {
  if (!['link', 'unlink', 'revoke', 'sessions'].includes(command)) return `unknown command: ${command}`;
  if (!target || !USER_ID.test(target)) return 'give a Slack user id like U0123ABCD (not an @name)';
  return 'give the phone number after the user id';
}

function refused(print: (line: string) => void, why: string): number {
  print(`Refused: ${why}. Nothing was changed.`);
  return 1;
}

async function warnIfNoAdminPhone(
  config: Config,
  admin: Parameters<typeof adminPhoneWarning>[1],
  print: (line: string) => void,
): Promise<void> {
  const warning = await adminPhoneWarning(config, admin).catch(() => undefined);
  if (warning) print(`Warning: ${warning}`);
}

/** DMs through the bot's token, quickly or not at all: a failed DM is logged, never a failed command. */
function slackNotifier(config: Config, logger: Logger, clock: Clock): Notifier {
  const client = new webApi.WebClient(config.slack.botToken, {
    slackApiUrl: config.slack.apiUrl,
    timeout: 5000,
    retryConfig: { retries: 0 },
  });
  return new SlackNotifier(client, logger, () => clock.now());
}
