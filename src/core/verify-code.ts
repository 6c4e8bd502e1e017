import { createHash } from 'node:crypto';
import { type Delivery, ProviderError, type Purpose, type Scope } from './ports.js';
import type { Refusal } from './refusals.js';
import { type Challenge, type CodeDeps, KEEP_MS, methodsOf, requestKeys } from './requests.js';

export interface VerifyPolicy {
  codeDigits: number;
  codeTtlMs: number;
  maxAttempts: number;
}

/** A refusal of `not_granted` or `grant_unknown` carries the store's error as `cause`, for the log. */
/**
 * A scope granted until `expiresAt`; or, for an approval, the approver's phone proved at `provedAt`.
 * A refusal of `not_granted` or `grant_unknown` carries the store's error as `cause`, for the log.
 */
export type Verified =
  | { ok: true; scope: Scope; expiresAt: number; methods: Delivery[] }
  | { ok: true; scope: 'approval'; approvalId: string; provedAt: number; methods: Delivery[] }
  | (Refusal & { cause?: unknown });

/** Hashed with the user; kept only for the code lifetime. */
const usedCodeKey = (userId: string, code: string) =>
  `used:${createHash('sha256').update(`${userId}:${code}`).digest('hex')}`;

/** Checks a code against the user's current request and, if it is right, grants the request's scope once. */
export class CodeVerifier {
  constructor(private readonly deps: CodeDeps<VerifyPolicy>) {}

  async verify(userId: string, requestId: string, typed: string): Promise<Verified> {
    const { deps } = this;
    const refuse = (refusal: Refusal, scope?: Purpose): Promise<Refusal> => this.refuse(userId, scope, refusal);
    // V1. A malformed code is refused before anything is read, counted or sent to the provider.
    const code = typed.replace(/[\s-]/g, '');
    if (!new RegExp(`^\\d{${deps.policy.codeDigits}}$`).test(code))
      return refuse({ ok: false, reason: 'malformed', digits: deps.policy.codeDigits });
    // V2. Only the user's current request, in force: the scope comes from it, never from the window.
    const current = await deps.requests.current(userId, requestId);
    if (!current.ok) return refuse(current);
    const { scope, challenge, epoch } = current.request;
    // V3. A code is checked only while its challenge is live: sent, within the code lifetime, to the
    //     phone the user still has.
    if (!challenge) return refuse({ ok: false, reason: 'no_code' }, scope);
    if (deps.clock.now() > challenge.lastSentAt + deps.policy.codeTtlMs)
      return refuse({ ok: false, reason: 'code_expired' }, scope);
    if ((await deps.phones.phoneOf(userId)) !== challenge.to)
      return refuse({ ok: false, reason: 'phone_changed' }, scope);
    // V4. A locked user can neither receive nor submit codes.
    const lockedUntil = await deps.lockout.lockedUntil(userId);
    if (lockedUntil) return refuse({ ok: false, reason: 'locked', until: lockedUntil }, scope);
    // V5. A code works once. A challenge that already granted, or a code already consumed, is "already
    //     used", and nothing is counted: it can never grant, so it is not a guess.
    const usedKey = usedCodeKey(userId, code);
    const [granted, used] = await Promise.all([
      deps.counters.peek(requestKeys.granted(challenge.id)),
      deps.counters.peek(usedKey),
    ]);
    if (granted > 0 || used > 0) return refuse({ ok: false, reason: 'already_used' }, scope);
    // V6. Each submission is counted before the provider sees it, so simultaneous guesses cannot slip
    //     past the limit; past max_attempts the challenge is dead: even the right code is refused and the
    //     provider is not asked. A submission the provider never answered is given back (V7).
    const [counted, unanswered] = await Promise.all([
      deps.counters.increment(requestKeys.attempts(challenge.id), KEEP_MS),
      deps.counters.peek(requestKeys.unanswered(challenge.id)),
    ]);
    const attempt = counted.count - unanswered;
    if (attempt > deps.policy.maxAttempts) return refuse({ ok: false, reason: 'dead' }, scope);
    // V7. The provider checks the code under this challenge's own scope, so no other challenge's code
    //     matches. Only an answer counts as a guess: an error (a timeout, a 5xx, Bandwidth's own 429)
    //     checked no code, so it uses up no attempt and never counts toward a lock.
    let valid: boolean;
    try {
      const windowMinutes = Math.ceil(deps.policy.codeTtlMs / 60_000);
      valid = await deps.provider.verify({ to: challenge.to, scope: challenge.providerScope, code, windowMinutes });
    } catch (error) {
      if (!(error instanceof ProviderError)) throw error;
      await deps.counters.increment(requestKeys.unanswered(challenge.id), KEEP_MS);
      await deps.audit.record({
        event: 'authn_login_fail',
        userId,
        scope,
        outcome: 'error',
        detail: { attempt, counted: false, failure: error.failure, status: error.status ?? 0 },
      });
      return { ok: false, reason: 'provider', failure: error.failure };
    }
    if (!valid) return this.wrongCode(userId, scope, attempt);
    // V8. Two right submissions at once: the first to claim the challenge wins; the other is "already
    //     used". The code is remembered for its lifetime, since the provider does not burn it.
    if ((await deps.counters.increment(requestKeys.granted(challenge.id), KEEP_MS)).count > 1)
      return refuse({ ok: false, reason: 'already_used' }, scope);
    await deps.counters.increment(usedKey, deps.policy.codeTtlMs);
    // V11. A code for an approval grants no scope: it proves this person's phone, now, for that one
    //      approval (the caller records it). An ending meanwhile voids it as it voids a grant.
    if (scope === 'approval') {
      if ((await deps.sessions.epoch(userId)) !== epoch) return refuse({ ok: false, reason: 'ended' }, scope);
      await deps.lockout.recordSuccess(userId).catch(() => undefined);
      await this.recordSuccess(userId, scope, attempt, challenge);
      return {
        ok: true,
        scope: 'approval',
        approvalId: current.request.approvalId ?? '',
        provedAt: deps.clock.now(),
        methods: methodsOf(challenge),
      };
    }
    // V9. An ending wins: the grant is made in the request's epoch, and is void if the user's session
    //     ended meanwhile (logout, revoke, link, unlink, lock). Then nothing is granted and nothing runs.
    // V10. A grant is whole: if writing it or confirming it fails, it is taken back, and the user is
    //      told so; if even that fails, the user is told that the result is unknown and how to check.
    let expiresAt: number | undefined;
    try {
      expiresAt = await deps.sessions.grant(userId, scope, epoch, methodsOf(challenge));
    } catch (error) {
      const withdrawn = await deps.sessions.withdraw(userId, scope).then(
        () => true,
        () => false,
      );
      await this.refuse(userId, scope, { ok: false, reason: withdrawn ? 'not_granted' : 'grant_unknown' });
      return { ok: false, reason: withdrawn ? 'not_granted' : 'grant_unknown', cause: error };
    }
    if (expiresAt === undefined) return refuse({ ok: false, reason: 'ended' }, scope);

    // The request stays, its challenge claimed: a late twin submission reads "already used" (V5). The
    // grant stands whatever follows: a failure count left unreset only makes a later lock come sooner.
    await deps.lockout.recordSuccess(userId).catch(() => undefined);
    await this.recordSuccess(userId, scope, attempt, challenge);
    return { ok: true, scope, expiresAt, methods: methodsOf(challenge) };
  }

