import axios from 'axios';
import nock from 'nock';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { createBandwidthProvider } from '../../src/bandwidth/mfa-provider.js';
import { parseConfig } from '../../src/config.js';
import { ProviderError, type ProviderFailure } from '../../src/core/ports.js';
import { serializeError } from '../../src/logger.js';
import { TestClock } from '../helpers/clock.js';
import { ACCOUNT_ID, SECRETS, testEnv } from '../helpers/harness.js';

/**
 * Every Bandwidth failure becomes a ProviderError with the right `failure`, keeping the HTTP status and
 * Bandwidth's requestId, and carrying no secret, phone number or code in any form it can be logged in.
 */

const MFA = 'https://mfa.bandwidth.com';
const PATH = `/api/v1/accounts/${ACCOUNT_ID}/code`;
const TOKEN_ORIGIN = 'https://api.bandwidth.com';
const TOKEN_PATH = '/api/v1/oauth2/token';
const PHONE = '+14155550199';
const CODE = '918273';
const BEARER = 'tok-Bearer-SECRET-4242';
const b64 = (s: string) => Buffer.from(s).toString('base64');

/** What must never appear in an error: each credential, its encoded header form, the phone and the code. */
const FORBIDDEN: Record<string, string> = {
  apiPassword: SECRETS.apiPassword,
  clientSecret: SECRETS.clientSecret,
  basicHeader: b64(`${SECRETS.apiUser}:${SECRETS.apiPassword}`),
  oauthBasicHeader: b64(`${SECRETS.clientId}:${SECRETS.clientSecret}`),
  bearer: BEARER,
  phone: PHONE.slice(2), // with or without +1
  code: CODE,
};

function makeProvider(auth: 'basic' | 'oauth', extraEnv: Record<string, string> = {}) {
  const config = parseConfig({ env: testEnv(auth, extraEnv) });
  return createBandwidthProvider(config.bandwidth, config.numbers.fromNumber, new TestClock(), 'PhoneGate');
}

type Operation = 'send' | 'verify';
const call = (auth: 'basic' | 'oauth', operation: Operation, env: Record<string, string> = {}) => {
  const provider = makeProvider(auth, env);
  return operation === 'send'
    ? provider.send({ to: PHONE, scope: 'login', purpose: 'login', delivery: 'sms', digits: 6, lifetimeMinutes: 5 })
    : provider.verify({ to: PHONE, scope: 'login', code: CODE, windowMinutes: 3 });
};
const endpoint = (operation: Operation) => `${PATH}/${operation === 'send' ? 'messaging' : 'verify'}`;

/** Mounts a working token endpoint (for OAuth mode), so the failure under test is the MFA call's. */
function tokenOk() {
  nock(TOKEN_ORIGIN)
    .persist()
    .post(TOKEN_PATH)
    .reply(200, { access_token: BEARER, token_type: 'Bearer', expires_in: 3600 });
}

