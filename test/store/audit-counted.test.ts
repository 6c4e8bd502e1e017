import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from '@redis/client';
import { afterAll, afterEach, beforeEach, describe, expect, test } from 'vitest';
import { type AuditEvent, type AuditRecord, AuditTrail, isFreeRefusal } from '../../src/core/audit.js';
import { openStore, type Store } from '../../src/store/index.js';
import { TestClock } from '../helpers/clock.js';
import { dropPostgresSchema, POSTGRES_URL, postgresUrl } from '../helpers/postgres.js';
import { REDIS_URL } from '../helpers/redis.js';
import { requireService } from '../helpers/services.js';

/**
 * Refusals anyone can cause for free (a logged-out /whoami, a malformed code, a replay) are counted in
 * the audit trail, not stored one by one, under a bound of their own: however many there are, they
 * neither push a security event out of `/admin audit` nor make the trim delete one. On every backend.
 */

const SKIP_REDIS = !(await requireService('redis', REDIS_URL));
const SKIP_POSTGRES = !(await requireService('postgres', POSTGRES_URL));
/** A Redis database of its own: this file clears it. */
const REDIS_DB = Object.assign(new URL(REDIS_URL), { pathname: '/11' }).toString();
const pgSchema = `audit_counted_${randomUUID().replaceAll('-', '')}`;
const dir = mkdtempSync(join(tmpdir(), 'phonegate-audit-counted-'));
const HOUR = 3_600_000;

async function flushRedis(): Promise<void> {
  const client = createClient({ url: REDIS_DB });
  await client.connect();
  await client.flushDb();
  client.destroy();
}

afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  if (!SKIP_POSTGRES) await dropPostgresSchema(pgSchema);
});

const LOCK: AuditEvent = { event: 'authn_login_lock', userId: 'U0BOB0001', scope: 'login', outcome: 'failure' };
const LINK: AuditEvent = {
  event: 'authn_phone_linked',
  userId: 'U0CAROL01',
  actorId: 'U0ALICE01',
  outcome: 'success',
  detail: { maskedPhone: '•••• 0199', replaced: true },
};
const whoami = (userId: string, retryNum?: number): AuditEvent => ({
  event: 'authz_fail',
  userId,
  scope: 'login',
  outcome: 'refused',
  detail: { command: '/whoami', reason: 'no_scope', ...(retryNum === undefined ? {} : { retryNum }) },
});
const malformed = (userId: string): AuditEvent => ({
  event: 'authn_login_fail',
  userId,
  scope: 'login',
  outcome: 'refused',
  detail: { reason: 'malformed' },
});

describe('which events count as free refusals', () => {
  // Rule: exactly the listed refusals are counted; everything else, new names included, is a security event.
  test.each<[AuditEvent, boolean]>([
    [whoami('U1'), true],
    [{ ...whoami('U1'), detail: { command: '/admin', reason: 'not_admin' } }, true],
    [{ ...whoami('U1'), detail: { command: '/deploy', reason: 'not_allowed' } }, true],
    [malformed('U1'), true],
    [{ ...malformed('U1'), detail: { reason: 'stale' } }, true],
    [{ ...malformed('U1'), detail: { reason: 'no_request' } }, true],
    [{ event: 'replay_dropped', userId: 'U1', outcome: 'refused', detail: { kind: 'command' } }, true],
    // A refusal for a reason not on the list (another rule, say an admin removed from [policy] admins).
    [{ ...whoami('U1'), detail: { command: '/admin', reason: 'no_longer_admin' } }, false],
    [{ ...whoami('U1'), detail: { command: '/whoami' } }, false],
    // Wrong codes count toward a lock, and provider errors cost a call: not free.
    [{ event: 'authn_login_fail', userId: 'U1', scope: 'login', outcome: 'failure', detail: { attempt: 1 } }, false],
    [{ ...malformed('U1'), outcome: 'error', detail: { failure: 'unavailable' } }, false],
    [LOCK, false],
    [LINK, false],
    [{ event: 'authn_logout', userId: 'U1', outcome: 'success' }, false],
    [{ event: 'action_run', userId: 'U1', outcome: 'refused', detail: { command: '/deploy', reason: 'ended' } }, false],
    [{ event: 'excess_rate_limit_exceeded', userId: 'U1', outcome: 'refused' }, false],
  ])('%j: %s', (event, free) => {
    expect(isFreeRefusal(event)).toBe(free);
  });
});

const backends = [
  { name: 'SQLite', skip: false, url: () => `sqlite://${join(dir, `${randomUUID()}.sqlite`)}` },
  { name: 'Redis', skip: SKIP_REDIS, url: () => REDIS_DB },
  { name: 'PostgreSQL', skip: SKIP_POSTGRES, url: () => postgresUrl(pgSchema) },
];

