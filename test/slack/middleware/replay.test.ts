import type { IncomingMessage } from 'node:http';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import {
  claimKey,
  httpDelivery,
  onlyOnce,
  SignedDelivery,
  socketDelivery,
} from '../../../src/slack/middleware/replay.js';
import { unavailable } from '../../../src/slack/views/text.js';
import { type Core, FakeBolt, realCore } from '../../helpers/bolt-args.js';
import { USERS } from '../../helpers/harness.js';

describe('claimKey', () => {
  // Rule: Slack's retry of an event has a new signature but the same event_id.
  test('an event is claimed by its event_id, whatever delivery carried it', () => {
    const body = { type: 'event_callback', event_id: 'Ev01', event: { type: 'app_home_opened' } };
    expect(claimKey(body, { deliveryId: 'sig:a' } as any)).toBe('seen:event:Ev01');
    expect(claimKey(body, { deliveryId: 'sig:b' } as any)).toBe('seen:event:Ev01');
  });

  test('a command or an interaction is claimed by its delivery id; /whoami is not claimed', () => {
    expect(claimKey({ command: '/login' }, { deliveryId: 'sig:x' } as any)).toBe('seen:sig:x');
    expect(claimKey({ type: 'view_submission' }, { deliveryId: 'envelope:e1' } as any)).toBe('seen:envelope:e1');
    expect(claimKey({ command: '/whoami' }, { deliveryId: 'sig:x' } as any)).toBeUndefined();
    expect(claimKey({ command: '/login' }, {} as any)).toBeUndefined();
  });
});

describe('delivery ids', () => {
  // Rule (invariant 10): a delivery is named by what Slack signed (timestamp and body), not by the header's spelling.
  test('HTTP: a hash of the signed timestamp and body, whatever the signature header says', () => {
    const req = (timestamp: string | undefined, body: string | undefined, signature = 'v0=aaaa') =>
      ({
        headers: { 'x-slack-signature': signature, ...(timestamp ? { 'x-slack-request-timestamp': timestamp } : {}) },
        ...(body === undefined ? {} : { rawBody: Buffer.from(body) }),
      }) as unknown as IncomingMessage & { rawBody?: Buffer };
    const id = (timestamp: string | undefined, body: string | undefined, signature?: string) =>
      claimKey({ command: '/login' }, httpDelivery(req(timestamp, body, signature)) as any);
    const a = id('1700000000', 'command=%2Flogin');
    expect(a).toMatch(/^seen:sig:[0-9a-f]{64}$/);
    // The same signed content under other spellings of the headers is the same delivery.
    expect(id('1700000000', 'command=%2Flogin', 'v0=aaaa=x')).toBe(a);
    expect(id('01700000000', 'command=%2Flogin')).toBe(a);
    expect(id('1700000000.0', 'command=%2Flogin')).toBe(a);
    // Other content is another delivery.
    expect(id('1700000001', 'command=%2Flogin')).not.toBe(a);
    expect(id('1700000000', 'command=%2Flogout')).not.toBe(a);
    expect(a).not.toContain('login');
    expect(httpDelivery(req(undefined, 'command=%2Flogin'))).toEqual({});
    expect(httpDelivery(req('1700000000', undefined))).toEqual({});
  });

  // The hash is made only for a request that is claimed: /whoami, never claimed, does not pay for it.
  test('HTTP: the id is not computed for a request that is not claimed', () => {
    class Unread extends SignedDelivery {
      override get id(): string {
        throw new Error('the delivery id was read');
      }
    }
    const context = { signed: new Unread(1700000000, Buffer.from('command=%2Fwhoami')) } as any;
    expect(claimKey({ command: '/whoami' }, context)).toBeUndefined();
    expect(() => claimKey({ command: '/login' }, context)).toThrow('the delivery id was read');
  });

  test('Socket Mode: the envelope id', () => {
    expect(socketDelivery({ envelope_id: 'abc' })).toEqual({ deliveryId: 'envelope:abc' });
    expect(socketDelivery({})).toEqual({});
  });
});

describe('onlyOnce', () => {
  let core: Core;
  beforeEach(async () => {
    core = await realCore();
  });
  afterEach(() => core.close());

  const loginCommand = (slack: FakeBolt) => ({
    ...slack.command('/login', USERS.bob),
    context: { deliveryId: 'sig:1', retryNum: 1 },
  });

  // Rule (invariant 9): the same delivery runs once; the second is acknowledged empty and audited.
  test('the first delivery runs; the same delivery again is acked, not run, and audited', async () => {
    const once = onlyOnce(core.s, core.store.counters);
    const first = new FakeBolt();
    await once(loginCommand(first));
    expect(first.nextCalls).toBe(1);
    expect(first.acks).toEqual([]);
    const again = new FakeBolt();
    await once(loginCommand(again));
    expect(again.nextCalls).toBe(0);
    expect(again.acks).toEqual([undefined]);
    expect(core.logs.audit('replay_dropped')).toMatchObject([
      { userId: USERS.bob, outcome: 'refused', detail: { kind: 'command', command: '/login', retryNum: 1 } },
    ]);
  });

  test('an unclaimed command (/whoami) runs every time', async () => {
    const once = onlyOnce(core.s, core.store.counters);
    for (let i = 0; i < 2; i++) {
      const slack = new FakeBolt();
      await once({ ...slack.command('/whoami', USERS.bob), context: { deliveryId: 'sig:2' } });
      expect(slack.nextCalls).toBe(1);
    }
  });

  // Rule (invariant 4): if the claim cannot be recorded, nothing runs; a command gets the plain "try again".
  test('the store fails: nothing runs; a command gets "try again", a submission a "try again" window', async () => {
    const once = onlyOnce(core.s, core.store.counters);
    await core.store.close();
    const command = new FakeBolt();
    await once(loginCommand(command));
    expect(command.nextCalls).toBe(0);
    expect(command.acks).toEqual([{ response_type: 'ephemeral', text: unavailable }]);
    const submission = new FakeBolt();
    const args = submission.submit(USERS.bob, { type: 'modal', title: { type: 'plain_text', text: 'Log in' } });
    await once({ ...args, context: { deliveryId: 'sig:3' } });
    expect(submission.nextCalls).toBe(0);
    expect(submission.acks).toMatchObject([
      { response_action: 'update', view: { title: { text: 'Log in' }, blocks: [{ text: { text: unavailable } }] } },
    ]);
  });
});
