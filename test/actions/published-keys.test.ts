import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { afterEach, describe, expect, test } from 'vitest';
import { PublishedKeys } from '../../src/actions/published-keys.js';
import { loadSigningKeys } from '../../src/actions/signing-keys.js';
import { signActionToken } from '../../src/actions/token.js';
import { StoreError } from '../../src/core/ports.js';
import { type CoreFixture, coreFixture } from '../helpers/core-fixture.js';

/**
 * Issue 18 §7: replicas each create their own signing key, so a JWKS that lists only the answering
 * replica's key makes endpoints refuse the other replicas' tokens. Published through the shared store,
 * every replica's JWKS lists every replica's public key.
 */

let f: CoreFixture;
let dir: string;
afterEach(async () => {
  await f?.store.close().catch(() => {});
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('published signing keys', () => {
  test('each replica signs with its own key; a token of either verifies against the JWKS of either', async () => {
    f = await coreFixture();
    dir = await mkdtemp(join(tmpdir(), 'phonegate-keys-'));
    const keysA = await loadSigningKeys({ keyFile: join(dir, 'a.pem') });
    const keysB = await loadSigningKeys({ keyFile: join(dir, 'b.pem') });
    expect(keysA.current.kid).not.toBe(keysB.current.kid);
    const a = new PublishedKeys(f.store.kv, keysA);
    const b = new PublishedKeys(f.store.kv, keysB);
    await a.publish();
    await b.publish();

    const claims = (url: string) => ({
      issuer: 'phonegate',
      userId: 'U0BOB0001',
      url,
      scope: 'login' as const,
      authTime: Date.now(),
      methods: ['sms' as const],
      body: '{}',
    });
    const byA = await signActionToken(keysA, claims('https://ops.example/a'), Date.now());
    const byB = await signActionToken(keysB, claims('https://ops.example/b'), Date.now());
    for (const replica of [a, b]) {
      const jwks = createLocalJWKSet(JSON.parse(JSON.stringify(await replica.jwks())));
      await expect(jwtVerify(byA, jwks)).resolves.toBeTruthy();
      await expect(jwtVerify(byB, jwks)).resolves.toBeTruthy();
    }
    // Its own key first, each key once, and no private half anywhere.
    const listed = await a.jwks();
    expect(listed.keys.map((k) => k.kid)).toEqual([keysA.current.kid, keysB.current.kid]);
    expect(JSON.stringify(listed)).not.toMatch(/"d":/);
  });

  test('when the store cannot list the keys, jwks() fails rather than serve a partial list', async () => {
    f = await coreFixture();
    dir = await mkdtemp(join(tmpdir(), 'phonegate-keys-'));
    const published = new PublishedKeys(f.store.kv, await loadSigningKeys({ keyFile: join(dir, 'a.pem') }));
    f.store.kv.keys = async () => {
      throw new StoreError('store read failed');
    };
    await expect(published.jwks()).rejects.toMatchObject({ name: 'StoreError' });
  });
});
