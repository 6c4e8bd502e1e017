import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { maskPhone } from './phones.js';
import { type Delivery, ProviderError, type Purpose } from './ports.js';
import type { Refusal } from './refusals.js';
import { type Challenge, type CodeDeps, methodsOf, type Opened, type Request } from './requests.js';

export interface SendPolicy {
  codeDigits: number;
  codeTtlMs: number;
  resendCooldownMs: number;
  maxSendsPerHour: number;
  /** Per destination number, every user together. */
  maxSendsPerPhonePerHour: number;
  /** Every send of the bot, on every replica: the spend guard. */
  maxSendsPerHourTotal: number;
}

const HOUR_MS = 60 * 60_000;

const keys = {
  /** Per user, every scope together. */
  sends: (userId: string) => `sends:${userId}`,
  /** Per request (so per scope): a new request after a logout or a success sends at once. */
  cooldown: (requestId: string) => `cooldown:${requestId}`,
  /** Per destination number, every user together; the number hashed, so no key shows it. */
  phoneSends: (phone: string) => `sends-phone:${createHash('sha256').update(phone).digest('hex').slice(0, 32)}`,
  /** Every send of the bot. */
  totalSends: () => 'sends-total',
};

/** A new provider scope per challenge: the scope's name, a dash and 12 hex digits (Bandwidth allows 25 characters). */
export const providerScope = (scope: Purpose): string => `${scope}-${randomBytes(6).toString('hex')}`;

/** Sends a code for the user's current request: the first, a resend, or by the other method. */
export class CodeSender {
  constructor(private readonly deps: CodeDeps<SendPolicy>) {}

  async send(userId: string, requestId: string, delivery: Delivery): Promise<Opened> {
    const { deps } = this;
    // S1. Only the user's current request, in force (see Requests.current).
    const current = await deps.requests.current(userId, requestId);
    if (!current.ok) return current;
    const { request } = current;
    // S2. Codes go only to a linked phone, and never while the user is locked.
    const phone = await deps.phones.phoneOf(userId);
    if (!phone) return { ok: false, reason: 'no_phone' };
    const lockedUntil = await deps.lockout.lockedUntil(userId);
    if (lockedUntil) return { ok: false, reason: 'locked', until: lockedUntil };
    // S3. The resend cooldown per request, then the hourly caps: per user, per destination phone (users
    //     may share one), and for the whole bot. Each is one atomic count, so simultaneous sends cannot
    //     slip past, and each is taken only once the one before it allowed the send. A resend never
    //     resets a failure count.
    const refused = await this.takeAllowance(userId, request, phone);
    if (refused) return refused;
    // S4. A live challenge takes the new code (its attempts carry over); a granted, dead or expired one
    //     is replaced by a new challenge under a provider scope of its own.
    const live = await deps.requests.liveChallenge(request, phone);
    const challenge: Challenge = live
      ? { ...live, delivery, methods: [...new Set([...methodsOf(live), delivery])] }
      : {
          id: randomUUID(),
          providerScope: providerScope(request.scope),
          to: phone,
          delivery,
          methods: [delivery],
          firstSentAt: 0,
          lastSentAt: 0,
        };
    try {
      const { codeDigits: digits, codeTtlMs } = deps.policy;
      await deps.provider.send({
        to: phone,
        scope: challenge.providerScope,
        purpose: request.scope,
        delivery,
        digits,
        lifetimeMinutes: Math.round(codeTtlMs / 60_000),
      });
    } catch (error) {
      if (!(error instanceof ProviderError)) throw error;
      await deps.audit.record({
        event: 'authn_otp_send_failed',
        userId,
        scope: request.scope,
        outcome: 'error',
        detail: { delivery, failure: error.failure, status: error.status ?? 0 },
      });
      return { ok: false, reason: 'provider', failure: error.failure };
    }

    const sentAt = deps.clock.now();
    const sent: Request = {
      ...request,
      challenge: { ...challenge, firstSentAt: live ? challenge.firstSentAt : sentAt, lastSentAt: sentAt },
    };
    await deps.audit.record({
      event: 'authn_otp_sent',
      userId,
      scope: request.scope,
      outcome: 'success',
      detail: { delivery, resend: Boolean(live), maskedPhone: maskPhone(phone) },
    });
    // S5. An ending wins over a send in flight: what is saved now is made in the request's epoch, so it
    //     is void if the session ended meanwhile (a logout must not get its delivery preference back).
    await deps.requests.save(userId, sent);
    await deps.sessions.rememberDelivery(userId, delivery, request.epoch);
    if ((await deps.sessions.epoch(userId)) !== request.epoch) return { ok: false, reason: 'ended' };
    return { ok: true, request: deps.requests.stateOf(sent, phone, delivery) };
  }

  private async takeAllowance(userId: string, request: Request, phone: string): Promise<Refusal | undefined> {
    const { counters, policy, audit } = this.deps;
    if (policy.resendCooldownMs > 0) {
      const cooldown = await counters.increment(keys.cooldown(request.id), policy.resendCooldownMs);
      if (cooldown.count > 1) return { ok: false, reason: 'cooldown', retryAt: cooldown.resetsAt };
    }
    // The hourly caps, each one atomic count, in turn: per user, per phone (all its users), for the bot.
    const caps = [
      { key: keys.sends(userId), max: policy.maxSendsPerHour, limit: 'sends_per_hour', reason: 'send_limit' },
      {
        key: keys.phoneSends(phone),
        max: policy.maxSendsPerPhonePerHour,
        limit: 'sends_per_phone_per_hour',
        reason: 'phone_send_limit',
        detail: { maskedPhone: maskPhone(phone) },
      },
      {
        key: keys.totalSends(),
        max: policy.maxSendsPerHourTotal,
        limit: 'sends_per_hour_total',
        reason: 'total_send_limit',
      },
    ] as const;
    for (const cap of caps) {
      const count = await counters.increment(cap.key, HOUR_MS);
      if (count.count <= cap.max) continue;
      await audit.record({
        event: 'excess_rate_limit_exceeded',
        userId,
        scope: request.scope,
        outcome: 'refused',
        detail: {
          limit: cap.limit,
          max: cap.max,
          ...('detail' in cap ? cap.detail : {}),
          // The bot's cap: `first` marks the one send, of every replica, that found it reached in this window.
          ...(cap.reason === 'total_send_limit' ? { first: count.count === cap.max + 1, until: count.resetsAt } : {}),
        },
      });
      return { ok: false, reason: cap.reason, retryAt: count.resetsAt };
    }
    return undefined;
  }
}
