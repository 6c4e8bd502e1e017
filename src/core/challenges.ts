import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { AuditLog } from './audit.js';
import type { Lockout } from './lockout.js';
import { maskPhone, type PhoneDirectory } from './phones.js';
import {
  ProviderError,
  type Clock,
  type CodeProvider,
  type Counters,
  type Delivery,
  type KeyValueStore,
  type ProviderFailure,
  type Scope,
} from './ports.js';
import type { Sessions } from './sessions.js';

/**
 * Proving possession of a phone. A user has at most one request open, for one scope. A request has
 * at most one live challenge: the codes sent to one phone under one provider scope of its own, counted
 * together. The rules are numbered where they are checked, in `verify` and `send`.
 */

export interface ChallengePolicy {
  codeDigits: number;
  codeTtlMs: number;
  maxAttempts: number;
  resendCooldownMs: number;
  maxSendsPerHour: number;
}

/** Something to run once the scope is granted: the command that asked for a step-up. */
export interface PendingCommand {
  text: string;
  channelId: string;
  responseUrl?: string | undefined;
}

/** What the user has open while proving possession (a "flow" in the Slack layer). */
interface Request {
  id: string;
  scope: Scope;
  /** The user's session epoch when the request began: an ending since then voids the request. */
  epoch: string;
  pending?: PendingCommand | undefined;
  challenge?: Challenge | undefined;
}

interface Challenge {
  id: string;
  /** The provider's scope for this challenge alone, e.g. `login-9f2c4e1a0b3d`: no other challenge's code can match. */
  providerScope: string;
  to: string;
  delivery: Delivery;
  firstSentAt: number;
  lastSentAt: number;
}

export type Refusal =
  | { ok: false; reason: 'no_phone' }
  | { ok: false; reason: 'locked'; until: number }
  /** The window belongs to a request that a newer one replaced. */
  | { ok: false; reason: 'stale' }
  /** The request is gone, or its code is past its lifetime or was sent to another phone. */
  | { ok: false; reason: 'expired' }
  /** The request was ended by a logout, revoke, link, unlink or lock (perhaps while its code was checked). */
  | { ok: false; reason: 'ended' }
  | { ok: false; reason: 'cooldown'; retryAt: number }
  | { ok: false; reason: 'send_limit'; retryAt: number }
  /** Too many wrong codes for this challenge: only a new code can succeed. */
  | { ok: false; reason: 'dead' }
  | { ok: false; reason: 'provider'; failure: ProviderFailure }
  | { ok: false; reason: 'malformed'; digits: number }
  | { ok: false; reason: 'wrong_code'; attemptsLeft: number }
  | { ok: false; reason: 'already_used' };

export type RefusalReason = Refusal['reason'];

/** What a window needs to show a request. */
export interface FlowView {
  flowId: string;
  scope: Scope;
  maskedPhone: string;
  digits: number;
  /** The method the user chose earlier in this session, if any. */
  preferredDelivery?: Delivery | undefined;
  /** Set while a code that can still be entered is out. */
  sent?: { delivery: Delivery; codeExpiresAt: number } | undefined;
}

export type FlowResult = { ok: true; flow: FlowView } | Refusal;
export type VerifyResult = { ok: true; scope: Scope; expiresAt: number; pending?: PendingCommand | undefined } | Refusal;

export interface ChallengeDeps {
  store: KeyValueStore;
  counters: Counters;
  provider: CodeProvider;
  phones: PhoneDirectory;
  sessions: Sessions;
  lockout: Lockout;
  audit: AuditLog;
  clock: Clock;
  policy: ChallengePolicy;
  appName: string;
}

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;
/** How long requests and their counters are kept: longer than any code or cooldown. */
const KEEP_MS = HOUR_MS;

const keys = {
  request: (userId: string) => `flow:${userId}`,
  sends: (userId: string) => `sends:${userId}`,
  /** Per request (so per scope): a new request after a logout or a success sends at once. */
  cooldown: (requestId: string) => `cooldown:${requestId}`,
  attempts: (challengeId: string) => `attempts:${challengeId}`,
  done: (challengeId: string) => `done:${challengeId}`,
  /** Hashed with the user; kept only for the code lifetime. */
  usedCode: (userId: string, code: string) => `used:${createHash('sha256').update(`${userId}:${code}`).digest('hex')}`,
};

