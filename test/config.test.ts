import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseEnv } from 'node:util';
import { afterAll, afterEach, describe, expect, test } from 'vitest';
import { type Config, ConfigError, declaredCommandsOf, loadConfig, parseConfig, startupNotes } from '../src/config.js';
import { parsePhone } from '../src/core/phones.js';
import { USAGE } from '../src/slack/input/admin-command.js';

const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
const SAMPLE_INI = readFileSync(fixture('sample-config.ini'), 'utf8');
const DEFAULT_INI = readFileSync(fileURLToPath(new URL('../config.ini.default', import.meta.url)), 'utf8');

type Env = Record<string, string | undefined>;

/** The Slack settings the sample's config.ini lacks (HTTP mode). */
const SLACK_ENV: Env = { SLACK_BOT_TOKEN: 'xoxb-test-bot-token', SLACK_SIGNING_SECRET: 'test-signing-secret' };

/** A complete, valid configuration from the environment alone (Basic credentials). */
const ENV_ONLY: Env = {
  BANDWIDTH_ACCOUNT_ID: '9900000',
  BANDWIDTH_API_USER: 'env-api-user',
  BANDWIDTH_API_PASSWORD: 'env-api-password',
  BANDWIDTH_VOICE_APPLICATION_ID: 'voice-app-0001',
  BANDWIDTH_MESSAGING_APPLICATION_ID: 'messaging-app-0001',
  NUMBERS_FROM_NUMBER: '+15553330100',
  ...SLACK_ENV,
};

/** ENV_ONLY with some keys changed; a value of undefined removes the key. */
function envWith(changes: Env): Env {
  const env: Env = { ...ENV_ONLY, ...changes };
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete env[k];
  return env;
}

/** Runs fn and returns the ConfigError it throws (fails the test if it throws nothing or something else). */
function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return e as ConfigError;
  }
  throw new Error('expected a ConfigError, but the configuration was accepted');
}

/** The problems parseConfig reports; fileText defaults to an empty config.ini (no "no config.ini" hint). */
const problemsOf = (env: Env, fileText = '') => configError(() => parseConfig({ fileText, env })).problems;

/** Every object reachable from value, value included. */
function allObjects(value: unknown, found: object[] = []): object[] {
  if (value && typeof value === 'object') {
    found.push(value);
    for (const inner of Object.values(value)) allObjects(inner, found);
  }
  return found;
}

describe("the sample's config.ini", () => {
  // Rule: the Python sample's config.ini works as it is (Slack settings from env), password with # and ; intact.
  test('parses into the typed config', () => {
    const config = parseConfig({ fileText: SAMPLE_INI, env: SLACK_ENV });
    expect(config.bandwidth).toEqual({
      accountId: '9900000',
      auth: { kind: 'basic', username: 'sample-api-user', password: 'ab#cd;ef' },
      voiceApplicationId: '11111111-aaaa-4bbb-8ccc-000000000001',
      messagingApplicationId: '22222222-aaaa-4bbb-8ccc-000000000002',
      mfaBaseUrl: 'https://mfa.bandwidth.com/api/v1',
      timeoutMs: 10_000,
    });
    expect(config.numbers).toEqual({ fromNumber: '+15553330100', userNumber: '+12015550101' });
    expect(config.slack.botToken).toBe('xoxb-test-bot-token');
    expect(config.slack.signingSecret).toBe('test-signing-secret');
  });

  // Rule: the shipped template is valid INI; left blank (Slack keys from env), it only yields problems for the blank keys.
  test('config.ini.default, unfilled, reports the blank required keys and nothing else', () => {
    const problems = problemsOf(SLACK_ENV, DEFAULT_INI);
    expect(problems).toEqual([
      '[bandwidth] account_id (env BANDWIDTH_ACCOUNT_ID): is required',
      '[bandwidth] voice_application_id (env BANDWIDTH_VOICE_APPLICATION_ID): is required',
      '[bandwidth] messaging_application_id (env BANDWIDTH_MESSAGING_APPLICATION_ID): is required',
      '[bandwidth] client_id (env BANDWIDTH_CLIENT_ID): is required: set client_id and client_secret (OAuth2), or api_user and api_password (Basic)',
      '[numbers] from_number (env NUMBERS_FROM_NUMBER): is required',
    ]);
  });

  // Rule: config.ini.default, filled in with the sample's keys, is a working config (its commented-out defaults stay defaults).
  test('config.ini.default, filled in, parses with the defaults', () => {
    const filled = DEFAULT_INI.replace(/^account_id =$/m, 'account_id = 9900000')
      .replace(/^api_user =$/m, 'api_user = u')
      .replace(/^api_password =$/m, 'api_password = p#1;2')
      .replace(/^voice_application_id =$/m, 'voice_application_id = v')
      .replace(/^messaging_application_id =$/m, 'messaging_application_id = m')
      .replace(/^from_number =$/m, 'from_number = +15553330100')
      .replace(/^bot_token =$/m, 'bot_token = xoxb-1')
      .replace(/^app_token =$/m, 'app_token = xapp-1');
    const config = parseConfig({ fileText: filled, env: {} });
    expect(config.bandwidth.auth).toEqual({ kind: 'basic', username: 'u', password: 'p#1;2' });
    expect(config.slack.appToken).toBe('xapp-1');
    expect(config.slack.port).toBe(3000);
    expect(config.policy.codeDigits).toBe(6);
  });
});

describe('environment overrides', () => {
  // Rule: env <SECTION>_<KEY> in upper case wins over the file's value.
  test('env beats the file', () => {
    const config = parseConfig({
      fileText: SAMPLE_INI,
      env: {
        ...SLACK_ENV,
        BANDWIDTH_ACCOUNT_ID: '1234567',
        NUMBERS_FROM_NUMBER: '+15559990000',
        BANDWIDTH_API_PASSWORD: 'from-env',
      },
    });
    expect(config.bandwidth.accountId).toBe('1234567');
    expect(config.numbers.fromNumber).toBe('+15559990000');
    expect(config.bandwidth.auth).toEqual({ kind: 'basic', username: 'sample-api-user', password: 'from-env' });
  });

  // Rule: env overrides reach every section, and numeric values are coerced to numbers.
  test('env sets [slack], [store] and [policy] keys, typed', () => {
    const config = parseConfig({
      fileText: SAMPLE_INI,
      env: {
        ...SLACK_ENV,
        SLACK_PORT: '8080',
        STORE_URL: 'redis://cache:6379',
        POLICY_CODE_DIGITS: '8',
        POLICY_ADMINS: 'U012ABCDEF, W034GHIJKL',
      },
    });
    expect(config.slack.port).toBe(8080);
    expect(config.store.url).toBe('redis://cache:6379');
    expect(
      parseConfig({ fileText: SAMPLE_INI, env: { ...SLACK_ENV, STORE_URL: 'postgres://phonegate@db:5432/phonegate' } })
        .store.url,
    ).toBe('postgres://phonegate@db:5432/phonegate');
    expect(config.policy.codeDigits).toBe(8);
    expect(config.policy.admins).toEqual(['U012ABCDEF', 'W034GHIJKL']);
  });

  // Rule: the env name is exactly upper-cased <SECTION>_<KEY>; a lower-case env name is not an override.
  test('lower-case env names are not read', () => {
    const config = parseConfig({ fileText: SAMPLE_INI, env: { ...SLACK_ENV, bandwidth_account_id: '1234567' } });
    expect(config.bandwidth.accountId).toBe('9900000');
  });

  // Rule: PHONES_<USERID> adds a phone for that user; it joins the file's [phones] and wins for the same user.
  test('PHONES_<USERID> adds and overrides phones', () => {
    const fileText = `${SAMPLE_INI}\n[phones]\nU0AAAAAAA1 = +12015550001\nU0BBBBBBB2 = +12015550002\n`;
    const config = parseConfig({
      fileText,
      env: { ...SLACK_ENV, PHONES_U0BBBBBBB2: '+12015550022', PHONES_W0CCCCCCC3: '+12015550003' },
    });
    expect(config.phones).toEqual({
      U0AAAAAAA1: '+12015550001',
      U0BBBBBBB2: '+12015550022',
      W0CCCCCCC3: '+12015550003',
    });
  });

  // Rule: [phones] keys must be Slack user ids; a bad one is reported under [phones] with its name.
  test('PHONES_ with a non-user-id is rejected', () => {
    const problems = problemsOf(envWith({ PHONES_alice: '+12015550001' }));
    expect(problems).toHaveLength(1);
    // (The env name is optional here: today [phones] lines carry none; see the report on PHONES_ problem lines.)
    expect(problems[0]).toMatch(/^\[phones\] alice( \(env PHONES_alice\))?: /);
  });
});

