import type { Config } from './config.js';
import { AdminActions } from './core/admin.js';
import { AuditLog, AuditTrail, type AuditSink } from './core/audit.js';
import { Lockout } from './core/lockout.js';
import { PhoneDirectory } from './core/phones.js';
import { Requests } from './core/requests.js';
import { CodeSender } from './core/send-code.js';
import { CodeVerifier } from './core/verify-code.js';
import type { Clock, CodeProvider, Notifier } from './core/ports.js';
import { Sessions } from './core/sessions.js';
import type { Logger } from './logger.js';
import { PendingCommands } from './slack/presenters/step-up.js';
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
  requests: Requests;
  sender: CodeSender;
  verifier: CodeVerifier;
  /** Step-up commands waiting for their code (Slack state, kept by request id). */
  pending: PendingCommands;
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
  const codes = {
    codeDigits: policy.code_digits,
    codeTtlMs: policy.code_ttl_minutes * MINUTE_MS,
    maxAttempts: policy.max_attempts,
    resendCooldownMs: policy.resend_cooldown_seconds * 1000,
    maxSendsPerHour: policy.max_sends_per_hour,
  };
  const requests = new Requests({ store: store.kv, counters: store.counters, phones, sessions, lockout, clock, policy: codes });
  const shared = { requests, counters: store.counters, provider, phones, sessions, lockout, audit, clock, policy: codes };
  const sender = new CodeSender(shared);
  const verifier = new CodeVerifier(shared);
  const admin = new AdminActions({
    admins: policy.admins,
    allowedCallingCodes: policy.allowed_country_codes,
    phones,
    sessions,
    requests,
    audit,
    trail,
    notifier,
    clock,
  });
  return { config, clock, logger, phones, sessions, lockout, requests, sender, verifier, pending: new PendingCommands(store.kv), audit, trail, admin, slackDeadlineMs };
}
