import { Agent, request as httpRequest } from 'node:http';
import nock from 'nock';
import { afterAll, afterEach, describe, expect, test } from 'vitest';
import { type Harness, logIn, openCodeEntry, PHONES, removeTempDirs, startBot, USERS } from '../helpers/harness.js';

let h: Harness;
afterEach(async () => {
  await h.stop().catch(() => {});
});
afterAll(() => {
  removeTempDirs();
  nock.restore();
});

async function scrape(): Promise<string> {
  const res = await fetch(`${h.requests.baseUrl}/metrics`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toContain('text/plain');
  return res.text();
}

/** The value of one sample line, e.g. value(text, 'phonegate_lockouts_total'). */
function value(text: string, sample: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${sample} `));
  return line === undefined ? undefined : Number(line.slice(sample.length + 1));
}

describe('GET /metrics', () => {
  test('security events, latencies and process metrics, with no user id or phone number in any label', async () => {
    h = await startBot({ env: { POLICY_LOCKOUT_FAILURES: '3' } });
    await logIn(h, USERS.alice); // one code sent, one success
    await h.requests.command('/whoami', USERS.bob); // refused: not logged in
    const entry = await openCodeEntry(h, USERS.bob);
    for (let i = 0; i < 3; i++) await h.requests.submitCode(USERS.bob, entry, h.bandwidth.wrongCode()); // 3 wrong -> locked
    await h.requests.command('/logout', USERS.carol);
    await h.requests.resend(); // the same bytes again: dropped

    const text = await scrape();
    expect(value(text, 'phonegate_codes_sent_total{delivery="sms",outcome="success"}')).toBe(2);
    expect(value(text, 'phonegate_verifies_total{outcome="success"}')).toBe(1);
    expect(value(text, 'phonegate_verifies_total{outcome="wrong_code"}')).toBe(3);
    expect(value(text, 'phonegate_lockouts_total')).toBe(1);
    expect(value(text, 'phonegate_refusals_total{reason="no_scope"}')).toBe(1);
    expect(value(text, 'phonegate_replays_dropped_total{kind="command"}')).toBe(1);
    expect(value(text, 'phonegate_bandwidth_seconds_count{operation="send",outcome="ok"}')).toBe(2);
    expect(value(text, 'phonegate_bandwidth_seconds_count{operation="verify",outcome="ok"}')).toBe(4);
    expect(value(text, 'phonegate_store_seconds_count{operation="getMany",outcome="ok"}')).toBeGreaterThan(0);
    expect(value(text, 'phonegate_slack_ack_seconds_count{kind="http"}')).toBeGreaterThanOrEqual(8);
    expect(value(text, 'phonegate_socket_mode_connections')).toBe(0);
    expect(text).toContain('process_cpu_user_seconds_total');
    expect(text).toContain('nodejs_eventloop_lag_seconds');
    // No user id or phone number anywhere; and no label carries even a phone's last four digits (values,
    // such as byte counts, may contain any digits by chance, so those are checked in labels only).
    for (const secret of [
      ...Object.values(USERS),
      ...Object.values(PHONES),
      ...Object.values(PHONES).map((p) => p.slice(1)),
    ]) {
      expect(text).not.toContain(secret);
    }
    const labels = [...text.matchAll(/\{([^}]*)\}/g)].map((m) => m[1]).join('\n');
    expect(labels).toContain('delivery="sms"'); // the labels were found
    for (const lastFour of Object.values(PHONES).map((p) => p.slice(-4))) expect(labels).not.toContain(lastFour);
  });
});

describe('graceful shutdown', () => {
  test('stop() takes no new request but finishes the one in flight, its work after the ack included', async () => {
    h = await startBot({ slackDeadlineMs: 100 });
    const entry = await openCodeEntry(h, USERS.alice);
    h.bandwidth.failNext('verify', { delayMs: 800 }); // answers normally, after the ack
    const answer = await h.requests.submitCode(USERS.alice, entry, h.bandwidth.lastCode());
    expect(JSON.stringify(answer.json)).toContain('Checking your code');

    await h.bot.stop();
    // The late result was shown and the login granted before stop() resolved.
    expect(JSON.stringify(h.slack.callsOf('views.update').at(-1)?.args.view)).toContain("You're logged in");
    expect(await h.bot.services.sessions.isLive(USERS.alice, 'login')).toBe(true);
    await expect(fetch(`${h.requests.baseUrl}/healthz`)).rejects.toThrow(); // no longer listening
  });
});

describe('shutdown grace for load balancers', () => {
  test('with shutdown_grace_seconds, /healthz says 503 (draining) while requests are still served, then the port closes', async () => {
    h = await startBot({ env: { SLACK_SHUTDOWN_GRACE_SECONDS: '1' } });
    expect((await fetch(`${h.requests.baseUrl}/healthz`)).status).toBe(200);
    const stopping = h.bot.stop();
    const health = await fetch(`${h.requests.baseUrl}/healthz`);
    expect(health.status).toBe(503);
    expect(await health.json()).toMatchObject({ ok: false, store: 'ok', draining: true });
    // Still serving while the balancer catches up.
    expect((await h.requests.command('/whoami', USERS.alice)).json.text).toContain('needs you to log in first');
    await stopping;
    await expect(fetch(`${h.requests.baseUrl}/healthz`)).rejects.toThrow();
  });

  // A balancer that polls /healthz on one kept-alive connection keeps that connection busy: server.close()
  // closes only idle ones, so without this the stop could wait on it for ever (seen in the rolling restart).
  test('once draining, every answer closes its connection', async () => {
    h = await startBot({ env: { SLACK_SHUTDOWN_GRACE_SECONDS: '1' } });
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const send = (path: string, body?: string) =>
      new Promise<{ status: number; connection: string | undefined }>((resolve, reject) => {
        const headers = body
          ? { 'content-type': 'application/x-www-form-urlencoded', ...h.requests.sign(body) }
          : undefined;
        const req = httpRequest(`${h.requests.baseUrl}${path}`, { agent, method: body ? 'POST' : 'GET', headers });
        req.on('response', (res) => {
          res.resume();
          res.on('end', () => resolve({ status: res.statusCode ?? 0, connection: res.headers.connection }));
        });
        req.on('error', reject);
        req.end(body);
      });
    const whoami = h.requests.commandBody('/whoami', USERS.alice);
    expect(await send('/healthz')).toEqual({ status: 200, connection: 'keep-alive' });
    expect(await send('/slack/events', whoami)).toEqual({ status: 200, connection: 'keep-alive' });
    const stopping = h.bot.stop();
    expect(await send('/healthz')).toEqual({ status: 503, connection: 'close' });
    expect(await send('/slack/events', whoami)).toEqual({ status: 200, connection: 'close' });
    await stopping;
    agent.destroy();
  });
});
