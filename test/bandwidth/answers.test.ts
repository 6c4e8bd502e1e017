import nock from 'nock';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { createBandwidthProvider } from '../../src/bandwidth/mfa-provider.js';
import { parseConfig } from '../../src/config.js';
import { ProviderError } from '../../src/core/ports.js';
import { TestClock } from '../helpers/clock.js';
import { ACCOUNT_ID, testEnv } from '../helpers/harness.js';

/**
 * Only the documented verify answer, `{"valid": <boolean>}` (verifyCodeResponse in the OpenAPI spec), decides
 * whether a code is right. Anything else is a provider error: read as `false`, it would count a right code
 * as a wrong one toward the attempt limit and the lockout. A send needs no particular body.
 */

const MFA = 'https://mfa.bandwidth.com';
const PATH = `/api/v1/accounts/${ACCOUNT_ID}/code`;
const TOKEN_ORIGIN = 'https://api.bandwidth.com';
const TOKEN_PATH = '/api/v1/oauth2/token';
const PHONE = '+14155550199';
const JSON_TYPE = { 'content-type': 'application/json' };
const HTML_PAGE =
  '<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1></body></html>';

function makeProvider(auth: 'basic' | 'oauth') {
  const config = parseConfig({ env: testEnv(auth) });
  return createBandwidthProvider(config.bandwidth, config.numbers.fromNumber, new TestClock(), 'PhoneGate');
}
const verify = (auth: 'basic' | 'oauth') =>
  makeProvider(auth).verify({ to: PHONE, scope: 'login-3fa9c1e2', code: '918273', windowMinutes: 3 });
const tokenOk = () =>
  nock(TOKEN_ORIGIN).post(TOKEN_PATH).reply(200, { access_token: 'tok-1', token_type: 'Bearer', expires_in: 3600 });

/** What the call settled with: the value, or the ProviderError's failure and status. */
async function outcome(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    (value) => ({ value }),
    (error: unknown) =>
      error instanceof ProviderError ? { failure: error.failure, status: error.status } : { thrown: String(error) },
  );
}

beforeAll(() => {
  nock.disableNetConnect();
});
afterEach(() => {
  nock.cleanAll();
});
afterAll(() => {
  nock.enableNetConnect();
});

const malformed: Array<{ name: string; status: number; body: string; headers: Record<string, string> }> = [
  { name: 'an HTML page', status: 200, body: HTML_PAGE, headers: { 'content-type': 'text/html' } },
  { name: '{}', status: 200, body: '{}', headers: JSON_TYPE },
  { name: '{"valid":"true"}', status: 200, body: '{"valid":"true"}', headers: JSON_TYPE },
  { name: '{"valid":"false"}', status: 200, body: '{"valid":"false"}', headers: JSON_TYPE },
  { name: '{"valid":1}', status: 200, body: '{"valid":1}', headers: JSON_TYPE },
  { name: '{"valid":null}', status: 200, body: '{"valid":null}', headers: JSON_TYPE },
  { name: 'null', status: 200, body: 'null', headers: JSON_TYPE },
  { name: '[true]', status: 200, body: '[true]', headers: JSON_TYPE },
  { name: 'an empty body', status: 200, body: '', headers: JSON_TYPE },
  { name: 'a cut-off JSON', status: 200, body: '{"valid":tr', headers: JSON_TYPE },
  { name: '204 No Content', status: 204, body: '', headers: {} },
];

describe.each(['basic', 'oauth'] as const)('verify (%s auth)', (auth) => {
  // Each answer that is not {"valid": <boolean>} is 'unavailable' (the user is asked to try again), never false.
  test.each(malformed)('$name -> ProviderError unavailable, not false', async ({ status, body, headers }) => {
    if (auth === 'oauth') tokenOk();
    nock(MFA).post(`${PATH}/verify`).reply(status, body, headers);
    expect(await outcome(verify(auth))).toEqual({ failure: 'unavailable', status });
  });

  // The documented answers still decide: true is right, false is wrong.
  test.each([
    ['{"valid":true}', true],
    ['{"valid":false}', false],
  ])('%s -> %s', async (body, expected) => {
    if (auth === 'oauth') tokenOk();
    nock(MFA).post(`${PATH}/verify`).reply(200, body, JSON_TYPE);
    expect(await outcome(verify(auth))).toEqual({ value: expected });
  });
});

describe.each(['basic', 'oauth'] as const)('send (%s auth)', (auth) => {
  // A 2xx means Bandwidth took the request, whatever its body (normally {messageId} or {callId}); nothing crashes.
  test.each([
    ['sms', 200, HTML_PAGE, { 'content-type': 'text/html' }],
    ['sms', 200, '', JSON_TYPE],
    ['sms', 200, 'null', JSON_TYPE],
    ['voice', 200, '{"callId":', JSON_TYPE],
    ['voice', 204, '', {}],
  ] as const)('%s answered %i %j resolves', async (delivery, status, body, headers) => {
    if (auth === 'oauth') tokenOk();
    const mfa = nock(MFA)
      .post(`${PATH}/${delivery === 'sms' ? 'messaging' : 'voice'}`)
      .reply(status, body, headers);
    const provider = makeProvider(auth);
    expect(
      await outcome(
        provider.send({
          to: PHONE,
          scope: 'admin-9b1d04aa',
          purpose: 'login',
          delivery,
          digits: 6,
          lifetimeMinutes: 5,
        }),
      ),
    ).toEqual({ value: undefined });
    expect(mfa.isDone()).toBe(true);
  });
});

describe('OAuth token answer', () => {
  // A 200 from the token endpoint without a usable access_token is 'unavailable', and no MFA call goes out.
  test.each([
    ['an HTML page', HTML_PAGE, { 'content-type': 'text/html' }],
    ['{}', '{}', JSON_TYPE],
    ['null', 'null', JSON_TYPE],
    ['an empty access_token', '{"access_token":"","expires_in":3600}', JSON_TYPE],
  ])('%s -> ProviderError unavailable', async (_name, body, headers) => {
    nock(TOKEN_ORIGIN).post(TOKEN_PATH).reply(200, body, headers);
    const mfa = nock(MFA).post(`${PATH}/verify`).reply(200, { valid: true });
    expect(await outcome(verify('oauth'))).toEqual({ failure: 'unavailable', status: 200 });
    expect(mfa.isDone()).toBe(false);
  });
});