describe('defaults', () => {
  // Rule: keys left out take the documented defaults.
  test('every optional key has its default', () => {
    const config = parseConfig({ env: ENV_ONLY });
    expect(config.bandwidth.mfaBaseUrl).toBe('https://mfa.bandwidth.com/api/v1');
    expect(config.bandwidth.timeoutMs).toBe(10_000);
    expect(config.slack.apiUrl).toBe('https://slack.com/api/');
    expect(config.slack.port).toBe(3000);
    expect(config.slack.appName).toBe('PhoneGate');
    expect(config.slack.appToken).toBeUndefined();
    expect(config.numbers.userNumber).toBeUndefined();
    expect(config.phones).toEqual({});
    expect(config.store.url).toBe('sqlite://data/state.sqlite');
    // One normalised shape for the code: camelCase, durations in milliseconds.
    expect(config.policy).toEqual({
      ttlMs: { login: 720 * 60_000, admin: 15 * 60_000 },
      codeDigits: 6,
      codeTtlMs: 5 * 60_000,
      maxAttempts: 5,
      resendCooldownMs: 30_000,
      maxSendsPerHour: 5,
      maxSendsPerPhonePerHour: 10,
      maxSendsPerHourTotal: 300,
      lockoutFailures: 10,
      lockoutMs: 15 * 60_000,
      admins: [],
      allowedRegions: ['US', 'CA'],
      allowedCallingCodes: [],
      approvalChannel: undefined,
      securityChannel: undefined,
      adminApprovals: [],
    });
  });

  // Rule: the OAuth2 token URL defaults to Bandwidth's, and shows up in the OAuth2 auth settings.
  test('oauth_token_url default', () => {
    const config = parseConfig({
      env: envWith({
        BANDWIDTH_API_USER: undefined,
        BANDWIDTH_API_PASSWORD: undefined,
        BANDWIDTH_CLIENT_ID: 'cid',
        BANDWIDTH_CLIENT_SECRET: 'csecret',
      }),
    });
    expect(config.bandwidth.auth).toEqual({
      kind: 'oauth',
      clientId: 'cid',
      clientSecret: 'csecret',
      tokenUrl: 'https://api.bandwidth.com/api/v1/oauth2/token',
    });
  });

  // Rule: a trailing slash on mfa_base_url is dropped so paths join cleanly.
  test('mfa_base_url loses trailing slashes', () => {
    expect(
      parseConfig({ env: envWith({ BANDWIDTH_MFA_BASE_URL: 'http://127.0.0.1:9999/api/v1//' }) }).bandwidth.mfaBaseUrl,
    ).toBe('http://127.0.0.1:9999/api/v1');
  });

  // Rule: allowed_country_codes is a comma list; spaces and a leading "+" are dropped.
  test('allowed_country_codes is parsed as a list', () => {
    expect(
      parseConfig({ env: envWith({ POLICY_ALLOWED_COUNTRY_CODES: '+1, 44 ,353' }) }).policy.allowedCallingCodes,
    ).toEqual(['1', '44', '353']);
  });
});

describe('policy ranges', () => {
  const ranges: Array<[key: string, min: number, max: number]> = [
    ['code_digits', 6, 8],
    ['code_ttl_minutes', 1, 10],
    ['max_attempts', 1, 10],
    ['resend_cooldown_seconds', 0, 600],
    ['max_sends_per_hour', 1, 50],
    ['max_sends_per_phone_per_hour', 1, 1000],
    ['max_sends_per_hour_total', 1, 100_000],
    ['lockout_failures', 1, 100],
    ['lockout_minutes', 1, 1440],
    ['admin_ttl_minutes', 1, 60],
    ['login_ttl_minutes', 1, 1440],
  ];
  /** Where each key lands in the normalised config, in the key's own unit. */
  const read: Record<string, (p: Config['policy']) => number> = {
    code_digits: (p) => p.codeDigits,
    code_ttl_minutes: (p) => p.codeTtlMs / 60_000,
    max_attempts: (p) => p.maxAttempts,
    resend_cooldown_seconds: (p) => p.resendCooldownMs / 1000,
    max_sends_per_hour: (p) => p.maxSendsPerHour,
    max_sends_per_phone_per_hour: (p) => p.maxSendsPerPhonePerHour,
    max_sends_per_hour_total: (p) => p.maxSendsPerHourTotal,
    lockout_failures: (p) => p.lockoutFailures,
    lockout_minutes: (p) => p.lockoutMs / 60_000,
    admin_ttl_minutes: (p) => p.ttlMs.admin / 60_000,
    login_ttl_minutes: (p) => p.ttlMs.login / 60_000,
  };

  // Rule: both ends of each range are accepted, as numbers.
  test.each(ranges)('%s accepts %i and %i', (key, min, max) => {
    const envName = `POLICY_${key.toUpperCase()}`;
    const policy = (value: number) => parseConfig({ env: envWith({ [envName]: String(value) }) }).policy;
    expect(read[key]!(policy(min))).toBe(min);
    expect(read[key]!(policy(max))).toBe(max);
  });

  // Rule: one below the minimum and one above the maximum are each rejected with a single line naming key, env and range.
  test.each(ranges)('%s rejects below %i and above %i', (key, min, max) => {
    const envName = `POLICY_${key.toUpperCase()}`;
    const expected = `[policy] ${key} (env ${envName}): must be between ${min} and ${max}`;
    expect(problemsOf(envWith({ [envName]: String(min - 1) }))).toEqual([expected]);
    expect(problemsOf(envWith({ [envName]: String(max + 1) }))).toEqual([expected]);
  });

  // Rule: the file's [policy] values are range-checked exactly like env values.
  test('an out-of-range value in the file is rejected too', () => {
    expect(problemsOf(SLACK_ENV, `${SAMPLE_INI}\n[policy]\ncode_ttl_minutes = 11\n`)).toEqual([
      '[policy] code_ttl_minutes (env POLICY_CODE_TTL_MINUTES): must be between 1 and 10',
    ]);
  });

  // Rule: policy numbers must be whole numbers; fractions and words are refused.
  test.each(['6.5', 'seven'])('code_digits %s is not a whole number', (value) => {
    expect(problemsOf(envWith({ POLICY_CODE_DIGITS: value }))).toEqual([
      '[policy] code_digits (env POLICY_CODE_DIGITS): must be a whole number',
    ]);
  });
});

describe('Bandwidth credentials: exactly one pair', () => {
  const noBasic = { BANDWIDTH_API_USER: undefined, BANDWIDTH_API_PASSWORD: undefined };

  // Rule: both the Basic pair and the OAuth2 pair at once is an error.
  test('both pairs', () => {
    expect(problemsOf(envWith({ BANDWIDTH_CLIENT_ID: 'cid', BANDWIDTH_CLIENT_SECRET: 'csecret' }))).toEqual([
      '[bandwidth] client_id (env BANDWIDTH_CLIENT_ID): set either client_id/client_secret (OAuth2) or api_user/api_password (Basic), not both',
    ]);
  });

  // Rule: no credentials at all is an error that says which keys to set.
  test('neither pair', () => {
    const problems = problemsOf(envWith(noBasic));
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^\[bandwidth\] client_id \(env BANDWIDTH_CLIENT_ID\): is required/);
    expect(problems[0]).toContain('api_user and api_password');
  });

  // Rule: half a pair is an error naming the missing half (key and env name).
  test.each([
    ['api_user only', { BANDWIDTH_API_PASSWORD: undefined }, 'api_password'],
    ['api_password only', { BANDWIDTH_API_USER: undefined }, 'api_user'],
    ['client_id only', { ...noBasic, BANDWIDTH_CLIENT_ID: 'cid' }, 'client_secret'],
    ['client_secret only', { ...noBasic, BANDWIDTH_CLIENT_SECRET: 'csecret' }, 'client_id'],
  ])('%s', (_label, changes: Env, missing) => {
    const problems = problemsOf(envWith(changes));
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(
      new RegExp(`^\\[bandwidth\\] ${missing} \\(env BANDWIDTH_${missing.toUpperCase()}\\): is required with its pair`),
    );
  });

  // Rule: an empty value counts as unset, so a blank api_user next to an OAuth2 pair is not "both".
  test('empty values do not count as set', () => {
    const config = parseConfig({
      env: envWith({
        BANDWIDTH_API_USER: '',
        BANDWIDTH_API_PASSWORD: '',
        BANDWIDTH_CLIENT_ID: 'cid',
        BANDWIDTH_CLIENT_SECRET: 'csecret',
      }),
    });
    expect(config.bandwidth.auth.kind).toBe('oauth');
  });
});

