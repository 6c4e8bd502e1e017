import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLocalJWKSet, decodeJwt, decodeProtectedHeader } from 'jose';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { actionBody, callAction } from '../../src/actions/call.js';
import { loadSigningKeys, type SigningKeys } from '../../src/actions/signing-keys.js';
import { type ActionClaims, sha256Hex, signActionToken } from '../../src/actions/token.js';
import { serveJwks, serveVerifyingEndpoint, verifyPhonegateRequest } from './endpoint.js';

/**
 * Tokens made by PhoneGate, checked by the README's example verifier inside a real endpoint that
 * fetches the JWKS over HTTP: what it accepts, and each way it refuses a token used out of place.
 */

const GRANTED_AT = Date.now() - 5 * 60_000;

let dir: string;
let keys: SigningKeys;
let published: () => { keys: object[] };
const closers: Array<() => Promise<void>> = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'phonegate-token-'));
  keys = await loadSigningKeys({ keyFile: join(dir, 'current.pem') });
  published = () => keys.jwks();
});

afterEach(async () => {
  while (closers.length > 0) await closers.pop()!();
  await rm(dir, { recursive: true, force: true });
});

async function endpoint() {
  const jwks = await serveJwks(() => published());
  closers.push(jwks.close);
  const server = await serveVerifyingEndpoint(`${jwks.origin}/.well-known/jwks.json`);
  closers.push(server.close);
  return server;
}

function request(text = 'api 1.4.2') {
  return actionBody({
    command: '/deploy',
    text,
    user_id: 'U012ABCDEF',
    team_id: 'T0001',
    channel_id: 'C0001',
    scope: 'admin',
    request_id: 'req-1',
  });
}

function claims(url: string, body: string, more: Partial<ActionClaims> = {}): ActionClaims {
  return {
    issuer: 'phonegate',
    userId: 'U012ABCDEF',
    url,
    scope: 'admin',
    authTime: GRANTED_AT,
    methods: ['sms'],
    body,
    ...more,
  };
}

async function send(url: string, body: string, token: string) {
  return callAction({ url, body, token, timeoutMs: 5000 });
}

