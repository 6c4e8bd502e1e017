import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { pauseAfter } from './pacing.js';
import type { Clock, KeyValueStore, OrderedKeys, Scope } from './ports.js';

/** Event names follow the OWASP Logging Vocabulary where one fits. */
export type AuditEventName =
  | 'authn_otp_sent'
  | 'authn_otp_send_failed'
  | 'authn_login_fail'
  | 'authn_login_fail_max'
  | 'authn_login_lock'
  | 'authn_login_success'
  | 'authn_login_successafterfail'
  | 'authn_logout'
  | 'authn_session_revoked'
  | 'authn_phone_linked'
  | 'authn_phone_unlinked'
  | 'authz_fail'
  | 'authz_admin'
  | 'excess_rate_limit_exceeded'
  /** A signed request seen before (a replay, or Slack retrying an event): acknowledged, not run. */
  | 'replay_dropped'
  /** A declared command ([command /name]) called its endpoint, or was stopped right before: detail has command, status, ms. */
  | 'action_run';

export type AuditOutcome = 'success' | 'failure' | 'refused' | 'error';

export interface AuditEvent {
  event: AuditEventName;
  /** The Slack user the event is about. */
  userId: string;
  scope?: Scope | undefined;
  outcome: AuditOutcome;
  /** Who caused it, when not the user themselves (an admin). */
  actorId?: string | undefined;
  /** Small facts only: never a code, a full phone number or a token. */
  detail?: Record<string, string | number | boolean> | undefined;
}

export interface AuditRecord extends AuditEvent {
  at: number;
}

export type AuditSink = (record: AuditRecord) => void | Promise<void>;

/** Security events: each goes to every sink (the structured log; the store for `/admin audit`). */
export class AuditLog {
  constructor(
    private readonly clock: Clock,
    private readonly sinks: AuditSink[],
  ) {}

  async record(event: AuditEvent): Promise<void> {
    const record: AuditRecord = { at: this.clock.now(), ...event };
    await Promise.all(this.sinks.map((sink) => sink(record)));
  }
}

const DAY_MS = 24 * 60 * 60 * 1000;

/** The bounds on stored events: by age, and by count (the oldest go first). */
export const AUDIT_RETENTION = { maxAgeMs: 90 * DAY_MS, maxEvents: 5000 } as const;

const PREFIX = 'audit:';
/** Keys sort by time: a fixed-width timestamp, then a random suffix so equal times never collide. */
const eventKey = (at: number) => `${PREFIX}${String(at).padStart(15, '0')}:${randomUUID()}`;

/** Keys deleted per statement when trimming: each batch is short, and requests run between them (pauseAfter). */
export const TRIM_BATCH = 500;

/** Security events kept in the store, for `/admin audit`. */
export class AuditTrail {
  constructor(
    private readonly store: KeyValueStore & OrderedKeys,
    private readonly retention: { maxAgeMs: number; maxEvents: number } = AUDIT_RETENTION,
  ) {}

  async append(record: AuditRecord): Promise<void> {
    await this.store.set(eventKey(record.at), record, this.retention.maxAgeMs);
  }

  /** The newest `count` events, newest first. */
  async recent(count: number): Promise<AuditRecord[]> {
    if (count <= 0) return [];
    const keys = await this.store.keys({ prefix: PREFIX, descending: true, limit: count });
    if (keys.length === 0) return [];
    const records = await this.store.getMany<AuditRecord>(keys);
    return records.filter((r): r is AuditRecord => r !== undefined);
  }

  /**
   * Deletes the oldest events beyond maxEvents (age is bounded by each event's ttl). Returns how many.
   * The work is proportional to what it deletes: one key read finds the oldest event to keep, then
   * batches of older keys are deleted, each followed by a pause as long as it took (pauseAfter).
   */
  async trim(): Promise<number> {
    const [oldestKept] = await this.store.keys({
      prefix: PREFIX,
      descending: true,
      skip: this.retention.maxEvents - 1,
      limit: 1,
    });
    if (oldestKept === undefined) return 0; // maxEvents or fewer
    let trimmed = 0;
    for (;;) {
      const startedAt = performance.now();
      const batch = await this.store.keys({ prefix: PREFIX, before: oldestKept, limit: TRIM_BATCH });
      if (batch.length > 0) await this.store.deleteMany(batch);
      trimmed += batch.length;
      if (batch.length < TRIM_BATCH) return trimmed;
      await pauseAfter(startedAt);
    }
  }
}