describe('Slack settings', () => {
  // Rule: without app_token (HTTP mode) the signing secret is required.
  test('signing_secret is required in HTTP mode', () => {
    expect(problemsOf(envWith({ SLACK_SIGNING_SECRET: undefined }))).toEqual([
      '[slack] signing_secret (env SLACK_SIGNING_SECRET): is required in HTTP mode (or set app_token for Socket Mode)',
    ]);
  });

  // Rule: with an app-level token (Socket Mode) the signing secret may be left out.
  test('app_token makes signing_secret optional', () => {
    const config = parseConfig({
      env: envWith({ SLACK_SIGNING_SECRET: undefined, SLACK_APP_TOKEN: 'xapp-1-A0-123-abc' }),
    });
    expect(config.slack.appToken).toBe('xapp-1-A0-123-abc');
    expect(config.slack.signingSecret).toBeUndefined();
  });

  // Rule: token kinds are checked by prefix: bot_token xoxb-, app_token xapp-.
  test('wrong token kinds are rejected', () => {
    expect(
      problemsOf(envWith({ SLACK_BOT_TOKEN: 'xoxp-user-token', SLACK_APP_TOKEN: 'xoxb-not-an-app-token' })),
    ).toEqual([
      '[slack] bot_token (env SLACK_BOT_TOKEN): must be a bot token (starts with xoxb-)',
      '[slack] app_token (env SLACK_APP_TOKEN): must be an app-level token (starts with xapp-)',
    ]);
  });

  // Rule: [slack] host is where the port listens: unset (every interface, as before the key existed), an IP
  // address or a host name, from the file or the environment; anything else is a problem naming the key.
  test('host: every interface by default, an address or a name when set', () => {
    expect(parseConfig({ env: ENV_ONLY }).slack.host).toBeUndefined();
    expect(parseConfig({ env: envWith({ SLACK_HOST: ' ' }) }).slack.host).toBeUndefined();
    expect(parseConfig({ fileText: '[slack]\nhost = 127.0.0.1\n', env: ENV_ONLY }).slack.host).toBe('127.0.0.1');
    for (const host of ['::1', '0.0.0.0', 'localhost', 'phonegate.internal'])
      expect(parseConfig({ env: envWith({ SLACK_HOST: host }) }).slack.host).toBe(host);
    for (const host of ['127.0.0.1:3000', '[::1]', 'http://127.0.0.1', 'two words'])
      expect(problemsOf(envWith({ SLACK_HOST: host }))).toEqual([
        '[slack] host (env SLACK_HOST): must be an IP address or a host name, like 127.0.0.1 or ::1 (no brackets, no port)',
      ]);
  });
});

describe('phone numbers must be E.164', () => {
  const bad = [
    '5553330100',
    '15553330100',
    '+1 555 333 0100',
    '+1-555-333-0100',
    '(555) 333-0100',
    '+0123456789',
    '+123456',
    '+1234567890123456',
    'tel:+15553330100',
  ];

  // Rule: from_number must be E.164 (+, country code, no spaces or punctuation, 7..15 digits).
  test.each(bad)('from_number %j is rejected', (number) => {
    expect(problemsOf(envWith({ NUMBERS_FROM_NUMBER: number }))).toEqual([
      '[numbers] from_number (env NUMBERS_FROM_NUMBER): must be a phone number in E.164 form, like +14155550123',
    ]);
  });

  // Rule: user_number may be empty, but when set it must be E.164 too.
  test('user_number: empty is fine, a bad number is not', () => {
    expect(parseConfig({ env: envWith({ NUMBERS_USER_NUMBER: '' }) }).numbers.userNumber).toBeUndefined();
    const problems = problemsOf(envWith({ NUMBERS_USER_NUMBER: '555-333-0101' }));
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^\[numbers\] user_number \(env NUMBERS_USER_NUMBER\): /);
  });

  // Rule: a [phones] number no phone can have is refused; the problem names the user id, not the number.
  test('a bad [phones] number is rejected', () => {
    const problems = problemsOf(SLACK_ENV, `${SAMPLE_INI}\n[phones]\nU012ABCDEF = 555 333 0102\n`);
    expect(problems).toEqual([
      '[phones] U012ABCDEF (env PHONES_U012ABCDEF): is refused: that is not a valid phone number.',
    ]);
  });
});

describe('problem reports', () => {
  // Rule: one bad key gives exactly one line, naming "[section] key" and its env name.
  test('a single problem is a single line', () => {
    const error = configError(() => parseConfig({ fileText: '', env: envWith({ BANDWIDTH_ACCOUNT_ID: undefined }) }));
    expect(error.problems).toEqual(['[bandwidth] account_id (env BANDWIDTH_ACCOUNT_ID): is required']);
    expect(error.name).toBe('ConfigError');
    expect(error.message).toBe(
      'invalid configuration:\n  [bandwidth] account_id (env BANDWIDTH_ACCOUNT_ID): is required',
    );
  });

  // Rule: several problems in different sections are all listed at once, cross-key rules included.
  test('every problem is listed, not just the first', () => {
    const error = configError(() =>
      parseConfig({
        fileText: '',
        env: envWith({
          BANDWIDTH_ACCOUNT_ID: undefined,
          BANDWIDTH_API_PASSWORD: undefined,
          NUMBERS_FROM_NUMBER: '555',
          SLACK_SIGNING_SECRET: undefined,
          STORE_URL: 'mysql://db',
          POLICY_MAX_ATTEMPTS: '0',
          POLICY_ADMINS: 'alice',
        }),
      }),
    );
    expect(error.problems).toEqual([
      '[bandwidth] account_id (env BANDWIDTH_ACCOUNT_ID): is required',
      '[bandwidth] api_password (env BANDWIDTH_API_PASSWORD): is required with its pair (api_user and api_password go together)',
      '[numbers] from_number (env NUMBERS_FROM_NUMBER): must be a phone number in E.164 form, like +14155550123',
      '[slack] signing_secret (env SLACK_SIGNING_SECRET): is required in HTTP mode (or set app_token for Socket Mode)',
      '[store] url (env STORE_URL): must start with sqlite://, redis://, rediss://, postgres:// or postgresql://',
      '[policy] max_attempts (env POLICY_MAX_ATTEMPTS): must be between 1 and 10',
      '[policy] admins (env POLICY_ADMINS): must list Slack user ids like U012ABCDEF, separated by commas',
    ]);
    for (const problem of error.problems) expect(error.message).toContain(`\n  ${problem}`);
  });

  // Rule: a problem never echoes the rejected value, so a mistyped secret does not end up in logs.
  test('problems do not repeat the bad value', () => {
    const problems = problemsOf(
      envWith({ SLACK_BOT_TOKEN: 'xoxp-secret-user-token-123', SLACK_APP_TOKEN: 'secret-app-token-456' }),
    );
    expect(problems).toHaveLength(2);
    expect(problems.join('\n')).not.toMatch(/secret-(user|app)-token/);
  });

  // Rule: an INI syntax error becomes a ConfigError naming the file and the line.
  test('INI syntax errors name the file', () => {
    const error = configError(() =>
      parseConfig({ fileText: '[bandwidth]\naccount_id 9900000\n', fileName: 'my.ini', env: {} }),
    );
    expect(error.problems).toEqual(['my.ini: line 2: expected "key = value" or "[section]"']);
  });
});

