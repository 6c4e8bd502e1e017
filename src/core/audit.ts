import type { Clock, Scope } from './ports.js';

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
  | 'excess_rate_limit_exceeded';

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
