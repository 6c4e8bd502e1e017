import type { App } from '@slack/bolt';
import { PublishedKeys } from './actions/published-keys.js';
import { loadSigningKeys, type SigningKeys } from './actions/signing-keys.js';
import { createBandwidthProvider } from './bandwidth/index.js';
import type { Config } from './config.js';
import { AdminActions } from './core/admin.js';
import { Approvals } from './core/approvals.js';
import { AuditLog, type AuditSink, AuditTrail } from './core/audit.js';
import { Lockout } from './core/lockout.js';
import { PhoneDirectory } from './core/phones.js';
import type { Clock, CodeProvider, Notifier } from './core/ports.js';
import { Requests } from './core/requests.js';
import { CodeSender } from './core/send-code.js';
import { Sessions } from './core/sessions.js';
import { CodeVerifier } from './core/verify-code.js';
import type { Logger } from './logger.js';
import { Metrics } from './metrics.js';
import { sendCapWarning } from './send-cap-warning.js';
import type { Services } from './services.js';
import { createSlackApp, type SlackAppDeps } from './slack/app.js';
import { ApprovalState } from './slack/approval-state.js';
import { SLACK_DEADLINE_MS } from './slack/deadline.js';
import type { AddedCommands } from './slack/listeners/commands/index.js';
import { registerListeners } from './slack/listeners/index.js';
import { InFlight } from './slack/middleware/in-flight.js';
import { onlyOnce } from './slack/middleware/replay.js';
import { SlackNotifier } from './slack/notifier.js';
import { PendingCommands } from './slack/pending-commands.js';
import { sweepApprovals } from './slack/presenters/approvals.js';
import { jwksRoute } from './slack/receiver.js';
import type { RequestLoad } from './slack/request-load.js';
import type { Store } from './store/index.js';

/**
 * The composition root: the one place that builds the core, its adapters (store, Bandwidth, Slack)
 * and the Bolt app, and wires them together. main.ts opens the store and starts what this returns;
 * tests build the same bot with fakes at the process boundary.
 */

export interface BotDeps extends Pick<SlackAppDeps, 'socketRetry' | 'onSocketLost'> {
  store: Store;
  clock: Clock;
  logger: Logger;
  /** Bandwidth's MFA API unless given (tests may pass an in-memory provider). */
  provider?: CodeProvider | undefined;
  /** Override only in tests, to exercise the late path without waiting seconds. */
  slackDeadlineMs?: number | undefined;
  /** From loadActionKeys(config): required when commands are declared. */
  signingKeys?: SigningKeys | undefined;
  /** Override only in tests: the drain with no declared command (DRAIN_MS); see drainMs. */
  drainMs?: number | undefined;
  /** Slash commands added in code, each behind its gate (README, "Adding a gated command in code"). */
  commands?: AddedCommands | undefined;
  /** Told when each request begins to be handled (main.ts: the SQLite store joins reads under load). */
  load?: RequestLoad | undefined;
}

/**
 * The keys that sign action tokens, loaded (and created on first start) when commands are declared;
 * undefined otherwise. Throws one line naming the file and the problem (main.ts prints it and exits).
 */
export async function loadActionKeys(config: Config): Promise<SigningKeys | undefined> {
  if (config.commands.length === 0) return undefined;
  return loadSigningKeys({ keyFile: config.actions.signingKeyFile, previousKeyFiles: config.actions.previousKeyFiles });
}

/**
 * The rules of 2FA over one store: who has which phone, sessions, lockouts, requests and the admin
 * actions. The bot (compose) and the operator's command (operator.ts) build the same core.
 */
export function buildCore(
  config: Config,
  deps: { store: Store; clock: Clock; audit: AuditLog; trail: AuditTrail; notifier: Notifier },
) {
  const { store, clock, audit, trail, notifier } = deps;
  const { policy } = config;
  const { kv, counters } = store;
  const phones = new PhoneDirectory(kv, { byUser: config.phones, fallback: config.numbers.userNumber });
  const sessions = new Sessions(kv, clock, policy.ttlMs);
  const lockout = new Lockout({ store: kv, counters, clock, audit, notifier, sessions, policy });
  const requests = new Requests({ store: kv, counters, phones, sessions, lockout, clock, policy });
  const admin = new AdminActions({
    admins: policy.admins,
    phoneRules: policy,
    store: kv,
    phones,
    sessions,
    requests,
    audit,
    trail,
    notifier,
    clock,
  });
  return { phones, sessions, lockout, requests, admin };
}

/** A warning for the start-up log when no admin has a phone: nobody can step up, and so nobody can link one from Slack. */
export async function adminPhoneWarning(config: Config, admin: AdminActions): Promise<string | undefined> {
  const { admins } = config.policy;
  if (admins.length === 0 || (await admin.adminsWithPhone()).length > 0) return undefined;
  return `[policy] admins: no admin has a phone (${admins.join(', ')}), so nobody can step up for /admin. Link one from this host: npm run admin -- link ${admins[0]} <phone number>, or add it under [phones] in config.ini`;
}

/** How long a shutdown waits for requests in flight (their work after the ack included). */
export const DRAIN_MS = 10_000;

/**
 * After a declared command's endpoint answered (or timed out): the audit write and the answer to the
 * user, at the response_url, else as an ephemeral message, else by DM (5 s each at most).
 */
export const REPLY_MARGIN_MS = 15_000;

/**
 * How long a shutdown waits for requests in flight: DRAIN_MS, or, when commands are declared, long
 * enough for the slowest of them to end and be told (its timeout_seconds, up to 30, plus the reply).
 * A run cut short would have called its endpoint and never told the user nor audited the run.
 */
