import type { ServerResponse } from 'node:http';
import { afterEach, describe, expect, test } from 'vitest';
import { ANSWER_TEXT_MAX, actionBody, callAction, slackText } from '../../src/actions/call.js';
import { type Route, serve } from '../helpers/serve.js';

/**
 * What the user reads after an action call, whatever the endpoint does: answers, refusals, silence,
 * a drip, a closed port. The token and the URL's path and query never appear in what they read.
 */

const TOKEN = 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJVMDEyIn0.c2lnbmF0dXJl';
const BODY = actionBody({
  command: '/deploy',
  text: 'api 1.4.2',
  user_id: 'U012ABCDEF',
  team_id: 'T0001',
  channel_id: 'C0001',
  scope: 'login',
  request_id: 'r-1',
});

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (closers.length > 0) await closers.pop()!();
});

async function endpoint(route: Route) {
  const server = await serve(route);
  closers.push(server.close);
  return { ...server, url: `${server.origin}/hooks/phonegate?secret=s3cr3t` };
}

function answer(res: ServerResponse, status: number, type: string | undefined, text: string) {
  res.writeHead(status, type === undefined ? {} : { 'content-type': type }).end(text);
}

async function call(url: string, timeoutMs = 5000) {
  return callAction({ url, body: BODY, token: TOKEN, timeoutMs });
}

function expectNoSecret(text: string) {
  expect(text).not.toContain(TOKEN);
  expect(text).not.toContain('s3cr3t');
  expect(text).not.toContain('/hooks');
}

describe('the request', () => {
  test('POSTs the exact body as JSON with the bearer token', async () => {
    const seen: Array<{ method?: string; type?: string; authorization?: string; body: string }> = [];
    const { url } = await endpoint((req, res, raw) => {
      seen.push({
        method: req.method,
        type: req.headers['content-type'],
        authorization: req.headers.authorization,
        body: raw.toString('utf8'),
      });
      answer(res, 200, 'application/json', '{"text":"ok"}');
    });

    await call(url);

    expect(seen).toEqual([{ method: 'POST', type: 'application/json', authorization: `Bearer ${TOKEN}`, body: BODY }]);
    expect(JSON.parse(BODY)).toEqual({
      command: '/deploy',
      text: 'api 1.4.2',
      user_id: 'U012ABCDEF',
      team_id: 'T0001',
      channel_id: 'C0001',
      scope: 'login',
      request_id: 'r-1',
      reason: null,
    });
  });
});

describe('a 2xx answer', () => {
  test('JSON {"text": ...} gives its text, escaped for mrkdwn', async () => {
    const { url } = await endpoint((_req, res) =>
      answer(
        res,
        200,
        'application/json; charset=utf-8',
        JSON.stringify({ text: 'Deployed <!channel> & <https://x|y> 🚀', extra: 1 }),
      ),
    );

    const result = await call(url);

    expect(result).toMatchObject({
      ok: true,
      status: 200,
      text: 'Deployed &lt;!channel&gt; &amp; &lt;https://x|y&gt; 🚀',
    });
    expect(result.ms).toBeGreaterThanOrEqual(0);
  });

  test('text/plain gives the body, lines kept', async () => {
    const { url } = await endpoint((_req, res) =>
      answer(res, 201, 'text/plain; charset=utf-8', 'step 1 done\nstep 2 done\n'),
    );

    expect(await call(url)).toMatchObject({ ok: true, status: 201, text: 'step 1 done\nstep 2 done' });
  });

  test('an empty answer says so', async () => {
    const { url } = await endpoint((_req, res) => answer(res, 204, undefined, ''));

    expect(await call(url)).toMatchObject({
      ok: true,
      status: 204,
      text: 'The endpoint answered HTTP 204 with no text.',
    });
  });

  test("an oversize text is cut to Slack's limit with an ellipsis, never inside an entity", async () => {
    const { url } = await endpoint((req, res) =>
      req.url?.startsWith('/json')
        ? answer(res, 200, 'application/json', JSON.stringify({ text: `${'a'.repeat(2998)}<<<<` }))
        : answer(res, 200, 'text/plain', 'b'.repeat(200_000)),
    );
    const origin = new URL(url).origin;

    const plain = await call(`${origin}/plain`);
    const json = await call(`${origin}/json`);

    expect(plain).toMatchObject({ ok: true, text: `${'b'.repeat(ANSWER_TEXT_MAX - 1)}…` });
    expect(json).toMatchObject({ ok: true, text: `${'a'.repeat(2998)}…` });
  });

  test.each([
    [
      'JSON without a text string',
      'application/json',
      '{"message":"done"}',
      'answered HTTP 200 with JSON that has no "text" string',
    ],
    [
      'JSON that does not parse',
      'application/json',
      '{"text": "unfinished',
      'answered HTTP 200 with JSON that does not parse',
    ],
    ['HTML', 'text/html', '<h1>It works</h1>', 'answered HTTP 200 with neither JSON nor text/plain'],
    [
      'more than 64 KB of JSON',
      'application/json',
      JSON.stringify({ text: 'x'.repeat(70_000) }),
      'answered HTTP 200 with more than 64 KB of JSON',
    ],
  ])('%s is a bad answer', async (_name, type, text, why) => {
    const { url, origin } = await endpoint((_req, res) => answer(res, 200, type, text));

    const result = await call(url);

    expect(result).toMatchObject({
      ok: false,
      reason: 'bad_answer',
      status: 200,
      text: `The endpoint at ${origin} ${why}.`,
    });
  });
});

