import type { ProviderFailure } from './ports.js';

/**
 * Why the core said no: one precise reason per cause, so a user and an auditor can tell them apart.
 * Each is raised at one numbered rule in requests.ts, send-code.ts or verify-code.ts.
 */
export type Refusal =
  /** No phone is linked to the user. */
  | { ok: false; reason: 'no_phone' }
  /** Too many wrong codes in a row: codes are blocked until `until`. */
  | { ok: false; reason: 'locked'; until: number }
  /** The user has no open request (never opened, or kept past its time). */
  | { ok: false; reason: 'no_request' }
  /** The window belongs to a request that a newer one replaced. */
  | { ok: false; reason: 'stale' }
  /** The request was ended by a logout, revoke, link, unlink or lock (perhaps while its code was checked). */
  | { ok: false; reason: 'ended' }
  /** The request has no code out yet (or the send failed). */
  | { ok: false; reason: 'no_code' }
  /** The code is past its lifetime. */
  | { ok: false; reason: 'code_expired' }
  /** The code went to a phone that is no longer the user's. */
  | { ok: false; reason: 'phone_changed' }
  /** The code, or its challenge, already granted once. */
  | { ok: false; reason: 'already_used' }
  /** Too many wrong codes for this challenge: only a new code can succeed. */
  | { ok: false; reason: 'dead' }
  | { ok: false; reason: 'malformed'; digits: number }
  | { ok: false; reason: 'wrong_code'; attemptsLeft: number }
  /** A code of this request was sent less than the resend cooldown ago. */
  | { ok: false; reason: 'cooldown'; retryAt: number }
  /** The user was sent max_sends_per_hour codes this hour. */
  | { ok: false; reason: 'send_limit'; retryAt: number }
  /** The user's phone was sent max_sends_per_phone_per_hour codes this hour, counting every user who has it. */
  | { ok: false; reason: 'phone_send_limit'; retryAt: number }
  /** The bot sent max_sends_per_hour_total codes this hour, to everyone together (the spend guard). */
  | { ok: false; reason: 'total_send_limit'; retryAt: number }
  | { ok: false; reason: 'provider'; failure: ProviderFailure }
  /** The code was right, but the grant could not be written; it was taken back: nothing was granted. */
  | { ok: false; reason: 'not_granted' }
  /** The code was right, but whether the grant was written cannot be told (the store failed twice). */
  | { ok: false; reason: 'grant_unknown' };

export type RefusalReason = Refusal['reason'];
