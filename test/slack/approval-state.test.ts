import { afterEach, describe, expect, test } from 'vitest';
import { ApprovalState } from '../../src/slack/approval-state.js';
import { type CoreFixture, coreFixture } from '../helpers/core-fixture.js';

let f: CoreFixture;
afterEach(async () => {
  await f?.store.close().catch(() => {});
});

const run = { name: '/deploy', text: 'api 1.4.2', userId: 'U0BOB0001', teamId: 'T1', channelId: 'C1' };

describe('ApprovalState', () => {
  // A reason form sent twice at once (two deliveries, two replicas) asks for approval once.
  test('a draft is taken once, however many takes come at the same moment, on two instances of one store', async () => {
    f = await coreFixture();
    const one = new ApprovalState(f.store.kv, f.store.counters);
    const two = new ApprovalState(f.store.kv, f.store.counters);
    const id = await one.keepDraft({ run, proof: { authTime: 1, methods: ['sms'] }, shows: '`/deploy api 1.4.2`' });
    const taken = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? one : two).takeDraft(id)));
    expect(taken.filter(Boolean)).toHaveLength(1);
    expect(await one.draft(id)).toBeUndefined();
  });

  test('the parts of a request\u2019s places are written apart: a late status write keeps the result', async () => {
    f = await coreFixture();
    const state = new ApprovalState(f.store.kv, f.store.counters);
    const status = { userId: 'U0BOB0001', posted: true };
    await state.saveStatus('a1', status);
    const stale = await state.places('a1');
    await state.saveResult('a1', { ran: true, status: 200, text: 'deployed' });
    await state.saveStatus('a1', stale!.status); // a progress update that read before the result
    expect((await state.places('a1'))?.result).toEqual({ ran: true, status: 200, text: 'deployed' });
  });
});