describe.each(backends)('the audit trail on $name', (backend) => {
  describe.skipIf(backend.skip)('free refusals are counted, security events kept', () => {
    let store: Store;
    let clock: TestClock;
    beforeEach(async () => {
      if (backend.name === 'Redis') await flushRedis();
      if (backend.name === 'PostgreSQL') await dropPostgresSchema(pgSchema);
      // On the hour, so that the test controls which window each event falls in.
      clock = new TestClock(Math.ceil(Date.now() / HOUR) * HOUR);
      store = await openStore(backend.url(), clock);
    });
    afterEach(async () => {
      await store.close();
      if (backend.name === 'Redis') await flushRedis();
    });

    const record = (event: AuditEvent): AuditRecord => ({ at: clock.now(), ...event });

    test('a lock and a phone link, then 1,000 logged-out /whoami and malformed codes: both are still in the newest 100, the flood is two counted rows', async () => {
      const trail = new AuditTrail(store);
      await trail.append(record(LOCK));
      clock.advance(1000);
      await trail.append(record(LINK));
      clock.advance(1000);
      const firstNoise = clock.now();
      for (let i = 0; i < 500; i += 50) {
        // Concurrent, as requests arrive: each count is one atomic increment.
        await Promise.all(
          Array.from({ length: 50 }, (_, j) =>
            Promise.all([
              trail.append(record(whoami('U0STRANGE', i + j))),
              trail.append(record(malformed('U0CAROL01'))),
            ]),
          ),
        );
        clock.advance(1000);
      }
      const recent = await trail.recent(100);
      // Two counted rows (newest: a counted row stands at its first event), then the two security events.
      expect(recent).toHaveLength(4);
      expect(recent.slice(0, 2).map((e) => [e.event, e.userId, e.count])).toEqual(
        expect.arrayContaining([
          ['authz_fail', 'U0STRANGE', 500],
          ['authn_login_fail', 'U0CAROL01', 500],
        ]),
      );
      expect(recent.slice(2).map((e) => [e.event, e.count])).toEqual([
        ['authn_phone_linked', undefined],
        ['authn_login_lock', undefined],
      ]);
      const whoamiRow = recent.find((e) => e.event === 'authz_fail')!;
      expect(whoamiRow).toMatchObject({
        at: firstNoise,
        scope: 'login',
        outcome: 'refused',
        detail: { command: '/whoami', reason: 'no_scope' }, // the retry number is not a fact of the row
      });
      expect(whoamiRow.detail).not.toHaveProperty('retryNum');
      expect(recent.find((e) => e.event === 'authn_phone_linked')).toMatchObject(LINK);
      // Even the newest 2 are the two security events, with the counted rows of their time.
      expect((await trail.recent(2)).filter((e) => e.count === undefined).map((e) => e.event)).toEqual([
        'authn_phone_linked',
        'authn_login_lock',
      ]);
    });

    test('counted per kind and hour: another user, command or reason is its own row; the next hour starts a new one', async () => {
      const trail = new AuditTrail(store);
      await trail.append(record(whoami('U1')));
      await trail.append(record(whoami('U1')));
      await trail.append(record(whoami('U2')));
      await trail.append(record({ ...whoami('U1'), detail: { command: '/logout', reason: 'no_scope' } }));
      await trail.append(record(malformed('U1')));
      clock.advance(HOUR);
      await trail.append(record(whoami('U1')));
      const rows = (await trail.recent(100)).map(
        (e) => `${e.userId} ${e.detail?.command ?? e.detail?.reason} ×${e.count}`,
      );
      expect(rows.sort()).toEqual(
        ['U1 /whoami ×2', 'U2 /whoami ×1', 'U1 /logout ×1', 'U1 malformed ×1', 'U1 /whoami ×1'].sort(),
      );
    });

    test('the trim keeps each bound on its own: noise beyond maxCounted goes, oldest first, and no security event goes because of it', async () => {
      const trail = new AuditTrail(store, { maxEvents: 3, maxCounted: 5 });
      await trail.append(record(LOCK));
      clock.advance(1000);
      await trail.append(record(LINK));
      // 30 hours of noise from two users: 60 counted rows.
      for (let hour = 0; hour < 30; hour++) {
        clock.advance(HOUR);
        await trail.append(record(whoami('U0STRANGE')));
        await trail.append(record(malformed('U0STRANGE')));
      }
      expect(await trail.trim()).toBe(55);
      const left = await trail.recent(100);
      expect(left.filter((e) => e.count === undefined).map((e) => e.event)).toEqual([
        'authn_phone_linked',
        'authn_login_lock',
      ]);
      const counted = left.filter((e) => e.count !== undefined);
      expect(counted).toHaveLength(5);
      expect(Math.min(...counted.map((e) => e.at))).toBe(clock.now() - 2 * HOUR); // the newest kept
      expect(await trail.trim()).toBe(0);

      // A trimmed row's count went with it: the same kind in that hour starts again at 1.
      const trimmedHour = clock.now() - 20 * HOUR;
      await trail.append({ ...whoami('U0STRANGE'), at: trimmedHour });
      expect((await trail.recent(100)).find((e) => e.at === trimmedHour)?.count).toBe(1);

      // Security events beyond their own bound are trimmed as before, oldest first.
      await trail.append(record({ event: 'authn_logout', userId: 'U1', outcome: 'success' }));
      clock.advance(1000);
      await trail.append(record({ event: 'authn_logout', userId: 'U2', outcome: 'success' }));
      expect(await trail.trim()).toBe(2); // the lock, and the counted row just added beyond maxCounted
      expect((await trail.recent(100)).filter((e) => e.count === undefined).map((e) => e.userId)).toEqual([
        'U2',
        'U1',
        'U0CAROL01',
      ]);
    });
  });
});
