import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { type IniSections, IniSyntaxError, parseIni } from './config-file.js';
import { isPhoneRegion, maskPhone, parsePhone, regionsOfCallingCode } from './core/phones.js';

/**
 * Configuration: config.ini (or the file named by env CONFIG_FILE), each key overridable by env
 * `<SECTION>_<KEY>` upper-cased, validated by zod into a typed, frozen Config.
 * Keys keep the names of Bandwidth's Python 2FA sample, so its config.ini works as it is.
 */

const e164 = z.e164({ error: 'must be a phone number in E.164 form, like +14155550123' });
const optionalText = z
  .string()
  .optional()
  .transform((v) => (v === '' ? undefined : v));
const required = z.string({ error: 'is required' }).min(1, { error: 'is required' });
/** Whole numbers only: "0x7", "7.5" or "1e3" are mistakes, not numbers. */
const wholeNumber = (v: unknown) => (typeof v === 'string' && /^-?\d+$/.test(v) ? Number(v) : v);
const intInRange = (fallback: number, min: number, max: number) =>
  z
    .preprocess(
      wholeNumber,
      z
        .number({ error: 'must be a whole number' })
        .int({ error: 'must be a whole number' })
        .min(min, { error: `must be between ${min} and ${max}` })
        .max(max, { error: `must be between ${min} and ${max}` }),
    )
    .default(fallback);
/** yes or no (true/false, on/off also read), in any case. */
const yesNo = (fallback: boolean) =>
  z
    .preprocess(
      (v) => (typeof v === 'string' ? v.toLowerCase() : v),
      z.enum(['yes', 'no', 'true', 'false', 'on', 'off'], { error: 'must be yes or no' }),
    )
    .transform((v) => v === 'yes' || v === 'true' || v === 'on')
    .default(fallback);
const httpUrl = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' });
/** Run a cross-key rule even when another key of the section failed, so every problem is listed at once. */
const alsoWhenOtherKeysFail = { when: () => true };
/**
 * Why a token, secret or credential is surely mistyped (a pasted comment, quotes, a space), or undefined.
 * A `#` or `;` inside is fine: passwords may hold them. The message never repeats the value.
 */