export function drainMs(config: Pick<Config, 'commands'>, base = DRAIN_MS): number {
  const longest = Math.max(0, ...config.commands.map((command) => command.timeoutMs));
  return config.commands.length === 0 ? base : Math.max(base, longest + REPLY_MARGIN_MS);
}

export interface Bot {
  app: App;
  services: Services;
  metrics: Metrics;
  start(port?: number): Promise<number | undefined>;
  /**
   * Shuts down gracefully: /healthz says 503 for `[slack] shutdown_grace_seconds` while requests are
   * still served (so a load balancer stops routing here first), then the port closes and the requests
   * in flight finish (at most drainMs(config)), their work after the ack included.
   */
  stop(): Promise<void>;
  /**
   * Deletes what has run out: expired rows (backends that keep them) and audit events past their bounds.
   * `longestStatementMs` (SQLite only): the longest statement while it ran, the purge's or a request's,
   * which held the event loop that long.
   */
  purge(): Promise<{ expired: number; trimmed: number; longestStatementMs?: number }>;
  /** Lines for the start-up log about the stored state (an admin team that cannot step up). */
  startupWarnings(): Promise<string[]>;
  /** Ends approval requests that are due (expired, or their requester's session ended) and tells people; how many. */
  sweepApprovals(): Promise<number>;
}

export function compose(config: Config, deps: BotDeps): Bot {
  const { clock, logger, signingKeys } = deps;
  const { policy } = config;
  if (config.commands.length > 0 && !signingKeys)
    throw new Error('commands are declared but no signing keys were given: pass loadActionKeys(config) as signingKeys');
  const metrics = new Metrics(() => slack.socketConnections?.() ?? 0);
  // Public keys shared through the store, so that every replica's JWKS lists every replica's key.
  const publishedKeys = signingKeys && new PublishedKeys(deps.store.kv, signingKeys);
  let draining = false;
  const slack = createSlackApp(config, {
    logger,
    ping: () => deps.store.ping(),
    socketRetry: deps.socketRetry,
    onSocketLost: deps.onSocketLost,
    routes: {
      '/metrics': metrics.handler,
      ...(publishedKeys ? { '/.well-known/jwks.json': jwksRoute(publishedKeys) } : {}),
    },
    onAnswered: (startedAt) => metrics.observeAck('http', startedAt), // Socket Mode acks over the socket: not timed
    draining: () => draining,
  });
  const store = metrics.timeStore(deps.store);
  const provider = metrics.timeProvider(
    deps.provider ?? createBandwidthProvider(config.bandwidth, config.numbers.fromNumber, clock, config.slack.appName),
  );
  const notifier = new SlackNotifier(slack.app.client, logger, () => clock.now());

  const auditLogger = logger.child({ audit: true });
  const logSink: AuditSink = (record) => auditLogger.info(record, record.event);
  const trail = new AuditTrail(store);
  // The log line is the record of last resort: a failed store write must not undo the event it records.
  const storeSink: AuditSink = (record) =>
    trail
      .append(record)
      .catch((error: unknown) => logger.error({ err: error, event: record.event }, 'could not store an audit event'));
  const audit = new AuditLog(clock, [logSink, storeSink, metrics.auditSink, sendCapWarning(logger)]);

  const { counters } = store;
  const { phones, sessions, lockout, requests, admin } = buildCore(config, { store, clock, audit, trail, notifier });
  const codes = { requests, counters, provider, phones, sessions, lockout, audit, clock, policy };
  const services: Services = {
    config,
    clock,
    logger,
    phones,
    sessions,
    requests,
    sender: new CodeSender(codes),
    verifier: new CodeVerifier(codes),
    pending: new PendingCommands(store.kv),
    approvals: new Approvals({ store: store.kv, counters, sessions, audit, clock }),
    approvalState: new ApprovalState(store.kv, counters),
    audit,
    admin,
    signingKeys,
    slackDeadlineMs: deps.slackDeadlineMs ?? SLACK_DEADLINE_MS,
  };

  // First, so it spans each request whole; then, before any listener, a request seen before runs nothing (invariant 9).
  const inFlight = new InFlight(deps.load);
  slack.app.use(inFlight.middleware);
  slack.app.use(onlyOnce(services, counters));
  registerListeners(slack.app, services, deps.commands);

  return {
    app: slack.app,
    services,
    metrics,
    async start(port) {
      // Before anything is signed: an endpoint that asks another replica for the JWKS finds this key.
      await publishedKeys?.publish();
      return slack.start(port);
    },
    async stop() {
      draining = true;
      if (config.slack.shutdownGraceMs > 0)
        await new Promise((resolve) => setTimeout(resolve, config.slack.shutdownGraceMs));
      await slack.stop();
      if (!(await inFlight.drained(drainMs(config, deps.drainMs))))
        logger.warn({ inFlight: inFlight.size }, 'stopped with requests still in flight');
    },
    sweepApprovals: () => sweepApprovals(services, slack.app.client),
    async startupWarnings() {
      const warning = await adminPhoneWarning(config, admin);
      return warning ? [warning] : [];
    },
    async purge() {
      // In turn: on Redis the expiry pass also drops index entries of expired keys, which the trim counts.
      await publishedKeys?.publish(); // keeps this replica's keys listed while it runs
      store.takeLongestStatementMs?.(); // from here on
      const expired = await store.purgeExpired();
      const trimmed = await trail.trim();
      return { expired, trimmed, longestStatementMs: store.takeLongestStatementMs?.() };
    },
  };
}
