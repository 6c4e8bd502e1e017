/**
 * What the core needs from the outside world. Adapters (store/, bandwidth/, slack/) implement these;
 * the core imports nothing from Slack, Bandwidth or keyv.
 */

export const SCOPES = ['login', 'admin'] as const;
/** What a verified code grants. Each scope has its own codes, challenges and expiry. */
export type Scope = (typeof SCOPES)[number];

/**
 * What a code is asked for: to be granted a scope, or to approve someone else's request (which grants
 * nothing: the code proves the approver's phone for that one approval).
 */
export type Purpose = Scope | 'approval';

export const DELIVERIES = ['sms', 'voice'] as const;
export type Delivery = (typeof DELIVERIES)[number];

/** The method a "switch" button offers. */
export const otherDelivery = (delivery: Delivery): Delivery => (delivery === 'sms' ? 'voice' : 'sms');

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** Plain key-value state with expiry. Reads of missing or expired keys give undefined. */
export interface KeyValueStore {
  get<T>(key: string): Promise<T | undefined>;
  getMany<T>(keys: string[]): Promise<Array<T | undefined>>;
  /** Without ttlMs the entry is kept until deleted; with it, ttlMs must be positive. */
  set(key: string, value: unknown, ttlMs?: number): Promise<void>;
  delete(key: string): Promise<void>;
  /** Live entries whose key starts with prefix, in no particular order. */
  entries<T>(prefix: string): AsyncIterable<[key: string, value: T]>;
}

/** Which keys to list, in key order; values are not read. */
export interface KeyRange {
  /** Keys that start with this. */
  prefix: string;
  /** Only keys that sort before this one (exclusive). */
  before?: string | undefined;
  /** Largest first. */
  descending?: boolean | undefined;
  /** Skip this many keys first (the backend walks its index; nothing is returned for them). */
  skip?: number | undefined;
  limit: number;
}

/**
 * Keys found by range, for the audit trail (core/audit.ts): its keys sort by time, so the newest and
 * the oldest events are found by the store's key index (SQL) or a sorted set of those keys (Redis),
 * never by decoding every value. A listed key may have expired (its value then reads undefined).
 */
export interface OrderedKeys {
  keys(range: KeyRange): Promise<string[]>;
  deleteMany(keys: string[]): Promise<void>;
}

export interface CounterValue {
  count: number;
  /**
   * When the window that this count belongs to ends (ms since the epoch), on the caller's clock. Where
   * replicas share a store, the store measures the window and this is the caller's now plus what is left.
   */
  resetsAt: number;
}

/**
 * Atomic counters: the primitive keyv lacks. Each backend implements `increment` as one atomic
 * statement, so concurrent callers each see a distinct count. "Claim once" is `count === 1`.
 */
export interface Counters {
  /** Adds one and returns the new count. A window starts with the first increment and lasts windowMs. */
  increment(key: string, windowMs: number): Promise<CounterValue>;
  /** The current count (0 when absent or expired), without changing it. */
  peek(key: string): Promise<number>;
  reset(key: string): Promise<void>;
}

/** Raised by store adapters: the state could not be read or written. The core fails closed on it. */
export class StoreError extends Error {
  override name = 'StoreError';
}

export interface SendCodeRequest {
  to: string;
  /**
   * The provider's scope for this one challenge (`login-…`/`admin-…`, at most 25 characters). The
   * provider keeps codes per scope, so a code from another challenge can never match.
   */
  scope: string;
  /** What the code is for, named in the text the user reads or hears. */
  purpose: Purpose;
  delivery: Delivery;
  digits: number;
  /** How long the code works, for the text. */
  lifetimeMinutes: number;
}

export interface VerifyCodeRequest {
  to: string;
  /** The same per-challenge scope the code was sent with. */
  scope: string;
  code: string;
  /** Accept only codes generated within this many whole minutes (1 or more). */
  windowMinutes: number;
}

/** The service that generates, delivers and checks codes (Bandwidth MFA). We never see a code it sends. */
export interface CodeProvider {
  send(request: SendCodeRequest): Promise<void>;
  verify(request: VerifyCodeRequest): Promise<boolean>;
}

export type ProviderFailure =
  /** The provider asks us to slow down (HTTP 429). */
  | 'rate_limited'
  /** The provider refused the request as invalid (HTTP 400). */
  | 'rejected'
  /** Our credentials or account are wrong (HTTP 401/403); an operator must act. */
  | 'misconfigured'
  /** Timeout, network failure or HTTP 5xx. */
  | 'unavailable';

/** Raised by the provider adapter. Carries no secret, no phone number and no code. */
export class ProviderError extends Error {
  override name = 'ProviderError';
  constructor(
    readonly failure: ProviderFailure,
    message: string,
    readonly status?: number,
    readonly requestId?: string,
  ) {
    super(message);
  }
}

export type Notice =
  | { kind: 'locked'; until: number }
  | { kind: 'revoked'; by: string }
  | { kind: 'phone_linked'; maskedPhone: string; by: string }
  | { kind: 'phone_unlinked'; by: string };

/** Tells a user about something they must know even if someone else caused it (a Slack DM). */
export interface Notifier {
  notify(userId: string, notice: Notice): Promise<void>;
}
