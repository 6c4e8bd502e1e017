import type { AuditLog } from './audit.js';
import type { Clock, Counters, KeyValueStore, Notifier, Purpose } from './ports.js';
import type { Sessions } from './sessions.js';

export interface LockoutPolicy {
  /** Wrong codes in a row that lock the user. */
  lockoutFailures: number;
  lockoutMs: number;
}

/** How long a run of failures is remembered; a success or a lockout ends it sooner. */
const FAILURE_WINDOW_MS = 24 * 60 * 60 * 1000;

const lockKey = (userId: string) => `lock:${userId}`;
const failuresKey = (userId: string) => `failures:${userId}`;

/**
 * Consecutive wrong codes per user, across every challenge and scope. Asking for a new code never
 * resets the count (NIST SP 800-63B-4 §3.1.3.2); only a success does.
 */
export class Lockout {
  constructor(
    private readonly deps: {
      store: KeyValueStore;
      counters: Counters;
      clock: Clock;
      audit: AuditLog;
      notifier: Notifier;
      sessions: Sessions;
      policy: LockoutPolicy;
    },
  ) {}

  /** When the user's lock ends, or undefined if the user is not locked. */
  async lockedUntil(userId: string): Promise<number | undefined> {
    const lock = await this.deps.store.get<{ until: number }>(lockKey(userId));
    return lock && lock.until > this.deps.clock.now() ? lock.until : undefined;
  }

  /** Counts one wrong code; returns when the lock ends if this failure locked the user. */
  async recordFailure(userId: string, scope: Purpose): Promise<{ failures: number; lockedUntil?: number }> {
    const { store, counters, clock, audit, notifier, sessions, policy } = this.deps;
    const failures = (await counters.increment(failuresKey(userId), FAILURE_WINDOW_MS)).count;
    if (failures < policy.lockoutFailures) return { failures };

    const until = clock.now() + policy.lockoutMs;
    await store.set(lockKey(userId), { until }, policy.lockoutMs);
    // A lock is an ending: the user's sessions, open request and any verify in flight are void.
    await sessions.end(userId);
    await counters.reset(failuresKey(userId));
    await audit.record({
      event: 'authn_login_lock',
      userId,
      scope,
      outcome: 'refused',
      detail: { reason: 'maxretries', failures, minutes: Math.round(policy.lockoutMs / 60_000) },
    });
    await notifier.notify(userId, { kind: 'locked', until });
    return { failures, lockedUntil: until };
  }

  async recordSuccess(userId: string): Promise<void> {
    await this.deps.counters.reset(failuresKey(userId));
  }
}
