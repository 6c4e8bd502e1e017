import { createHash, randomUUID } from 'node:crypto';
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
 * Proving possession of a phone. A user has at most one request (flow) open, for one scope; each
 * scope has at most one live challenge: the codes sent to one phone, counted together.
 *
 * Rules, in the order they are checked:
 *  1. The scope comes from the server-side flow. The flow id that a window sends back can only make
 *     a request fail (a replaced window), never change what it grants.
 *  2. A malformed code is refused before anything is counted or sent to the provider.
 *  3. A locked user can neither receive nor submit codes.
 *  4. A code is checked only while the challenge is live: within the code lifetime, for the phone
 *     the user still has.
 *  5. Each submission is counted before the provider sees it; past max_attempts the challenge is dead,
 *     the right code is refused and the provider is not asked again.
 *  6. A code works once: a success claims the challenge and the code atomically, and the code's hash
 *     is remembered for its lifetime, because the provider accepts any recent code.
 *  7. Codes of an earlier challenge are refused: the provider is asked only for codes made since this
 *     challenge began, and a new challenge never starts within a minute (the provider's unit) of the
 *     previous one's last code. A request made while a challenge is live continues that challenge.
 *  8. Sends honour the resend cooldown and the hourly cap. A resend never resets a failure count.
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

interface Flow {
  id: string;
  scope: Scope;
  pending?: PendingCommand | undefined;
}

interface Challenge {
  id: string;
  to: string;
  delivery: Delivery;
  firstSentAt: number;
  lastSentAt: number;
  done?: boolean;
}

export type Refusal =
  | { ok: false; reason: 'no_phone' }
  | { ok: false; reason: 'locked'; until: number }
  /** The window belongs to a request that a newer one replaced. */
  | { ok: false; reason: 'stale' }
  /** The request is gone, or its code is past its lifetime or was sent to another phone. */
  | { ok: false; reason: 'expired' }
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
/** How long flows, challenges and their counters are kept: longer than any code or cooldown. */
const KEEP_MS = HOUR_MS;

const keys = {
  flow: (userId: string) => `flow:${userId}`,
  challenge: (userId: string, scope: Scope) => `challenge:${userId}:${scope}`,
  sends: (userId: string) => `sends:${userId}`,
  /** Per scope: a step-up right after a login is a new request, not a resend. The hourly cap is per user. */
  cooldown: (userId: string, scope: Scope) => `cooldown:${userId}:${scope}`,
  attempts: (challengeId: string) => `attempts:${challengeId}`,
  done: (challengeId: string) => `done:${challengeId}`,
  /** Salted with user and scope; kept only for the code lifetime. */
  usedCode: (userId: string, scope: Scope, code: string) =>
    `used:${createHash('sha256').update(`${userId}:${scope}:${code}`).digest('hex')}`,
};

export class Challenges {
  constructor(private readonly deps: ChallengeDeps) {}

  /**
   * Opens a request for `scope`, replacing the user's earlier one. Sends nothing: if a code for this
   * scope is still out, the request continues with it; otherwise the caller asks for a send.
   */
  async begin(userId: string, scope: Scope, pending?: PendingCommand): Promise<FlowResult> {
    const phone = await this.deps.phones.phoneOf(userId);
    if (!phone) return { ok: false, reason: 'no_phone' };
    const lockedUntil = await this.deps.lockout.lockedUntil(userId);
    if (lockedUntil) return { ok: false, reason: 'locked', until: lockedUntil };

    const flow: Flow = { id: randomUUID(), scope, pending };
    await this.deps.store.set(keys.flow(userId), flow, KEEP_MS);
    return { ok: true, flow: await this.view(userId, flow, phone) };
  }

  /** Sends a code for the user's current request: the first, a resend, or by the other method. */
  async send(userId: string, flowId: string, delivery: Delivery): Promise<FlowResult> {
    const { deps } = this;
    const current = await this.currentFlow(userId, flowId);
    if (!current.ok) return current;
    const { flow } = current;
    const phone = await deps.phones.phoneOf(userId);
    if (!phone) return { ok: false, reason: 'no_phone' };
    const lockedUntil = await deps.lockout.lockedUntil(userId);
    if (lockedUntil) return { ok: false, reason: 'locked', until: lockedUntil };

    const now = deps.clock.now();
    const previous = await deps.store.get<Challenge>(keys.challenge(userId, flow.scope));
    const continuing = previous && (await this.isOpen(previous, phone)) ? previous : undefined;
    if (previous && !continuing && now < previous.lastSentAt + MINUTE_MS) {
      return { ok: false, reason: 'cooldown', retryAt: previous.lastSentAt + MINUTE_MS };
    }
    const refused = await this.takeSendAllowance(userId, flow.scope);
    if (refused) return refused;

    try {
      await deps.provider.send({ to: phone, scope: flow.scope, delivery, digits: deps.policy.codeDigits, message: this.message(flow.scope) });
    } catch (error) {
      if (!(error instanceof ProviderError)) throw error;
      await deps.audit.record({ event: 'authn_otp_send_failed', userId, scope: flow.scope, outcome: 'error', detail: { delivery, failure: error.failure, status: error.status ?? 0 } });
      return { ok: false, reason: 'provider', failure: error.failure };
    }

    const sentAt = deps.clock.now();
    const challenge: Challenge = continuing
      ? { ...continuing, delivery, lastSentAt: sentAt }
      : { id: randomUUID(), to: phone, delivery, firstSentAt: sentAt, lastSentAt: sentAt };
    await deps.store.set(keys.challenge(userId, flow.scope), challenge, KEEP_MS);
    await deps.sessions.rememberDelivery(userId, delivery);
    await deps.audit.record({
      event: 'authn_otp_sent',
      userId,
      scope: flow.scope,
      outcome: 'success',
      detail: { delivery, resend: Boolean(continuing), maskedPhone: maskPhone(phone) },
    });
    return { ok: true, flow: this.render(flow, phone, delivery, challenge) };
  }

  /** Checks a code against the user's current request and, if it is right, grants its scope once. */
  async verify(userId: string, flowId: string, rawCode: string): Promise<VerifyResult> {
    const { deps } = this;
    const code = rawCode.replace(/[\s-]/g, '');
    if (!new RegExp(`^\\d{${deps.policy.codeDigits}}$`).test(code)) {
      return { ok: false, reason: 'malformed', digits: deps.policy.codeDigits };
    }
    const current = await this.currentFlow(userId, flowId);
    if (!current.ok) return current;
    const { scope, pending } = current.flow;
    const challenge = await deps.store.get<Challenge>(keys.challenge(userId, scope));
    if (!challenge || challenge.done) return { ok: false, reason: 'expired' };
    if (deps.clock.now() > challenge.lastSentAt + deps.policy.codeTtlMs) return { ok: false, reason: 'expired' };
    if ((await deps.phones.phoneOf(userId)) !== challenge.to) return { ok: false, reason: 'expired' };
    const lockedUntil = await deps.lockout.lockedUntil(userId);
    if (lockedUntil) return { ok: false, reason: 'locked', until: lockedUntil };

    const attempt = (await deps.counters.increment(keys.attempts(challenge.id), KEEP_MS)).count;
    if (attempt > deps.policy.maxAttempts) return { ok: false, reason: 'dead' };

    const usedKey = keys.usedCode(userId, scope, code);
    const alreadyUsed = (await deps.counters.peek(usedKey)) > 0;
    let valid = false;
    if (!alreadyUsed) {
      try {
        valid = await deps.provider.verify({ to: challenge.to, scope, code, windowMinutes: this.windowMinutes(challenge) });
      } catch (error) {
        if (!(error instanceof ProviderError)) throw error;
        await deps.audit.record({ event: 'authn_login_fail', userId, scope, outcome: 'error', detail: { attempt, failure: error.failure, status: error.status ?? 0 } });
        return { ok: false, reason: 'provider', failure: error.failure };
      }
    }
    if (!valid) return this.wrongCode(userId, scope, attempt, alreadyUsed);

    // Two right submissions at once: the first to claim the challenge wins; the other stops here,
    // before touching the code's claim (taking both claims before checking either could refuse both).
    if ((await deps.counters.increment(keys.done(challenge.id), KEEP_MS)).count > 1) return { ok: false, reason: 'already_used' };
    if ((await deps.counters.increment(usedKey, deps.policy.codeTtlMs)).count > 1) return { ok: false, reason: 'already_used' };

    await deps.store.set(keys.challenge(userId, scope), { ...challenge, done: true }, KEEP_MS);
    await deps.lockout.recordSuccess(userId);
    const expiresAt = await deps.sessions.grant(userId, scope);
    await deps.store.delete(keys.flow(userId));
    await deps.audit.record({
      event: attempt > 1 ? 'authn_login_successafterfail' : 'authn_login_success',
      userId,
      scope,
      outcome: 'success',
      detail: { retries: attempt - 1, delivery: challenge.delivery },
    });
    return { ok: true, scope, expiresAt, pending };
  }

  /** The user's current request as a window shows it, or why it cannot be shown. */
  async describe(userId: string, flowId: string): Promise<FlowResult> {
    const current = await this.currentFlow(userId, flowId);
    if (!current.ok) return current;
    const phone = await this.deps.phones.phoneOf(userId);
    if (!phone) return { ok: false, reason: 'no_phone' };
    return { ok: true, flow: await this.view(userId, current.flow, phone) };
  }

  /** Drops the user's open request (logout, revoke, phone change); its codes stop working. */
  async cancel(userId: string): Promise<void> {
    await this.deps.store.delete(keys.flow(userId));
  }

  private async wrongCode(userId: string, scope: Scope, attempt: number, replay: boolean): Promise<Refusal> {
    const attemptsLeft = Math.max(0, this.deps.policy.maxAttempts - attempt);
    const { failures, lockedUntil } = await this.deps.lockout.recordFailure(userId, scope);
    await this.deps.audit.record({
      event: attemptsLeft === 0 ? 'authn_login_fail_max' : 'authn_login_fail',
      userId,
      scope,
      outcome: 'failure',
      detail: { attempt, attemptsLeft, consecutiveFailures: failures, replay },
    });
    if (lockedUntil) {
      await this.cancel(userId);
      return { ok: false, reason: 'locked', until: lockedUntil };
    }
    return attemptsLeft === 0 ? { ok: false, reason: 'dead' } : { ok: false, reason: 'wrong_code', attemptsLeft };
  }

  /** Resend cooldown, then the hourly cap; each is one atomic count, so concurrent sends cannot slip past. */
  private async takeSendAllowance(userId: string, scope: Scope): Promise<Refusal | undefined> {
    const { counters, policy, audit } = this.deps;
    if (policy.resendCooldownMs > 0) {
      const cooldown = await counters.increment(keys.cooldown(userId, scope), policy.resendCooldownMs);
      if (cooldown.count > 1) return { ok: false, reason: 'cooldown', retryAt: cooldown.resetsAt };
    }
    const sends = await counters.increment(keys.sends(userId), HOUR_MS);
    if (sends.count > policy.maxSendsPerHour) {
      await audit.record({ event: 'excess_rate_limit_exceeded', userId, scope, outcome: 'refused', detail: { limit: 'sends_per_hour', max: policy.maxSendsPerHour } });
      return { ok: false, reason: 'send_limit', retryAt: sends.resetsAt };
    }
    return undefined;
  }

  /** A challenge that can still take codes: same phone, not used, not dead. */
  private async isOpen(challenge: Challenge, phone: string): Promise<boolean> {
    return challenge.to === phone && !challenge.done && (await this.deps.counters.peek(keys.attempts(challenge.id))) < this.deps.policy.maxAttempts;
  }

  private async currentFlow(userId: string, flowId: string): Promise<{ ok: true; flow: Flow } | Refusal> {
    const flow = await this.deps.store.get<Flow>(keys.flow(userId));
    if (!flow) return { ok: false, reason: 'expired' };
    if (flow.id !== flowId) return { ok: false, reason: 'stale' };
    return { ok: true, flow };
  }

  /**
   * The provider accepts any code made within the last N whole minutes. N covers this challenge's
   * codes and no more than the code lifetime.
   */
  private windowMinutes(challenge: Challenge): number {
    const sinceFirstSend = Math.ceil((this.deps.clock.now() - challenge.firstSentAt) / MINUTE_MS);
    return Math.min(Math.max(sinceFirstSend, 1), Math.ceil(this.deps.policy.codeTtlMs / MINUTE_MS));
  }

  private message(scope: Scope): string {
    const minutes = Math.round(this.deps.policy.codeTtlMs / MINUTE_MS);
    return `${this.deps.appName}: your ${scope} code is {CODE}. It expires in ${minutes} minutes. Do not share it.`;
  }

  private async view(userId: string, flow: Flow, phone: string): Promise<FlowView> {
    const [challenge, preferred] = await Promise.all([
      this.deps.store.get<Challenge>(keys.challenge(userId, flow.scope)),
      this.deps.sessions.delivery(userId),
    ]);
    const live = challenge && this.deps.clock.now() <= challenge.lastSentAt + this.deps.policy.codeTtlMs && (await this.isOpen(challenge, phone));
    return this.render(flow, phone, preferred, live ? challenge : undefined);
  }

  private render(flow: Flow, phone: string, preferredDelivery: Delivery | undefined, challenge: Challenge | undefined): FlowView {
    return {
      flowId: flow.id,
      scope: flow.scope,
      maskedPhone: maskPhone(phone),
      digits: this.deps.policy.codeDigits,
      preferredDelivery,
      sent: challenge ? { delivery: challenge.delivery, codeExpiresAt: challenge.lastSentAt + this.deps.policy.codeTtlMs } : undefined,
    };
  }
}
