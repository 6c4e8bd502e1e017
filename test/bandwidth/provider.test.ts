import { createRequire } from 'node:module';
import nock from 'nock';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { createBandwidthProvider } from '../../src/bandwidth/mfa-provider.js';
import { parseConfig } from '../../src/config.js';
import type { CodeProvider, SendCodeRequest } from '../../src/core/ports.js';
import { TestClock } from '../helpers/clock.js';
import { FakeBandwidth } from '../helpers/fake-bandwidth.js';
import { ACCOUNT_ID, FROM_NUMBER, SECRETS, testEnv } from '../helpers/harness.js';

/** The Bandwidth MFA CodeProvider: which URLs it calls, with what bodies and which Authorization. */

const MFA = 'https://mfa.bandwidth.com';
const PATH = `/api/v1/accounts/${ACCOUNT_ID}/code`;
const DEFAULT_TOKEN_ORIGIN = 'https://api.bandwidth.com';
const DEFAULT_TOKEN_PATH = '/api/v1/oauth2/token';
const PHONE = '+14155550199';
const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

function makeProvider(auth: 'basic' | 'oauth', extraEnv: Record<string, string> = {}, clock = new TestClock()) {
  const env = testEnv(auth, extraEnv);
  const config = parseConfig({ env });
  return {
    env,
    clock,
    provider: createBandwidthProvider(config.bandwidth, config.numbers.fromNumber, clock, config.slack.appName),
  };
}

const smsRequest: SendCodeRequest = {
  to: PHONE,
  scope: 'login-0a1b2c3d4e5f',
  purpose: 'login',
  delivery: 'sms',
  digits: 6,
  lifetimeMinutes: 5,
};

interface Seen {
  path: string;
  body: unknown;
  authorization: string | undefined;
  contentType: string | undefined;
}

/** Answers every MFA POST under `origin` with `reply`, recording each request. */
function recordMfa(
  origin: string,
  reply: (path: string) => unknown = (path) => (path.endsWith('/verify') ? { valid: true } : { messageId: 'm-1' }),
) {
  const seen: Seen[] = [];
  nock(origin)
    .persist()
    .post(/\/code\/(messaging|voice|verify)$/)
    .reply(function (path, body) {
      seen.push({
        path,
        body,
        authorization: this.req.headers.authorization,
        contentType: this.req.headers['content-type'],
      });
      return [200, reply(path)];
    });
  return seen;
}

/** Answers token requests with tokens tok-1, tok-2, ... recording each request. */
function recordToken(origin = DEFAULT_TOKEN_ORIGIN, path = DEFAULT_TOKEN_PATH, expiresIn = 3600, delayMs = 0) {
  const seen: Seen[] = [];
  nock(origin)
    .persist()
    .post(path)
    .delay(delayMs)
    .reply(function (uri, body) {
      seen.push({
        path: uri,
        body,
        authorization: this.req.headers.authorization,
        contentType: this.req.headers['content-type'],
      });
      return [200, { access_token: `tok-${seen.length}`, token_type: 'Bearer', expires_in: expiresIn }];
    });
  return seen;
}

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

