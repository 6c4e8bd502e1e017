import { chmodSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { rename } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRemoteJWKSet, decodeJwt } from 'jose';
import nock from 'nock';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { actionBody } from '../../src/actions/call.js';
import { loadSigningKeys } from '../../src/actions/signing-keys.js';
import { signActionToken } from '../../src/actions/token.js';
import { loadActionKeys } from '../../src/compose.js';
import { type Verdict, verifyPhonegateRequest } from '../actions/endpoint.js';
import { type Harness, logIn, removeTempDirs, startBot, USERS } from '../helpers/harness.js';
import { atErrorLevel } from '../helpers/logs.js';
import { serve } from '../helpers/serve.js';
import { TEAM_ID } from '../helpers/slack-client.js';

/**
 * Declared commands end to end: the real bot on a real HTTPReceiver, and a real endpoint on 127.0.0.1
 * that checks every token with examples/verify-phonegate-token.mjs against the JWKS it fetches from
 * the bot's own /.well-known/jwks.json.
 */

const { alice: ADMIN, bob, carol } = USERS;
let h: Harness;
let keyDir: string;
let endpoint: { origin: string; close: () => Promise<void> };
let closedPort: number;
/** What the endpoint saw, in order: the verdict and the request as it came (to replay it). */
const seen: Array<Verdict & { path: string; authorization?: string | undefined; rawBody: Buffer }> = [];
/** The bot under test serves the JWKS; set once it listens. */
let jwksUrl: URL;
let releaseHang: () => void = () => {};

beforeAll(async () => {
  endpoint = await serve(async (req, res, rawBody) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (path === '/fail')
      return void res.writeHead(500, { 'content-type': 'text/plain' }).end('database password is hunter2');
    if (path === '/hang') return void (await new Promise<void>((resolve) => (releaseHang = resolve)));
    if (path === '/slow') await new Promise((r) => setTimeout(r, 2500));
    try {
      const jwks = createRemoteJWKSet(jwksUrl, { cacheMaxAge: 0 });
      const payload = await verifyPhonegateRequest({
        authorization: req.headers.authorization,
        rawBody,
        jwks,
        issuer: 'phonegate',
        // The endpoint checks that the token was made for it: its own URL, path and query included.
        audience: `${endpoint.origin}${req.url}`,
      });
      const body = JSON.parse(rawBody.toString('utf8')) as Record<string, string>;
      seen.push({ ok: true, payload, body, path, authorization: req.headers.authorization, rawBody });
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ text: `Ran ${body.command} ${body.text} for <@${payload.sub}>` }));
    } catch (error) {
      const refusal = (error as { code?: string }).code ?? (error as Error).message;
      seen.push({ ok: false, refusal, path, authorization: req.headers.authorization, rawBody });
      res.writeHead(401, { 'content-type': 'text/plain' }).end(`refused: ${refusal}`);
    }
  });
  // A port nothing listens on: taken, then given back.
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  closedPort = (probe.address() as { port: number }).port;
  await new Promise((resolve) => probe.close(resolve));
});

function configText(keyFile: string, actions = ''): string {
  const o = endpoint.origin;
  return `
[command /deploy]
url = ${o}/hooks/deploy?team=ops
description = Deploy a service to production
usage = <service> <version>

[command /rotate-keys]
url = ${o}/hooks/rotate
scope = admin

[command /only-bob]
url = ${o}/hooks/bob
allow = ${bob}

[command /broken]
url = ${o}/fail

[command /hang]
url = ${o}/hang
timeout_seconds = 1

[command /slow]
url = ${o}/slow

[command /gone]
url = http://127.0.0.1:${closedPort}/hooks/gone

[actions]
signing_key_file = ${keyFile}
${actions}
`;
}

async function start(actions = ''): Promise<Harness> {
  const bot = await startBot({ fileText: configText(join(keyDir, 'actions.pem'), actions) });
  jwksUrl = new URL(`${bot.requests.baseUrl}/.well-known/jwks.json`);
  return bot;
}

beforeEach(async () => {
  keyDir = mkdtempSync(join(tmpdir(), 'phonegate-keys-'));
  seen.length = 0;
  h = await start();
});
afterEach(async () => {
  releaseHang();
  await h.stop();
  rmSync(keyDir, { recursive: true, force: true });
});
afterAll(async () => {
  await endpoint.close();
  removeTempDirs();
  nock.restore();
});

/** The text of the answers posted at response_urls, oldest first. */
const answers = () => h.slack.responses.map((r) => String(r.body.text));

async function nextAnswer(
  before = h.slack.responses.length,
  timeoutMs = 8000,
): Promise<{ response_type: string; text: string }> {
  await h.slack.waitFor(() => h.slack.responses.length > before, 'an answer at the response_url', timeoutMs);
  return h.slack.responses[before]!.body as { response_type: string; text: string };
}