export class Challenges {
  constructor(private readonly deps: ChallengeDeps) {}

  /**
   * Opens a request for `scope`, replacing the user's earlier one. Sends nothing: if this scope's
   * request still has a live code out, it continues (same request, same code); otherwise the caller
   * asks for a send.
   */
  async begin(userId: string, scope: Scope, pending?: PendingCommand): Promise<FlowResult> {
    const { deps } = this;
    const phone = await deps.phones.phoneOf(userId);
    if (!phone) return { ok: false, reason: 'no_phone' };
    const lockedUntil = await deps.lockout.lockedUntil(userId);
    if (lockedUntil) return { ok: false, reason: 'locked', until: lockedUntil };

    const [epoch, open] = await Promise.all([deps.sessions.epoch(userId), deps.store.get<Request>(keys.request(userId))]);
    const continuing = open && open.scope === scope && open.epoch === epoch && (await this.liveChallenge(open, phone));
    const request: Request = continuing ? { ...open, pending } : { id: randomUUID(), scope, epoch, pending };
    await deps.store.set(keys.request(userId), request, KEEP_MS);
    return { ok: true, flow: await this.view(userId, request, phone) };
  }

  /** Sends a code for the user's current request: the first, a resend, or by the other method. */
  async send(userId: string, requestId: string, delivery: Delivery): Promise<FlowResult> {
    const { deps } = this;
    const current = await this.currentRequest(userId, requestId);
    if (!current.ok) return current;
    const request = current.request;
    const phone = await deps.phones.phoneOf(userId);
    if (!phone) return { ok: false, reason: 'no_phone' };
    const lockedUntil = await deps.lockout.lockedUntil(userId);
    if (lockedUntil) return { ok: false, reason: 'locked', until: lockedUntil };

    // S1. A resend within the request, and the request's first code, wait for the cooldown; every
    //     send counts toward the hourly cap. Both are atomic counts: simultaneous sends cannot slip past.
    const refused = await this.takeSendAllowance(userId, request);
    if (refused) return refused;

    // S2. A live challenge takes the new code (its attempts carry over); a used, dead or expired one
    //     is replaced by a new challenge under a provider scope of its own.
    const continuing = await this.liveChallenge(request, phone);
    const challenge: Challenge = continuing
      ? { ...continuing, delivery }
      : { id: randomUUID(), providerScope: `${request.scope}-${randomBytes(6).toString('hex')}`, to: phone, delivery, firstSentAt: 0, lastSentAt: 0 };
    try {
      const { codeDigits: digits } = deps.policy;
      await deps.provider.send({ to: phone, scope: challenge.providerScope, delivery, digits, message: this.message(request.scope) });
    } catch (error) {
      if (!(error instanceof ProviderError)) throw error;
      await deps.audit.record({ event: 'authn_otp_send_failed', userId, scope: request.scope, outcome: 'error', detail: { delivery, failure: error.failure, status: error.status ?? 0 } });
      return { ok: false, reason: 'provider', failure: error.failure };
    }

    const sentAt = deps.clock.now();
    const sent: Request = { ...request, challenge: { ...challenge, firstSentAt: continuing ? challenge.firstSentAt : sentAt, lastSentAt: sentAt } };
    await deps.store.set(keys.request(userId), sent, KEEP_MS);
    await deps.sessions.rememberDelivery(userId, delivery);
    await deps.audit.record({
      event: 'authn_otp_sent',
      userId,
      scope: request.scope,
      outcome: 'success',
      detail: { delivery, resend: Boolean(continuing), maskedPhone: maskPhone(phone) },
    });
    return { ok: true, flow: this.render(sent, phone, delivery) };
  }

