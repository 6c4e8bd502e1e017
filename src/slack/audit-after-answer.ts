import type { AuditEvent } from '../core/audit.js';
import type { Services } from '../services.js';

/**
 * Records an audit event once the user has been answered (a refusal, a dropped replay, a declared
 * command's run): a failed write is logged, never shown to the user and never thrown.
 */
export function auditAfterAnswer(s: Pick<Services, 'audit' | 'logger'>, event: AuditEvent): Promise<void> {
  return s.audit.record(event).catch((error: unknown) => s.logger.error({ err: error }, 'audit write failed'));
}