describe('scope login', () => {
  test('acknowledged at once, then the endpoint verifies the token and its answer reaches the user', async () => {
    await logIn(h, bob, 'voice');
    const grantedAt = h.clock.now();
    const ack = await h.requests.command('/deploy', bob, 'api   1.4.2 <!channel>');

    expect(ack.json).toEqual({
      response_type: 'ephemeral',
      text: ':hourglass_flowing_sand: Running `/deploy api 1.4.2 &lt;!channel&gt;`…',
    });
    expect(await nextAnswer(0)).toEqual({
      response_type: 'ephemeral',
      text: `Ran /deploy api   1.4.2 &lt;!channel&gt; for &lt;@${bob}&gt;`,
    });
    expect(seen).toHaveLength(1);
    const { ok, payload, body } = seen[0]!;
    expect(ok).toBe(true);
    expect(body).toEqual({
      command: '/deploy',
      text: 'api   1.4.2 <!channel>',
      user_id: bob,
      team_id: TEAM_ID,
      channel_id: 'C0001',
      scope: 'login',
      request_id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      reason: null,
    });
    expect(payload).toMatchObject({
      iss: 'phonegate',
      sub: bob,
      aud: `${endpoint.origin}/hooks/deploy?team=ops`,
      scope: 'login',
      amr: ['tel'],
      auth_time: Math.floor(grantedAt / 1000),
    });
    expect(payload!.exp! - payload!.iat!).toBe(60);
    expect(h.logs.audit('action_run')).toEqual([
      expect.objectContaining({
        userId: bob,
        scope: 'login',
        outcome: 'success',
        detail: { command: '/deploy', status: 200, ms: expect.any(Number) },
      }),
    ]);
  });

  test('not logged in: "log in first", and nothing is sent', async () => {
    const refused = await h.requests.command('/deploy', bob, 'api 1');
    expect(refused.json.text).toContain('`/deploy` needs you to log in first');
    await new Promise((r) => setTimeout(r, 50));
    expect(seen).toEqual([]);
    expect(h.bandwidth.sent).toEqual([]);
  });

  test('amr is the delivery that proved the scope, even if the preference changes later', async () => {
    await logIn(h, bob, 'voice');
    await h.bot.services.sessions.rememberDelivery(bob, 'sms'); // as the Home tab's preference would
    await h.requests.command('/deploy', bob, '');
    await nextAnswer(0);
    expect(seen[0]!.payload!.amr).toEqual(['tel']);
  });

  test('amr is sms for a code sent by text message; each run has its own jti and request_id', async () => {
    await logIn(h, carol, 'sms');
    await h.requests.command('/deploy', carol, 'a');
    await nextAnswer(0);
    await h.requests.command('/deploy', carol, 'a');
    await nextAnswer(1);
    expect(seen.map((v) => v.payload!.amr)).toEqual([['sms'], ['sms']]);
    expect(seen[0]!.payload!.jti).not.toBe(seen[1]!.payload!.jti);
    expect(seen[0]!.body!.request_id).not.toBe(seen[1]!.body!.request_id);
  });
});

describe('allow', () => {
  test('someone not listed is refused at once, audited, and nothing is sent to anyone', async () => {
    await logIn(h, carol);
    const sent = h.bandwidth.sent.length;
    const refused = await h.requests.command('/only-bob', carol, '');
    expect(refused.json).toEqual({
      response_type: 'ephemeral',
      text: expect.stringContaining("You're not on the list of people who can run `/only-bob`"),
    });
    await new Promise((r) => setTimeout(r, 50));
    expect(seen).toEqual([]);
    expect(h.bandwidth.sent.length).toBe(sent);
    expect(h.logs.audit('authz_fail').at(-1)).toMatchObject({
      userId: carol,
      outcome: 'refused',
      detail: { command: '/only-bob', reason: 'not_allowed' },
    });

    await logIn(h, bob);
    await h.requests.command('/only-bob', bob, '');
    expect((await nextAnswer(0)).text).toBe(`Ran /only-bob  for &lt;@${bob}&gt;`);
  });
});