  private async recordSuccess(userId: string, scope: Purpose, attempt: number, challenge: Challenge): Promise<void> {
    await this.deps.audit.record({
      event: attempt > 1 ? 'authn_login_successafterfail' : 'authn_login_success',
      userId,
      scope,
      outcome: 'success',
      detail: { retries: attempt - 1, methods: methodsOf(challenge).join(',') },
    });
  }

  private async wrongCode(userId: string, scope: Purpose, attempt: number): Promise<Refusal> {
    const { deps } = this;
    const attemptsLeft = Math.max(0, deps.policy.maxAttempts - attempt);
    const { failures, lockedUntil } = await deps.lockout.recordFailure(userId, scope);
    await deps.audit.record({
      event: attemptsLeft === 0 ? 'authn_login_fail_max' : 'authn_login_fail',
      userId,
      scope,
      outcome: 'failure',
      detail: { attempt, attemptsLeft, consecutiveFailures: failures },
    });
    if (lockedUntil) {
      await deps.requests.cancel(userId);
      return { ok: false, reason: 'locked', until: lockedUntil };
    }
    return attemptsLeft === 0 ? { ok: false, reason: 'dead' } : { ok: false, reason: 'wrong_code', attemptsLeft };
  }

  /** Every refusal is audited with its precise reason (wrong codes and provider errors are audited where they happen). */
  private async refuse(userId: string, scope: Purpose | undefined, refusal: Refusal): Promise<Refusal> {
    await this.deps.audit.record({
      event: 'authn_login_fail',
      userId,
      scope,
      outcome: 'refused',
      detail: { reason: refusal.reason },
    });
    return refusal;
  }
}
