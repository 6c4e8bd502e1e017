import { randomUUID } from 'node:crypto';
import { linkKey, type PhoneDirectory, type StoredLink } from './phones.js';
import { type Clock, type Delivery, type KeyValueStore, SCOPES, type Scope } from './ports.js';

interface Grant {
  grantedAt: number;
  expiresAt: number;
  /** The user's epoch when the code was sent for; a grant from an ended epoch is dead. */
  epoch: string;
  /** Every method by which the challenge's codes went out (any of them may be the one typed). */
  methods?: Delivery[] | undefined;
  /** Grants made before `methods` was kept: the method of the challenge's last send. */
  delivery?: Delivery | undefined;
}

/** A live grant as an action token reports it: when, and by which methods, the scope was proved. */
export interface GrantFacts {
  grantedAt: number;
  /** Empty for a grant whose methods were never recorded. */
  methods: Delivery[];
}

/**
 * The delivery preference, made in an epoch: an ending voids it, so a send that finishes after a
 * logout cannot write it back. (A bare string is a preference kept before epochs were recorded.)
 */
type StoredDelivery = Delivery | { delivery: Delivery; epoch: string };

export interface LiveScope {
  scope: Scope;
  expiresAt: number;
}

export interface LiveSession extends LiveScope {
  userId: string;
}

/** What a command may need about its user, as of one store read (the gate's). */
export interface UserState {
  userId: string;
  /** The scopes live at the time of the read, in SCOPES order. */
  scopes: LiveScope[];
  delivery: Delivery | undefined;
  /** E.164, or undefined when the user has no phone. */
  phone: string | undefined;
}

/** The epoch of a user who has never had a session ended. */
const FIRST_EPOCH = '0';

const scopeKey = (userId: string, scope: Scope) => `scope:${userId}:${scope}`;
const epochKey = (userId: string) => `epoch:${userId}`;
const deliveryKey = (userId: string) => `delivery:${userId}`;

/**
 * Scopes granted to a user, each with its own expiry, and the delivery method the user chose.
 *
 * An ending (logout, revoke, link, unlink, lock) wins over anything in flight. Each user has an
 * epoch: a random value replaced by every ending. A grant, a request and its challenge carry the
 * epoch they were made in and count only while it is current. A verify that was in flight when the
 * user's session ended writes its grant under the old epoch, and that grant is dead the moment it is
 * written, whatever order the two writes land in. No lock or transaction needed, on any backend.
 */
export class Sessions {
  constructor(
    private readonly store: KeyValueStore,
    private readonly clock: Clock,
    private readonly ttlMs: Readonly<Record<Scope, number>>,
  ) {}

  /** One store read (the grant and the epoch together): the cost of the gate in front of every command. */
  async isLive(userId: string, scope: Scope): Promise<boolean> {
    return (await this.liveGrant(userId, scope)) !== undefined;
  }

  /** The user's current epoch: taken when a request begins and checked again when it grants. */
  async epoch(userId: string): Promise<string> {
    return (await this.store.get<string>(epochKey(userId))) ?? FIRST_EPOCH;
  }

  /**
   * Grants `scope` in `epoch`; `methods` are how the challenge's codes went out (for action tokens'
   * `amr`). Returns the expiry, or undefined if the epoch ended meanwhile (nothing granted).
   */
  async grant(userId: string, scope: Scope, epoch: string, methods: Delivery[]): Promise<number | undefined> {
    const grantedAt = this.clock.now();
    const expiresAt = grantedAt + this.ttlMs[scope];
    await this.store.set(
      scopeKey(userId, scope),
      { grantedAt, expiresAt, epoch, methods } satisfies Grant,
      this.ttlMs[scope],
    );
    // Read after the write: an ending that landed before this read is seen here; one that lands
    // after it replaced the epoch after our grant existed, and deleted it.
    return (await this.epoch(userId)) === epoch ? expiresAt : undefined;
  }

  /** The live grant of `scope` (one store read, like isLive), or undefined when it is not live. */
  async liveGrant(userId: string, scope: Scope): Promise<GrantFacts | undefined> {
    const [grant, epoch] = await this.store.getMany<Grant | string>([scopeKey(userId, scope), epochKey(userId)]);
    if (!this.counts(grant as Grant | undefined, (epoch as string | undefined) ?? FIRST_EPOCH, this.clock.now()))
      return undefined;
    const { grantedAt, methods, delivery } = grant as Grant;
    return { grantedAt, methods: methods ?? (delivery ? [delivery] : []) };
  }

  /**
   * Takes back a grant this process just wrote, after a later step failed: the user is not left with a
   * scope that they were told they did not get.
   */
  async withdraw(userId: string, scope: Scope): Promise<void> {
    await this.store.delete(scopeKey(userId, scope));
  }

