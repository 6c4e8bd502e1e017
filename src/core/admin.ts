import type { AuditLog, AuditRecord, AuditTrail } from './audit.js';
import { maskPhone, maskPhoneWithRegion, type PhoneDirectory, type PhoneRules, parsePhone } from './phones.js';
import type { Clock, KeyValueStore, Notifier } from './ports.js';
import type { Requests } from './requests.js';
import type { LiveScope, LiveSession, Sessions } from './sessions.js';

/**
 * Who acts: an admin in Slack, whose authority is read again when the action runs, or an operator at
 * the host's shell (`npm run admin`), who needs no Slack and is audited as `operator`.
 */
export type Actor =
  | { kind: 'admin'; userId: string }
  /** An admin's command that other admins approved with their own codes ([policy] admin_approvals). */
  | { kind: 'approved'; userId: string; approvedBy: string[] }
  | { kind: 'operator' };

/** The actor id audit events and direct messages name for an operator. */
export const OPERATOR = 'operator';

export const actorId = (actor: Actor): string => (actor.kind === 'operator' ? OPERATOR : actor.userId);

/** Why an admin action did not run. Nothing was changed. */
export type AdminRefusal =
  /** The actor is no longer in `[policy] admins` (the config changed since the command was typed). */
  | { ok: false; reason: 'no_longer_admin' }
  /** The actor's admin step-up is no longer live. */
  | { ok: false; reason: 'admin_scope_ended' }
  /** An admin may not link or unlink their own phone from chat: that is how one account takes another's place. */
  | { ok: false; reason: 'own_phone' }
  /** Unlinking this admin would leave no admin with a phone, so nobody could step up again. */
  | { ok: false; reason: 'last_admin_phone' };

/** What an ending did: the scopes that were live, and whether an open code request was dropped. */
export interface Ended {
  ended: LiveScope[];
  endedRequest: boolean;
}

/** `resumed`: this run completed a change that an earlier run began and could not finish. */
export type RevokeResult = ({ ok: true; resumed: boolean } & Ended) | AdminRefusal;

export type LinkResult =
  | ({ ok: true; changed: boolean; resumed: boolean; maskedPhone: string } & Ended)
  | { ok: false; reason: 'invalid' | 'extension' | 'country' | 'not_personal'; detail: string }
  | AdminRefusal;

/** Why a number cannot be linked: the rules of parsePhone, or one's own phone from chat. */
type LinkRefusal =
  | { ok: false; reason: 'invalid' | 'extension' | 'country' | 'not_personal'; detail: string }
  | { ok: false; reason: 'own_phone' };

export type UnlinkResult = ({ ok: true; hadPhone: boolean; resumed: boolean } & Ended) | AdminRefusal;

export type Listed<T> = { ok: true; value: T } | AdminRefusal;

/**
 * A change that failed after it began: some of it may have been made. Running the same command again
 * completes it (the change is recorded first, and each step can be done twice).
 */
export class UnfinishedChange extends Error {
  override name = 'UnfinishedChange';
}

/** A change to a user's access, kept until it is wholly done, so that a retry finishes it. */
interface ChangeRecord {
  kind: 'revoke' | 'link' | 'unlink';
  /** link: the new phone (E.164). */
  phone?: string | undefined;
  by: string;
  at: number;
}

const changeKey = (targetId: string) => `change:${targetId}`;
/** How long a half-done change waits for its retry. */
const CHANGE_KEEP_MS = 7 * 24 * 60 * 60_000;

/**
 * What admins (and operators) may do to other users. Every action reads the actor's authority when it
 * runs, not when it was typed (A1); every one is audited with the actor; every change to a user's
 * access tells that user by direct message.
 *
 * A change is whole (A2): it is recorded, then the user's access ends (fail closed), then the phone
 * changes, then it is audited and told, then the record goes. An error midway leaves the record, and
 * the same command run again completes what was left.
 */
