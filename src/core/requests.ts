import { randomUUID } from 'node:crypto';
import type { AuditLog } from './audit.js';
import type { Lockout } from './lockout.js';
import type { PhoneDirectory } from './phones.js';
import type { Clock, CodeProvider, Counters, Delivery, KeyValueStore, Purpose } from './ports.js';
import type { Refusal } from './refusals.js';
import type { Sessions } from './sessions.js';

/**
 * The request: what a user has open while proving possession of their phone, for one scope. A user
 * has at most one. It holds at most one live challenge: the codes sent to one phone under one
 * provider scope of its own, counted together.
 */
export interface Request {
  id: string;
  /** What the code is for: a scope to grant, or an approval (which grants nothing). */
  scope: Purpose;
  /** For an approval: the approval request this code approves, and only that one. */
  approvalId?: string | undefined;
  /** The user's session epoch when the request was opened: an ending since then voids it. */
  epoch: string;
  challenge?: Challenge | undefined;
}

export interface Challenge {
  id: string;
  /** The provider's scope for this challenge alone, e.g. `login-9f2c4e1a0b3d`: no other challenge's code can match. */
  providerScope: string;
  to: string;
  /** The method of the last send. */
  delivery: Delivery;
  /** Every method this challenge's codes went out by: any of them may be the code that is typed. */
  methods?: Delivery[] | undefined;
  firstSentAt: number;
  lastSentAt: number;
}

/** A request as a window shows it. */
export interface RequestState {
  requestId: string;
  scope: Purpose;
  approvalId?: string | undefined;
  /** E.164. Shown to the user masked, never whole. */
  phone: string;
  digits: number;
  /** The method the user chose earlier in this session, if any. */
  preferredDelivery?: Delivery | undefined;
  /** Set while a code that can still be entered is out. */
  sent?: { delivery: Delivery; codeExpiresAt: number } | undefined;
}

export type Opened = { ok: true; request: RequestState } | Refusal;

export interface RequestPolicy {
  codeDigits: number;
  codeTtlMs: number;
  maxAttempts: number;
}

/** How long requests and their counters are kept: longer than any code or cooldown. */
export const KEEP_MS = 60 * 60_000;

export const requestKeys = {
  request: (userId: string) => `request:${userId}`,
  attempts: (challengeId: string) => `attempts:${challengeId}`,
  /** Submissions the provider never answered (an error): taken back from `attempts`, since no guess was checked. */
  unanswered: (challengeId: string) => `unanswered:${challengeId}`,
  /** Claimed once, by the one submission that grants. */
  granted: (challengeId: string) => `granted:${challengeId}`,
};

/** What sending (send-code.ts) and checking (verify-code.ts) codes work with. */
export interface CodeDeps<Policy> {
  requests: Requests;
  counters: Counters;
  provider: CodeProvider;
  phones: PhoneDirectory;
  sessions: Sessions;
  lockout: Lockout;
  audit: AuditLog;
  clock: Clock;
  policy: Policy;
}

/** Opening, reading and dropping requests. Sending and checking codes are send-code.ts and verify-code.ts. */
export class Requests {
  constructor(
    private readonly deps: {
      store: KeyValueStore;
      counters: Counters;
      phones: PhoneDirectory;
      sessions: Sessions;
      lockout: Lockout;
      clock: Clock;
      policy: RequestPolicy;
    },
  ) {}

  /**
   * Opens a request for `scope`, replacing the user's earlier one. Sends nothing. If this scope's
   * request still has a live code out, it goes on (same request, same code, same cooldown);
   * otherwise the caller asks for a send.
   */
  async open(userId: string, scope: Purpose, approvalId?: string): Promise<Opened> {
    const { deps } = this;
    // O1. Codes go only to a linked phone, and never while the user is locked.
    const phone = await deps.phones.phoneOf(userId);
    if (!phone) return { ok: false, reason: 'no_phone' };
    const lockedUntil = await deps.lockout.lockedUntil(userId);
    if (lockedUntil) return { ok: false, reason: 'locked', until: lockedUntil };
    // O2. A request goes on only within the same session epoch, for the same scope, with its code live.
    const [epoch, open] = await Promise.all([
      deps.sessions.epoch(userId),
      deps.store.get<Request>(requestKeys.request(userId)),
    ]);
    const goesOn =
      open &&
      open.scope === scope &&
      open.approvalId === approvalId &&
      open.epoch === epoch &&
      (await this.liveChallenge(open, phone));
    const request: Request = goesOn ? open : { id: randomUUID(), scope, epoch, ...(approvalId ? { approvalId } : {}) };
    if (!goesOn) await deps.store.set(requestKeys.request(userId), request, KEEP_MS);
    return { ok: true, request: await this.state(userId, request, phone) };
  }

