import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, describe, expect, test } from 'vitest';
import { TestClock } from '../helpers/clock.js';
import { type CoreFixture, coreFixture, U1 } from '../helpers/core-fixture.js';
import { dropPostgresSchema, POSTGRES_URL, postgresUrl } from '../helpers/postgres.js';
import { requireService } from '../helpers/services.js';

/**
 * Issue 18 §8, DESIGN invariant 14: shared limits use one clock. Two replicas of the core on one
 * PostgreSQL schema, their clocks 31 s apart: the resend cooldown (30 s) a code started on one holds
 * on the other. With windows on each writer's clock, the replica ahead found it over at once.
 */

const SKIP_POSTGRES = !(await requireService('postgres', POSTGRES_URL));
const schema = `shared_clock_${randomUUID().replaceAll('-', '')}`;

const replicas: CoreFixture[] = [];
afterEach(async () => {
  for (const r of replicas.splice(0)) await r.store.close().catch(() => {});
});
afterAll(async () => {
  if (!SKIP_POSTGRES) await dropPostgresSchema(schema);
});

describe.skipIf(SKIP_POSTGRES)('replicas 31 s apart on PostgreSQL', () => {
  test('the resend cooldown started on one replica holds on the other, and says how long is left', async () => {
    const now = Date.now();
    const a = await coreFixture({ storeUrl: postgresUrl(schema), clock: new TestClock(now) });
    const b = await coreFixture({ storeUrl: postgresUrl(schema), clock: new TestClock(now + 31_000) });
    replicas.push(a, b);
    const opened = await a.requests.open(U1, 'login');
    if (!opened.ok) throw new Error(`open refused: ${opened.reason}`);
    expect(await a.sender.send(U1, opened.request.requestId, 'sms')).toMatchObject({ ok: true });

    const resent = await b.sender.send(U1, opened.request.requestId, 'sms');
    expect(resent).toMatchObject({ ok: false, reason: 'cooldown' });
    // retryAt on B's own clock: about 30 s from its now, as its user reads it.
    const left = (resent as { retryAt: number }).retryAt - b.clock.now();
    expect(left).toBeGreaterThan(29_000);
    expect(left).toBeLessThanOrEqual(30_000);
    expect(b.provider.sent).toHaveLength(0);
  });
});