/** Runs the call, which must reject; returns the error and how long the rejection took. */
async function failure(promise: Promise<unknown>): Promise<{ error: ProviderError; ms: number }> {
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

/** Every text form an error can be logged in. */
function renderings(error: Error): Record<string, string> {
  return {
    json: JSON.stringify(error),
    string: String(error),
    stack: error.stack ?? '',
    serialized: JSON.stringify(serializeError(error)),
  };
}

/** The (rendering, secret) pairs that leak; [] when the error is clean. */
function leaks(error: Error): string[] {
  const found: string[] = [];
  for (const [form, text] of Object.entries(renderings(error))) {
    for (const [what, secret] of Object.entries(FORBIDDEN))
      if (text.includes(secret)) found.push(`${form} contains ${what}`);
  }
  return found;
}

interface Case {
  name: string;
  failure: ProviderFailure;
  status?: number;
  requestId?: string;
  mount: (path: string) => void;
  env?: Record<string, string>;
  /** Must reject at once, not by running into the default 10 s timeout. */
  quick?: boolean;
  /** axios's error code, which the mapped message names. */
  axiosCode?: string;
}

const networkError = (code: string, message: string) => Object.assign(new Error(message), { code });

const requestId = (tag: string) => `abc12312-${tag}-4c5d-9e8f-0123456789ab`;

const cases: Case[] = [
  {
    name: '400',
    failure: 'rejected',
    status: 400,
    requestId: requestId('400'),
    mount: (p) =>
      nock(MFA)
        .post(p)
        .reply(400, { error: 'to number is required', requestId: requestId('400') }),
    quick: true,
  },
  {
    name: '401',
    failure: 'misconfigured',
    status: 401,
    mount: (p) => nock(MFA).post(p).reply(401, { message: 'Unauthorized' }),
    quick: true,
  },
  {
    name: '403',
    failure: 'misconfigured',
    status: 403,
    mount: (p) =>
      nock(MFA).post(p).reply(403, { Message: 'User is not authorized to access this resource with an explicit deny' }),
    quick: true,
  },
  {
    name: '429',
    failure: 'rate_limited',
    status: 429,
    requestId: requestId('429'),
    mount: (p) =>
      nock(MFA)
        .post(p)
        .reply(429, {
          error: 'This number has exceeded verification attempts, please wait 2 minutes',
          requestId: requestId('429'),
        }),
    quick: true,
  },
  {
    name: '500',
    failure: 'unavailable',
    status: 500,
    requestId: requestId('500'),
    mount: (p) =>
      nock(MFA)
        .post(p)
        .reply(500, { error: 'Internal Error', requestId: requestId('500') }),
    quick: true,
  },
  {
    name: 'network error',
    failure: 'unavailable',
    // An Error instance: nock 14 given a plain object never fails the request (axios waits for its timeout).
    mount: (p) =>
      nock(MFA)
        .post(p)
        .replyWithError(networkError('ECONNRESET', `socket hang up while sending to ${PHONE}`)),
    quick: true,
    axiosCode: 'ECONNRESET',
  },
  {
    name: 'timeout',
    failure: 'unavailable',
    env: { BANDWIDTH_TIMEOUT_SECONDS: '1' },
    mount: (p) => nock(MFA).post(p).delay(1500).reply(200, { valid: true, messageId: 'm-late' }),
  },
];

beforeAll(() => {
  nock.disableNetConnect();
  nock.enableNetConnect('127.0.0.1');
});
afterEach(() => {
  nock.cleanAll();
});
afterAll(() => {
  nock.enableNetConnect();
});

describe.each(['basic', 'oauth'] as const)('%s auth', (auth) => {
  describe.each(['send', 'verify'] as const)('%s', (operation) => {
    // Each failure maps to the documented ProviderFailure, keeps status and requestId, and leaks nothing.
    test.each(cases)('$name -> $failure', async (c) => {
      if (auth === 'oauth') tokenOk();
      c.mount(endpoint(operation));
      const { error, ms } = await failure(call(auth, operation, c.env));
      expect({ failure: error.failure, status: error.status, requestId: error.requestId }).toEqual({
        failure: c.failure,
        status: c.status,
        requestId: c.requestId,
      });
      expect(leaks(error)).toEqual([]);
      if (c.axiosCode) expect(error.message).toContain(`(${c.axiosCode})`);
      if (c.quick) expect(ms).toBeLessThan(2_000);
      if (c.name === 'timeout') {
        // BANDWIDTH_TIMEOUT_SECONDS=1 cuts the 1.5 s reply short.
        expect(error.message).toBe(`Bandwidth ${operation}: no complete answer within 1 s`);
        expect(ms).toBeGreaterThanOrEqual(900);
        expect(ms).toBeLessThan(1400);
      }
    });
  });
});

describe('token endpoint failures (OAuth)', () => {
  // A 401 from the token endpoint (bad client credentials) is an operator problem, and no MFA call is made.
  test('token 401 -> misconfigured', async () => {
    nock(TOKEN_ORIGIN).post(TOKEN_PATH).reply(401, { error: 'invalid_client' });
    const mfa = nock(MFA).post(/.*/).reply(200, { valid: true });
    const { error } = await failure(call('oauth', 'verify'));
    expect({ failure: error.failure, status: error.status }).toEqual({ failure: 'misconfigured', status: 401 });
    expect(mfa.isDone()).toBe(false);
    expect(leaks(error)).toEqual([]);
  });

  // A token endpoint that cannot be reached makes the provider unavailable.
  test('token network error -> unavailable', async () => {
    nock(TOKEN_ORIGIN)
      .post(TOKEN_PATH)
      .replyWithError(networkError('ECONNREFUSED', 'connect ECONNREFUSED 203.0.113.7:443'));
    const mfa = nock(MFA).post(/.*/).reply(200, { messageId: 'm-1' });
    const { error, ms } = await failure(call('oauth', 'send'));
    expect(error.failure).toBe('unavailable');
    expect(error.message).toContain('ECONNREFUSED');
    expect(ms).toBeLessThan(2_000);
    expect(mfa.isDone()).toBe(false);
    expect(leaks(error)).toEqual([]);
  });
});

describe('why the mapping matters', () => {
  // A raw AxiosError does carry the Basic password (in config.auth) and the phone and code (in config.data),
  // so the checks above would catch a provider that let it through.
  test('a raw AxiosError contains the password, the phone and the code', async () => {
    nock(MFA).post(endpoint('verify')).reply(401, { message: 'Unauthorized' });
    const error = await axios
      .post(
        `${MFA}${endpoint('verify')}`,
        { to: PHONE, scope: 'login', code: CODE, expirationTimeInMinutes: 3 },
        { auth: { username: SECRETS.apiUser, password: SECRETS.apiPassword } },
      )
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(axios.isAxiosError(error)).toBe(true);
    if (!axios.isAxiosError(error)) return;
    const json = JSON.stringify(error.toJSON());
    expect(json).toContain(SECRETS.apiPassword);
    expect(json).toContain(PHONE);
    expect(json).toContain(CODE);
    expect(leaks(error)).not.toEqual([]);
  });
});