describe('scope admin', () => {
  test('a step-up first; after the right code the command runs by itself, once, even if the submission is replayed', async () => {
    await logIn(h, ADMIN);
    const ack = await h.requests.command('/rotate-keys', ADMIN, 'now');
    expect(ack.status).toBe(200);
    expect(ack.text).toBe('');
    await h.slack.waitFor(() => h.slack.lastView().view.callback_id === 'code_entry', 'the admin code entry');
    expect(seen).toEqual([]);
    const code = h.bandwidth.lastCode();
    expect(h.bandwidth.sent.at(-1)!.scope).toMatch(/^admin-/);

    const done = await h.requests.submitCode(ADMIN, h.slack.lastView(), code);
    expect(JSON.stringify(done.json.view)).toContain(
      "I'm running `/rotate-keys now` now; the result appears where you typed it.",
    );
    expect((await nextAnswer(0)).text).toBe(`Ran /rotate-keys now for &lt;@${ADMIN}&gt;`);
    expect(seen[0]!.payload).toMatchObject({ sub: ADMIN, scope: 'admin', amr: ['sms'] });

    const again = await h.requests.resend();
    expect(again.status).toBe(200);
    expect(again.text).not.toContain('unlocked');
    await new Promise((r) => setTimeout(r, 100));
    expect(seen).toHaveLength(1);
    expect(answers()).toHaveLength(1);

    // With the admin scope live, the next run needs no code.
    const sent = h.bandwidth.sent.length;
    const direct = await h.requests.command('/rotate-keys', ADMIN, 'later');
    expect(direct.json.text).toBe(':hourglass_flowing_sand: Running `/rotate-keys later`…');
    await nextAnswer(1);
    expect(h.bandwidth.sent.length).toBe(sent);
    expect(h.logs.audit('action_run').map((e) => [e.scope, e.outcome])).toEqual([
      ['admin', 'success'],
      ['admin', 'success'],
    ]);
  });

  test('an ending between the code and the run wins: nothing is sent', async () => {
    await logIn(h, ADMIN);
    await h.requests.command('/rotate-keys', ADMIN, '');
    await h.slack.waitFor(() => h.slack.lastView().view.callback_id === 'code_entry', 'the admin code entry');
    // The grant happens, then the session ends before the pending command reads it.
    const sessions = h.bot.services.sessions;
    const grant = sessions.grant.bind(sessions);
    sessions.grant = async (...args) => {
      const expiresAt = await grant(...args);
      await sessions.end(ADMIN);
      return expiresAt;
    };
    await h.requests.submitCode(ADMIN, h.slack.lastView(), h.bandwidth.lastCode());
    await new Promise((r) => setTimeout(r, 100));
    expect(seen).toEqual([]);
  });
});

describe('when the endpoint fails, the user reads why, with no secret, and the bot keeps serving', () => {
  test('HTTP 500, a timeout, an unreachable URL; a slow answer still arrives', async () => {
    await logIn(h, bob);
    await h.requests.command('/broken', bob, 'x');
    expect((await nextAnswer(0)).text).toBe(
      `:warning: \`/broken x\` failed. The endpoint at ${endpoint.origin} answered HTTP 500.`,
    );
    await h.requests.command('/hang', bob, '');
    expect((await nextAnswer(1)).text).toBe(
      `:warning: \`/hang\` failed. The endpoint at ${endpoint.origin} did not answer within 1 s. It may still have run: check before trying again.`,
    );
    await h.requests.command('/gone', bob, '');
    expect((await nextAnswer(2)).text).toBe(
      `:warning: \`/gone\` failed. The endpoint at http://127.0.0.1:${closedPort} could not be reached (ECONNREFUSED).`,
    );
    const ack = await h.requests.command('/slow', bob, '');
    expect(ack.ms).toBeLessThan(2000); // acknowledged before the endpoint answers (it takes 2.5 s)
    expect((await nextAnswer(3)).text).toBe(`Ran /slow  for &lt;@${bob}&gt;`);

    expect(
      h.logs.audit('action_run').map((e) => [e.detail.command, e.outcome, e.detail.status, e.detail.reason]),
    ).toEqual([
      ['/broken', 'failure', 500, 'http'],
      ['/hang', 'error', 0, 'timeout'],
      ['/gone', 'error', 0, 'unreachable'],
      ['/slow', 'success', 200, undefined],
    ]);
    expect((await h.requests.command('/whoami', bob)).json.text).toContain(bob);
    const everything = JSON.stringify([h.slack.responses, h.logs.lines()]);
    for (const secret of ['hunter2', '/hooks/gone', 'Bearer ', 'eyJ']) expect(everything).not.toContain(secret);
  });
});