describe('requests (Basic auth)', () => {
  // SMS goes to /code/messaging with the messaging application id and the documented codeRequest body.
  test('send by SMS posts a codeRequest to /code/messaging', async () => {
    const { provider, env } = makeProvider('basic');
    const seen = recordMfa(MFA);
    await provider.send(smsRequest);
    expect(seen.map((s) => s.path)).toEqual([`${PATH}/messaging`]);
    expect(seen[0]!.body).toEqual({
      to: PHONE,
      from: FROM_NUMBER,
      applicationId: env.BANDWIDTH_MESSAGING_APPLICATION_ID,
      scope: 'login-0a1b2c3d4e5f',
      message: 'Your PhoneGate login code is {CODE}. It expires in 5 minutes. Do not share it.',
      digits: 6,
    });
    expect(seen[0]!.contentType).toMatch(/^application\/json/);
  });

  // Voice goes to /code/voice with the voice application id.
  test('send by voice posts to /code/voice with the voice application id', async () => {
    const { provider, env } = makeProvider('basic');
    const seen = recordMfa(MFA, () => ({ callId: 'c-1' }));
    await provider.send({ ...smsRequest, delivery: 'voice', scope: 'admin-0a1b2c3d4e5f', purpose: 'admin', digits: 8 });
    expect(seen.map((s) => s.path)).toEqual([`${PATH}/voice`]);
    expect(seen[0]!.body).toEqual({
      to: PHONE,
      from: FROM_NUMBER,
      applicationId: env.BANDWIDTH_VOICE_APPLICATION_ID,
      scope: 'admin-0a1b2c3d4e5f',
      message: 'Your PhoneGate admin code is {CODE}. It expires in 5 minutes. Do not share it.',
      digits: 8,
    });
  });

  // verify posts {to, scope, code, expirationTimeInMinutes} to /code/verify and returns Bandwidth's `valid`
  // (answers without a boolean `valid` are in answers.test.ts).
  test.each([
    [{ valid: true }, true],
    [{ valid: false }, false],
  ])('verify with reply %j returns %s', async (reply, expected) => {
    const { provider } = makeProvider('basic');
    const seen = recordMfa(MFA, () => reply);
    const result = await provider.verify({ to: PHONE, scope: 'admin', code: '918273', windowMinutes: 3 });
    expect(result).toBe(expected);
    expect(seen.map((s) => s.path)).toEqual([`${PATH}/verify`]);
    expect(seen[0]!.body).toEqual({ to: PHONE, scope: 'admin', code: '918273', expirationTimeInMinutes: 3 });
  });

  // Basic mode sends Authorization: Basic base64(api_user:api_password) and fetches no token.
  test('Basic auth header on every call', async () => {
    const { provider } = makeProvider('basic');
    const seen = recordMfa(MFA);
    const tokens = recordToken();
    await provider.send(smsRequest);
    await provider.verify({ to: PHONE, scope: 'login', code: '918273', windowMinutes: 3 });
    expect(seen.map((s) => s.authorization)).toEqual([
      basic(SECRETS.apiUser, SECRETS.apiPassword),
      basic(SECRETS.apiUser, SECRETS.apiPassword),
    ]);
    expect(tokens).toHaveLength(0);
  });

  // [bandwidth] mfa_base_url redirects every MFA call to that base (and nothing goes to the default host).
  test('mfa_base_url override', async () => {
    const { provider } = makeProvider('basic', { BANDWIDTH_MFA_BASE_URL: 'https://mfa.example.test/api/v1' });
    const atDefault = recordMfa(MFA);
    const atOverride = recordMfa('https://mfa.example.test');
    await provider.send(smsRequest);
    await provider.send({ ...smsRequest, delivery: 'voice' });
    await provider.verify({ to: PHONE, scope: 'login', code: '918273', windowMinutes: 3 });
    expect(atOverride.map((s) => s.path)).toEqual([`${PATH}/messaging`, `${PATH}/voice`, `${PATH}/verify`]);
    expect(atDefault).toHaveLength(0);
  });
});