  /**
   * The user's request if `requestId` names it and it is still in force. R1: the request, and so the
   * scope, come from the server; the id a window sends back can only make a step fail. R2: a request
   * from an ended epoch is void.
   */
  async current(userId: string, requestId: string): Promise<{ ok: true; request: Request } | Refusal> {
    const [request, epoch] = await Promise.all([
      this.deps.store.get<Request>(requestKeys.request(userId)),
      this.deps.sessions.epoch(userId),
    ]);
    if (!request) return { ok: false, reason: 'no_request' };
    if (request.id !== requestId) return { ok: false, reason: 'stale' };
    if (request.epoch !== epoch) return { ok: false, reason: 'ended' };
    return { ok: true, request };
  }

  async save(userId: string, request: Request): Promise<void> {
    await this.deps.store.set(requestKeys.request(userId), request, KEEP_MS);
  }

  /** The user's current request as a window shows it, or why it cannot be shown. */
  async describe(userId: string, requestId: string): Promise<Opened> {
    const current = await this.current(userId, requestId);
    if (!current.ok) return current;
    const phone = await this.deps.phones.phoneOf(userId);
    if (!phone) return { ok: false, reason: 'no_phone' };
    return { ok: true, request: await this.state(userId, current.request, phone) };
  }

  /**
   * Drops the user's open request. Says whether it was in force in `epoch` (the epoch before an
   * ending): a request the user must be told was ended. An ending also replaces the epoch, which voids
   * a request even in flight.
   */
  async cancel(userId: string, epoch?: string): Promise<boolean> {
    const open = await this.deps.store.get<Request>(requestKeys.request(userId));
    if (!open) return false;
    await this.deps.store.delete(requestKeys.request(userId));
    return epoch === undefined || open.epoch === epoch;
  }

  /** The request's challenge if it can still take codes: same phone, within its lifetime, not granted, not dead. */
  async liveChallenge(request: Request, phone: string): Promise<Challenge | undefined> {
    const { challenge } = request;
    const { counters, clock, policy } = this.deps;
    if (!challenge || challenge.to !== phone || clock.now() > challenge.lastSentAt + policy.codeTtlMs) return undefined;
    const [granted, attempts, unanswered] = await Promise.all([
      counters.peek(requestKeys.granted(challenge.id)),
      counters.peek(requestKeys.attempts(challenge.id)),
      counters.peek(requestKeys.unanswered(challenge.id)),
    ]);
    return granted === 0 && attempts - unanswered < policy.maxAttempts ? challenge : undefined;
  }

  /** The state of a request whose challenge is known to be live (or is absent). */
  stateOf(request: Request, phone: string, preferredDelivery: Delivery | undefined): RequestState {
    const { challenge } = request;
    return {
      requestId: request.id,
      scope: request.scope,
      ...(request.approvalId ? { approvalId: request.approvalId } : {}),
      phone,
      digits: this.deps.policy.codeDigits,
      preferredDelivery,
      sent: challenge
        ? { delivery: challenge.delivery, codeExpiresAt: challenge.lastSentAt + this.deps.policy.codeTtlMs }
        : undefined,
    };
  }

  private async state(userId: string, request: Request, phone: string): Promise<RequestState> {
    const [live, preferred] = await Promise.all([
      this.liveChallenge(request, phone),
      this.deps.sessions.delivery(userId),
    ]);
    return this.stateOf({ ...request, challenge: live }, phone, preferred);
  }
}

/** The methods by which a challenge's codes went out (challenges kept before `methods` have only `delivery`). */
export const methodsOf = (challenge: Challenge): Delivery[] => challenge.methods ?? [challenge.delivery];
