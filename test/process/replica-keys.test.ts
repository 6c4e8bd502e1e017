import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { verifyPhonegateRequest } from '../actions/endpoint.js';
import { SECRETS, USERS } from '../helpers/harness.js';
import { REDIS_URL } from '../helpers/redis.js';
import {
  Balancer,
  buildOnce,
  Cluster,
  redisStore,
  removeReplicaTempFiles,
  type SharedStore,
  StandIns,
  sleep,
} from '../helpers/replicas.js';
import { serve } from '../helpers/serve.js';
import { requireService } from '../helpers/services.js';
import { SlackRequests } from '../helpers/slack-client.js';

/**
 * Issue 18 §7: every replica keeps its own signing key (each container has its own /data), so an
 * endpoint that asks whichever replica answers for the JWKS must find there the key of whichever replica
 * signed. Two real processes on one Redis, each with a key file of its own, behind the test balancer:
 * every run of a declared command verifies, against the JWKS of either replica.
 */

const HAVE_REDIS = await requireService('redis', REDIS_URL);
const { bob } = USERS;
const RUNS = 4;

let dir: string;
let store: SharedStore | undefined;
let standIns: StandIns | undefined;
let cluster: Cluster | undefined;
let endpoint: Awaited<ReturnType<typeof serve>>;
/** Per run: the kid that signed, and whether each replica's JWKS verified the token. */
const verdicts: Array<{ kid: string; byReplica: Record<string, string>; example: string }> = [];
/** Which replica answered each /deploy through the balancer (and so signed its token). */
const answeredBy: string[] = [];

beforeAll(async () => {
  buildOnce();
  dir = mkdtempSync(join(tmpdir(), 'phonegate-replica-keys-'));
  endpoint = await serve(async (req, res, rawBody) => {
    const token = String(req.headers.authorization).slice('Bearer '.length);
    const kid = String(decodeProtectedHeader(token).kid);
    const audience = `${endpoint.origin}${req.url}`;
    const byReplica: Record<string, string> = {};
    for (const replica of cluster?.replicas ?? []) {
      // A fresh fetch each time, as an endpoint reaching the JWKS through the balancer gets either replica's.
      const jwks = createRemoteJWKSet(new URL(`${replica.url}/.well-known/jwks.json`), { cacheMaxAge: 0 });
      byReplica[replica.name] = await jwtVerify(token, jwks, { issuer: 'phonegate', audience }).then(
        () => 'verified',
        (error: { code?: string; message: string }) => error.code ?? error.message,
      );
    }
    // And the whole example verifier (body hash, single use), once per token, against each replica's JWKS in turn.
    const other = cluster?.replicas[(verdicts.length + 1) % 2];
    const example = await verifyPhonegateRequest({
      authorization: req.headers.authorization,
      rawBody,
      jwks: createRemoteJWKSet(new URL(`${other?.url}/.well-known/jwks.json`), { cacheMaxAge: 0 }),
      audience,
    }).then(
      () => 'verified',
      (error: { code?: string; message: string }) => error.code ?? error.message,
    );
    verdicts.push({ kid, byReplica, example });
    res.writeHead(200, { 'content-type': 'text/plain' }).end('deployed');
  });
}, 150_000);
afterAll(async () => {
  await cluster?.stop();
  await standIns?.close();
  await store?.drop();
  await endpoint?.close();
  rmSync(dir, { recursive: true, force: true });
  removeReplicaTempFiles();
});

describe.skipIf(!HAVE_REDIS)('two replicas, a key each, one store', () => {
  test('every run verifies, whichever replica signed it and whichever replica the endpoint asks', async () => {
    store = await redisStore(11);
    standIns = await StandIns.start();
    const configFile = join(dir, 'config.ini');
    writeFileSync(configFile, `[command /deploy]\nurl = ${endpoint.origin}/hooks/deploy\n`);
    cluster = await Cluster.start(store.url, standIns, (i) => ({
      CONFIG_FILE: configFile,
      ACTIONS_SIGNING_KEY_FILE: join(dir, `replica-${i}.pem`),
    }));
    const balancer = new Balancer(cluster.replicas);
    const signer = new SlackRequests('http://balancer.invalid', SECRETS.signingSecret);

    // Log in on replica A.
    const { slack, bandwidth } = standIns;
    const login = await cluster.a.command(standIns, '/login', bob);
    expect(login.text, cluster.describe()).toBe('');
    const shows = (callbackId: string) => slack.views().at(-1)?.view.callback_id === callbackId;
    for (let i = 0; i < 250 && !shows('delivery_choice'); i++) await sleep(20);
    await cluster.a.requests.chooseDelivery(bob, slack.lastView(), 'sms');
    for (let i = 0; i < 250 && !shows('code_entry'); i++) await sleep(20);
    const done = await cluster.a.requests.submitCode(bob, slack.lastView(), bandwidth.lastCode());
    expect(JSON.stringify(done.json), cluster.describe()).toContain("You're logged in");

    for (let run = 0; run < RUNS; run++) {
      const body = cluster.a.commandBody(standIns, '/deploy', bob, `api 1.4.${run}`);
      const answer = await balancer.post(body, signer.sign(body));
      expect(answer.status).toBe(200);
      answeredBy.push(answer.replica);
      for (let i = 0; i < 250 && verdicts.length <= run; i++) await sleep(20);
    }
    expect(new Set(answeredBy)).toEqual(new Set(['A', 'B'])); // both replicas signed
    expect(new Set(verdicts.map((v) => v.kid)).size, cluster.describe()).toBe(2); // with two different keys
    expect(verdicts).toHaveLength(RUNS);
    for (const verdict of verdicts)
      expect(verdict).toMatchObject({ byReplica: { A: 'verified', B: 'verified' }, example: 'verified' });
  }, 120_000);
});