describe('the result is deeply frozen', () => {
  // Rule: every object inside Config is frozen, so no code can change settings at run time.
  test('all nested objects and arrays are frozen', () => {
    const config: Config = parseConfig({
      fileText: `${SAMPLE_INI}\n[phones]\nU012ABCDEF = +12015550001\n`,
      env: { ...SLACK_ENV, POLICY_ADMINS: 'U012ABCDEF' },
    });
    const objects = allObjects(config);
    expect(objects.length).toBeGreaterThanOrEqual(10);
    expect(objects.filter((o) => !Object.isFrozen(o))).toEqual([]);
  });

  // Rule: writes to the frozen config throw in strict-mode (ESM) code instead of silently changing it.
  test('writes throw', () => {
    const config = parseConfig({ env: envWith({ POLICY_ADMINS: 'U012ABCDEF' }) });
    expect(() => {
      (config.policy as { maxAttempts: number }).maxAttempts = 99;
    }).toThrow(TypeError);
    expect(() => (config.policy.admins as string[]).push('U0EVIL0001')).toThrow(TypeError);
    expect(() => {
      (config.bandwidth.auth as { password?: string }).password = 'changed';
    }).toThrow(TypeError);
    expect(config.policy.maxAttempts).toBe(5);
    expect(config.policy.admins).toEqual(['U012ABCDEF']);
  });
});

describe('loadConfig', () => {
  const tempDirs: string[] = [];
  const originalCwd = process.cwd();
  const tempDir = () => {
    const dir = mkdtempSync(join(tmpdir(), 'phonegate-config-'));
    tempDirs.push(dir);
    return dir;
  };
  afterEach(() => process.chdir(originalCwd));
  afterAll(() => {
    for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  });

  // Rule: CONFIG_FILE names the file to read, and env still overrides it.
  test('reads the file named by CONFIG_FILE', () => {
    const file = join(tempDir(), 'phonegate.ini');
    writeFileSync(file, SAMPLE_INI);
    const config = loadConfig({ ...SLACK_ENV, CONFIG_FILE: file, NUMBERS_USER_NUMBER: '+12015550199' });
    expect(config.bandwidth.auth).toEqual({ kind: 'basic', username: 'sample-api-user', password: 'ab#cd;ef' });
    expect(config.numbers.userNumber).toBe('+12015550199');
  });

  // Rule: a CONFIG_FILE that does not exist is an error naming the file, not a silent fall-back to env only.
  test('a missing CONFIG_FILE is reported', () => {
    const file = join(tempDir(), 'nope.ini');
    const error = configError(() => loadConfig({ ...ENV_ONLY, CONFIG_FILE: file }));
    expect(error.problems).toEqual([`${file}: cannot be read (ENOENT)`]);
  });

  // Rule: a CONFIG_FILE that cannot be read (here: a directory) is reported with the reason.
  test('an unreadable CONFIG_FILE is reported', () => {
    const dir = join(tempDir(), 'config.ini');
    mkdirSync(dir);
    const error = configError(() => loadConfig({ ...ENV_ONLY, CONFIG_FILE: dir }));
    expect(error.problems).toEqual([`${dir}: cannot be read (EISDIR)`]);
  });

  // Rule: without CONFIG_FILE, ./config.ini is read from the working directory.
  test('reads ./config.ini by default', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'config.ini'), SAMPLE_INI);
    process.chdir(dir);
    expect(loadConfig({ ...SLACK_ENV }).bandwidth.accountId).toBe('9900000');
  });

  // Rule: no ./config.ini and no CONFIG_FILE is fine when the environment holds every setting.
  test('a missing default config.ini with env-only settings works', () => {
    process.chdir(tempDir());
    const config = loadConfig({ ...ENV_ONLY });
    expect(config.bandwidth.accountId).toBe('9900000');
    expect(config.bandwidth.auth).toEqual({ kind: 'basic', username: 'env-api-user', password: 'env-api-password' });
    expect(config.numbers.fromNumber).toBe('+15553330100');
  });

  // Rule: when there is no config.ini and settings are missing, the problems end with a hint to create one.
  test('a missing default config.ini with incomplete env adds a hint', () => {
    process.chdir(tempDir());
    const error = configError(() => loadConfig({ ...ENV_ONLY, BANDWIDTH_ACCOUNT_ID: undefined }));
    expect(error.problems).toEqual([
      '[bandwidth] account_id (env BANDWIDTH_ACCOUNT_ID): is required',
      '(no config.ini was found: copy config.ini.default to config.ini and fill it in)',
    ]);
  });
});

describe('blank and odd values', () => {
  // Rule: a blank value is "not set": a blank cooldown must not silently become 0 (no cooldown).
  test('blank numbers fall back to their defaults', () => {
    const config = parseConfig({ fileText: '', env: envWith({ POLICY_RESEND_COOLDOWN_SECONDS: '', SLACK_PORT: ' ' }) });
    expect(config.policy.resendCooldownMs).toBe(30_000);
    expect(config.slack.port).toBe(3000);
    const fromFile = parseConfig({ fileText: '[policy]\nresend_cooldown_seconds =\n', env: envWith({}) });
    expect(fromFile.policy.resendCooldownMs).toBe(30_000);
  });

  // Rule: only plain whole numbers count: hex, decimals and exponents are mistakes.
  test.each(['0x7', '7.5', '1e1', 'seven'])('code_digits %s is rejected', (value) => {
    expect(problemsOf(envWith({ POLICY_CODE_DIGITS: value }))).toEqual([
      '[policy] code_digits (env POLICY_CODE_DIGITS): must be a whole number',
    ]);
  });

  // Rule: outside URLs must be http(s), whatever else URL parsing accepts.
  test.each(['mailto:a@b.example', 'ftp://x.example/api'])('api_url %s is rejected', (value) => {
    expect(problemsOf(envWith({ SLACK_API_URL: value }))).toEqual([
      '[slack] api_url (env SLACK_API_URL): must be an http(s) URL',
    ]);
  });

  // Rule: an empty bot token is one problem, reported once, saying where the blank is.
  test('an empty bot_token gives one line', () => {
    expect(problemsOf(envWith({ SLACK_BOT_TOKEN: '' }))).toEqual([
      '[slack] bot_token (env SLACK_BOT_TOKEN): is required (SLACK_BOT_TOKEN is empty in the environment, and config.ini has no value for it)',
    ]);
  });

  // Rule: a bad [phones] key says what is wrong and which env variable would set it.
  test('a bad [phones] key names the problem and its env name', () => {
    expect(problemsOf(envWith({ PHONES_u1: '+14155550123' }))).toEqual([
      '[phones] u1 (env PHONES_u1): is not a Slack user id (like U012ABCDEF)',
    ]);
  });
});