  /** Checks a code against the user's current request and, if it is right, grants its scope once. */
  async verify(userId: string, requestId: string, rawCode: string): Promise<VerifyResult> {
    const { deps } = this;
    // V1. A malformed code is refused before anything is read, counted or sent to the provider.
    const code = rawCode.replace(/[\s-]/g, '');
    if (!new RegExp(`^\\d{${deps.policy.codeDigits}}$`).test(code)) {
      return { ok: false, reason: 'malformed', digits: deps.policy.codeDigits };
    }
    // V2. The request, and so the scope, come from the server. The id the window sends back can only
    //     make a submission fail (a replaced window); a request from an ended epoch is void.
    const current = await this.currentRequest(userId, requestId);
    if (!current.ok) return current;
    const { request } = current;
    const { scope, challenge } = request;
    // V3. A code is checked only while its challenge is live: within the code lifetime, for the phone
    //     the user still has.
    if (!challenge || deps.clock.now() > challenge.lastSentAt + deps.policy.codeTtlMs) return { ok: false, reason: 'expired' };
    if ((await deps.phones.phoneOf(userId)) !== challenge.to) return { ok: false, reason: 'expired' };
    // V4. A locked user can neither receive nor submit codes.
    const lockedUntil = await deps.lockout.lockedUntil(userId);
    if (lockedUntil) return { ok: false, reason: 'locked', until: lockedUntil };
    // V5. A code works once. A challenge that already granted, or a code already consumed, is "already
    //     used", and nothing is counted: it can never grant, so it is not a guess.
    const usedKey = keys.usedCode(userId, code);
    const [claimed, used] = await Promise.all([deps.counters.peek(keys.done(challenge.id)), deps.counters.peek(usedKey)]);
    if (claimed > 0 || used > 0) return { ok: false, reason: 'already_used' };
    // V6. Each submission is counted before the provider sees it; past max_attempts the challenge is
    //     dead: even the right code is refused and the provider is not asked.
    const attempt = (await deps.counters.increment(keys.attempts(challenge.id), KEEP_MS)).count;
    if (attempt > deps.policy.maxAttempts) return { ok: false, reason: 'dead' };
    // V7. The provider checks the code under this challenge's own scope.
    let valid: boolean;
    try {
      valid = await deps.provider.verify({ to: challenge.to, scope: challenge.providerScope, code, windowMinutes: Math.ceil(deps.policy.codeTtlMs / MINUTE_MS) });
    } catch (error) {
      if (!(error instanceof ProviderError)) throw error;
      await deps.audit.record({ event: 'authn_login_fail', userId, scope, outcome: 'error', detail: { attempt, failure: error.failure, status: error.status ?? 0 } });
      return { ok: false, reason: 'provider', failure: error.failure };
    }
    if (!valid) return this.wrongCode(userId, scope, attempt);
    // V8. Two right submissions at once: the first to claim the challenge wins; the other is "already
    //     used". The code is remembered for its lifetime, since the provider does not burn it.
    if ((await deps.counters.increment(keys.done(challenge.id), KEEP_MS)).count > 1) return { ok: false, reason: 'already_used' };
    await deps.counters.increment(usedKey, deps.policy.codeTtlMs);
    // V9. An ending wins: the grant is made in the request's epoch and is void if the user's session
    //     ended meanwhile (logout, revoke, link, unlink, lock). Then nothing is granted and nothing runs.
    const expiresAt = await deps.sessions.grant(userId, scope, request.epoch);
    if (expiresAt === undefined) {
      await deps.audit.record({ event: 'authn_login_fail', userId, scope, outcome: 'refused', detail: { attempt, reason: 'ended' } });
      return { ok: false, reason: 'ended' };
    }

    // The request stays, its challenge claimed: a late twin submission reads "already used" (V5).
    await deps.lockout.recordSuccess(userId);
    await deps.audit.record({
      event: attempt > 1 ? 'authn_login_successafterfail' : 'authn_login_success',
      userId,
      scope,
      outcome: 'success',
      detail: { retries: attempt - 1, delivery: challenge.delivery },
    });
    return { ok: true, scope, expiresAt, pending: request.pending };
  }

