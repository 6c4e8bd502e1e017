import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { IniSyntaxError, parseIni, type IniSections } from './config-file.js';

/**
 * Configuration: config.ini (or the file named by env CONFIG_FILE), each key overridable by env
 * `<SECTION>_<KEY>` upper-cased, validated by zod into a typed, frozen Config.
 * Keys keep the names of Bandwidth's Python 2FA sample, so its config.ini works as it is.
 */

const e164 = z.e164({ error: 'must be a phone number in E.164 form, like +15551234567' });
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
const httpUrl = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' });
/** Run a cross-key rule even when another key of the section failed, so every problem is listed at once. */
const alsoWhenOtherKeysFail = { when: () => true };
const slackUserId = /^[UW][A-Z0-9]{2,}$/;
const userIdList = z
  .string()
  .default('')
  .transform((v) => v.split(',').map((id) => id.trim()).filter(Boolean))
  .pipe(z.array(z.string().regex(slackUserId, { error: 'must list Slack user ids like U012ABCDEF, separated by commas' })));

const schema = z
  .object({
    bandwidth: z
      .object({
        account_id: required,
        api_user: optionalText,
        api_password: optionalText,
        client_id: optionalText,
        client_secret: optionalText,
        voice_application_id: required,
        messaging_application_id: required,
        mfa_base_url: httpUrl.default('https://mfa.bandwidth.com/api/v1'),
        oauth_token_url: httpUrl.default('https://api.bandwidth.com/api/v1/oauth2/token'),
        timeout_seconds: intInRange(10, 1, 30),
      })
      .superRefine((b, ctx) => {
        const basic = Boolean(b.api_user || b.api_password);
        const oauth = Boolean(b.client_id || b.client_secret);
        if (basic && oauth) {
          ctx.addIssue({ code: 'custom', path: ['client_id'], message: 'set either client_id/client_secret (OAuth2) or api_user/api_password (Basic), not both' });
        } else if (!basic && !oauth) {
          ctx.addIssue({ code: 'custom', path: ['client_id'], message: 'is required: set client_id and client_secret (OAuth2), or api_user and api_password (Basic)' });
        } else if (oauth && !(b.client_id && b.client_secret)) {
          ctx.addIssue({ code: 'custom', path: [b.client_id ? 'client_secret' : 'client_id'], message: 'is required with its pair (client_id and client_secret go together)' });
        } else if (basic && !(b.api_user && b.api_password)) {
          ctx.addIssue({ code: 'custom', path: [b.api_user ? 'api_password' : 'api_user'], message: 'is required with its pair (api_user and api_password go together)' });
        }
      }, alsoWhenOtherKeysFail),
    numbers: z.object({
      from_number: z.string({ error: 'is required' }).pipe(e164),
      user_number: z.union([z.literal(''), e164]).default(''),
    }),
    slack: z
      .object({
        bot_token: required.pipe(z.string().startsWith('xoxb-', { error: 'must be a bot token (starts with xoxb-)' })),
        signing_secret: optionalText,
        app_token: optionalText.pipe(z.string().startsWith('xapp-', { error: 'must be an app-level token (starts with xapp-)' }).optional()),
        port: z.preprocess(wholeNumber, z.number({ error: 'must be a port number' }).int().min(0).max(65535, { error: 'must be a port number' })).default(3000),
        api_url: httpUrl.default('https://slack.com/api/'),
        app_name: z.string().min(1).max(40).default('PhoneGate'),
      })
      .superRefine((s, ctx) => {
        if (!s.app_token && !s.signing_secret) {
          ctx.addIssue({ code: 'custom', path: ['signing_secret'], message: 'is required in HTTP mode (or set app_token for Socket Mode)' });
        }
      }, alsoWhenOtherKeysFail),
    phones: z.record(z.string().regex(slackUserId, { error: 'is not a Slack user id (like U012ABCDEF)' }), e164).default({}),
    store: z.object({
      url: z
        .string()
        .default('sqlite://data/state.sqlite')
        .refine((u) => /^(sqlite|redis|rediss):\/\/./.test(u), { error: 'must start with sqlite://, redis:// or rediss://' }),
    }),
    policy: z.object({
      login_ttl_minutes: intInRange(720, 1, 1440),
      admin_ttl_minutes: intInRange(15, 1, 60),
      code_digits: intInRange(6, 6, 8),
      code_ttl_minutes: intInRange(5, 1, 10),
      max_attempts: intInRange(5, 1, 10),
      resend_cooldown_seconds: intInRange(30, 0, 600),
      max_sends_per_hour: intInRange(5, 1, 50),
      lockout_failures: intInRange(10, 1, 100),
      lockout_minutes: intInRange(15, 1, 1440),
      admins: userIdList,
      allowed_country_codes: z
        .string()
        .default('1')
        .transform((v) => v.split(',').map((c) => c.trim().replace(/^\+/, '')).filter(Boolean))
        .pipe(z.array(z.string().regex(/^[1-9]\d{0,2}$/, { error: 'must list calling codes like 1 or 1,44' })).min(1, { error: 'must list at least one calling code' })),
    }),
  })
  .transform(({ bandwidth: b, ...rest }) => ({
    ...rest,
    bandwidth: {
      accountId: b.account_id,
      auth:
        b.client_id && b.client_secret
          ? ({ kind: 'oauth', clientId: b.client_id, clientSecret: b.client_secret, tokenUrl: b.oauth_token_url } as const)
          : ({ kind: 'basic', username: b.api_user!, password: b.api_password! } as const),
      voiceApplicationId: b.voice_application_id,
      messagingApplicationId: b.messaging_application_id,
      mfaBaseUrl: b.mfa_base_url.replace(/\/+$/, ''),
      timeoutMs: b.timeout_seconds * 1000,
    },
  }));