describe('unknown sections and keys (issue 6, item 8)', () => {
  const fileProblems = (extra: string) => problemsOf(SLACK_ENV, `${SAMPLE_INI}\n${extra}\n`);

  // Rule: a misspelt key is an error with the key meant, not a silent default (here: 12-hour logins).
  test('a misspelt key names the closest known key', () => {
    expect(fileProblems('[policy]\nlogin_ttl_minuts = 30')).toEqual([
      '[policy] login_ttl_minuts: is not a known key: did you mean login_ttl_minutes?',
    ]);
    expect(fileProblems('[policy]\nadmin = U012ABCDEF')).toEqual([
      '[policy] admin: is not a known key: did you mean admins?',
    ]);
  });

  // Rule: a misspelt section is an error with the section meant.
  test('a misspelt section names the closest known section', () => {
    expect(fileProblems('[slak]\napp_name = Gate')).toEqual(['[slak]: is not a known section: did you mean [slack]?']);
  });

  // Rule: a known key in the wrong section says where it belongs; a name like nothing we know lists what there is.
  test('a key in the wrong section, and names close to nothing', () => {
    expect(fileProblems('[slack]\nadmins = U012ABCDEF')).toEqual([
      '[slack] admins: is not a known key: it belongs in [policy]',
    ]);
    expect(fileProblems('[policy]\ncolour = blue')).toEqual([
      '[policy] colour: is not a known key: see config.ini.default for the keys of [policy]',
    ]);
    expect(fileProblems('[weather]\nsunny = yes')).toEqual([
      '[weather]: is not a known section: the sections are [bandwidth], [numbers], [slack], [phones], [store], [policy], [actions], [log], and [command /name]',
    ]);
  });

  // Rule: unknown names are listed with every other problem, one line each.
  test('listed together with the other problems', () => {
    const problems = problemsOf(envWith({ NUMBERS_FROM_NUMBER: '555' }), '[policy]\nmax_attempt = 3\n[numbrs]\n');
    expect(problems).toEqual([
      '[policy] max_attempt: is not a known key: did you mean max_attempts?',
      '[numbrs]: is not a known section: did you mean [numbers]?',
      '[numbers] from_number (env NUMBERS_FROM_NUMBER): must be a phone number in E.164 form, like +14155550123',
    ]);
  });

  // Rule: every key config.ini.default documents (set or commented out) is a known key.
  test('every key of config.ini.default is known', () => {
    const uncommented = DEFAULT_INI.replace(/^; ?([a-z_]+ =|\[command \/[a-z-]+\]$)/gm, '$1').replace(
      /^U012ABCDEF = .*$/m,
      '',
    );
    const problems = problemsOf(SLACK_ENV, uncommented);
    expect(problems.filter((p) => p.includes('is not a known') || p.startsWith('[command'))).toEqual([]);
    expect(uncommented).toMatch(/^\[command \/deploy\]$/m);
    expect(uncommented).toMatch(/^level = info$/m);
  });

  // Rule: only the file is checked for unknown names: the environment holds many variables that are not ours.
  test('unrelated environment variables are not problems', () => {
    const config = parseConfig({
      env: { ...ENV_ONLY, PATH: '/usr/bin', HOME: '/root', SLACK_SOMETHING: 'x', POLICYHOLDER: 'y' },
    });
    expect(config.bandwidth.accountId).toBe('9900000');
  });
});

describe('tokens and secrets that cannot work (issue 6, item 8)', () => {
  const credentials: Array<[section: string, key: string, good: string, changes?: Env]> = [
    ['slack', 'bot_token', 'xoxb-1-abc'],
    ['slack', 'app_token', 'xapp-1-abc'],
    ['slack', 'signing_secret', 'abc123'],
    ['bandwidth', 'api_user', 'bw-user-7q'],
    ['bandwidth', 'api_password', 'p#1;2'],
    [
      'bandwidth',
      'client_id',
      'cid',
      { BANDWIDTH_API_USER: undefined, BANDWIDTH_API_PASSWORD: undefined, BANDWIDTH_CLIENT_SECRET: 'csecret' },
    ],
    [
      'bandwidth',
      'client_secret',
      'csecret',
      { BANDWIDTH_API_USER: undefined, BANDWIDTH_API_PASSWORD: undefined, BANDWIDTH_CLIENT_ID: 'cid' },
    ],
  ];
  const mistakes: Array<[label: string, value: (good: string) => string, message: string]> = [
    [
      'a trailing # comment',
      (good) => `${good} # from the Slack page`,
      'has a comment after it (" #" or " ;"): put comments on a line of their own',
    ],
    [
      'a trailing ; comment',
      (good) => `${good}\t; prod`,
      'has a comment after it (" #" or " ;"): put comments on a line of their own',
    ],
    [
      'quotes',
      (good) => `"${good}"`,
      'contains a quote: write the value without quotes (they would be sent as part of it)',
    ],
    ['a space', (good) => `${good} ${good}`, 'contains a space: copy the value again, without spaces'],
  ];
  const cases = credentials.flatMap(([section, key, good, changes]) =>
    mistakes.map(
      ([label, value, message]) => [section, key, label, good, value(good), message, changes ?? {}] as const,
    ),
  );

  // Rule: the value is refused with one line naming the key and what is wrong, without repeating the value.
  test.each(cases)('[%s] %s with %s', (section, key, _label, good, bad, message, changes) => {
    const envName = `${section}_${key}`.toUpperCase();
    expect(parseConfig({ env: envWith({ ...changes, [envName]: good }) })).toBeDefined();
    const problems = problemsOf(envWith({ ...changes, [envName]: bad }));
    expect(problems).toEqual([`[${section}] ${key} (env ${envName}): ${message}`]);
    expect(problems.join('\n')).not.toContain(good);
  });

  // Rule: the same holds for values in the file, where a pasted comment is the usual mistake.
  test('in the file', () => {
    const fileText = SAMPLE_INI.replace('api_password = ab#cd;ef', 'api_password = ab#cd;ef   # rotated in May');
    expect(problemsOf(SLACK_ENV, fileText)).toEqual([
      '[bandwidth] api_password (env BANDWIDTH_API_PASSWORD): has a comment after it (" #" or " ;"): put comments on a line of their own',
    ]);
  });
});

describe('numbers pass the rules of /admin link (issue 6, item 8)', () => {
  // Rule: a premium-rate number in [phones] is refused with the reason, naming the key, never echoing the number.
  test('a premium-rate number in [phones]', () => {
    const problems = problemsOf(SLACK_ENV, `${SAMPLE_INI}\n[phones]\nU012ABCDEF = +19005550100\n`);
    expect(problems).toEqual([
      '[phones] U012ABCDEF (env PHONES_U012ABCDEF): is refused: that is a premium-rate number; codes only go to a personal phone.',
    ]);
    expect(problems.join('\n')).not.toContain('9005550100');
  });

  // Rule: user_number follows the same rules (here: toll-free, and a number no phone can have).
  test.each([
    ['+18005550100', 'is refused: that is a toll-free number; codes only go to a personal phone.'],
    ['+15553330101', 'is refused: that is not a valid phone number.'],
  ])('user_number %s', (number, message) => {
    expect(problemsOf(envWith({ NUMBERS_USER_NUMBER: number }))).toEqual([
      `[numbers] user_number (env NUMBERS_USER_NUMBER): ${message}`,
    ]);
  });

  // Rule: [policy] allowed_regions applies, as for /admin link; allowed_country_codes admits a calling code whole.
  test('allowed_regions and allowed_country_codes', () => {
    const london = { PHONES_U012ABCDEF: '+442079460123' };
    expect(problemsOf(envWith(london))).toEqual([
      '[phones] U012ABCDEF (env PHONES_U012ABCDEF): is refused: numbers in United Kingdom (GB) are not allowed here (allowed: US, CA).',
    ]);
    expect(parseConfig({ env: envWith({ ...london, POLICY_ALLOWED_REGIONS: 'us, gb' }) }).phones).toEqual({
      U012ABCDEF: '+442079460123',
    });
    expect(parseConfig({ env: envWith({ ...london, POLICY_ALLOWED_COUNTRY_CODES: '1,44' }) }).phones).toEqual({
      U012ABCDEF: '+442079460123',
    });
  });

  // Rule (toll fraud, issue 18 §8): a Caribbean number of the +1 plan is a start-up error naming the key, by default.
  test('a Jamaican number in [phones], a Dominican user_number', () => {
    const fileText = `${SAMPLE_INI.replace('user_number = +12015550101', 'user_number = +18092345678')}\n[phones]\nU012ABCDEF = +18762101234\n`;
    const problems = problemsOf(SLACK_ENV, fileText);
    expect(problems).toEqual([
      '[numbers] user_number (env NUMBERS_USER_NUMBER): is refused: numbers in Dominican Republic (DO) are not allowed here (allowed: US, CA).',
      '[phones] U012ABCDEF (env PHONES_U012ABCDEF): is refused: numbers in Jamaica (JM) are not allowed here (allowed: US, CA).',
    ]);
    expect(problems.join('\n')).not.toContain('2101234');
    // Only the deliberate choice of the whole calling code admits them.
    const config = parseConfig({ fileText, env: { ...SLACK_ENV, POLICY_ALLOWED_COUNTRY_CODES: '1' } });
    expect(config.phones).toEqual({ U012ABCDEF: '+18762101234' });
  });

  // Rule: allowed_regions lists region codes libphonenumber knows; anything else is one line naming the key.
  test.each([
    ['US, XX', 'not a region with phone numbers: XX'],
    ['UK', 'not a region with phone numbers: UK; the United Kingdom is GB'],
    ['+1', 'not a region with phone numbers: +1'],
  ])('allowed_regions = %s is refused', (value, detail) => {
    expect(problemsOf(envWith({ POLICY_ALLOWED_REGIONS: value }))).toEqual([
      `[policy] allowed_regions (env POLICY_ALLOWED_REGIONS): must list ISO 3166-1 alpha-2 region codes like US, CA or GB, separated by commas (${detail})`,
    ]);
  });
  test('allowed_regions with no region is refused', () => {
    expect(problemsOf(envWith({ POLICY_ALLOWED_REGIONS: ' , ' }))).toEqual([
      '[policy] allowed_regions (env POLICY_ALLOWED_REGIONS): must list at least one region, like US',
    ]);
  });

  // Rule: from_number is the sender, not a person's phone: a toll-free sending number is fine.
  test('from_number is not held to these rules', () => {
    expect(parseConfig({ env: envWith({ NUMBERS_FROM_NUMBER: '+18005550100' }) }).numbers.fromNumber).toBe(
      '+18005550100',
    );
  });
});

