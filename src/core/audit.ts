import { randomUUID } from 'node:crypto';
import type { Clock, KeyValueStore, Scope } from './ports.js';

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
  | 'replay_dropped';

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

/** Keys sort by time: a fixed-width timestamp, then a random suffix so equal times never collide. */
const eventKey = (at: number) => `audit:${String(at).padStart(15, '0')}:${randomUUID()}`;

/** Security events kept in the store, for `/admin audit`. */
export class AuditTrail {
  constructor(
    private readonly store: KeyValueStore,
    private readonly retention: { maxAgeMs: number; maxEvents: number } = AUDIT_RETENTION,
  ) {}

  async append(record: AuditRecord): Promise<void> {
    await this.store.set(eventKey(record.at), record, this.retention.maxAgeMs);
  }

  /** The newest `count` events, newest first. */
  async recent(count: number): Promise<AuditRecord[]> {
    const keys = await this.keysNewestFirst();
    const records = await this.store.getMany<AuditRecord>(keys.slice(0, count));
    return records.filter((r): r is AuditRecord => r !== undefined);
  }

  /** Deletes the oldest events beyond maxEvents (age is bounded by each event's ttl). Returns how many. */
  async trim(): Promise<number> {
    const excess = (await this.keysNewestFirst()).slice(this.retention.maxEvents);
    for (const key of excess) await this.store.delete(key);
    return excess.length;
  }

  private async keysNewestFirst(): Promise<string[]> {
    const keys: string[] = [];
    for await (const [key] of this.store.entries('audit:')) keys.push(key);
    return keys.sort().reverse();
  }
}