  /** The user's current request as a window shows it, or why it cannot be shown. */
  async describe(userId: string, requestId: string): Promise<FlowResult> {
    const current = await this.currentRequest(userId, requestId);
    if (!current.ok) return current;
    const phone = await this.deps.phones.phoneOf(userId);
    if (!phone) return { ok: false, reason: 'no_phone' };
    return { ok: true, flow: await this.view(userId, current.request, phone) };
  }

  /** Drops the user's open request. (An ending also replaces the epoch, which voids it in flight.) */
  async cancel(userId: string): Promise<void> {
    await this.deps.store.delete(keys.request(userId));
  }

  private async wrongCode(userId: string, scope: Scope, attempt: number): Promise<Refusal> {
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
      await this.cancel(userId);
      return { ok: false, reason: 'locked', until: lockedUntil };
    }
    return attemptsLeft === 0 ? { ok: false, reason: 'dead' } : { ok: false, reason: 'wrong_code', attemptsLeft };
  }

  /** Resend cooldown per request, then the hourly cap per user; each is one atomic count. */
  private async takeSendAllowance(userId: string, request: Request): Promise<Refusal | undefined> {
    const { counters, policy, audit } = this.deps;
    if (policy.resendCooldownMs > 0) {
      const cooldown = await counters.increment(keys.cooldown(request.id), policy.resendCooldownMs);
      if (cooldown.count > 1) return { ok: false, reason: 'cooldown', retryAt: cooldown.resetsAt };
    }
    const sends = await counters.increment(keys.sends(userId), HOUR_MS);
    if (sends.count > policy.maxSendsPerHour) {
      await audit.record({ event: 'excess_rate_limit_exceeded', userId, scope: request.scope, outcome: 'refused', detail: { limit: 'sends_per_hour', max: policy.maxSendsPerHour } });
      return { ok: false, reason: 'send_limit', retryAt: sends.resetsAt };
    }
    return undefined;
  }

  /** The request's challenge if it can still take codes: same phone, within its lifetime, not used, not dead. */
  private async liveChallenge(request: Request, phone: string): Promise<Challenge | undefined> {
    const { challenge } = request;
    if (!challenge || challenge.to !== phone || this.deps.clock.now() > challenge.lastSentAt + this.deps.policy.codeTtlMs) return undefined;
    const [claimed, attempts] = await Promise.all([this.deps.counters.peek(keys.done(challenge.id)), this.deps.counters.peek(keys.attempts(challenge.id))]);
    return claimed === 0 && attempts < this.deps.policy.maxAttempts ? challenge : undefined;
  }

  private async currentRequest(userId: string, requestId: string): Promise<{ ok: true; request: Request } | Refusal> {
    const [request, epoch] = await Promise.all([this.deps.store.get<Request>(keys.request(userId)), this.deps.sessions.epoch(userId)]);
    if (!request) return { ok: false, reason: 'expired' };
    if (request.id !== requestId) return { ok: false, reason: 'stale' };
    if (request.epoch !== epoch) return { ok: false, reason: 'ended' };
    return { ok: true, request };
  }

  /** The text sent or spoken. It names the scope in words; the provider scope never appears. */
  private message(scope: Scope): string {
    const minutes = Math.round(this.deps.policy.codeTtlMs / MINUTE_MS);
    return `Your ${this.deps.appName} ${scope} code is {CODE}. It expires in ${minutes} minutes. Do not share it.`;
  }

  private async view(userId: string, request: Request, phone: string): Promise<FlowView> {
    const [live, preferred] = await Promise.all([this.liveChallenge(request, phone), this.deps.sessions.delivery(userId)]);
    return this.render({ ...request, challenge: live }, phone, preferred);
  }

  private render(request: Request, phone: string, preferredDelivery: Delivery | undefined): FlowView {
    const { challenge } = request;
    return {
      flowId: request.id,
      scope: request.scope,
      maskedPhone: maskPhone(phone),
      digits: this.deps.policy.codeDigits,
      preferredDelivery,
      sent: challenge ? { delivery: challenge.delivery, codeExpiresAt: challenge.lastSentAt + this.deps.policy.codeTtlMs } : undefined,
    };
  }
}