describe('[store] allow_eviction (issue 18 §8)', () => {
  // Rule: off unless the operator says yes; yes/no in any case; anything else is one line naming the key.
  test('no by default; yes or no, in any case', () => {
    expect(parseConfig({ env: ENV_ONLY }).store).toEqual({ url: 'sqlite://data/state.sqlite', allowEviction: false });
    expect(parseConfig({ env: envWith({ STORE_ALLOW_EVICTION: 'YES' }) }).store.allowEviction).toBe(true);
    expect(parseConfig({ fileText: '[store]\nallow_eviction = no\n', env: ENV_ONLY }).store.allowEviction).toBe(false);
    expect(problemsOf(envWith({ STORE_ALLOW_EVICTION: 'maybe' }))).toEqual([
      '[store] allow_eviction (env STORE_ALLOW_EVICTION): must be yes or no',
    ]);
  });
});

describe('LOG_LEVEL (issue 6, item 8)', () => {
  // Rule: an unknown level is one config line listing the levels, not a crash at start.
  test('an unknown level is a problem listing the levels', () => {
    expect(problemsOf(envWith({ LOG_LEVEL: 'verbose' }))).toEqual([
      '[log] level (env LOG_LEVEL): must be one of fatal, error, warn, info, debug, trace, silent',
    ]);
  });

  // Rule: the level defaults to info, may be written in any case, and may be set in the file's [log] section.
  test('default, case and file', () => {
    expect(parseConfig({ env: ENV_ONLY }).log.level).toBe('info');
    expect(parseConfig({ env: envWith({ LOG_LEVEL: 'DEBUG' }) }).log.level).toBe('debug');
    expect(parseConfig({ fileText: '[log]\nlevel = warn\n', env: ENV_ONLY }).log.level).toBe('warn');
  });
});

describe('startupNotes (issue 6, item 8)', () => {
  const oauth = {
    BANDWIDTH_API_USER: undefined,
    BANDWIDTH_API_PASSWORD: undefined,
    BANDWIDTH_CLIENT_ID: 'cid',
    BANDWIDTH_CLIENT_SECRET: 'csecret',
  };

  // Rule: Basic auth gets a warning naming the retirement date and the way out.
  test('Basic auth', () => {
    const notes = startupNotes(parseConfig({ env: ENV_ONLY }));
    expect(notes).toEqual([expect.stringContaining('Bandwidth retires Basic-auth API users on 2026-12-02')]);
    expect(notes[0]).toContain('client_id and client_secret');
  });

  // Rule: user_number gets a line saying where unlisted users' codes go, masked.
  test('user_number', () => {
    const notes = startupNotes(parseConfig({ env: envWith({ ...oauth, NUMBERS_USER_NUMBER: '+12015550101' }) }));
    expect(notes).toEqual([
      '[numbers] user_number is set: the codes of every user not listed in [phones] go to one phone (•••• 0101)',
    ]);
  });

  // Rule (issue 18 §8): allowing a calling code whole gets a line saying what it admits beyond allowed_regions.
  test('allowed_country_codes', () => {
    const notes = startupNotes(parseConfig({ env: envWith({ ...oauth, POLICY_ALLOWED_COUNTRY_CODES: '1' }) }));
    expect(notes).toEqual([
      '[policy] allowed_country_codes admits every number in +1, whatever its region: beyond allowed_regions (US, CA) also AG, AI, AS, BB, BM, BS, DM, DO, GD, GU, JM, KN, KY, LC, MP, MS, PR, SX, TC, TT, VC, VG, VI (every NANP region: the Caribbean destinations toll fraud targets, +1 876 Jamaica, +1 809 Dominican Republic and more, included). Leave allowed_country_codes empty to allow by region only',
    ]);
    // A code whose every region is allowed anyway adds nothing, so there is nothing to say.
    const both = envWith({ ...oauth, POLICY_ALLOWED_REGIONS: 'FR', POLICY_ALLOWED_COUNTRY_CODES: '33' });
    expect(startupNotes(parseConfig({ env: both }))).toEqual([]);
  });

  // Rule: OAuth2 and no user_number: nothing to say.
  test('nothing to note', () => {
    expect(startupNotes(parseConfig({ env: envWith(oauth) }))).toEqual([]);
  });
});

