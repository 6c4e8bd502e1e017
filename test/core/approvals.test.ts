import { afterEach, describe, expect, test } from 'vitest';
import { type ApprovalRequest, Approvals, type Authority } from '../../src/core/approvals.js';
import { type CoreFixture, coreFixture, MINUTE, requestCode, U1, U2 } from '../helpers/core-fixture.js';

/** Issue 20: a second person, proving their own phone, before the commands that matter. */

const REQUESTER = U1;
const [A, B, C] = ['U0APPROVA', 'U0APPROVB', 'U0APPROVC'];
const proof = (at = 0) => ({ authTime: at, methods: ['sms' as const] });
/** The config as it is now: approvers A, B, C; the requester may still run the command. */
const anyone: Authority = { isApprover: (id) => [A, B, C].includes(id), requesterAllowed: () => true };

let f: CoreFixture;
afterEach(async () => {
  await f?.store.close().catch(() => {});
});

async function ask(needed = 2, options: Partial<ApprovalRequest> = {}) {
  return f.approvals.open({
    requesterId: REQUESTER,
    action: { run: '/deploy api 1.4.2' },
    approvers: [A, B, C, REQUESTER],
    needed,
    reason: 'hotfix',
    breakGlass: false,
    proof: proof(),
    minutes: 30,
    ...options,
  });
}

