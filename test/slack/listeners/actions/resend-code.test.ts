import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { webApi } from '@slack/bolt';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { compose } from '../../../../src/compose.js';
import { parseConfig } from '../../../../src/config.js';
import { createLogger } from '../../../../src/logger.js';
import type { Services } from '../../../../src/services.js';
import { resendCode, switchDelivery } from '../../../../src/slack/listeners/actions/resend-code.js';
import { requestMetadata } from '../../../../src/slack/views/modals.js';
import { openStore, type Store } from '../../../../src/store/index.js';
import { TestClock } from '../../../helpers/clock.js';
import { testEnv, USERS } from '../../../helpers/harness.js';
import { LogCapture } from '../../../helpers/logs.js';
import { MemoryProvider } from '../../../helpers/memory-provider.js';

/** The listener called directly, as Slack's starter template tests listeners: fake ack and client, real core on SQLite. */

let dir: string;
let store: Store;
let clock: TestClock;
let provider: MemoryProvider;
let logs: LogCapture;
let s: Services;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'phonegate-resend-'));
  clock = new TestClock();
  store = await openStore(`sqlite://${join(dir, 'state.sqlite')}`, clock);
  provider = new MemoryProvider(clock);
  logs = new LogCapture();
  s = compose(parseConfig({ env: testEnv() }), {
    store,
    provider,
    clock,
    logger: createLogger({ level: 'debug', destination: logs }),
  }).services;
});
afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A client that records views.update/push and answers each update with `answer` (a Slack error code throws as Slack's client does). */
function fakeClient(answer: (args: any) => string | undefined = () => undefined) {
  const calls: Array<{ method: string; args: any }> = [];
  const call = (method: string) => async (args: any) => {
    calls.push({ method, args });
    const error = method === 'views.update' ? answer(args) : undefined;
    if (error) throw new webApi.WebAPIPlatformError({ ok: false, error });
    return { ok: true };
  };
  return { calls, client: { views: { update: call('views.update'), push: call('views.push') } } };
}

/** A click on a button in the window `viewId`, sent as `clicker`, on a view carrying `metadata`. */
function click(clicker: string, viewId: string, metadata: string, hash = '1700000000.abc') {
  return {
    ack: async () => {},
    body: {
      type: 'block_actions',
      user: { id: clicker },
      trigger_id: `trigger-of-${clicker}`,
      view: { id: viewId, hash, private_metadata: metadata, title: { type: 'plain_text', text: 'Log in' } },
      actions: [{ action_id: 'resend_code' }],
    },
  } as any;
}

/** Alice's open login window: a code is out; returns its request id. */
async function aliceWindow(): Promise<string> {
  const begun = await s.requests.open(USERS.alice, 'login');
  if (!begun.ok) throw new Error(begun.reason);
  const sent = await s.sender.send(USERS.alice, begun.request.requestId, 'sms');
  if (!sent.ok) throw new Error(sent.reason);
  clock.advance(60_000); // past the resend cooldown
  return begun.request.requestId;
}

describe('Resend code / switch delivery', () => {
  // Rule: the update after a click carries the view's hash, so Slack refuses it if the window changed meanwhile.
  test("the owner's click updates the window with the view's hash", async () => {
    const requestId = await aliceWindow();
    const { calls, client } = fakeClient();
    await switchDelivery(s)({
      ...click(USERS.alice, 'VALICE01', requestMetadata(requestId), 'hash-seen-by-alice'),
      client,
    });
    expect(provider.sent.map((x) => x.delivery)).toEqual(['sms', 'voice']);
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({
      method: 'views.update',
      args: { view_id: 'VALICE01', hash: 'hash-seen-by-alice' },
    });
    expect(JSON.stringify(calls[0]!.args.view)).toContain('New code sent by voice call');
  });

  // Rule: hash_conflict means a newer view is already there: no error, and nothing more is shown over it.
  test('hash_conflict is quiet: no error view, no error log', async () => {
    const requestId = await aliceWindow();
    const { calls, client } = fakeClient(() => 'hash_conflict');
    await resendCode(s)({ ...click(USERS.alice, 'VALICE01', requestMetadata(requestId)), client });
    expect(calls.map((c) => c.method)).toEqual(['views.update']);
    expect(logs.lines().filter((l) => l.level === 'error' || l.level === 'fatal')).toEqual([]); // pino writes level labels here
    expect(logs.lines().some((l) => l.msg.includes('changed meanwhile'))).toBe(true);
  });

  // Rule: a click sent as Bob on Alice's window (a forged payload) changes nothing in that window.
  test("a click on someone else's window never updates it", async () => {
    const requestId = await aliceWindow();
    const { calls, client } = fakeClient();
    await resendCode(s)({ ...click(USERS.bob, 'VALICE01', requestMetadata(requestId)), client });
    expect(calls.filter((c) => c.method === 'views.update')).toEqual([]);
    expect(calls).toMatchObject([{ method: 'views.push', args: { trigger_id: `trigger-of-${USERS.bob}` } }]);
    expect(provider.sent).toHaveLength(1);
    // Alice's request is untouched: her code still works.
    expect(await s.verifier.verify(USERS.alice, requestId, provider.lastCode())).toMatchObject({
      ok: true,
      scope: 'login',
    });
  });

  // Rule: Bob's own live request does not let him aim its result at Alice's window: Slack refuses a hash he never saw.
  test("Bob's own request id on Alice's window id: the update needs the hash Bob never saw", async () => {
    await aliceWindow();
    const bobs = await s.requests.open(USERS.bob, 'login');
    if (!bobs.ok) throw new Error(bobs.reason);
    const { calls, client } = fakeClient((args) => (args.hash === 'alice-hash' ? undefined : 'hash_conflict'));
    await resendCode(s)({
      ...click(USERS.bob, 'VALICE01', requestMetadata(bobs.request.requestId), 'made-up-hash'),
      client,
    });
    expect(calls).toMatchObject([{ method: 'views.update', args: { view_id: 'VALICE01', hash: 'made-up-hash' } }]);
  });
});