describe('OAuth2 client credentials', () => {
  const bearerCall = (provider: CodeProvider) =>
    provider.verify({ to: PHONE, scope: 'login', code: '918273', windowMinutes: 3 });

  // The token comes from the default URL, with Basic client_id:client_secret and grant_type=client_credentials; MFA calls carry it as Bearer.
  test('default token URL, then Bearer', async () => {
    const { provider } = makeProvider('oauth');
    const tokens = recordToken();
    const seen = recordMfa(MFA);
    await provider.send(smsRequest);
    expect(tokens).toHaveLength(1);
    expect(tokens[0]).toEqual({
      path: DEFAULT_TOKEN_PATH,
      body: 'grant_type=client_credentials',
      authorization: basic(SECRETS.clientId, SECRETS.clientSecret),
      contentType: 'application/x-www-form-urlencoded',
    });
    expect(seen.map((s) => s.authorization)).toEqual(['Bearer tok-1']);
  });

  // [bandwidth] oauth_token_url (env BANDWIDTH_OAUTH_TOKEN_URL) replaces the default token URL.
  test('custom token URL', async () => {
    const { provider } = makeProvider('oauth', {
      BANDWIDTH_OAUTH_TOKEN_URL: 'https://auth.example.test/oauth2/v9/token',
    });
    const atDefault = recordToken();
    const atCustom = recordToken('https://auth.example.test', '/oauth2/v9/token');
    const seen = recordMfa(MFA);
    await provider.send(smsRequest);
    expect(atDefault).toHaveLength(0);
    expect(atCustom.map((t) => [t.path, t.body, t.authorization])).toEqual([
      ['/oauth2/v9/token', 'grant_type=client_credentials', basic(SECRETS.clientId, SECRETS.clientSecret)],
    ]);
    expect(seen.map((s) => s.authorization)).toEqual(['Bearer tok-1']);
  });

  // One token serves later calls while it is fresh.
  test('the token is reused', async () => {
    const { provider } = makeProvider('oauth');
    const tokens = recordToken();
    const seen = recordMfa(MFA);
    await provider.send(smsRequest);
    await bearerCall(provider);
    await provider.send({ ...smsRequest, delivery: 'voice' });
    expect(tokens).toHaveLength(1);
    expect(seen.map((s) => s.authorization)).toEqual(['Bearer tok-1', 'Bearer tok-1', 'Bearer tok-1']);
  });

  // The token is refetched once the clock reaches expires_in - 60 s, not before.
  test('the token is refetched 60 s before it expires', async () => {
    const { provider, clock } = makeProvider('oauth');
    const tokens = recordToken(DEFAULT_TOKEN_ORIGIN, DEFAULT_TOKEN_PATH, 3600);
    const seen = recordMfa(MFA);
    await bearerCall(provider);
    clock.advance(3_540_000 - 1);
    await bearerCall(provider);
    expect(tokens).toHaveLength(1);
    clock.advance(1);
    await bearerCall(provider);
    await bearerCall(provider);
    expect(tokens).toHaveLength(2);
    expect(seen.map((s) => s.authorization)).toEqual(['Bearer tok-1', 'Bearer tok-1', 'Bearer tok-2', 'Bearer tok-2']);
  });

  // 10 concurrent calls with no cached token share one token request.
  test('concurrent calls make one token request', async () => {
    const { provider } = makeProvider('oauth');
    const tokens = recordToken(DEFAULT_TOKEN_ORIGIN, DEFAULT_TOKEN_PATH, 3600, 30);
    const seen = recordMfa(MFA);
    const results = await Promise.all(Array.from({ length: 10 }, () => bearerCall(provider)));
    expect(results).toEqual(Array(10).fill(true));
    expect(tokens).toHaveLength(1);
    expect(seen.map((s) => s.authorization)).toEqual(Array(10).fill('Bearer tok-1'));
  });
});

describe('against the stateful fake', () => {
  // Round trip through FakeBandwidth: the code it "texted" verifies, a wrong one does not (both auth modes).
  test.each(['basic', 'oauth'] as const)('send then verify (%s)', async (auth) => {
    const { provider, clock } = makeProvider(auth);
    const fake = new FakeBandwidth(clock, {
      accountId: ACCOUNT_ID,
      auth:
        auth === 'basic'
          ? { kind: 'basic', username: SECRETS.apiUser, password: SECRETS.apiPassword }
          : { kind: 'oauth', clientId: SECRETS.clientId, clientSecret: SECRETS.clientSecret },
    }).install();
    await provider.send(smsRequest);
    expect(fake.badRequests).toEqual([]);
    expect(
      await provider.verify({ to: PHONE, scope: smsRequest.scope, code: fake.wrongCode(), windowMinutes: 3 }),
    ).toBe(false);
    expect(await provider.verify({ to: PHONE, scope: smsRequest.scope, code: fake.lastCode(), windowMinutes: 3 })).toBe(
      true,
    );
    expect(
      await provider.verify({ to: PHONE, scope: 'login-ffffffffffff', code: fake.lastCode(), windowMinutes: 3 }),
    ).toBe(false);
    expect(fake.tokenRequests).toBe(auth === 'oauth' ? 1 : 0);
  });
});

test('only the MFA API of bandwidth-sdk is loaded, not its index of every API', () => {
  makeProvider('basic');
  const loaded = Object.keys(createRequire(import.meta.url).cache).filter((path) => path.includes('bandwidth-sdk'));
  expect(loaded.some((path) => path.endsWith('/dist/api/mfaapi.js'))).toBe(true);
  expect(loaded.filter((path) => /\/dist\/(index|api)\.js$|calls-api\.js$/.test(path))).toEqual([]);
});
