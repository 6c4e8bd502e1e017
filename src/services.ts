import type { Config } from './config.js';
import { AdminActions } from './core/admin.js';
import { AuditLog, AuditTrail, type AuditSink } from './core/audit.js';
import { Challenges } from './core/challenges.js';
import { Lockout } from './core/lockout.js';
import { PhoneDirectory } from './core/phones.js';
import type { Clock, CodeProvider, Notifier } from './core/ports.js';
import { Sessions } from './core/sessions.js';
import type { Logger } from './logger.js';
import type { Store } from './store/index.js';

const MINUTE_MS = 60_000;

/** The core, wired to its adapters: what every listener works with. */
export interface Services {
  config: Config;
  clock: Clock;
  logger: Logger;
  phones: PhoneDirectory;
  sessions: Sessions;
  lockout: Lockout;
  challenges: Challenges;
  audit: AuditLog;
  trail: AuditTrail;
  admin: AdminActions;
  /** How long a listener may wait on slow work before it must answer Slack (see slack/deadline.ts). */
  slackDeadlineMs: number;
}

export interface ServiceDeps {
  store: Store;
  provider: CodeProvider;
  clock: Clock;
  logger: Logger;
  notifier: Notifier;
  slackDeadlineMs: number;
}

export function buildServices(config: Config, { store, provider, clock, logger, notifier, slackDeadlineMs }: ServiceDeps): Services {
  const { policy } = config;
  const auditLogger = logger.child({ audit: true });
  const logSink: AuditSink = (record) => auditLogger.info(record, record.event);
  const trail = new AuditTrail(store.kv);
  // The log line is the record of last resort: a failed store write must not undo the event it records.
  const storeSink: AuditSink = (record) =>
    trail.append(record).catch((error: unknown) => logger.error({ err: error, event: record.event }, 'could not store an audit event'));
  const audit = new AuditLog(clock, [logSink, storeSink]);
  const phones = new PhoneDirectory(store.kv, { byUser: config.phones, fallback: config.numbers.user_number });
  const sessions = new Sessions(store.kv, clock, {
    login: policy.login_ttl_minutes * MINUTE_MS,
    admin: policy.admin_ttl_minutes * MINUTE_MS,
  });
  const lockout = new Lockout({
    store: store.kv,
    counters: store.counters,
    clock,
    audit,
    notifier,
    sessions,
    policy: { lockoutFailures: policy.lockout_failures, lockoutMs: policy.lockout_minutes * MINUTE_MS },
  });
  const challenges = new Challenges({
    store: store.kv,
    counters: store.counters,
    provider,
    phones,
    sessions,
    lockout,
    audit,
    clock,
    appName: config.slack.app_name,
    policy: {
      codeDigits: policy.code_digits,
      codeTtlMs: policy.code_ttl_minutes * MINUTE_MS,
      maxAttempts: policy.max_attempts,
      resendCooldownMs: policy.resend_cooldown_seconds * 1000,
      maxSendsPerHour: policy.max_sends_per_hour,
    },
  });
  const admin = new AdminActions({
    admins: policy.admins,
    allowedCallingCodes: policy.allowed_country_codes,
    phones,
    sessions,
    challenges,
    audit,
    trail,
    notifier,
    clock,
  });
  return { config, clock, logger, phones, sessions, lockout, challenges, audit, trail, admin, slackDeadlineMs };
}
