import { SCOPES, type Clock, type Delivery, type KeyValueStore, type Scope } from './ports.js';

interface Grant {
  grantedAt: number;
  expiresAt: number;
}

export interface LiveScope {
  scope: Scope;
  expiresAt: number;
}

export interface LiveSession extends LiveScope {
  userId: string;
}

const scopeKey = (userId: string, scope: Scope) => `scope:${userId}:${scope}`;
const deliveryKey = (userId: string) => `delivery:${userId}`;

/**
 * Scopes granted to a user, each with its own expiry, and the delivery method the user chose.
 * Each scope is its own key, so granting one never races with ending another, and the gate
 * is one read.
 */
export class Sessions {
  constructor(
    private readonly store: KeyValueStore,
    private readonly clock: Clock,
    private readonly ttlMs: Readonly<Record<Scope, number>>,
  ) {}

  /** One store read: the cost of the gate in front of every ordinary command. */
  async isLive(userId: string, scope: Scope): Promise<boolean> {
    const grant = await this.store.get<Grant>(scopeKey(userId, scope));
    return grant !== undefined && grant.expiresAt > this.clock.now();
  }

  async grant(userId: string, scope: Scope): Promise<number> {
    const grantedAt = this.clock.now();
    const expiresAt = grantedAt + this.ttlMs[scope];
    await this.store.set(scopeKey(userId, scope), { grantedAt, expiresAt } satisfies Grant, this.ttlMs[scope]);
    return expiresAt;
  }

  async liveScopes(userId: string): Promise<LiveScope[]> {
    const grants = await this.store.getMany<Grant>(SCOPES.map((scope) => scopeKey(userId, scope)));
    const now = this.clock.now();
    return SCOPES.flatMap((scope, i) => {
      const grant = grants[i];
      return grant && grant.expiresAt > now ? [{ scope, expiresAt: grant.expiresAt }] : [];
    });
  }

  /** Ends every scope of the user; returns the ones that were live. */
  async endAll(userId: string): Promise<LiveScope[]> {
    const live = await this.liveScopes(userId);
    await Promise.all(SCOPES.map((scope) => this.store.delete(scopeKey(userId, scope))));
    return live;
  }

  /** Every user's live scopes, soonest expiry first. */
  async allLive(): Promise<LiveSession[]> {
    const now = this.clock.now();
    const live: LiveSession[] = [];
    for await (const [key, grant] of this.store.entries<Grant>('scope:')) {
      const [, userId, scope] = key.split(':');
      if (userId && SCOPES.includes(scope as Scope) && grant.expiresAt > now) {
        live.push({ userId, scope: scope as Scope, expiresAt: grant.expiresAt });
      }
    }
    return live.sort((a, b) => a.expiresAt - b.expiresAt);
  }

  async delivery(userId: string): Promise<Delivery | undefined> {
    return this.store.get<Delivery>(deliveryKey(userId));
  }

  /** Kept until /logout, so a later /login or step-up skips the choice. */
  async rememberDelivery(userId: string, delivery: Delivery): Promise<void> {
    await this.store.set(deliveryKey(userId), delivery);
  }

  async forgetDelivery(userId: string): Promise<void> {
    await this.store.delete(deliveryKey(userId));
  }
}
