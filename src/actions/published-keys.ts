import type { KeyValueStore, OrderedKeys } from '../core/ports.js';
import type { PublicJwk, SigningKeys } from './signing-keys.js';

/** How long a published key stays listed after its replica last published it (tokens live 60 s). */
export const PUBLISHED_KEY_TTL_MS = 24 * 60 * 60_000;
/** At most this many published keys are listed: replicas times rotations, with room to spare. */
const MAX_PUBLISHED = 100;
const PREFIX = 'jwks:';

/**
 * Every replica keeps its own signing key (its own /data), so an endpoint that fetches the JWKS from
 * whichever replica answers must find there the key of whichever replica signed. Each replica publishes
 * its public keys in the shared store, and serves as its JWKS its own keys and every published one.
 * Only public halves are shared; the private key never leaves its replica.
 */
export class PublishedKeys {
  constructor(
    private readonly store: KeyValueStore & OrderedKeys,
    private readonly own: Pick<SigningKeys, 'jwks'>,
  ) {}

  /** Publishes (again) this replica's public keys: before it signs anything, and then now and then. */
  async publish(): Promise<void> {
    await Promise.all(
      this.own.jwks().keys.map((key) => this.store.set(`${PREFIX}${key.kid}`, key, PUBLISHED_KEY_TTL_MS)),
    );
  }

  /** This replica's keys (current first), then every other replica's; each kid once. Throws a StoreError. */
  async jwks(): Promise<{ keys: PublicJwk[] }> {
    const own = this.own.jwks().keys;
    const names = await this.store.keys({ prefix: PREFIX, limit: MAX_PUBLISHED });
    const published = names.length > 0 ? await this.store.getMany<PublicJwk>(names) : [];
    const keys = [...own];
    for (const key of published) if (key && !keys.some((k) => k.kid === key.kid)) keys.push(key);
    return { keys };
  }
}
