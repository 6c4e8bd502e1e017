import { createHash, randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { pauseAfter } from './pacing.js';
import type { Clock, Counters, KeyValueStore, OrderedKeys, Purpose } from './ports.js';

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
  | 'action_run'
  /** Approvals (core/approvals.ts); detail has the request id. */
  | 'approval_requested'
  /** One approver's approval was recorded; with `approved: true`, the last one needed. */
  | 'approval_granted'
  | 'approval_denied'
  | 'approval_expired'
  /** Cancelled by the requester, or ended by an ending of theirs (detail.reason). */
  | 'approval_cancelled'
  /** The requester ran a command without its approvals, with a reason and a fresh code. */
  | 'break_glass';

export type AuditOutcome = 'success' | 'failure' | 'refused' | 'error';

export interface AuditEvent {
  event: AuditEventName;
  /** The Slack user the event is about. */
  userId: string;
  scope?: Purpose | undefined;
  outcome: AuditOutcome;
  /** Who caused it, when not the user themselves (an admin). */
  actorId?: string | undefined;
  /** Small facts only: never a code, a full phone number or a token. */
  detail?: Record<string, string | number | boolean> | undefined;
}

export interface AuditRecord extends AuditEvent {
  at: number;
  /**
   * A counted row of the trail (free refusals, see isFreeRefusal): how many such events there were in
   * its hour, `at` being the first. Absent on an event stored by itself.
   */
  count?: number | undefined;
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

/**
 * Refusals anyone can cause for free, as often as they like: refused before anything was sent, checked
 * with the provider or counted toward a lock, so a repeat costs the sender nothing. Left alone, a few
 * thousand of them push a lock or a phone change out of `/admin audit`. The trail counts them instead
 * of storing each (see AuditTrail); the log still has one line per event. Anything not listed here is
 * a security event, stored by itself: a new event or reason is one until it is listed.
 */
const FREE_REFUSALS: Partial<Record<AuditEventName, ReadonlySet<string> | 'any'>> = {
  // A command refused before it ran: no live scope, i.e. logged out (the gate), not an admin, not in a
  // declared command's `allow`.
  authz_fail: new Set(['no_scope', 'not_admin', 'not_allowed']),
  // A code refused without asking the provider or counting a failure toward a lock (verify-code.ts
  // V1-V6). Wrong codes and provider errors are no refusals (outcome failure, error): security events.
  authn_login_fail: new Set([
    'malformed',
    'no_request',
    'stale',
    'ended',
    'no_code',
    'code_expired',
    'phone_changed',
    'locked',
    'already_used',
    'dead',
  ]),
  // A signed request seen before: a replay, or Slack retrying.
  replay_dropped: 'any',
};

export function isFreeRefusal(event: AuditEvent): boolean {
  const reasons = FREE_REFUSALS[event.event];
  if (reasons === undefined || event.outcome !== 'refused') return false;
  return reasons === 'any' || reasons.has(String(event.detail?.reason));
}

const DAY_MS = 24 * 60 * 60 * 1000;

export interface AuditRetention {
  /** How long an event (or a counted row) is kept. */
  maxAgeMs: number;
  /** Security events kept, newest first. */
  maxEvents: number;
  /** Counted rows kept, newest first: a bound of their own, so that noise never trims a security event. */
  maxCounted: number;
  /** Free refusals alike (event, user, scope, reason, command) are counted together within this window. */
  countWindowMs: number;
}

export const AUDIT_RETENTION: AuditRetention = {
  maxAgeMs: 90 * DAY_MS,
  maxEvents: 5000,
  maxCounted: 1000,
  countWindowMs: 60 * 60_000,
};

/** Security events, one key each. */
const PREFIX = 'audit:';
/** Counted rows: the first free refusal of its kind in a window, one key per kind and window. */
const COUNTED_PREFIX = 'audit-counted:';
/** Each counted row's count (a counter, named like its row). */
const COUNT_PREFIX = 'audit-count:';
const time = (at: number) => String(at).padStart(15, '0');
/** Keys sort by time: a fixed-width timestamp, then a random suffix so equal times never collide. */
const eventKey = (at: number) => `${PREFIX}${time(at)}:${randomUUID()}`;

/** Keys deleted per statement when trimming: each batch is short, and requests run between them (pauseAfter). */
export const TRIM_BATCH = 500;

/** The facts a counted row keeps: what makes its events alike (a retry number, say, is not kept). */
const COUNTED_DETAIL = ['command', 'reason', 'kind'] as const;

/**
 * Security events kept in the store, for `/admin audit`. Free refusals (isFreeRefusal) are counted,
 * not stored one by one: per kind (event, user, scope, reason, command) and window, one atomic counter
 * increment, plus one write the first time. They have their own bound, so they can neither trim a
 * security event nor take its place in `/admin audit`.
 */
export class AuditTrail {
  private readonly retention: AuditRetention;

  constructor(
    private readonly store: { kv: KeyValueStore & OrderedKeys; counters: Counters },
    retention: Partial<AuditRetention> = {},
  ) {
    this.retention = { ...AUDIT_RETENTION, ...retention };
  }

  async append(record: AuditRecord): Promise<void> {
    const { kv, counters } = this.store;
    const { maxAgeMs, countWindowMs } = this.retention;
    if (!isFreeRefusal(record)) {
      await kv.set(eventKey(record.at), record, maxAgeMs);
      return;
    }
    const detail: Record<string, string> = {};
    for (const name of COUNTED_DETAIL)
      if (record.detail?.[name] !== undefined) detail[name] = String(record.detail[name]);
    const row: AuditRecord = {
      at: record.at,
      event: record.event,
      userId: record.userId,
      scope: record.scope,
      outcome: record.outcome,
      detail,
    };
    const kind = createHash('sha256')
      .update(JSON.stringify([row.event, row.userId, row.scope ?? '', detail]))
      .digest('hex')
      .slice(0, 32);
    const id = `${time(record.at - (record.at % countWindowMs))}:${kind}`;
    // The counter lives as long as the row, so the row's count can be read for as long as it is shown.
    if ((await counters.increment(COUNT_PREFIX + id, maxAgeMs)).count === 1)
      await kv.set(COUNTED_PREFIX + id, row, maxAgeMs);
  }

  /**
   * The newest `count` security events, and the counted rows of the time they span (at most `count`),
   * newest first. However many free refusals there were, every one of those security events is listed.
   */
  async recent(count: number): Promise<AuditRecord[]> {
    if (count <= 0) return [];
    const { kv, counters } = this.store;
    const events = await this.read(await kv.keys({ prefix: PREFIX, descending: true, limit: count }));
    // With `count` events, the oldest of them starts the span: older counted rows are for a longer list.
    const from = events.length === count ? events.at(-1)!.at : 0;
    const fromKey = COUNTED_PREFIX + time(from - (from % this.retention.countWindowMs));
    const rowKeys = (await kv.keys({ prefix: COUNTED_PREFIX, descending: true, limit: count })).filter(
      (key) => key >= fromKey,
    );
    const [rows, counts] = await Promise.all([
      kv.getMany<AuditRecord>(rowKeys),
      Promise.all(rowKeys.map((key) => counters.peek(COUNT_PREFIX + key.slice(COUNTED_PREFIX.length)))),
    ]);
    const counted = rows.flatMap((row, i) => (row ? [{ ...row, count: Math.max(1, counts[i]!) }] : []));
    return [...events, ...counted].sort((a, b) => b.at - a.at);
  }

  private async read(keys: string[]): Promise<AuditRecord[]> {
    if (keys.length === 0) return [];
    const records = await this.store.kv.getMany<AuditRecord>(keys);
    return records.filter((r): r is AuditRecord => r !== undefined);
  }

  /**
   * Deletes the oldest security events beyond maxEvents, and the oldest counted rows (with their
   * counters) beyond maxCounted; age is bounded by each key's ttl. Returns how many keys of the trail
   * went. Each bound is kept on its own range of keys: noise never trims a security event.
   */
  async trim(): Promise<number> {
    const events = await this.trimRange(PREFIX, this.retention.maxEvents);
    const counted = await this.trimRange(COUNTED_PREFIX, this.retention.maxCounted, (keys) =>
      Promise.all(keys.map((key) => this.store.counters.reset(COUNT_PREFIX + key.slice(COUNTED_PREFIX.length)))),
    );
    return events + counted;
  }

  /**
   * The work is proportional to what it deletes: one key read finds the oldest key to keep, then
   * batches of older keys are deleted, each followed by a pause as long as it took (pauseAfter).
   */
  private async trimRange(prefix: string, keep: number, also?: (keys: string[]) => Promise<unknown>): Promise<number> {
    const { kv } = this.store;
    const [oldestKept] = await kv.keys({ prefix, descending: true, skip: keep - 1, limit: 1 });
    if (oldestKept === undefined) return 0; // `keep` or fewer
    let trimmed = 0;
    for (;;) {
      const startedAt = performance.now();
      const batch = await kv.keys({ prefix, before: oldestKept, limit: TRIM_BATCH });
      if (batch.length > 0) {
        await kv.deleteMany(batch);
        await also?.(batch);
      }
      trimmed += batch.length;
      if (batch.length < TRIM_BATCH) return trimmed;
      await pauseAfter(startedAt);
    }
  }
}