describe('declared commands and [actions] (issue 10)', () => {
  const DEPLOY = '[command /deploy]\nurl = https://deploy.internal.example/hooks/phonegate\n';

  // Rule: a [command /name] section becomes a typed command with its defaults; [actions] has its defaults.
  test('a declared command with its defaults', () => {
    const config = parseConfig({ fileText: DEPLOY, env: ENV_ONLY });
    expect(config.commands).toEqual([
      {
        name: '/deploy',
        url: 'https://deploy.internal.example/hooks/phonegate',
        scope: 'login',
        allowed: undefined,
        description: 'Runs /deploy once PhoneGate has checked your phone',
        usage: undefined,
        timeoutMs: 10_000,
        approval: undefined,
        reason: 'off',
      },
    ]);
    expect(config.actions).toEqual({
      issuer: 'phonegate',
      signingKeyFile: 'data/actions-signing-key.pem',
      previousKeyFiles: [],
    });
    expect(parseConfig({ env: ENV_ONLY }).commands).toEqual([]);
  });

  // Rule: every key is read; `admins` in allow stands for [policy] admins, and a user listed twice counts once.
  test('every key, and allow = admins', () => {
    const fileText = `[policy]\nadmins = U0ADMIN01,U0ADMIN02\n[command /Rotate-Keys]\nurl = http://127.0.0.1:8080/x\nscope = admin\nallow = U0ADMIN02, admins, U012ABCDEF\ndescription = Rotate keys\nusage = <service>\ntimeout_seconds = 30\n`;
    const [command] = parseConfig({ fileText, env: ENV_ONLY }).commands;
    expect(command).toEqual({
      name: '/rotate-keys',
      url: 'http://127.0.0.1:8080/x',
      scope: 'admin',
      allowed: ['U0ADMIN02', 'U0ADMIN01', 'U012ABCDEF'],
      description: 'Rotate keys',
      usage: '<service>',
      timeoutMs: 30_000,
      approval: undefined,
      reason: 'off',
    });
  });

  // Rule: [actions] follows the <SECTION>_<KEY> env rule; previous_key_files is a comma-separated list.
  test('[actions] from the file and from env', () => {
    const config = parseConfig({
      fileText: '[actions]\nissuer = ops-gate\nprevious_key_files = old1.pem, old2.pem,',
      env: { ...ENV_ONLY, ACTIONS_SIGNING_KEY_FILE: '/keys/now.pem' },
    });
    expect(config.actions).toEqual({
      issuer: 'ops-gate',
      signingKeyFile: '/keys/now.pem',
      previousKeyFiles: ['old1.pem', 'old2.pem'],
    });
  });

  // Rule: every problem of every command is one line naming the section and key, with no env name (command sections are file only).
  test('bad URL, unknown scope, bad allow list, timeout out of range, a built-in name, a bad name, an unknown key', () => {
    const fileText = [
      '[command /login]',
      'url = https://x.example',
      '',
      '[command /deploy]',
      'url = ftp://deploy.example',
      'scope = root',
      'allow = bob, U012ABCDEF',
      'timeout_seconds = 31',
      'descripton = Deploy',
      '',
      '[command deploy]',
      'url = https://x.example',
      '',
      '[command /empty]',
      '',
    ].join('\n');
    expect(problemsOf(ENV_ONLY, fileText)).toEqual([
      '[command /deploy] descripton: is not a known key: did you mean description?',
      '[command /deploy] url: must be an http(s) URL',
      '[command /deploy] scope: must be login or admin',
      '[command /deploy] allow: must list Slack user ids like U012ABCDEF, or admins, separated by commas',
      '[command /deploy] timeout_seconds: must be between 1 and 30',
      '[command /empty] url: is required',
      '[command /login]: is a built-in command of PhoneGate: choose another name',
      '[command deploy]: is not a slash command name: write [command /name], lower case, up to 32 characters (letters, digits, . _ -)',
    ]);
    for (const builtIn of ['/logout', '/whoami', '/admin']) {
      expect(problemsOf(ENV_ONLY, `[command ${builtIn}]\nurl = https://x.example`)).toEqual([
        `[command ${builtIn}]: is a built-in command of PhoneGate: choose another name`,
      ]);
    }
    expect(problemsOf(ENV_ONLY, '[commands]\nurl = https://x.example')).toEqual([
      '[commands]: is not a known section: did you mean [command /name]?',
    ]);
  });

  // Rule: Slack takes 50 commands per app; four are built in.
  test('at most 46 declared commands', () => {
    const sections = (n: number) =>
      Array.from({ length: n }, (_, i) => `[command /c${i}]\nurl = https://x.example\n`).join('');
    expect(parseConfig({ fileText: sections(46), env: ENV_ONLY }).commands).toHaveLength(46);
    expect(problemsOf(ENV_ONLY, sections(47))).toEqual([
      '[command /name]: at most 46 commands can be declared (Slack allows 50 per app)',
    ]);
  });

  // Rule: the manifest script reads the commands alone, before the rest of the config is filled in.
  test('declaredCommandsOf needs no other section and reports only command problems', () => {
    expect(declaredCommandsOf({ fileText: `[bandwidth]\naccount_id =\n${DEPLOY}usage = <service>` })).toEqual([
      { name: '/deploy', description: 'Runs /deploy once PhoneGate has checked your phone', usage: '<service>' },
    ]);
    expect(() => declaredCommandsOf({ fileText: '[command /deploy]\nscope = x' })).toThrow(ConfigError);
    expect(configError(() => declaredCommandsOf({ fileText: '[command /deploy]\nscope = x' })).problems).toEqual([
      '[command /deploy] url: is required',
      '[command /deploy] scope: must be login or admin',
    ]);
  });

  // Rule: settings that work but deserve a second look.
  test('start-up notes: nobody allowed, plain http to another host', () => {
    const fileText =
      '[command /a]\nurl = http://deploy.example/x\nallow = admins\n[command /b]\nurl = http://localhost:9000/x\n';
    expect(
      startupNotes(
        parseConfig({
          fileText,
          env: envWith({
            BANDWIDTH_API_USER: undefined,
            BANDWIDTH_API_PASSWORD: undefined,
            BANDWIDTH_CLIENT_ID: 'id',
            BANDWIDTH_CLIENT_SECRET: 'secret',
          }),
        }),
      ),
    ).toEqual([
      '[command /a] allow lists nobody ([policy] admins is empty): nobody can run /a',
      '[command /a] url is plain http: the token and the request travel unencrypted; use https',
    ]);
  });
});

describe('a copied .env.example next to config.ini (issue 19)', () => {
  const ROOT_FILE = (name: string) => fileURLToPath(new URL(`../${name}`, import.meta.url));
  /** .env.example as `node --env-file` and docker compose read it: every open line `KEY=`, blank. */
  const copiedEnvExample = parseEnv(readFileSync(ROOT_FILE('.env.example'), 'utf8'));
  const FILLED_INI = `${SAMPLE_INI}\n[slack]\nbot_token = xoxb-from-the-file\nsigning_secret = secret-from-the-file\n[phones]\nU012ABCDEF = +14155550123\n`;

  // Rule: an empty environment variable is "not set": it never erases the value config.ini gives the key.
  test('its blank lines leave the values of config.ini in force', () => {
    expect(Object.keys(copiedEnvExample)).toContain('BANDWIDTH_ACCOUNT_ID');
    const config = parseConfig({
      fileText: FILLED_INI,
      env: { ...copiedEnvExample, PHONES_U012ABCDEF: '', LOG_LEVEL: ' ' },
    });
    expect(config.bandwidth.accountId).toBe('9900000');
    expect(config.bandwidth.voiceApplicationId).toBe('11111111-aaaa-4bbb-8ccc-000000000001');
    expect(config.numbers.fromNumber).toBe('+15553330100');
    expect(config.slack.botToken).toBe('xoxb-from-the-file');
    expect(config.phones).toEqual({ U012ABCDEF: '+14155550123' });
  });

  // Rule: a key still missing says that its variable is empty in the environment, naming the variable.
  test('a key set nowhere else names the empty variable', () => {
    const withoutAccount = FILLED_INI.replace(/^account_id = .*$/m, '');
    expect(problemsOf({ ...copiedEnvExample }, withoutAccount)).toEqual([
      '[bandwidth] account_id (env BANDWIDTH_ACCOUNT_ID): is required (BANDWIDTH_ACCOUNT_ID is empty in the environment, and config.ini has no value for it)',
    ]);
    // Not set in the environment at all: the plain message.
    expect(problemsOf({}, withoutAccount)).toEqual(['[bandwidth] account_id (env BANDWIDTH_ACCOUNT_ID): is required']);
  });

  // Rule: a variable with a value still wins over the file.
  test('a variable with a value still wins', () => {
    const config = parseConfig({
      fileText: FILLED_INI,
      env: { ...copiedEnvExample, SLACK_BOT_TOKEN: 'xoxb-from-env' },
    });
    expect(config.slack.botToken).toBe('xoxb-from-env');
  });
});

describe('[phones] reads numbers as /admin link does (issue 19)', () => {
  // Rule: every way of writing a number that /admin link accepts works in [phones], PHONES_ and user_number, kept as E.164.
  test.each(['(415) 555-0123', '+1 415 555 0123', '415.555.0123', '+1-415-555-0123', 'tel:+14155550123', '4155550123'])(
    '%j is +14155550123',
    (written) => {
      const config = parseConfig({
        fileText: `[phones]\nU012ABCDEF = ${written}\n`,
        env: envWith({ PHONES_U034GHIJKL: written, NUMBERS_USER_NUMBER: written }),
      });
      expect(config.phones).toEqual({ U012ABCDEF: '+14155550123', U034GHIJKL: '+14155550123' });
      expect(config.numbers.userNumber).toBe('+14155550123');
    },
  );

  // Rule: the rules of /admin link hold for any spelling (here a premium-rate number written with spaces), never echoing it.
  test('a refused number written another way is refused the same way', () => {
    const problems = problemsOf(SLACK_ENV, `${SAMPLE_INI}\n[phones]\nU012ABCDEF = (900) 555-0100\n`);
    expect(problems).toEqual([
      '[phones] U012ABCDEF (env PHONES_U012ABCDEF): is refused: that is a premium-rate number; codes only go to a personal phone.',
    ]);
    expect(problems.join('\n')).not.toMatch(/900|0100/);
  });
});