describe('a token for one action call', () => {
  test('a good call passes the example verifier, and the endpoint answer comes back as text', async () => {
    const server = await endpoint();
    const body = request('api "1.4.2" — zürich');
    const now = Date.now();
    const token = await signActionToken(keys, claims(server.url, body, { methods: ['voice'] }), now);

    const result = await send(server.url, body, token);

    expect(result).toMatchObject({
      ok: true,
      status: 200,
      text: 'Ran /deploy api "1.4.2" — zürich for &lt;@U012ABCDEF&gt;',
    });
    expect(server.verdicts).toHaveLength(1);
    const { payload, body: received } = server.verdicts[0]!;
    const iat = Math.floor(now / 1000);
    expect(payload).toEqual({
      iss: 'phonegate',
      sub: 'U012ABCDEF',
      aud: server.url,
      iat,
      exp: iat + 60,
      jti: expect.stringMatching(/^[0-9a-f-]{36}$/),
      scope: 'admin',
      auth_time: Math.floor(GRANTED_AT / 1000),
      amr: ['tel'],
      body_sha256: sha256Hex(body),
    });
    expect(received).toEqual({
      command: '/deploy',
      text: 'api "1.4.2" — zürich',
      user_id: 'U012ABCDEF',
      team_id: 'T0001',
      channel_id: 'C0001',
      scope: 'admin',
      request_id: 'req-1',
      reason: null,
    });
  });

  test('the example verifier also works with a pinned JWKS (no fetch)', async () => {
    const body = request();
    const token = await signActionToken(
      keys,
      claims('https://deploy.internal.example/hooks/phonegate', body),
      Date.now(),
    );
    const pinned = createLocalJWKSet(JSON.parse(JSON.stringify(keys.jwks())));
    const verify = (rawBody: string) =>
      verifyPhonegateRequest({
        authorization: `Bearer ${token}`,
        rawBody: Buffer.from(rawBody),
        jwks: pinned,
        audience: 'https://deploy.internal.example/hooks/phonegate',
      });

    await expect(verify(`${body} `)).rejects.toThrow('the body is not the one the token was made for');
    await expect(verify(body)).resolves.toMatchObject({ sub: 'U012ABCDEF', scope: 'admin', amr: ['sms'] });
    await expect(verify(body)).rejects.toThrow('token already used');
    await expect(
      verifyPhonegateRequest({
        authorization: undefined,
        rawBody: Buffer.from(body),
        jwks: pinned,
        audience: 'https://deploy.internal.example/hooks/phonegate',
      }),
    ).rejects.toThrow('no bearer token');
  });

  // Issue 18 §7: `aud` is the endpoint's whole URL, so a token for one endpoint is no good at another on the same host.
  test('a token made for /hooks/deploy is refused at /hooks/drop on the same host', async () => {
    const body = request();
    const token = await signActionToken(keys, claims('https://ops.example/hooks/deploy', body), Date.now());
    expect(decodeJwt(token).aud).toBe('https://ops.example/hooks/deploy');
    const pinned = createLocalJWKSet(JSON.parse(JSON.stringify(keys.jwks())));
    const at = (audience: string) =>
      verifyPhonegateRequest({ authorization: `Bearer ${token}`, rawBody: Buffer.from(body), jwks: pinned, audience });
    await expect(at('https://ops.example/hooks/drop')).rejects.toMatchObject({
      code: 'ERR_JWT_CLAIM_VALIDATION_FAILED',
    });
    await expect(at('https://ops.example')).rejects.toMatchObject({ code: 'ERR_JWT_CLAIM_VALIDATION_FAILED' });
    await expect(at('https://ops.example/hooks/deploy')).resolves.toMatchObject({
      aud: 'https://ops.example/hooks/deploy',
    });
  });

  // Issue 20 §3: the endpoint learns who approved, when and how; the example verifier requires N of them.
  test('approvals in the token, and the example verifier requiring N approvals from people other than sub', async () => {
    const pinned = createLocalJWKSet(JSON.parse(JSON.stringify(keys.jwks())));
    const url = 'https://ops.example/hooks/deploy';
    const body = request();
    const approval = (sub: string) => ({
      sub,
      approvedAt: 1_800_000_000_000,
      authTime: 1_799_999_990_000,
      methods: ['voice' as const],
    });
    const sign = (more: Partial<ActionClaims>) => signActionToken(keys, claims(url, body, more), Date.now());
    const verify = async (token: string, approvals: number, allowBreakGlass = false) =>
      verifyPhonegateRequest({
        authorization: `Bearer ${token}`,
        rawBody: Buffer.from(body),
        jwks: pinned,
        audience: url,
        approvals,
        allowBreakGlass,
      } as never);

    const approved = await sign({
      approved: { approvals: [approval('U0CAROL01')], breakGlass: false },
      reason: 'hotfix',
      ticket: 'OPS-1',
    });
    expect(decodeJwt(approved)).toMatchObject({
      approvals: [{ sub: 'U0CAROL01', approved_at: 1_800_000_000, auth_time: 1_799_999_990, amr: ['tel'] }],
      reason: 'hotfix',
      ticket: 'OPS-1',
    });
    expect(decodeJwt(approved).break_glass).toBeUndefined();
    await expect(verify(approved, 1)).resolves.toMatchObject({ sub: 'U012ABCDEF' });
    await expect(
      verify(await sign({ approved: { approvals: [approval('U0CAROL01')], breakGlass: false } }), 2),
    ).rejects.toThrow('needs 2 approval(s)');
    // The requester's own "approval" never counts; nor does one person twice.
    const self = await sign({
      approved: {
        approvals: [approval('U012ABCDEF'), approval('U0CAROL01'), approval('U0CAROL01')],
        breakGlass: false,
      },
    });
    await expect(verify(self, 2)).rejects.toThrow('has 1');
    // Break glass: no approvals, and only where the endpoint accepts it.
    const glass = await sign({ approved: { approvals: [], breakGlass: true }, reason: 'down' });
    expect(decodeJwt(glass)).toMatchObject({ approvals: [], break_glass: true, reason: 'down' });
    await expect(verify(glass, 1)).rejects.toThrow('has 0');
    await expect(verify(await sign({ approved: { approvals: [], breakGlass: true } }), 1, true)).resolves.toBeTruthy();
    // A command without approvals: none of these claims, as before.
    expect(Object.keys(decodeJwt(await sign({})))).not.toContain('approvals');
  });

  test('amr names every method the codes went out by: a text, then "Call me instead", is ["sms", "tel"]', async () => {
    const body = request();
    const token = await signActionToken(
      keys,
      claims('https://ops.example/x', body, { methods: ['sms', 'voice'] }),
      Date.now(),
    );
    expect(decodeJwt(token).amr).toEqual(['sms', 'tel']);
  });

  test('the header names the key by its kid, and an SMS proof is amr ["sms"]; each token has its own jti', async () => {
    const body = request();
    const one = await signActionToken(keys, claims('https://deploy.internal.example/hooks/x?y=1', body), Date.now());
    const two = await signActionToken(keys, claims('https://deploy.internal.example/hooks/x?y=1', body), Date.now());

    expect(decodeProtectedHeader(one)).toEqual({ alg: 'ES256', kid: keys.current.kid, typ: 'JWT' });
    expect(decodeJwt(one)).toMatchObject({ aud: 'https://deploy.internal.example/hooks/x?y=1', amr: ['sms'] });
    expect(decodeJwt(one).jti).not.toBe(decodeJwt(two).jti);
  });

  test('a token replayed with another body is refused', async () => {
    const server = await endpoint();
    const token = await signActionToken(keys, claims(server.url, request('api 1.4.2')), Date.now());

    const result = await send(server.url, request('billing 0.0.1'), token);

    expect(result).toMatchObject({ ok: false, reason: 'http', status: 401 });
    expect(server.verdicts).toEqual([{ ok: false, refusal: 'the body is not the one the token was made for' }]);
  });

  test('a token after its exp is refused', async () => {
    const server = await endpoint();
    const body = request();
    const token = await signActionToken(keys, claims(server.url, body), Date.now() - 61_000);

    const result = await send(server.url, body, token);

    expect(result).toMatchObject({ ok: false, reason: 'http', status: 401 });
    expect(server.verdicts).toEqual([{ ok: false, refusal: 'ERR_JWT_EXPIRED' }]);
  });

  test('a PhoneGate clock a few seconds ahead of the endpoint is fine (iat slightly in the future)', async () => {
    const server = await endpoint();
    const body = request();

    const result = await send(
      server.url,
      body,
      await signActionToken(keys, claims(server.url, body), Date.now() + 5000),
    );

    expect(result.ok).toBe(true);
  });

  test('a token sent twice works once: the second use of its jti is refused', async () => {
    const server = await endpoint();
    const body = request();
    const token = await signActionToken(keys, claims(server.url, body), Date.now());

    const first = await send(server.url, body, token);
    const second = await send(server.url, body, token);

    expect(first.ok).toBe(true);
    expect(second).toMatchObject({ ok: false, reason: 'http', status: 401 });
    expect(server.verdicts.map((v) => v.refusal)).toEqual([undefined, 'token already used']);
  });

  test('a token made for another endpoint (audience) or by another issuer is refused', async () => {
    const server = await endpoint();
    const body = request();
    const elsewhere = await signActionToken(keys, claims('https://other.example/hook', body), Date.now());
    const stranger = await signActionToken(keys, claims(server.url, body, { issuer: 'someone-else' }), Date.now());

    await send(server.url, body, elsewhere);
    await send(server.url, body, stranger);

    expect(server.verdicts.map((v) => v.refusal)).toEqual([
      'ERR_JWT_CLAIM_VALIDATION_FAILED',
      'ERR_JWT_CLAIM_VALIDATION_FAILED',
    ]);
  });

  test('a token signed by a key that is not in the JWKS is refused', async () => {
    const server = await endpoint();
    const other = await loadSigningKeys({ keyFile: join(dir, 'other.pem') });
    const body = request();

    await send(server.url, body, await signActionToken(other, claims(server.url, body), Date.now()));

    expect(server.verdicts).toEqual([{ ok: false, refusal: 'ERR_JWKS_NO_MATCHING_KEY' }]);
  });
});