export class AdminActions {
  constructor(
    private readonly deps: {
      admins: readonly string[];
      /** Where a linked phone may be ([policy] allowed_regions, allowed_country_codes). */
      phoneRules: PhoneRules;
      store: KeyValueStore;
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

  /** The admins who have a phone now (a stored link, [phones] or user_number): those who can step up. */
  async adminsWithPhone(): Promise<string[]> {
    const phones = await Promise.all(this.deps.admins.map((id) => this.deps.phones.phoneOf(id)));
    return this.deps.admins.filter((_, i) => phones[i] !== undefined);
  }

  /** Users with live scopes, soonest expiry first. */
  liveSessions(actor: Actor): Promise<Listed<LiveSession[]>> {
    return this.readAs(actor, { command: 'sessions' }, () => this.deps.sessions.allLive());
  }

  /** The newest security events, newest first (read before this read is itself recorded). */
  recentEvents(actor: Actor, count: number): Promise<Listed<AuditRecord[]>> {
    return this.readAs(actor, { command: 'audit', count }, () => this.deps.trail.recent(count));
  }

  /** A read an admin command makes: authority first, then the read, then it is audited. */
  async readAs<T>(
    actor: Actor,
    detail: { command: string } & Record<string, string | number>,
    read: () => Promise<T>,
  ): Promise<Listed<T>> {
    const refused = await this.authority(actor, detail.command);
    if (refused) return refused;
    const value = await read();
    await this.recordRead(actor, detail);
    return { ok: true, value };
  }

  /** Ends every scope of the target and drops their open code request. */
  async revoke(actor: Actor, targetId: string): Promise<RevokeResult> {
    const refused = await this.authority(actor, 'revoke');
    if (refused) return refused;
    const by = actorId(actor);
    const resumed = (await this.pendingChange(targetId))?.kind === 'revoke';
    const ending = await this.change(targetId, { kind: 'revoke', by, at: this.deps.clock.now() }, async (ending) => {
      await this.deps.audit.record({
        event: 'authn_session_revoked',
        userId: targetId,
        actorId: by,
        outcome: 'success',
        detail: { scopes: scopeNames(ending), request: ending.endedRequest },
      });
      if (resumed || ending.ended.length > 0 || ending.endedRequest)
        await this.deps.notifier.notify(targetId, { kind: 'revoked', by });
    });
    return { ok: true, resumed, ...ending };
  }

  /** Links a phone (any common notation) to the target. A change ends their access and tells them. */
  async link(actor: Actor, targetId: string, input: string): Promise<LinkResult> {
    const refused = await this.authority(actor, 'link');
    if (refused) return refused;
    const by = actorId(actor);
    const checked = this.checkLink(actor, targetId, input);
    if (!checked.ok) {
      await this.recordRefusal('authn_phone_linked', targetId, by, checked.reason);
      return checked;
    }
    const { e164 } = checked;
    const maskedPhone = maskPhone(e164);
    const [current, pending] = await Promise.all([this.deps.phones.phoneOf(targetId), this.pendingChange(targetId)]);
    const resumed = pending?.kind === 'link' && pending.phone === e164;
    if (current === e164 && !resumed) {
      // Stored even when unchanged, so it holds whatever config.ini says later.
      await this.deps.phones.link(targetId, e164, by, this.deps.clock.now());
      return { ok: true, changed: false, resumed: false, maskedPhone, ended: [], endedRequest: false };
    }
    const record: ChangeRecord = { kind: 'link', phone: e164, by, at: this.deps.clock.now() };
    const ending = await this.change(targetId, record, async () => {
      await this.deps.phones.link(targetId, e164, by, record.at);
      await this.deps.audit.record({
        event: 'authn_phone_linked',
        userId: targetId,
        actorId: by,
        outcome: 'success',
        detail: { maskedPhone, replaced: current !== undefined && current !== e164 },
      });
      await this.deps.notifier.notify(targetId, { kind: 'phone_linked', maskedPhone, by });
    });
    return { ok: true, changed: true, resumed, maskedPhone, ...ending };
  }

  /** Leaves the target with no phone, whatever [phones] or user_number say, until an admin links one. */
  async unlink(actor: Actor, targetId: string): Promise<UnlinkResult> {
    const refused = await this.authority(actor, 'unlink');
    if (refused) return refused;
    const by = actorId(actor);
    const [checked, pending] = await Promise.all([this.checkUnlink(actor, targetId), this.pendingChange(targetId)]);
    if (!checked.ok) {
      await this.recordRefusal('authn_phone_unlinked', targetId, by, checked.reason);
      return checked;
    }
    const { hadPhone } = checked;
    const resumed = pending?.kind === 'unlink';
    const record: ChangeRecord = { kind: 'unlink', by, at: this.deps.clock.now() };
    const ending = await this.change(targetId, record, async () => {
      await this.deps.phones.link(targetId, null, by, record.at);
      await this.deps.audit.record({
        event: 'authn_phone_unlinked',
        userId: targetId,
        actorId: by,
        outcome: 'success',
        detail: { hadPhone },
      });
      if (hadPhone || resumed) await this.deps.notifier.notify(targetId, { kind: 'phone_unlinked', by });
    });
    return { ok: true, hadPhone: hadPhone || resumed, resumed, ...ending };
  }

  /**
   * What would refuse this change before it is asked of other admins ([policy] admin_approvals): the
   * same checks link, unlink and revoke make, in the same order. Changes nothing and records nothing.
   * For a link, `shows` is the new phone masked to its last four digits, with its region.
   */
  async precheck(
    actor: Actor,
    change:
      | { kind: 'link'; targetId: string; input: string }
      | { kind: 'unlink'; targetId: string }
      | { kind: 'revoke'; targetId: string },
  ): Promise<{ ok: true; shows?: string | undefined } | Exclude<LinkResult, { ok: true }>> {
    const refused = await this.authority(actor, change.kind);
    if (refused) return refused;
    if (change.kind === 'revoke') return { ok: true };
    if (change.kind === 'unlink') {
      const checked = await this.checkUnlink(actor, change.targetId);
      return checked.ok ? { ok: true } : checked;
    }
    const checked = this.checkLink(actor, change.targetId, change.input);
    return checked.ok ? { ok: true, shows: maskPhoneWithRegion(checked.e164) } : checked;
  }

  /**
   * A3. The rules of a link, once authority is settled: an admin never changes their own phone from
   * chat, and the number must be a valid personal line where codes may go.
   */
  private checkLink(actor: Actor, targetId: string, input: string): { ok: true; e164: string } | LinkRefusal {
    if (actor.kind !== 'operator' && actor.userId === targetId) return { ok: false, reason: 'own_phone' };
    const parsed = parsePhone(input, this.deps.phoneRules);
    return parsed.ok ? { ok: true, e164: parsed.e164 } : parsed;
  }

  /**
   * A3. The rules of an unlink: not one's own phone from chat, and not the last admin's who has one (an
   * operator at the shell, the way back from there, is held to neither).
   */
  private async checkUnlink(
    actor: Actor,
    targetId: string,
  ): Promise<{ ok: true; hadPhone: boolean } | { ok: false; reason: 'own_phone' | 'last_admin_phone' }> {
    if (actor.kind !== 'operator' && actor.userId === targetId) return { ok: false, reason: 'own_phone' };
    const hadPhone = (await this.deps.phones.phoneOf(targetId)) !== undefined;
    const lockout = actor.kind !== 'operator' ? await this.lastAdminPhone(targetId, hadPhone) : undefined;
    return lockout ? { ok: false, reason: lockout } : { ok: true, hadPhone };
  }

  /**
   * A1. Authority is read when the action runs: the actor must still be in `[policy] admins` (this
   * instance's config, now) and still hold a live admin scope. An operator at the shell needs neither.
   */
  private async authority(actor: Actor, command: string): Promise<AdminRefusal | undefined> {
    if (actor.kind === 'operator') return undefined;
    // An approved command ran its step-up when it was asked; the approvals stand for its scope since.
    const reason = !this.isAdmin(actor.userId)
      ? 'no_longer_admin'
      : actor.kind === 'approved' || (await this.deps.sessions.isLive(actor.userId, 'admin'))
        ? undefined
        : 'admin_scope_ended';
    if (!reason) return undefined;
    await this.deps.audit.record({
      event: 'authz_fail',
      userId: actor.userId,
      scope: 'admin',
      outcome: 'refused',
      detail: { command: `/admin ${command}`, reason },
    });
    return { ok: false, reason };
  }

  /** Whether unlinking `targetId` would leave no admin with a phone. */
  private async lastAdminPhone(targetId: string, hadPhone: boolean): Promise<'last_admin_phone' | undefined> {
    if (!hadPhone || !this.isAdmin(targetId)) return undefined;
    const others = (await this.adminsWithPhone()).filter((id) => id !== targetId);
    return others.length === 0 ? 'last_admin_phone' : undefined;
  }

  private pendingChange(targetId: string): Promise<ChangeRecord | undefined> {
    return this.deps.store.get<ChangeRecord>(changeKey(targetId));
  }

  /**
   * A2. Records the change, ends the target's access (first: fail closed), runs the rest of it, and
   * forgets the record once all is done. A failure after the record was written may have left part of
   * the change made: it is thrown as UnfinishedChange, and the record stays for the retry.
   */
  private async change(targetId: string, record: ChangeRecord, rest: (ending: Ended) => Promise<void>): Promise<Ended> {
    await this.deps.store.set(changeKey(targetId), record, CHANGE_KEEP_MS);
    try {
      const epoch = await this.deps.sessions.epoch(targetId);
      const ended = await this.deps.sessions.end(targetId);
      const endedRequest = await this.deps.requests.cancel(targetId, epoch);
      const ending = { ended, endedRequest };
      await rest(ending);
      await this.deps.store.delete(changeKey(targetId));
      return ending;
    } catch (error) {
      throw new UnfinishedChange(`${record.kind} of ${targetId} did not finish`, { cause: error });
    }
  }

  private async recordRead(actor: Actor, detail: Record<string, string | number>): Promise<void> {
    await this.deps.audit.record({
      event: 'authz_admin',
      userId: actorId(actor),
      scope: 'admin',
      outcome: 'success',
      detail,
    });
  }

  private async recordRefusal(
    event: 'authn_phone_linked' | 'authn_phone_unlinked',
    targetId: string,
    by: string,
    reason: string,
  ): Promise<void> {
    await this.deps.audit.record({ event, userId: targetId, actorId: by, outcome: 'refused', detail: { reason } });
  }
}

const scopeNames = (ending: Ended) => ending.ended.map((s) => s.scope).join(',');