describe('a failure', () => {
  test("a 500 is a plain sentence with the status, not the endpoint's body", async () => {
    const { url, origin } = await endpoint((_req, res) => answer(res, 500, 'text/plain', `stack trace with ${TOKEN}`));

    const result = await call(url);

    expect(result).toMatchObject({
      ok: false,
      reason: 'http',
      status: 500,
      text: `The endpoint at ${origin} answered HTTP 500.`,
    });
    expectNoSecret(result.text);
  });

  test('a redirect is not followed', async () => {
    let followed = 0;
    const { url, origin } = await endpoint((req, res) => {
      if (req.url === '/elsewhere') followed += 1;
      res.writeHead(307, { location: '/elsewhere' }).end();
    });

    const result = await call(url);

    expect(result).toMatchObject({
      ok: false,
      reason: 'http',
      status: 307,
      text: `The endpoint at ${origin} answered HTTP 307.`,
    });
    expect(followed).toBe(0);
  });

  test('an endpoint that never answers is a timeout after timeoutMs', async () => {
    const { url, origin } = await endpoint(() => {});

    const result = await call(url, 300);

    expect(result).toMatchObject({
      ok: false,
      reason: 'timeout',
      text: `The endpoint at ${origin} did not answer within 0.3 s.`,
    });
    expect(result).not.toHaveProperty('status');
    expect(result.ms).toBeGreaterThanOrEqual(290);
    expect(result.ms).toBeLessThan(3000);
  });

  test('a slow drip is cut off by the same deadline: it bounds reading the answer too', async () => {
    const { url, origin } = await endpoint((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      const drip = setInterval(() => res.write('.'), 50);
      res.on('close', () => clearInterval(drip));
    });

    const result = await call(url, 300);

    expect(result).toMatchObject({
      ok: false,
      reason: 'timeout',
      status: 200,
      text: `The endpoint at ${origin} did not finish its answer (HTTP 200) within 0.3 s.`,
    });
    expect(result.ms).toBeLessThan(3000);
  });

  test('a fetch that ignores the abort signal still ends at the deadline', async () => {
    const result = await callAction({
      url: 'https://deploy.internal.example/hook',
      body: BODY,
      token: TOKEN,
      timeoutMs: 300,
      fetchImpl: () => new Promise<Response>(() => {}),
    });

    expect(result).toMatchObject({
      ok: false,
      reason: 'timeout',
      text: 'The endpoint at https://deploy.internal.example did not answer within 0.3 s.',
    });
  });

  test('a closed port is unreachable', async () => {
    const { origin, close } = await serve(() => {});
    await close();

    const result = await call(`${origin}/hooks/phonegate?secret=s3cr3t`);

    expect(result).toMatchObject({
      ok: false,
      reason: 'unreachable',
      text: `The endpoint at ${origin} could not be reached (ECONNREFUSED).`,
    });
    expect(result).not.toHaveProperty('status');
    expectNoSecret(result.text);
  });

  test('an endpoint that drops the connection mid-answer is a bad answer', async () => {
    const { url, origin } = await endpoint((req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '100' });
      res.write('partial', () => req.socket.destroy());
    });

    expect(await call(url)).toMatchObject({
      ok: false,
      reason: 'bad_answer',
      status: 200,
      text: `The endpoint at ${origin} broke off its answer (HTTP 200).`,
    });
  });
});

describe('slackText', () => {
  test('escapes &, < and > and cuts to the limit without splitting an entity or a surrogate pair', () => {
    expect(slackText('a & b < c > d')).toBe('a &amp; b &lt; c &gt; d');
    expect(slackText('xx&yy', 5)).toBe('xx…');
    expect(slackText('ab😀cd', 4)).toBe('ab…');
    expect(slackText('abc', 3)).toBe('abc');
  });
});