function credentialMistake(value: string): string | undefined {
  if (/\s[#;]/.test(value)) return 'has a comment after it (" #" or " ;"): put comments on a line of their own';
  if (/["'`\u2018\u2019\u201c\u201d]/.test(value))
    return 'contains a quote: write the value without quotes (they would be sent as part of it)';
  if (/\s/.test(value)) return 'contains a space: copy the value again, without spaces';
  return undefined;
}
const credential = z.string().superRefine((value, ctx) => {
  const mistake = credentialMistake(value);
  if (mistake) ctx.addIssue({ code: 'custom', message: mistake });
});
/** Ids (account, applications, Slack users) are not secret, but quotes around them are as surely a mistake. */
const QUOTE_MISTAKE = 'contains a quote: write the value without quotes (they would be read as part of it)';
const hasQuote = (value: string) => /["'`\u2018\u2019\u201c\u201d]/.test(value);
const requiredId = required.refine((value) => !hasQuote(value), { error: QUOTE_MISTAKE });
const optionalCredential = optionalText.pipe(credential.optional());
/** pino's levels; test/logger.test.ts checks this list against pino itself. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
const slackUserId = /^[UW][A-Z0-9]{2,}$/;
const splitList = (v: string) =>
  v
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);
/** A comma-separated list; blanks around items and empty items dropped. */
const commaList = z.string().default('').transform(splitList);
const userIdList = z
  .string()
  .default('')
  .refine((value) => !hasQuote(value), { error: QUOTE_MISTAKE, abort: true })
  .transform(splitList)
  .pipe(
    z.array(z.string().regex(slackUserId, { error: 'must list Slack user ids like U012ABCDEF, separated by commas' })),
  );

/** The commands PhoneGate itself answers: a declared command may not take one of these names. */
export const BUILT_IN_COMMANDS = ['/login', '/logout', '/whoami', '/admin'] as const;
/** Slack takes at most 50 slash commands per app; the built-in ones use four. */
const MAX_DECLARED_COMMANDS = 50 - BUILT_IN_COMMANDS.length;
/** Why a `[command /name]` section's name cannot be used, or undefined. */
function commandNameMistake(name: string): string | undefined {
  if (!/^\/[a-z0-9][a-z0-9._-]{0,30}$/.test(name))
    return 'is not a slash command name: write [command /name], lower case, up to 32 characters (letters, digits, . _ -)';
  if ((BUILT_IN_COMMANDS as readonly string[]).includes(name))
    return 'is a built-in command of PhoneGate: choose another name';
  return undefined;
}
/** One `[command /name]` section: an operation behind an HTTP endpoint, run once PhoneGate has checked the user. */
/** A list of Slack user ids and/or `admins` (which stands for [policy] admins); unset stays undefined. */
const peopleList = z
  .string()
  .optional()
  .refine((value) => value === undefined || !hasQuote(value), { error: QUOTE_MISTAKE, abort: true })
  .transform((v) =>
    v
      ?.split(',')
      .map((id) => id.trim())
      .filter(Boolean),
  )
  .pipe(
    z
      .array(
        z.string().regex(/^(admins|[UW][A-Z0-9]{2,})$/, {
          error: 'must list Slack user ids like U012ABCDEF, or admins, separated by commas',
        }),
      )
      .optional(),
  );
/** A channel id (public C…, private G…): where approval requests or break-glass notices are posted. */
const channelId = optionalText.pipe(
  z
    .string()
    .regex(/^[CG][A-Z0-9]{2,}$/, { error: 'must be a channel id like C012ABCDEF (not a #name)' })
    .optional(),
);
/** The built-in admin commands that may need another admin's approval ([policy] admin_approvals). */
export const APPROVABLE_ADMIN_COMMANDS = ['link', 'unlink', 'revoke'] as const;

const commandSchema = z.object({
  url: z.string({ error: 'is required' }).pipe(httpUrl),
  scope: z.enum(['login', 'admin'], { error: 'must be login or admin' }).default('login'),
  /** Unset: anyone with a live scope (so a linked phone). `admins` stands for [policy] admins. */
  allow: peopleList,
  /** Who may approve a run; setting it turns approvals on. */
  approvers: peopleList,
  /** Distinct approvers needed; the requester never counts. */
  approvals: intInRange(1, 1, 5),
  /** Default: required when approvers is set, else off. */
  reason: z.enum(['required', 'optional', 'off'], { error: 'must be required, optional or off' }).optional(),
  /** How long a request waits for its approvals, from when it was posted. */
  approval_minutes: intInRange(30, 1, 1440),
  /** The requester may run it without approvals, with a reason and a fresh code, and everyone is told. */
  break_glass: yesNo(false),
  description: z.string().max(2000, { error: "must be at most 2000 characters (Slack's limit)" }).optional(),
  usage: z.string().max(1000, { error: "must be at most 1000 characters (Slack's limit)" }).optional(),
  timeout_seconds: intInRange(10, 1, 30),
});
const commandsSchema = z
  .record(z.string(), commandSchema)
  .default({})
  .superRefine((commands, ctx) => {
    // Checked here rather than as the record's key schema, so a bad name does not hide the problems of its keys.
    for (const name of Object.keys(commands)) {
      const mistake = commandNameMistake(name);
      if (mistake) ctx.addIssue({ code: 'custom', path: [name], message: mistake });
    }
    if (Object.keys(commands).length > MAX_DECLARED_COMMANDS) {
      ctx.addIssue({
        code: 'custom',
        path: [],
        message: `at most ${MAX_DECLARED_COMMANDS} commands can be declared (Slack allows 50 per app)`,
      });
    }
  }, alsoWhenOtherKeysFail);
/** `[command /deploy]` -> `/deploy`; undefined for any other section. */
const commandOfSection = (section: string) => /^command\s+(.*)$/.exec(section)?.[1];
const COMMAND_KEYS = Object.keys(commandSchema.shape);

const sectionsSchema = z.object({
  bandwidth: z
    .object({
      account_id: requiredId,
      api_user: optionalCredential,
      api_password: optionalCredential,
      client_id: optionalCredential,
      client_secret: optionalCredential,
      voice_application_id: requiredId,
      messaging_application_id: requiredId,
      mfa_base_url: httpUrl.default('https://mfa.bandwidth.com/api/v1'),
      oauth_token_url: httpUrl.default('https://api.bandwidth.com/api/v1/oauth2/token'),
      timeout_seconds: intInRange(10, 1, 30),
    })
    .superRefine((b, ctx) => {
      const basic = Boolean(b.api_user || b.api_password);
      const oauth = Boolean(b.client_id || b.client_secret);
      if (basic && oauth) {
        ctx.addIssue({
          code: 'custom',
          path: ['client_id'],
          message: 'set either client_id/client_secret (OAuth2) or api_user/api_password (Basic), not both',
        });
      } else if (!basic && !oauth) {
        ctx.addIssue({
          code: 'custom',
          path: ['client_id'],
          message: 'is required: set client_id and client_secret (OAuth2), or api_user and api_password (Basic)',
        });
      } else if (oauth && !(b.client_id && b.client_secret)) {
        ctx.addIssue({
          code: 'custom',
          path: [b.client_id ? 'client_secret' : 'client_id'],
          message: 'is required with its pair (client_id and client_secret go together)',
        });
      } else if (basic && !(b.api_user && b.api_password)) {
        ctx.addIssue({
          code: 'custom',
          path: [b.api_user ? 'api_password' : 'api_user'],
          message: 'is required with its pair (api_user and api_password go together)',
        });
      }
    }, alsoWhenOtherKeysFail),
  numbers: z.object({
    from_number: z.string({ error: 'is required' }).pipe(e164),
    // Any common way of writing a number; normalisePhones() checks it and makes it E.164 first.
    user_number: z.string().default(''),
  }),
  slack: z
    .object({
      bot_token: required
        .pipe(credential)
        .pipe(z.string().startsWith('xoxb-', { error: 'must be a bot token (starts with xoxb-)' })),
      signing_secret: optionalCredential,
      app_token: optionalText.pipe(
        credential
          .pipe(z.string().startsWith('xapp-', { error: 'must be an app-level token (starts with xapp-)' }))
          .optional(),
      ),
      port: z
        .preprocess(
          wholeNumber,
          z.number({ error: 'must be a port number' }).int().min(0).max(65535, { error: 'must be a port number' }),
        )
        .optional(),
      /** The address HTTP mode (and Socket Mode's /healthz) listens on; unset: every interface. */
      host: optionalText.pipe(
        z
          .union([z.ipv6(), z.hostname()], {
            error: 'must be an IP address or a host name, like 127.0.0.1 or ::1 (no brackets, no port)',
          })
          .optional(),
      ),
      api_url: httpUrl.default('https://slack.com/api/'),
      app_name: z.string().min(1).max(40).default('PhoneGate'),
      shutdown_grace_seconds: intInRange(0, 0, 60),
    })
    .superRefine((s, ctx) => {
      if (!s.app_token && !s.signing_secret) {
        ctx.addIssue({
          code: 'custom',
          path: ['signing_secret'],
          message: 'is required in HTTP mode (or set app_token for Socket Mode)',
        });
      }
    }, alsoWhenOtherKeysFail)
    // Socket Mode serves /healthz only when a port was given; HTTP mode listens on 3000 by default.
    .transform(({ port, ...s }) => ({ ...s, port: port ?? 3000, port_set: port !== undefined })),
  // Numbers written any common way; normalisePhones() checks them and makes them E.164 first.
  phones: z
    .record(z.string().regex(slackUserId, { error: 'is not a Slack user id (like U012ABCDEF)' }), z.string())
    .default({}),
  store: z.object({
    url: z
      .string()
      .default('sqlite://data/state.sqlite')
      .refine((u) => /^(sqlite|redis|rediss|postgres|postgresql):\/\/./.test(u), {
        error: 'must start with sqlite://, redis://, rediss://, postgres:// or postgresql://',
      }),
    /** Redis only: start even when the server may evict keys (its maxmemory-policy is not noeviction). */
    allow_eviction: yesNo(false),
  }),
  policy: z.object({
    login_ttl_minutes: intInRange(720, 1, 1440),
    admin_ttl_minutes: intInRange(15, 1, 60),
    code_digits: intInRange(6, 6, 8),
    code_ttl_minutes: intInRange(5, 1, 10),
    max_attempts: intInRange(5, 1, 10),
    resend_cooldown_seconds: intInRange(30, 0, 600),
    max_sends_per_hour: intInRange(5, 1, 50),
    max_sends_per_phone_per_hour: intInRange(10, 1, 1000),
    max_sends_per_hour_total: intInRange(300, 1, 100_000),
    lockout_failures: intInRange(10, 1, 100),
    lockout_minutes: intInRange(15, 1, 1440),
    admins: userIdList,
    allowed_regions: z
      .string()
      .default('US, CA')
      .transform((v) =>
        v
          .split(',')
          .map((r) => r.trim().toUpperCase())
          .filter(Boolean),
      )
      .pipe(
        z
          .array(z.string())
          .min(1, { error: 'must list at least one region, like US' })
          .superRefine((regions, ctx) => {
            const unknown = regions.filter((r) => !isPhoneRegion(r));
            if (unknown.length > 0)
              ctx.addIssue({
                code: 'custom',
                message: `must list ISO 3166-1 alpha-2 region codes like US, CA or GB, separated by commas (not a region with phone numbers: ${unknown.join(', ')}${unknown.includes('UK') ? '; the United Kingdom is GB' : ''})`,
              });
          }),
      ),
    /** Empty by default: allowing a calling code admits every region that shares it (see startupNotes). */
    allowed_country_codes: commaList
      .transform((codes) => codes.map((c) => c.replace(/^\+/, '')))
      .pipe(z.array(z.string().regex(/^[1-9]\d{0,2}$/, { error: 'must list calling codes like 1 or 1,44' }))),
    /** Approval requests go here as one message, instead of a direct message to each approver. */
    approval_channel: channelId,
    /** Break-glass notices go here, instead of a direct message to every admin. */
    security_channel: channelId,
    /** Built-in admin commands that take effect only once another admin approves with their own code. */
    admin_approvals: commaList.pipe(
      z.array(z.enum(APPROVABLE_ADMIN_COMMANDS, { error: `must list any of ${APPROVABLE_ADMIN_COMMANDS.join(', ')}` })),
    ),
  }),
  actions: z.object({
    /** The token's `iss`. */
    issuer: z.string().default('phonegate'),
    signing_key_file: z.string().default('data/actions-signing-key.pem'),
    /** Older keys whose public halves stay in the JWKS while endpoints catch up. */
    previous_key_files: commaList,
  }),
  log: z.object({
    level: z
      .preprocess(
        (v) => (typeof v === 'string' ? v.toLowerCase() : v),
        z.enum(LOG_LEVELS, { error: `must be one of ${LOG_LEVELS.join(', ')}` }),
      )
      .default('info'),
  }),
});

const MINUTE_MS = 60_000;

/**
 * The one typed, normalised config the code uses: camelCase names, durations in milliseconds. The
 * file keeps the sample's snake_case keys; the code never sees them.
 */
const schema = sectionsSchema
  .extend({ commands: commandsSchema })
  .superRefine(approvalsCanBeMet, alsoWhenOtherKeysFail)
  .transform(({ bandwidth: b, numbers, slack, phones, store, policy: p, actions, commands, log }) => ({
    bandwidth: {
      accountId: b.account_id,
      auth:
        b.client_id && b.client_secret
          ? ({
              kind: 'oauth',
              clientId: b.client_id,
              clientSecret: b.client_secret,
              tokenUrl: b.oauth_token_url,
            } as const)
          : ({ kind: 'basic', username: b.api_user!, password: b.api_password! } as const),
      voiceApplicationId: b.voice_application_id,
      messagingApplicationId: b.messaging_application_id,
      mfaBaseUrl: b.mfa_base_url.replace(/\/+$/, ''),
      timeoutMs: b.timeout_seconds * 1000,
    },
    numbers: { fromNumber: numbers.from_number, userNumber: numbers.user_number || undefined },
    slack: {
      botToken: slack.bot_token,
      signingSecret: slack.signing_secret,
      appToken: slack.app_token,
      port: slack.port,
      /** Where the port listens; undefined: every interface. */
      host: slack.host,
      /** Socket Mode serves /healthz only when a port was given. */
      portSet: slack.port_set,
      apiUrl: slack.api_url,
      appName: slack.app_name,
      /** On SIGTERM, /healthz says 503 this long, still serving, before the port closes (for load balancers). */
      shutdownGraceMs: slack.shutdown_grace_seconds * 1000,
    },
    phones,
    store: { url: store.url, allowEviction: store.allow_eviction },
    policy: {
      ttlMs: { login: p.login_ttl_minutes * MINUTE_MS, admin: p.admin_ttl_minutes * MINUTE_MS },
      codeDigits: p.code_digits,
      codeTtlMs: p.code_ttl_minutes * MINUTE_MS,
      maxAttempts: p.max_attempts,
      resendCooldownMs: p.resend_cooldown_seconds * 1000,
      maxSendsPerHour: p.max_sends_per_hour,
      /** Per destination number, every user together (several may share one phone). */
      maxSendsPerPhonePerHour: p.max_sends_per_phone_per_hour,
      /** Every send of the bot, every replica together: the spend guard. */
      maxSendsPerHourTotal: p.max_sends_per_hour_total,
      lockoutFailures: p.lockout_failures,
      lockoutMs: p.lockout_minutes * MINUTE_MS,
      admins: p.admins,
      /** [policy] allowed_regions: ISO 3166-1 alpha-2 codes, upper case. */
      allowedRegions: p.allowed_regions,
      /** [policy] allowed_country_codes: calling codes like 1 or 44, each admitted whole, whatever the region. */
      allowedCallingCodes: p.allowed_country_codes,
      approvalChannel: p.approval_channel,
      securityChannel: p.security_channel,
      /** Built-in admin commands that need another admin's approval. */
      adminApprovals: p.admin_approvals,
    },
    actions: actionsOf(actions),
    /** The `[command /name]` sections, in file order. */
    commands: Object.entries(commands).map(([name, c]) => ({
      name,
      url: c.url,
      scope: c.scope,
      /** Who may run it; undefined: anyone with a live scope. `admins` is resolved to [policy] admins here. */
      allowed: c.allow && resolvePeople(c.allow, p.admins),
      /** Approvals, when `approvers` is set; undefined otherwise. */
      approval: c.approvers && {
        approvers: resolvePeople(c.approvers, p.admins),
        needed: c.approvals,
        minutes: c.approval_minutes,
        breakGlass: c.break_glass,
      },
      /** Whether a reason is asked before it runs (or before it is asked of the approvers). */
      reason: c.reason ?? (c.approvers ? 'required' : 'off'),
      description: c.description ?? defaultDescription(name),
      usage: c.usage,
      timeoutMs: c.timeout_seconds * 1000,
    })),
    log,
  }));

/** `admins` stands for [policy] admins; each person once. */
function resolvePeople(list: readonly string[], admins: readonly string[]): string[] {
  return [...new Set(list.flatMap((id) => (id === 'admins' ? admins : [id])))];
}

/**
 * A configuration whose approvals can never be given is a start-up error naming the key: more approvals
 * than approvers, or a requester who is also an approver and leaves too few others (the requester never
 * counts; with `allow` unset, the approvers themselves may request). `[policy] admin_approvals` needs a
 * second admin.
 */
function approvalsCanBeMet(
  config: {
    policy: { admins: string[]; admin_approvals: string[] };
    commands: Record<string, z.output<typeof commandSchema>>;
  },
  ctx: z.RefinementCtx,
): void {
  const { admins } = config.policy;
  const issue = (path: Array<string>, message: string) => ctx.addIssue({ code: 'custom', path, message });
  for (const [name, c] of Object.entries(config.commands ?? {})) {
    if (!c.approvers) {
      if (c.break_glass)
        issue(
          ['commands', name, 'break_glass'],
          'needs approvers: break glass skips approvals, so set approvers first',
        );
      continue;
    }
    const approvers = resolvePeople(c.approvers, admins);
    if (approvers.length < c.approvals) {
      issue(
        ['commands', name, 'approvals'],
        `is ${c.approvals}, but approvers lists only ${approvers.length} ${approvers.length === 1 ? 'person' : 'people'}${c.approvers.includes('admins') ? ' ([policy] admins included)' : ''}: it could never be approved`,
      );
      continue;
    }
    const requesters = c.allow ? resolvePeople(c.allow, admins) : approvers;
    const short = requesters.find((r) => approvers.includes(r) && approvers.length - 1 < c.approvals);
    if (short)
      issue(
        ['commands', name, 'approvals'],
        `is ${c.approvals}, but ${short} may run ${name} and is one of its ${approvers.length} approvers, which leaves only ${approvers.length - 1} ${approvers.length - 1 === 1 ? 'other' : 'others'} to approve their requests (nobody approves their own)`,
      );
  }
  if (config.policy.admin_approvals?.length > 0 && admins.length < 2)
    issue(
      ['policy', 'admin_approvals'],
      'needs at least two [policy] admins: another admin must approve, and nobody approves their own command',
    );
}

export type Config = Readonly<z.output<typeof schema>>;
export type BandwidthConfig = Config['bandwidth'];
export type PolicyConfig = Config['policy'];
export type DeclaredCommand = Config['commands'][number];

/**
 * The keys of each section, read from the schema so that a new key or section needs no second list.
 * `undefined` marks a section whose keys are free ([phones]: Slack user ids). Env overrides are looked up
 * for exactly these keys (plus PHONES_<id>); config.ini may hold nothing else.
 */
const KNOWN_KEYS: Readonly<Record<string, readonly string[] | undefined>> = Object.fromEntries(
  Object.entries(sectionsSchema.shape).map(([section, inner]) => [section, keysOf(inner)]),
);

function keysOf(schema: z.ZodType): string[] | undefined {
  if (schema instanceof z.ZodObject) return Object.keys(schema.shape);
  if (schema instanceof z.ZodPipe) return keysOf(schema.in as z.ZodType); // an object with a .transform()
  return undefined;
}

/** A config that cannot be used: one line per problem, each naming the key. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

export interface ConfigSource {
  /** Contents of config.ini, or undefined when there is no file (env only). */
  fileText?: string | undefined;
  fileName?: string;
  env: Record<string, string | undefined>;
}

/** The file's sections; none when there is no file. Throws ConfigError naming the file and the line. */
function sectionsOf(fileText: string | undefined, fileName: string): IniSections {
  try {
    return fileText === undefined ? {} : parseIni(fileText);
  } catch (e) {
    if (e instanceof IniSyntaxError) throw new ConfigError([`${fileName}: ${e.message}`]);
    throw e;
  }
}

/** Merges file and env, then validates. Throws ConfigError listing every problem. */
export function parseConfig({ fileText, fileName = 'config.ini', env }: ConfigSource): Config {
  const sections = sectionsOf(fileText, fileName);
  const { merged, emptyInEnv } = mergeEnv(sections, env);
  const phoneIssues = normalisePhones(merged);
  const commands = commandSections(sections);

  const result = schema.safeParse({ ...merged, commands });
  const issues: Issue[] = [
    ...unknownKeys(sections),
    ...(result.success
      ? []
      : result.error.issues.map((issue) => {
          const path = sectionPath(issue.path.map(String));
          // A bad [phones] key or command name is reported by zod as "invalid_key"; its own message is the useful one.
          const message = issue.code === 'invalid_key' && issue.issues[0] ? issue.issues[0].message : issue.message;
          const envName = path.fileOnly ? undefined : emptyInEnv.get(path.path.slice(0, 2).join(' '));
          return envName && message.startsWith('is required')
            ? {
                ...path,
                message: `${message} (${envName} is empty in the environment, and ${fileName} has no value for it)`,
              }
            : { ...path, message };
        })),
    ...phoneIssues,
  ];
  if (!result.success || issues.length > 0) {
    const problems = issues.map(describeIssue);
    if (fileText === undefined)
      problems.push(`(no ${fileName} was found: copy config.ini.default to config.ini and fill it in)`);
    throw new ConfigError(problems);
  }
  return deepFreeze(result.data);
}

/**
 * The file's sections of known keys with the environment over them. A blank value means "not set"
 * (config.ini.default leaves keys blank), in the file and in the environment alike: an empty variable (a
 * copied `.env.example` line `KEY=`) never erases the file's value. `emptyInEnv`: "section key" -> the empty
 * variable's name, so that a key still missing can say where its blank came from.
 */
function mergeEnv(
  sections: IniSections,
  env: Record<string, string | undefined>,
): { merged: Record<string, Record<string, string>>; emptyInEnv: Map<string, string> } {
  const merged: Record<string, Record<string, string>> = {};
  const emptyInEnv = new Map<string, string>();
  const set = (into: Record<string, string>, key: string, value: string | undefined) => {
    if (value !== undefined && value.trim() !== '') into[key] = value.trim();
  };
  for (const [section, keys] of Object.entries(KNOWN_KEYS)) {
    if (!keys) continue;
    const values: Record<string, string> = {};
    for (const key of keys) {
      const envName = `${section}_${key}`.toUpperCase();
      set(values, key, sections[section]?.[key]);
      set(values, key, env[envName]);
      if (env[envName] !== undefined && env[envName].trim() === '') emptyInEnv.set(`${section} ${key}`, envName);
    }
    merged[section] = values;
  }
  merged.phones = {};
  for (const [userId, phone] of Object.entries(sections.phones ?? {})) set(merged.phones, userId, phone);
  for (const [name, value] of Object.entries(env)) {
    if (name.startsWith('PHONES_')) set(merged.phones, name.slice('PHONES_'.length), value);
  }
  return { merged, emptyInEnv };
}

/** [command /name] sections, by name, blank values left out. File only: a section name with a slash has no env name. */
function commandSections(sections: IniSections): Record<string, Record<string, string>> {
  const commands: Record<string, Record<string, string>> = {};
  for (const [section, values] of Object.entries(sections)) {
    const name = commandOfSection(section);
    if (name === undefined) continue;
    commands[name] = Object.fromEntries(Object.entries(values).filter(([, value]) => value.trim() !== ''));
  }
  return commands;
}

/**
 * The declared commands alone, as `npm run manifest` lists them: it must work before the rest of the
 * config is filled in (the Slack app, and so its tokens, are made from the manifest). Throws ConfigError.
 */
export function declaredCommandsOf({
  fileText,
  fileName = 'config.ini',
}: Omit<ConfigSource, 'env'>): Array<Pick<DeclaredCommand, 'name' | 'description' | 'usage'>> {
  const sections = sectionsOf(fileText, fileName);
  const result = commandsSchema.safeParse(commandSections(sections));
  if (!result.success)
    throw new ConfigError(
      result.error.issues.map((issue) =>
        describeIssue({ ...sectionPath(['commands', ...issue.path.map(String)]), message: issue.message }),
      ),
    );
  return Object.entries(result.data).map(([name, c]) => ({
    name,
    description: c.description ?? defaultDescription(name),
    usage: c.usage,
  }));
}

/**
 * What `npm run jwks` reads: [actions] (file and environment, as the bot reads it) and the names of the
 * declared commands. Nothing else is read, so it works before Slack and Bandwidth are set up, or on a host
 * that holds only the keys. Throws ConfigError with the problems of those sections.
 */
export function signingConfigOf({ fileText, fileName = 'config.ini', env }: ConfigSource): {
  actions: Config['actions'];
  commands: string[];
} {
  const sections = sectionsOf(fileText, fileName);
  const actions = sectionsSchema.shape.actions.safeParse(mergeEnv(sections, env).merged.actions);
  const commands = commandsSchema.safeParse(commandSections(sections));
  const ours = (issue: Issue) => issue.path[0] === 'actions' || commandOfSection(issue.path[0]!) !== undefined;
  const issues: Issue[] = [
    ...unknownKeys(sections).filter(ours),
    ...(actions.error?.issues ?? []).map((issue) => ({
      path: ['actions', ...issue.path.map(String)],
      message: issue.message,
    })),
    ...(commands.error?.issues ?? []).map((issue) => ({
      ...sectionPath(['commands', ...issue.path.map(String)]),
      message: issue.message,
    })),
  ];
  if (!actions.success || !commands.success || issues.length > 0) throw new ConfigError(issues.map(describeIssue));
  return { actions: actionsOf(actions.data), commands: Object.keys(commands.data) };
}

const actionsOf = (actions: z.output<typeof sectionsSchema.shape.actions>) => ({
  issuer: actions.issuer,
  signingKeyFile: actions.signing_key_file,
  previousKeyFiles: actions.previous_key_files,
});

const defaultDescription = (name: string) => `Runs ${name} once PhoneGate has checked your phone`;

interface Issue {
  /** [section, key]; no env name when `fileOnly` (the key is not one we read, so no env variable sets it). */
  path: string[];
  message: string;
  fileOnly?: boolean;
}

/** A schema path as the file spells it: ['commands', '/deploy', 'url'] is `[command /deploy] url`, which no env variable sets. */
function sectionPath(path: string[]): Pick<Issue, 'path' | 'fileOnly'> {
  if (path[0] !== 'commands') return { path };
  return { path: [path[1] === undefined ? 'command /name' : `command ${path[1]}`, ...path.slice(2)], fileOnly: true };
}

/** One problem line: `[section] key (env SECTION_KEY): message`. */
function describeIssue({ path: [section, key], message, fileOnly }: Issue): string {
  const where = key ? `[${section}] ${key}` : `[${section}]`;
  const envName =
    !key || fileOnly
      ? ''
      : section === 'phones'
        ? ` (env PHONES_${key})`
        : ` (env ${`${section}_${key}`.toUpperCase()})`;
  return `${where}${envName}: ${message}`;
}

/** Sections and keys of the file that we do not read: a typo there would otherwise silently leave a default in force. */
function unknownKeys(file: IniSections): Issue[] {
  const issues: Issue[] = [];
  const sectionNames = Object.keys(KNOWN_KEYS);
  for (const [section, values] of Object.entries(file)) {
    const declared = commandOfSection(section) !== undefined;
    if (!declared && !(section in KNOWN_KEYS)) {
      const close = /^commands?\b/.test(section) ? 'command /name' : closest(section, sectionNames);
      const hint = close
        ? `did you mean [${close}]?`
        : `the sections are ${sectionNames.map((n) => `[${n}]`).join(', ')}, and [command /name]`;
      issues.push({ path: [section], message: `is not a known section: ${hint}`, fileOnly: true });
      continue;
    }
    const keys = declared ? COMMAND_KEYS : KNOWN_KEYS[section];
    if (!keys) continue; // free keys, checked by the schema
    for (const key of Object.keys(values)) {
      if (keys.includes(key)) continue;
      const home = sectionNames.find((other) => KNOWN_KEYS[other]?.includes(key));
      const close = closest(key, keys);
      const hint = home
        ? `it belongs in [${home}]`
        : close
          ? `did you mean ${close}?`
          : `see config.ini.default for the keys of [${section}]`;
      issues.push({ path: [section, key], message: `is not a known key: ${hint}`, fileOnly: true });
    }
  }
  return issues;
}

/** The known name nearest to a typo, if it is near enough to be what was meant. */
function closest(name: string, known: readonly string[]): string | undefined {
  let best: { name: string; distance: number } | undefined;
  for (const candidate of known) {
    const distance = editDistance(name, candidate);
    if (!best || distance < best.distance) best = { name: candidate, distance };
  }
  return best && best.distance <= Math.max(2, Math.floor(name.length / 5)) ? best.name : undefined;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++)
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    previous = current;
  }
  return previous[b.length]!;
}

/**
 * [phones] and user_number as `/admin link` reads a number: written any common way ("(415) 555-0101",
 * "+1 415 555 0101"), held to its rules (parsePhone: a personal line in an allowed region, or calling
 * code), and kept in E.164. A refused number, or a quoted
 * user id or number, is reported (never echoed) and left out, so the schema sees only E.164 numbers.
 */
function normalisePhones(merged: Record<string, Record<string, string>>): Issue[] {
  const { allowed_regions: regions, allowed_country_codes: codes } = sectionsSchema.shape.policy.shape;
  const allowedRegions = regions.safeParse(merged.policy?.allowed_regions);
  const allowedCallingCodes = codes.safeParse(merged.policy?.allowed_country_codes);
  // Reported by the schema; the numbers are read once these are right.
  if (!allowedRegions.success || !allowedCallingCodes.success) return [];
  const rules = { allowedRegions: allowedRegions.data, allowedCallingCodes: allowedCallingCodes.data };
  const issues: Issue[] = [];
  const read = (path: string[], phone: string): string | undefined => {
    if (hasQuote(phone)) {
      issues.push({ path, message: QUOTE_MISTAKE });
      return undefined;
    }
    const parsed = parsePhone(phone, rules);
    if (parsed.ok) return parsed.e164;
    issues.push({ path, message: `is refused: ${parsed.detail.charAt(0).toLowerCase()}${parsed.detail.slice(1)}` });
    return undefined;
  };
  const numbers = merged.numbers ?? {};
  if (numbers.user_number) {
    const e164 = read(['numbers', 'user_number'], numbers.user_number);
    if (e164) numbers.user_number = e164;
    else delete numbers.user_number;
  }
  const phones: Record<string, string> = {};
  for (const [userId, phone] of Object.entries(merged.phones ?? {})) {
    if (hasQuote(userId)) {
      issues.push({
        path: ['phones', userId],
        message: 'contains a quote: write the user id without quotes',
        fileOnly: true,
      });
      continue;
    }
    const e164 = read(['phones', userId], phone);
    if (e164) phones[userId] = e164;
  }
  merged.phones = phones;
  return issues;
}

/** Lines to log at start: settings that work but deserve a second look. */
export function startupNotes(config: Config): string[] {
  const notes: string[] = [];
  if (config.bandwidth.auth.kind === 'basic') {
    notes.push(
      '[bandwidth] uses Basic auth (api_user/api_password): Bandwidth retires Basic-auth API users on 2026-12-02; set client_id and client_secret (OAuth2) instead',
    );
  }
  for (const command of config.commands) {
    if (command.allowed?.length === 0)
      notes.push(
        `[command ${command.name}] allow lists nobody ([policy] admins is empty): nobody can run ${command.name}`,
      );
    const url = new URL(command.url);
    if (url.protocol === 'http:' && !['localhost', '127.0.0.1', '[::1]'].includes(url.hostname)) {
      notes.push(
        `[command ${command.name}] url is plain http: the token and the request travel unencrypted; use https`,
      );
    }
  }
  for (const code of config.policy.allowedCallingCodes) {
    const beyond = regionsOfCallingCode(code).filter((r) => !config.policy.allowedRegions.includes(r));
    if (beyond.length === 0) continue;
    const caribbean =
      code === '1'
        ? ' (every NANP region: the Caribbean destinations toll fraud targets, +1 876 Jamaica, +1 809 Dominican Republic and more, included)'
        : '';
    notes.push(
      `[policy] allowed_country_codes admits every number in +${code}, whatever its region: beyond allowed_regions (${config.policy.allowedRegions.join(', ')}) also ${beyond.join(', ')}${caribbean}. Leave allowed_country_codes empty to allow by region only`,
    );
  }
  if (config.numbers.userNumber) {
    notes.push(
      `[numbers] user_number is set: the codes of every user not listed in [phones] go to one phone (${maskPhone(config.numbers.userNumber)})`,
    );
  }
  return notes;
}

/**
 * The file named by CONFIG_FILE (default ./config.ini): no text when the default file is missing (the
 * environment may hold everything). Throws ConfigError when it cannot be read, or CONFIG_FILE names no file.
 */
export function readConfigFile(env: Record<string, string | undefined>): { fileText?: string; fileName: string } {
  const fileName = env.CONFIG_FILE ?? 'config.ini';
  try {
    return { fileText: readFileSync(fileName, 'utf8'), fileName };
  } catch (e) {
    const missing = (e as NodeJS.ErrnoException).code === 'ENOENT';
    if (!missing || env.CONFIG_FILE !== undefined) {
      throw new ConfigError([`${fileName}: cannot be read (${(e as NodeJS.ErrnoException).code ?? 'error'})`]);
    }
    return { fileName };
  }
}

/** Reads CONFIG_FILE (default ./config.ini) and the environment. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  return parseConfig({ ...readConfigFile(env), env });
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}