describe('key rotation', () => {
  test('a token signed by the old key verifies while its public key is in the JWKS, and not after it is dropped', async () => {
    const oldFile = join(dir, 'current.pem');
    const newFile = join(dir, 'next.pem');
    const old = keys;
    const server = await endpoint();
    const body = request();

    // Rotated: a new signing key, the old one kept as a previous key.
    const rotated = await loadSigningKeys({ keyFile: newFile, previousKeyFiles: [oldFile] });
    published = () => rotated.jwks();
    expect(rotated.jwks().keys.map((k) => k.kid)).toEqual([rotated.current.kid, old.current.kid]);
    const inFlight = await send(server.url, body, await signActionToken(old, claims(server.url, body), Date.now()));
    const fresh = await send(server.url, body, await signActionToken(rotated, claims(server.url, body), Date.now()));

    // Later: the old key dropped from previous_key_files.
    const settled = await loadSigningKeys({ keyFile: newFile });
    published = () => settled.jwks();
    const late = await send(server.url, body, await signActionToken(old, claims(server.url, body), Date.now()));

    expect(inFlight.ok).toBe(true);
    expect(fresh.ok).toBe(true);
    expect(late).toMatchObject({ ok: false, status: 401 });
    expect(server.verdicts.map((v) => v.refusal)).toEqual([undefined, undefined, 'ERR_JWKS_NO_MATCHING_KEY']);
  });
});