describe('quotes around ids are refused, as around secrets (issue 19)', () => {
  const QUOTE = 'contains a quote: write the value without quotes (they would be read as part of it)';

  // Rule: an id in quotes is refused with one line naming the key, whichever quote was typed.
  test.each([
    ['bandwidth', 'account_id', '"9900000"'],
    ['bandwidth', 'voice_application_id', "'voice-app-0001'"],
    ['bandwidth', 'messaging_application_id', '\u201cmessaging-app-0001\u201d'],
    ['policy', 'admins', '"U012ABCDEF", U034GHIJKL'],
  ])('[%s] %s = %s', (section, key, quoted) => {
    const envName = `${section}_${key}`.toUpperCase();
    expect(problemsOf(envWith({ [envName]: quoted }))).toEqual([`[${section}] ${key} (env ${envName}): ${QUOTE}`]);
    // The same value without its quotes is fine.
    expect(parseConfig({ env: envWith({ [envName]: quoted.replace(/["'\u201c\u201d]/g, '') }) })).toBeDefined();
  });

  // Rule: [phones] user ids and numbers, and a command's allow list, the same; in the file and from the environment.
  test('[phones], PHONES_ and allow', () => {
    expect(
      problemsOf(SLACK_ENV, `${SAMPLE_INI}\n[phones]\n"U012ABCDEF" = +14155550123\nU034GHIJKL = '+14155550124'\n`),
    ).toEqual([
      '[phones] "U012ABCDEF": contains a quote: write the user id without quotes',
      `[phones] U034GHIJKL (env PHONES_U034GHIJKL): ${QUOTE}`,
    ]);
    expect(problemsOf(envWith({ PHONES_U012ABCDEF: '"+14155550123"' }))).toEqual([
      `[phones] U012ABCDEF (env PHONES_U012ABCDEF): ${QUOTE}`,
    ]);
    expect(problemsOf(ENV_ONLY, '[command /deploy]\nurl = https://deploy.example/x\nallow = "U012ABCDEF"\n')).toEqual([
      `[command /deploy] allow: ${QUOTE}`,
    ]);
  });
});

describe('the example numbers we print pass the rules of /admin link (issue 19)', () => {
  const ROOT_FILE = (name: string) => fileURLToPath(new URL(`../${name}`, import.meta.url));
  /** +1 numbers as the docs write them: E.164, or `+1 415 555 0101`. */
  const numbersIn = (text: string) => [...text.matchAll(/\+1(?:\d{10}\b| \d{3} \d{3} \d{4}\b)/g)].map(([n]) => n);

  // Rule: a number shown as an example is one that works where it is shown (refused examples: a reader copies them).
  test('config.ini.default, .env.example, the README and docs/, the usage of /admin link, the config error', () => {
    const docs = ['config.ini.default', '.env.example', 'README.md', ...docFiles()];
    const shown = docs.flatMap((file) =>
      numbersIn(readFileSync(ROOT_FILE(file), 'utf8')).map((n) => [file, n] as const),
    );
    shown.push(['USAGE.link', numbersIn(USAGE.link)[0]!]);
    shown.push(['the E.164 error', numbersIn(problemsOf(envWith({ NUMBERS_FROM_NUMBER: '555' }))[0]!)[0]!]);
    expect(shown.filter(([file]) => file === 'config.ini.default').length).toBeGreaterThan(0);
    expect(shown.filter(([file]) => file === '.env.example').length).toBeGreaterThan(0);
    const refused = shown.filter(
      ([, n]) => !parsePhone(n, { allowedRegions: ['US', 'CA'], allowedCallingCodes: [] }).ok,
    );
    expect(refused).toEqual([]);
  });

  function docFiles(): string[] {
    try {
      return readdirSync(ROOT_FILE('docs'))
        .filter((f) => f.endsWith('.md'))
        .map((f) => `docs/${f}`);
    } catch {
      return [];
    }
  }
});

describe('approvals (issue 20)', () => {
  const withCommand = (keys: string, policy = '') =>
    `[command /deploy]\nurl = https://ops.example/hooks/deploy\n${keys}\n\n[policy]\n${policy}\n`;
  const env = envWith({ POLICY_ADMINS: 'U0ADMIN01,U0ADMIN02' });

  test('approvers turn approvals on, with the defaults: one approval, a required reason, 30 minutes, no break glass', () => {
    const config = parseConfig({ env, fileText: withCommand('approvers = admins, U0OTHER01') });
    expect(config.commands[0]).toMatchObject({
      approval: { approvers: ['U0ADMIN01', 'U0ADMIN02', 'U0OTHER01'], needed: 1, minutes: 30, breakGlass: false },
      reason: 'required',
    });
    const plain = parseConfig({ env, fileText: withCommand('') });
    expect(plain.commands[0]).toMatchObject({ approval: undefined, reason: 'off' });
    // A reason without approvals: asked before it runs.
    expect(parseConfig({ env, fileText: withCommand('reason = optional') }).commands[0]).toMatchObject({
      reason: 'optional',
    });
  });

  // Rule: a configuration that could never be approved is a start-up error naming the key.
  test('more approvals than approvers is refused, naming [command /deploy] approvals', () => {
    expect(problemsOf(env, withCommand('approvers = U0OTHER01\napprovals = 2'))).toEqual([
      '[command /deploy] approvals: is 2, but approvers lists only 1 person: it could never be approved',
    ]);
  });

  test('an allowed requester who is an approver must leave enough others (with allow unset, approvers request too)', () => {
    expect(problemsOf(env, withCommand('allow = admins\napprovers = admins\napprovals = 2'))).toEqual([
      '[command /deploy] approvals: is 2, but U0ADMIN01 may run /deploy and is one of its 2 approvers, which leaves only 1 other to approve their requests (nobody approves their own)',
    ]);
    expect(problemsOf(env, withCommand('approvers = U0ADMIN01'))).toEqual([
      '[command /deploy] approvals: is 1, but U0ADMIN01 may run /deploy and is one of its 1 approvers, which leaves only 0 others to approve their requests (nobody approves their own)',
    ]);
    // A requester who is not an approver needs no others.
    expect(
      parseConfig({ env, fileText: withCommand('allow = U0OTHER01\napprovers = U0ADMIN01') }).commands,
    ).toHaveLength(1);
  });

  test('each key is checked: approvals 1 to 5, reason, approval_minutes 1 to 1440, break_glass needs approvers', () => {
    const problems = problemsOf(
      env,
      withCommand('approvals = 6\nreason = sometimes\napproval_minutes = 0\nbreak_glass = maybe'),
    );
    expect(problems).toEqual(
      expect.arrayContaining([
        '[command /deploy] approvals: must be between 1 and 5',
        '[command /deploy] reason: must be required, optional or off',
        '[command /deploy] approval_minutes: must be between 1 and 1440',
        '[command /deploy] break_glass: must be yes or no',
      ]),
    );
    expect(problemsOf(env, withCommand('break_glass = yes'))).toEqual([
      '[command /deploy] break_glass: needs approvers: break glass skips approvals, so set approvers first',
    ]);
  });

  test('[policy] approval_channel and security_channel are channel ids; admin_approvals lists link, unlink, revoke and needs two admins', () => {
    const config = parseConfig({
      env: envWith({ POLICY_ADMINS: 'U0ADMIN01,U0ADMIN02', POLICY_ADMIN_APPROVALS: 'link, revoke' }),
      fileText: '[policy]\napproval_channel = C0APPROVE\nsecurity_channel = G0SECRET1\n',
    });
    expect(config.policy).toMatchObject({
      approvalChannel: 'C0APPROVE',
      securityChannel: 'G0SECRET1',
      adminApprovals: ['link', 'revoke'],
    });
    expect(problemsOf(envWith({ POLICY_APPROVAL_CHANNEL: '#approvals' }))).toEqual([
      '[policy] approval_channel (env POLICY_APPROVAL_CHANNEL): must be a channel id like C012ABCDEF (not a #name)',
    ]);
    expect(problemsOf(envWith({ POLICY_ADMINS: 'U0ADMIN01', POLICY_ADMIN_APPROVALS: 'link' }))).toEqual([
      '[policy] admin_approvals (env POLICY_ADMIN_APPROVALS): needs at least two [policy] admins: another admin must approve, and nobody approves their own command',
    ]);
    expect(problemsOf(envWith({ POLICY_ADMINS: 'U0ADMIN01,U0ADMIN02', POLICY_ADMIN_APPROVALS: 'audit' }))[0]).toContain(
      '[policy] admin_approvals (env POLICY_ADMIN_APPROVALS): must list any of link, unlink, revoke',
    );
  });
});
