import { afterEach, describe, expect, test } from 'vitest';
import { createBandwidthProvider } from '../../src/bandwidth/mfa-provider.js';
import { createTokenSource } from '../../src/bandwidth/oauth-token.js';
import { parseConfig } from '../../src/config.js';
import { ProviderError } from '../../src/core/ports.js';
import { TestClock } from '../helpers/clock.js';
import { type SlowRoute, serveSlowly } from '../helpers/fake-bandwidth.js';
import { ACCOUNT_ID, SECRETS, testEnv } from '../helpers/harness.js';

/**
 * Each Bandwidth call ends within `[bandwidth] timeout_seconds` as a whole. axios's `timeout` only notices
 * silence, so a body that drips one byte every 250 ms would keep the user waiting until it is complete.
 */

const PATH = `/api/v1/accounts/${ACCOUNT_ID}/code`;
const TOKEN_PATH = '/oauth2/token';
const PHONE = '+14155550199';
const CODE = '918273';
/** 24 bytes at 250 ms a byte: 6 s to arrive in full, and never silent for more than 250 ms. */
const SLOW_JSON = '{"valid":true,"p":"xxxx"}';
const TOKEN_JSON = JSON.stringify({ access_token: 'tok-1', token_type: 'Bearer', expires_in: 3600 });
const DRIP_MS = 250;

let server: Awaited<ReturnType<typeof serveSlowly>> | undefined;
async function serve(routes: Record<string, SlowRoute>) {
  server = await serveSlowly(routes);
  return server;
}

function makeProvider(auth: 'basic' | 'oauth', timeoutSeconds: number) {
  const env = testEnv(auth, {
    BANDWIDTH_TIMEOUT_SECONDS: String(timeoutSeconds),
    BANDWIDTH_MFA_BASE_URL: `${server!.origin}/api/v1`,
    BANDWIDTH_OAUTH_TOKEN_URL: `${server!.origin}${TOKEN_PATH}`,
  });
  const config = parseConfig({ env });
  return createBandwidthProvider(config.bandwidth, config.numbers.fromNumber, new TestClock(), 'PhoneGate');
}

type Operation = 'send' | 'verify';
function call(auth: 'basic' | 'oauth', operation: Operation, timeoutSeconds = 1) {
  const provider = makeProvider(auth, timeoutSeconds);
  return operation === 'send'
    ? provider.send({
        to: PHONE,
        scope: 'login-3fa9c1e2',
        purpose: 'login',
        delivery: 'sms',
        digits: 6,
        lifetimeMinutes: 5,
      })
    : provider.verify({ to: PHONE, scope: 'login-3fa9c1e2', code: CODE, windowMinutes: 3 });
}
const endpoint = (operation: Operation) => `${PATH}/${operation === 'send' ? 'messaging' : 'verify'}`;

/** Runs the call, which must reject with a ProviderError; returns it and how long the rejection took. */
async function rejection(promise: Promise<unknown>): Promise<{ error: ProviderError; ms: number }> {
  const started = Date.now();
  const outcome = await promise.then(
    (value) => ({ resolved: value }),
    (error: unknown) => ({ error }),
  );
  const ms = Date.now() - started;
  if (!('error' in outcome)) throw new Error(`expected a rejection, got ${JSON.stringify(outcome.resolved)}`);
  expect(outcome.error).toBeInstanceOf(ProviderError);
  return { error: outcome.error as ProviderError, ms };
}

/** The error names none of the secrets, the phone or the code in any form it is logged in. */
function expectClean(error: Error) {
  const text = [JSON.stringify(error), String(error), error.stack ?? ''].join('\n');
  for (const secret of [SECRETS.apiPassword, SECRETS.clientSecret, PHONE.slice(2), CODE, 'tok-1'])
    expect(text).not.toContain(secret);
}

afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe.each(['basic', 'oauth'] as const)('%s auth', (auth) => {
  // A dripping MFA answer ends in ProviderError('unavailable') after timeout_seconds=1, while bytes still arrive.
  test.each(['send', 'verify'] as const)('%s: a dripping answer ends within the deadline', async (operation) => {
    const { drips } = await serve({
      [TOKEN_PATH]: { body: TOKEN_JSON },
      [endpoint(operation)]: { body: SLOW_JSON, dripMs: DRIP_MS },
    });
    const { error, ms } = await rejection(call(auth, operation));
    expect(error.failure).toBe('unavailable');
    expect(error.message).toBe(`Bandwidth ${operation}: no complete answer within 1 s`);
    expect(ms).toBeLessThan(3_000);
    expect(drips).toHaveLength(1);
    expect(drips[0]!.pushed()).toBeGreaterThan(0); // the body was arriving, so only a deadline could end it
    expect(drips[0]!.finished()).toBe(false);
    expectClean(error);
  });
});

describe('OAuth token fetch', () => {
  // A dripping token answer ends the call in time, and no MFA call is made.
  test.each(['send', 'verify'] as const)('%s: a dripping token answer ends within the deadline', async (operation) => {
    const { drips, requests } = await serve({
      [TOKEN_PATH]: { body: TOKEN_JSON, dripMs: DRIP_MS },
      [endpoint(operation)]: { body: '{"valid":true}' },
    });
    const { error, ms } = await rejection(call('oauth', operation));
    expect(error.failure).toBe('unavailable');
    expect(ms).toBeLessThan(3_000);
    expect(drips[0]!.finished()).toBe(false);
    expect(requests).toEqual([TOKEN_PATH]);
    expectClean(error);
  });

  // The token fetch is bounded by itself too (it is shared by concurrent calls, so no one call's deadline ends it).
  test('the token source alone gives up after timeoutMs', async () => {
    const { drips, origin } = await serve({ [TOKEN_PATH]: { body: TOKEN_JSON, dripMs: DRIP_MS } });
    const tokens = createTokenSource(
      { tokenUrl: `${origin}${TOKEN_PATH}`, clientId: SECRETS.clientId, clientSecret: SECRETS.clientSecret },
      { clock: new TestClock(), timeoutMs: 1_000 },
    );
    const { error, ms } = await rejection(tokens());
    expect(error.failure).toBe('unavailable');
    expect(error.message).toBe('Bandwidth token: no complete answer within 1 s');
    expect(ms).toBeLessThan(3_000);
    expect(drips[0]!.finished()).toBe(false);
    expectClean(error);
  });

  // The deadline covers token and MFA call together: a token that takes 1.5 s of a 2 s budget leaves 0.5 s
  // for the MFA call, not a fresh 2 s (which would end the call after 3.5 s).
  test('one deadline for the token fetch and the MFA call together', async () => {
    const { requests } = await serve({
      [TOKEN_PATH]: { body: TOKEN_JSON, delayMs: 1_500 },
      [endpoint('verify')]: { body: SLOW_JSON, dripMs: DRIP_MS },
    });
    const { error, ms } = await rejection(call('oauth', 'verify', 2));
    expect(error.message).toBe('Bandwidth verify: no complete answer within 2 s');
    expect(requests).toEqual([TOKEN_PATH, endpoint('verify')]);
    expect(ms).toBeLessThan(3_000);
  });
});

describe('an answer that breaks off', () => {
  // The status line said 200, then the connection broke: Bandwidth refused nothing, so this is 'unavailable', not 'rejected'.
  test.each(['send', 'verify'] as const)('%s: 200 then a broken connection -> unavailable', async (operation) => {
    await serve({ [endpoint(operation)]: { body: '{"valid":tr', cut: true } });
    const { error, ms } = await rejection(call('basic', operation));
    expect({ failure: error.failure, status: error.status }).toEqual({ failure: 'unavailable', status: 200 });
    expect(error.message).toBe(`Bandwidth ${operation}: HTTP 200 (ERR_BAD_RESPONSE)`);
    expect(ms).toBeLessThan(900); // the break itself ended it, not the deadline
    expectClean(error);
  });
});