  async liveScopes(userId: string): Promise<LiveScope[]> {
    const [epoch, ...grants] = await this.store.getMany<Grant | string>([
      epochKey(userId),
      ...SCOPES.map((scope) => scopeKey(userId, scope)),
    ]);
    return this.liveOf(grants as Array<Grant | undefined>, epoch as string | undefined, this.clock.now());
  }

  /**
   * The user's live scopes, delivery preference and phone in ONE store read (both grants, the epoch,
   * the preference and the phone link together): what the gate reads and hands to the command.
   */
  async userState(userId: string, phones: Pick<PhoneDirectory, 'phoneFrom'>): Promise<UserState> {
    const keys = [
      epochKey(userId),
      deliveryKey(userId),
      linkKey(userId),
      ...SCOPES.map((scope) => scopeKey(userId, scope)),
    ];
    const [epoch, delivery, link, ...grants] = await this.store.getMany<unknown>(keys);
    return {
      userId,
      scopes: this.liveOf(grants as Array<Grant | undefined>, epoch as string | undefined, this.clock.now()),
      delivery: deliveryIn(delivery as StoredDelivery | undefined, (epoch as string | undefined) ?? FIRST_EPOCH),
      phone: phones.phoneFrom(userId, link as StoredLink | undefined),
    };
  }

  /**
   * Ends every scope of the user and everything in flight: the epoch is replaced first, so a grant
   * written after this point is dead on arrival. Returns the scopes that were live.
   */
  async end(userId: string): Promise<LiveScope[]> {
    const live = await this.liveScopes(userId);
    await this.store.set(epochKey(userId), randomUUID());
    await Promise.all(SCOPES.map((scope) => this.store.delete(scopeKey(userId, scope))));
    return live;
  }

  /** Every user's live scopes, soonest expiry first. */
  async allLive(): Promise<LiveSession[]> {
    const now = this.clock.now();
    const found: Array<LiveSession & { epoch: string }> = [];
    for await (const [key, grant] of this.store.entries<Grant>('scope:')) {
      const [, userId, scope] = key.split(':');
      if (userId && SCOPES.includes(scope as Scope) && grant.expiresAt > now) {
        found.push({ userId, scope: scope as Scope, expiresAt: grant.expiresAt, epoch: grant.epoch });
      }
    }
    const users = [...new Set(found.map((f) => f.userId))];
    const epochs = new Map(users.map((u, i) => [u, i]));
    const current = users.length > 0 ? await this.store.getMany<string>(users.map(epochKey)) : [];
    return found
      .filter((f) => f.epoch === (current[epochs.get(f.userId)!] ?? FIRST_EPOCH))
      .map(({ userId, scope, expiresAt }) => ({ userId, scope, expiresAt }))
      .sort((a, b) => a.expiresAt - b.expiresAt);
  }

  async delivery(userId: string): Promise<Delivery | undefined> {
    const [stored, epoch] = await this.store.getMany<StoredDelivery | string>([deliveryKey(userId), epochKey(userId)]);
    return deliveryIn(stored as StoredDelivery | undefined, (epoch as string | undefined) ?? FIRST_EPOCH);
  }

  /**
   * Kept until the session ends (/logout, or any other ending), so a later /login or step-up skips the
   * choice. Made in `epoch` (the current one when not given): void if that epoch has ended.
   */
  async rememberDelivery(userId: string, delivery: Delivery, epoch?: string): Promise<void> {
    const madeIn = epoch ?? (await this.epoch(userId));
    await this.store.set(deliveryKey(userId), { delivery, epoch: madeIn } satisfies StoredDelivery);
  }

  async forgetDelivery(userId: string): Promise<void> {
    await this.store.delete(deliveryKey(userId));
  }

  /** `grants` in SCOPES order; each counts only in the current epoch and before its expiry. */
  private liveOf(grants: Array<Grant | undefined>, epoch: string | undefined, now: number): LiveScope[] {
    return SCOPES.flatMap((scope, i) => {
      const grant = grants[i];
      return this.counts(grant, epoch ?? FIRST_EPOCH, now) ? [{ scope, expiresAt: grant.expiresAt }] : [];
    });
  }

  private counts(grant: Grant | undefined, epoch: string, now: number): grant is Grant {
    return grant !== undefined && grant.expiresAt > now && grant.epoch === epoch;
  }
}

/** The preference if it was made in the current epoch (or before epochs were recorded with it). */
function deliveryIn(stored: StoredDelivery | undefined, epoch: string): Delivery | undefined {
  if (stored === undefined || typeof stored === 'string') return stored;
  return stored.epoch === epoch ? stored.delivery : undefined;
}
