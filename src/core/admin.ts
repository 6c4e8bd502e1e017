import type { AuditLog, AuditRecord, AuditTrail } from './audit.js';
import { maskPhone, type PhoneDirectory, type PhoneRules, parsePhone } from './phones.js';
import type { Clock, Notifier } from './ports.js';
import type { Requests } from './requests.js';
import type { LiveScope, LiveSession, Sessions } from './sessions.js';

export type LinkResult =
  | { ok: true; changed: boolean; maskedPhone: string; ended: LiveScope[] }
  | { ok: false; reason: 'invalid' | 'extension' | 'country' | 'not_personal'; detail: string };

/**
 * What admins may do to other users. The caller has checked, on the server, that the actor is an
 * admin with a live `admin` scope; every action here is audited with the actor, and every action
 * that changes a user's access tells that user by direct message.
 */
export class AdminActions {
  constructor(
    private readonly deps: {
      admins: readonly string[];
      /** Where a linked phone may be ([policy] allowed_regions, allowed_country_codes). */
      phoneRules: PhoneRules;
      phones: PhoneDirectory;
      sessions: Sessions;
      requests: Requests;
      audit: AuditLog;
      trail: AuditTrail;
      notifier: Notifier;
      clock: Clock;
    },
  ) {}

  isAdmin(userId: string): boolean {
    return this.deps.admins.includes(userId);
  }

  /** Users with live scopes, soonest expiry first. */
  async liveSessions(actorId: string): Promise<LiveSession[]> {
    await this.deps.audit.record({
      event: 'authz_admin',
      userId: actorId,
      scope: 'admin',
      outcome: 'success',
      detail: { command: 'sessions' },
    });
    return this.deps.sessions.allLive();
  }

  /** Ends every scope of the target and drops their open code request. */
  async revoke(actorId: string, targetId: string): Promise<LiveScope[]> {
    const ended = await this.endAccess(targetId);
    await this.deps.audit.record({
      event: 'authn_session_revoked',
      userId: targetId,
      actorId,
      outcome: 'success',
      detail: { scopes: ended.map((s) => s.scope).join(',') },
    });
    if (ended.length > 0) await this.deps.notifier.notify(targetId, { kind: 'revoked', by: actorId });
    return ended;
  }

  /** Links a phone (any common notation) to the target. A change ends their access and tells them. */
  async link(actorId: string, targetId: string, input: string): Promise<LinkResult> {
    const parsed = parsePhone(input, this.deps.phoneRules);
    if (!parsed.ok) {
      await this.deps.audit.record({
        event: 'authn_phone_linked',
        userId: targetId,
        actorId,
        outcome: 'refused',
        detail: { reason: parsed.reason },
      });
      return parsed;
    }
    const maskedPhone = maskPhone(parsed.e164);
    const current = await this.deps.phones.phoneOf(targetId);
    // Stored even when unchanged, so it holds whatever config.ini says later.
    await this.deps.phones.link(targetId, parsed.e164, actorId, this.deps.clock.now());
    if (current === parsed.e164) return { ok: true, changed: false, maskedPhone, ended: [] };
    const ended = await this.endAccess(targetId);
    await this.deps.audit.record({
      event: 'authn_phone_linked',
      userId: targetId,
      actorId,
      outcome: 'success',
      detail: { maskedPhone, replaced: current !== undefined },
    });
    await this.deps.notifier.notify(targetId, { kind: 'phone_linked', maskedPhone, by: actorId });
    return { ok: true, changed: true, maskedPhone, ended };
  }

  /** Leaves the target with no phone, whatever [phones] or user_number say, until an admin links one. */
  async unlink(actorId: string, targetId: string): Promise<{ hadPhone: boolean; ended: LiveScope[] }> {
    const hadPhone = (await this.deps.phones.phoneOf(targetId)) !== undefined;
    await this.deps.phones.link(targetId, null, actorId, this.deps.clock.now());
    const ended = await this.endAccess(targetId);
    await this.deps.audit.record({
      event: 'authn_phone_unlinked',
      userId: targetId,
      actorId,
      outcome: 'success',
      detail: { hadPhone },
    });
    if (hadPhone) await this.deps.notifier.notify(targetId, { kind: 'phone_unlinked', by: actorId });
    return { hadPhone, ended };
  }

  /** The newest security events, newest first. */
  async recentEvents(actorId: string, count: number): Promise<AuditRecord[]> {
    const events = await this.deps.trail.recent(count);
    await this.deps.audit.record({
      event: 'authz_admin',
      userId: actorId,
      scope: 'admin',
      outcome: 'success',
      detail: { command: 'audit', count },
    });
    return events;
  }

  private async endAccess(userId: string): Promise<LiveScope[]> {
    const ended = await this.deps.sessions.end(userId);
    await this.deps.requests.cancel(userId);
    return ended;
  }
}