describe('the token cannot be reused', () => {
  test('with another body, twice, or after exp: the example verifier refuses', async () => {
    await logIn(h, bob);
    await h.requests.command('/deploy', bob, 'api 1.4.2');
    await nextAnswer(0);
    const { authorization, rawBody } = seen[0]!;
    const jwks = createRemoteJWKSet(jwksUrl);
    const check = (body: Buffer) =>
      verifyPhonegateRequest({
        authorization,
        rawBody: body,
        jwks,
        audience: `${endpoint.origin}/hooks/deploy?team=ops`,
      });
    const other = Buffer.from(rawBody.toString('utf8').replace('1.4.2', '9.9.9'));
    await expect(check(other)).rejects.toThrow('the body is not the one the token was made for');
    await expect(check(rawBody)).rejects.toThrow('token already used');

    // A token made more than 60 s ago (the bot's clock set back) is refused as expired, and the user is told.
    h.clock.advance(-61_000);
    await h.requests.command('/deploy', bob, 'api 1.4.2');
    expect((await nextAnswer(1)).text).toBe(
      `:warning: \`/deploy api 1.4.2\` failed. The endpoint at ${endpoint.origin} answered HTTP 401.`,
    );
    expect(seen[1]).toMatchObject({ ok: false, refusal: 'ERR_JWT_EXPIRED' });
  });
});

describe('commands nobody declared', () => {
  test('get "not set up here"; built-in commands are answered as before', async () => {
    const unknown = await h.requests.command('/nope', bob, 'x');
    expect(unknown.json).toEqual({
      response_type: 'ephemeral',
      text: "`/nope` is not set up here. Ask whoever runs this bot to declare it in PhoneGate's config.ini.",
    });
    expect((await h.requests.command('/whoami', bob)).json.text).toContain('needs you to log in first');
    expect(h.logs.lines().filter((l) => /ack|acknowledge/i.test(String(l.msg)) && atErrorLevel(l))).toEqual([]);
  });
});

describe('keys', () => {
  test('a key readable by others, or not a key, stops start-up with one line naming the file', async () => {
    const keyFile = join(keyDir, 'actions.pem');
    const config = {
      ...h.config,
      commands: h.config.commands,
      actions: { ...h.config.actions, signingKeyFile: keyFile },
    };
    chmodSync(keyFile, 0o640);
    await expect(loadActionKeys(config)).rejects.toThrow(
      `Signing key ${keyFile}: open to group or others (mode 0640); run chmod 600 on it`,
    );
    writeFileSync(keyFile, 'not a key', { mode: 0o600 });
    chmodSync(keyFile, 0o600);
    await expect(loadActionKeys(config)).rejects.toThrow(`Signing key ${keyFile}: not a PEM file`);
    await expect(loadActionKeys({ ...config, commands: [] })).resolves.toBeUndefined();
  });

  test('created on first start with mode 0600, published at /.well-known/jwks.json; after rotation the old key still verifies', async () => {
    const keyFile = join(keyDir, 'actions.pem');
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    const first = (await (await fetch(jwksUrl)).json()) as { keys: Array<{ kid: string }> };
    expect(first.keys).toEqual([
      expect.objectContaining({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig', kid: expect.any(String) }),
    ]);
    expect(JSON.stringify(first)).not.toMatch(/"d"/);
    const oldKeys = await loadSigningKeys({ keyFile });

    // Rotation: the old key moves aside and stays listed; a new one is created.
    await h.stop();
    await rename(keyFile, join(keyDir, 'old.pem'));
    h = await start(`previous_key_files = ${join(keyDir, 'old.pem')}`);
    const rotated = (await (await fetch(jwksUrl)).json()) as { keys: Array<{ kid: string }> };
    expect(rotated.keys.map((k) => k.kid)).toEqual([expect.not.stringMatching(first.keys[0]!.kid), first.keys[0]!.kid]);

    const body = actionBody({
      command: '/deploy',
      text: '',
      user_id: bob,
      team_id: TEAM_ID,
      channel_id: 'C0001',
      scope: 'login',
      request_id: 'r-old',
    });
    const claims = {
      issuer: 'phonegate',
      userId: bob,
      url: `${endpoint.origin}/x`,
      scope: 'login' as const,
      authTime: Date.now(),
      methods: ['sms' as const],
      body,
    };
    const oldToken = await signActionToken(oldKeys, claims, Date.now());
    expect(decodeJwt(oldToken).sub).toBe(bob);
    const jwks = createRemoteJWKSet(jwksUrl, { cacheMaxAge: 0 });
    await expect(
      verifyPhonegateRequest({
        authorization: `Bearer ${oldToken}`,
        rawBody: Buffer.from(body),
        jwks,
        audience: `${endpoint.origin}/x`,
      }),
    ).resolves.toMatchObject({ sub: bob });

    // Once dropped from previous_key_files, the old key's tokens fail.
    await h.stop();
    h = await start();
    const again = await signActionToken(oldKeys, claims, Date.now());
    const current = createRemoteJWKSet(jwksUrl, { cacheMaxAge: 0 });
    await expect(
      verifyPhonegateRequest({
        authorization: `Bearer ${again}`,
        rawBody: Buffer.from(body),
        jwks: current,
        audience: `${endpoint.origin}/x`,
      }),
    ).rejects.toMatchObject({ code: 'ERR_JWKS_NO_MATCHING_KEY' });
  });
});