describe('approvals (core)', () => {
  test('N distinct approvers approve it; the requester never counts; each person counts once', async () => {
    f = await coreFixture();
    const request = await ask(2);
    expect(request.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(await f.approvals.mayApprove(request.id, REQUESTER, anyone)).toEqual({ ok: false, reason: 'own_request' });
    expect(await f.approvals.mayApprove(request.id, U2, anyone)).toEqual({ ok: false, reason: 'not_approver' });
    // The same rules hold where it acts, not only before a code is sent.
    expect(await f.approvals.approve(request.id, U2, proof(1), anyone)).toEqual({ ok: false, reason: 'not_approver' });
    expect(await f.approvals.deny(request.id, U2, undefined, anyone)).toEqual({ ok: false, reason: 'not_approver' });
    expect(await f.approvals.approve(request.id, REQUESTER, proof(1), anyone)).toEqual({
      ok: false,
      reason: 'own_request',
    });
    const first = await f.approvals.approve(request.id, A, proof(1), anyone);
    expect(first).toMatchObject({ ok: true, approvals: [expect.objectContaining({ sub: A })] });
    expect(first.ok && first.end).toBeUndefined();
    expect(await f.approvals.mayApprove(request.id, A, anyone)).toEqual({ ok: false, reason: 'already_approved' });
    // A second approval by the same person still counts once.
    const again = await f.approvals.approve(request.id, A, proof(2), anyone);
    expect(again.ok && again.end).toBeUndefined();
    const last = await f.approvals.approve(request.id, B, proof(3), anyone);
    expect(last).toMatchObject({
      ok: true,
      end: { state: 'approved', approvals: [expect.objectContaining({ sub: A }), expect.objectContaining({ sub: B })] },
    });
    expect(await f.approvals.approve(request.id, C, proof(4), anyone)).toMatchObject({ ok: false, reason: 'closed' });
    expect(f.audit.map((r) => r.event)).toEqual([
      'approval_requested',
      'approval_granted',
      'approval_granted',
      'approval_granted',
      'approval_granted',
    ]);
    expect(f.audit.at(-1)).toMatchObject({ detail: { request: request.id, approved: true, approvals: 2 } });
  });

  // P2: exactly once, whatever arrives at the same moment, and on two instances sharing the store.
  test('three approvers at once on two instances, two needed: it ends approved exactly once', async () => {
    f = await coreFixture();
    const other = new Approvals({
      store: f.store.kv,
      counters: f.store.counters,
      sessions: f.sessions,
      audit: { record: async () => {} } as never,
      clock: f.clock,
    });
    for (let round = 0; round < 10; round++) {
      const request = await ask(2);
      const results = await Promise.all([
        f.approvals.approve(request.id, A, proof(), anyone),
        other.approve(request.id, B, proof(), anyone),
        f.approvals.approve(request.id, C, proof(), anyone),
      ]);
      const ends = results.filter((r) => r.ok && r.end?.state === 'approved');
      expect(ends, `round ${round}`).toHaveLength(1);
    }
  });

  test('a deny racing the last approval: exactly one of them decides', async () => {
    f = await coreFixture();
    for (let round = 0; round < 10; round++) {
      const request = await ask(1);
      const [approved, denied] = await Promise.all([
        f.approvals.approve(request.id, A, proof(), anyone),
        f.approvals.deny(request.id, B, 'not now', anyone),
      ]);
      const decided = [approved.ok && approved.end?.state === 'approved', denied.ok].filter(Boolean);
      expect(decided, `round ${round}`).toHaveLength(1);
      const read = await f.approvals.read(request.id);
      expect(read?.end?.state).toBe(denied.ok ? 'denied' : 'approved');
    }
  });

  // P4: authority is read when it acts.
  test('an approver removed from the config no longer counts; a requester no longer allowed ends it unrun', async () => {
    f = await coreFixture();
    const request = await ask(2);
    await f.approvals.approve(request.id, A, proof(), anyone);
    const withoutA: Authority = { isApprover: (id) => [B, C].includes(id), requesterAllowed: () => true };
    const second = await f.approvals.approve(request.id, B, proof(), withoutA);
    expect(second.ok && second.end).toBeUndefined(); // A's approval does not count any more: one of two
    const notAllowed: Authority = { ...anyone, requesterAllowed: () => false };
    expect(await f.approvals.approve(request.id, C, proof(), notAllowed)).toMatchObject({
      ok: true,
      end: { state: 'ended', why: 'not_allowed' },
    });
  });

  test('it expires unrun at approval_minutes, once, and a late approval or deny reads "closed"', async () => {
    f = await coreFixture();
    const request = await ask(1);
    f.clock.advance(30 * MINUTE);
    expect(await f.approvals.mayApprove(request.id, A, anyone)).toMatchObject({
      ok: false,
      reason: 'closed',
      end: { state: 'expired' },
    });
    expect(await f.approvals.deny(request.id, B, undefined, anyone)).toMatchObject({ reason: 'closed' });
    expect(f.audit.filter((r) => r.event === 'approval_expired')).toHaveLength(1);
    expect(await f.approvals.sweep()).toEqual([]);
  });

  test('an ending of the requester (a logout, a revoke, a lock) ends it unrun; the sweep finds it once', async () => {
    f = await coreFixture();
    const request = await ask(1);
    await f.sessions.end(REQUESTER);
    const swept = await f.approvals.sweep();
    expect(swept).toEqual([
      {
        request: expect.objectContaining({ id: request.id }),
        end: expect.objectContaining({ state: 'ended', why: 'requester_ended' }),
      },
    ]);
    expect(await f.approvals.sweep()).toEqual([]);
    expect(await f.approvals.approve(request.id, A, proof(), anyone)).toMatchObject({ reason: 'closed' });
  });

  test('only the requester cancels, and only they break glass, where it is allowed', async () => {
    f = await coreFixture();
    const request = await ask(1);
    expect(await f.approvals.cancel(request.id, A)).toEqual({ ok: false, reason: 'not_requester' });
    expect(await f.approvals.deny(request.id, REQUESTER, undefined, anyone)).toEqual({
      ok: false,
      reason: 'own_request',
    });
    expect(await f.approvals.mayBreakGlass(request.id, REQUESTER)).toEqual({ ok: false, reason: 'no_break_glass' });
    expect(await f.approvals.cancel(request.id, REQUESTER)).toMatchObject({ ok: true, end: { state: 'cancelled' } });

    const glass = await ask(1, { breakGlass: true });
    expect(await f.approvals.breakGlass(glass.id, A, 'down', proof(), anyone)).toEqual({
      ok: false,
      reason: 'not_requester',
    });
    expect(await f.approvals.breakGlass(glass.id, REQUESTER, 'prod is down', proof(9), anyone)).toMatchObject({
      ok: true,
      end: { state: 'break_glass', reason: 'prod is down', proof: { authTime: 9 } },
    });
    expect(f.audit.filter((r) => r.event === 'break_glass')).toEqual([
      expect.objectContaining({ userId: REQUESTER, detail: { request: glass.id, methods: 'sms' } }),
    ]);
  });

  test('listOpen lists every open request, soonest expiry first', async () => {
    f = await coreFixture();
    const late = await ask(1, { action: 'late' });
    f.clock.advance(MINUTE);
    const early = await ask(1, { action: 'early' });
    await f.approvals.cancel(early.id, REQUESTER);
    const third = await f.approvals.open({ ...late, minutes: 5, approvers: [A] } as never);
    expect((await f.approvals.listOpen()).map((o) => o.request.id)).toEqual([(third as ApprovalRequest).id, late.id]);
  });
});

describe('an approver\u2019s code (verify, purpose `approval`)', () => {
  test('proves the phone for that one approval and grants no scope', async () => {
    f = await coreFixture();
    const request = await ask(1);
    const { requestId, code } = await requestCode(f, U2, 'approval', 'voice', request.id);
    expect(f.provider.sent.at(-1)?.scope).toMatch(/^approval-[0-9a-f]{12}$/);
    const verified = await f.verifier.verify(U2, requestId, code);
    expect(verified).toMatchObject({ ok: true, scope: 'approval', approvalId: request.id, methods: ['voice'] });
    expect(await f.sessions.liveScopes(U2)).toEqual([]);
  });

  test('a code sent for one approval never counts for another: each gets its own challenge and provider scope', async () => {
    f = await coreFixture();
    const one = await ask(1);
    const two = await ask(1);
    const first = await requestCode(f, U2, 'approval', 'sms', one.id);
    const opened = await f.requests.open(U2, 'approval', two.id);
    if (!opened.ok) throw new Error(opened.reason);
    expect(opened.request.requestId).not.toBe(first.requestId);
    expect(opened.request.sent).toBeUndefined(); // no code carried over from the other approval
    expect(await f.verifier.verify(U2, first.requestId, first.code)).toMatchObject({ ok: false, reason: 'stale' });
  });
});
