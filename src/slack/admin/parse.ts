/** `/admin` arguments as Slack sends them, with should_escape on: `<@U123|name>`, `<tel:+1...|...>`. */

export type AdminCommand =
  | { kind: 'help'; unknown?: string }
  | { kind: 'sessions' }
  | { kind: 'revoke'; target: string }
  | { kind: 'link'; target: string; phone: string }
  | { kind: 'unlink'; target: string }
  | { kind: 'audit'; count: number }
  | { kind: 'usage'; problem: string; usage: string };

export const USAGE = {
  sessions: '/admin sessions',
  revoke: '/admin revoke @user',
  link: '/admin link @user +15551234567',
  unlink: '/admin unlink @user',
  audit: '/admin audit [how many, 1 to 100; default 20]',
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
      return args.length === 0 ? { kind: 'sessions' } : usage('`sessions` takes no arguments.', USAGE.sessions);
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
      if (args.length === 0) return { kind: 'audit', count: AUDIT_DEFAULT };
      const count = Number(args[0]);
      return args.length === 1 && Number.isInteger(count) && count >= 1 && count <= AUDIT_MAX
        ? { kind: 'audit', count }
        : usage(`Give how many events to show, a whole number from 1 to ${AUDIT_MAX}.`, USAGE.audit);
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

function usage(problem: string, text: string): AdminCommand {
  return { kind: 'usage', problem, usage: text };
}