export type Config = Readonly<z.output<typeof schema>>;
export type BandwidthConfig = Config['bandwidth'];
export type PolicyConfig = Config['policy'];

/** The sections and keys we read; env overrides are looked up for exactly these (plus [phones]). */
const KNOWN_KEYS: Record<string, readonly string[]> = {
  bandwidth: ['account_id', 'api_user', 'api_password', 'client_id', 'client_secret', 'voice_application_id', 'messaging_application_id', 'mfa_base_url', 'oauth_token_url', 'timeout_seconds'],
  numbers: ['from_number', 'user_number'],
  slack: ['bot_token', 'signing_secret', 'app_token', 'port', 'api_url', 'app_name'],
  store: ['url'],
  policy: ['login_ttl_minutes', 'admin_ttl_minutes', 'code_digits', 'code_ttl_minutes', 'max_attempts', 'resend_cooldown_seconds', 'max_sends_per_hour', 'lockout_failures', 'lockout_minutes', 'admins', 'allowed_country_codes'],
};

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

/** Merges file and env, then validates. Throws ConfigError listing every problem. */
export function parseConfig({ fileText, fileName = 'config.ini', env }: ConfigSource): Config {
  let sections: IniSections;
  try {
    sections = fileText === undefined ? {} : parseIni(fileText);
  } catch (e) {
    if (e instanceof IniSyntaxError) throw new ConfigError([`${fileName}: ${e.message}`]);
    throw e;
  }
  const merged: Record<string, Record<string, string>> = {};
  // A blank value means "not set" (config.ini.default leaves keys blank); a blank env var unsets the file's value.
  const set = (into: Record<string, string>, key: string, value: string | undefined) => {
    if (value !== undefined && value.trim() !== '') into[key] = value.trim();
  };
  for (const [section, keys] of Object.entries(KNOWN_KEYS)) {
    const values: Record<string, string> = {};
    for (const key of keys) {
      const envName = `${section}_${key}`.toUpperCase();
      set(values, key, envName in env ? env[envName] : sections[section]?.[key]);
    }
    merged[section] = values;
  }
  merged.phones = {};
  for (const [userId, phone] of Object.entries(sections.phones ?? {})) set(merged.phones, userId, phone);
  for (const [name, value] of Object.entries(env)) {
    if (name.startsWith('PHONES_')) set(merged.phones, name.slice('PHONES_'.length), value);
  }

  const result = schema.safeParse(merged);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => {
      const [section, key] = issue.path.map(String);
      const where = key ? `[${section}] ${key}` : `[${section}]`;
      const envName = !key ? '' : section === 'phones' ? ` (env PHONES_${key})` : ` (env ${`${section}_${key}`.toUpperCase()})`;
      // A bad [phones] key is reported by zod as "invalid_key"; its own message is the useful one.
      const message = issue.code === 'invalid_key' && issue.issues[0] ? issue.issues[0].message : issue.message;
      return `${where}${envName}: ${message}`;
    });
    if (fileText === undefined) problems.push(`(no ${fileName} was found: copy config.ini.default to config.ini and fill it in)`);
    throw new ConfigError(problems);
  }
  return deepFreeze(result.data);
}

/** Reads CONFIG_FILE (default ./config.ini) and the environment. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const fileName = env.CONFIG_FILE ?? 'config.ini';
  let fileText: string | undefined;
  try {
    fileText = readFileSync(fileName, 'utf8');
  } catch (e) {
    const missing = (e as NodeJS.ErrnoException).code === 'ENOENT';
    if (!missing || env.CONFIG_FILE !== undefined) {
      throw new ConfigError([`${fileName}: cannot be read (${(e as NodeJS.ErrnoException).code ?? 'error'})`]);
    }
  }
  return parseConfig({ fileText, fileName, env });
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}
