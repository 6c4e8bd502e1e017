/**
 * The /admin command language, parsed once from what was typed, as Slack escapes it with
 * should_escape on (`<@U123|name>`, `<tel:+1…|…>`). presenters/admin-command.ts runs it.
 */

export type AdminCommand =
  | { kind: 'help'; unknown?: string }
  | { kind: 'sessions'; page: number }
  | { kind: 'approvals'; page: number }
  | { kind: 'revoke'; target: string }
  | { kind: 'link'; target: string; phone: string }
  | { kind: 'unlink'; target: string }
  | { kind: 'audit'; count: number; page: number }
  | { kind: 'usage'; problem: string; usage: string };

export const USAGE = {
  sessions: '/admin sessions [page]',
  approvals: '/admin approvals [page]',
  revoke: '/admin revoke @user',
  link: '/admin link @user +14155550123',
  unlink: '/admin unlink @user',
  audit: '/admin audit [how many, 1 to 100; default 20] [page]',
} as const;

export const AUDIT_DEFAULT = 20;
export const AUDIT_MAX = 100;

/** A user mention as Slack escapes it, or a bare user id. */
const USER = /^(?:<@([UW][A-Z0-9]{2,})(?:\|[^>]*)?>|([UW][A-Z0-9]{2,}))$/;
/** Slack may turn a typed phone number into a tel: link. */
const TEL = /<tel:([^|>]+)(?:\|[^>]*)?>/g;

export function parseAdminCommand(text: string): AdminCommand {
  const [name = '', ...args] = text.trim().split(/\s+/).filter(Boolean);
  const sub = name.toLowerCase();
  switch (sub) {
    case '':
    case 'help':
      return { kind: 'help' };
    case 'sessions':
    case 'approvals': {
      const page = args.length === 0 ? 1 : args.length === 1 ? pageOf(args[0]!) : undefined;
      return page ? { kind: sub, page } : usage('Give at most a page number, a whole number from 1.', USAGE[sub]);
    }
    case 'revoke':
    case 'unlink': {
      const target = args.length === 1 ? userOf(args[0]!) : undefined;
      return target ? { kind: sub, target } : usage('Name exactly one user, as an @mention.', USAGE[sub]);
    }
    case 'link': {
      const target = args[0] ? userOf(args[0]) : undefined;
      const phone = args.slice(1).join(' ').replace(TEL, '$1').trim();
      if (!target) return usage('Name the user as an @mention, then the phone number.', USAGE.link);
      if (!phone) return usage('Give the phone number after the user.', USAGE.link);
      return { kind: 'link', target, phone };
    }
    case 'audit': {
      if (args.length === 0) return { kind: 'audit', count: AUDIT_DEFAULT, page: 1 };
      const count = Number(args[0]);
      const page = args.length === 2 ? pageOf(args[1]!) : 1;
      return args.length <= 2 && Number.isInteger(count) && count >= 1 && count <= AUDIT_MAX && page
        ? { kind: 'audit', count, page }
        : usage(
            `Give how many events to show, a whole number from 1 to ${AUDIT_MAX}, then a page number if you want a later page.`,
            USAGE.audit,
          );
    }
    default:
      return { kind: 'help', unknown: name.slice(0, 40) };
  }
}

/** Commands that change or read other users' state: they need a fresh admin step-up. */
export function needsStepUp(command: AdminCommand): boolean {
  return command.kind !== 'help' && command.kind !== 'usage';
}

function userOf(arg: string): string | undefined {
  const match = USER.exec(arg);
  return match ? (match[1] ?? match[2]) : undefined;
}

/** A page number: a whole number from 1 (a big one just finds no page). */
function pageOf(arg: string): number | undefined {
  const page = Number(arg);
  return /^\d+$/.test(arg) && Number.isSafeInteger(page) && page >= 1 ? page : undefined;
}

function usage(problem: string, text: string): AdminCommand {
  return { kind: 'usage', problem, usage: text };
}
