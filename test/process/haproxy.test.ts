import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import nock from 'nock';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type Harness, removeTempDirs, startBot, USERS } from '../helpers/harness.js';
import { freePort, ROOT, sleep } from '../helpers/process.js';
import { rawRequest } from '../helpers/raw-http.js';

/**
 * deploy/haproxy.cfg serves the outside only what it needs: /slack/events (Slack), /healthz and
 * /.well-known/jwks.json (endpoints that verify action tokens). /metrics and anything else stay
 * inside, on each replica's own port. The rule is read from the shipped file; where HAProxy is
 * installed, HAProxy checks the shipped file and runs it in front of the real bot.
 */

const CFG = readFileSync(join(ROOT, 'deploy/haproxy.cfg'), 'utf8');
const PUBLIC = ['/slack/events', '/healthz', '/.well-known/jwks.json'];
const HAPROXY = (() => {
  try {
    return execFileSync('sh', ['-c', 'command -v haproxy'], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
})();

/** The lines of one section (`frontend slack`), comments dropped. */
function section(header: string): string[] {
  const lines = CFG.split('\n');
  const start = lines.findIndex((l) => l.trim() === header);
  const body: string[] = [];
  for (const line of lines.slice(start + 1)) {
    if (/^\S/.test(line)) break;
    const text = line.replace(/#.*/, '').trim();
    if (text) body.push(text);
  }
  return body;
}

describe('deploy/haproxy.cfg: what reaches the bots from outside', () => {
  test('the frontend names the public paths in one acl and denies everything else before any backend is chosen', () => {
    const frontend = section('frontend slack');
    const acl = frontend.map((l) => /^acl (\S+) path (.+)$/.exec(l)).find(Boolean);
    expect(acl, frontend.join('\n')).toBeDefined();
    const [, name, paths] = acl!;
    expect(paths!.split(/\s+/).sort()).toEqual([...PUBLIC].sort());
    const deny = frontend.findIndex((l) => new RegExp(`^http-request deny .*\\bif !${name}$`).test(l));
    expect(deny, frontend.join('\n')).toBeGreaterThan(-1);
    // Nothing lets a request through before the deny, or around it.
    expect(frontend.slice(0, deny).filter((l) => /^http-request (allow|return|redirect)/.test(l))).toEqual([]);
    expect(frontend.filter((l) => /^use_backend/.test(l))).toEqual([]);
  });

  test.skipIf(!HAPROXY)('HAProxy accepts the shipped file as it is', () => {
    const out = execFileSync(HAPROXY!, ['-c', '-f', join(ROOT, 'deploy/haproxy.cfg')], { encoding: 'utf8' });
    expect(out).toContain('Configuration file is valid');
  });
});

describe.skipIf(!HAPROXY)('the shipped haproxy.cfg, run by HAProxy in front of the real bot', () => {
  let h: Harness;
  let proxy: ChildProcess | undefined;
  let dir: string;
  let front: string;
  let output = '';

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'phonegate-haproxy-'));
    // A declared command, so that the bot publishes its JWKS.
    h = await startBot({
      fileText: `[command /deploy]\nurl = http://127.0.0.1:9/hooks/deploy\n\n[actions]\nsigning_key_file = ${join(dir, 'actions.pem')}\n`,
    });
    const botPort = new URL(h.requests.baseUrl).port;
    const port = await freePort();
    front = `http://127.0.0.1:${port}`;
    // Only what a local run needs changes: where it listens, and where the replicas are (the bot under
    // test stands for both). There is no Docker DNS here.
    const cfg = CFG.replace(/^(\s*)bind :\d+$/m, `$1bind 127.0.0.1:${port}`)
      .replace(/^(\s*server \S+) \S+:\d+/gm, `$1 127.0.0.1:${botPort}`)
      .replace(/^resolvers docker\n(?:[ \t]+.*\n)*/m, '')
      .replace(/ resolvers docker init-addr \S+/, '');
    writeFileSync(join(dir, 'haproxy.cfg'), cfg);
    proxy = spawn(HAPROXY!, ['-db', '-f', join(dir, 'haproxy.cfg')], { stdio: ['ignore', 'pipe', 'pipe'] });
    proxy.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    proxy.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const until = Date.now() + 10_000;
    for (;;) {
      const up = await fetch(`${front}/healthz`).then(
        (r) => r.status === 200,
        () => false,
      );
      if (up) break;
      if (Date.now() > until || proxy.exitCode !== null) throw new Error(`HAProxy did not come up:\n${output}`);
      await sleep(50);
    }
  });
  afterAll(async () => {
    proxy?.kill('SIGTERM');
    await h?.stop();
    rmSync(dir, { recursive: true, force: true });
    removeTempDirs();
    nock.restore();
  });

  const status = (answer: string) => Number(/^HTTP\/1\.[01] (\d{3})/.exec(answer)?.[1]);

  test('/metrics answers 404 through the balancer, however it is spelt, and 200 on the replica port', async () => {
    for (const target of [
      '/metrics',
      '/metrics?x=1',
      '/metrics/',
      '//metrics',
      '/%6Detrics',
      '/slack/events/../metrics',
      '/healthz/../metrics',
      'http://bot/metrics',
      '/',
      '/anything',
    ]) {
      const answer = await rawRequest(front, `GET ${target} HTTP/1.1\r\nHost: bot\r\nConnection: close\r\n\r\n`);
      expect(status(answer), `${target}\n${answer}`).toBe(404);
    }
    // Scraping from inside, on the replica's own port, works.
    const inside = await fetch(`${h.requests.baseUrl}/metrics`);
    expect(inside.status).toBe(200);
    expect(await inside.text()).toContain('phonegate_');
  });

  test('/slack/events, /healthz and /.well-known/jwks.json reach the bot', async () => {
    const body = h.requests.commandBody('/whoami', USERS.bob);
    const events = await fetch(`${front}/slack/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...h.requests.sign(body) },
      body,
    });
    expect(events.status).toBe(200);
    expect(((await events.json()) as { text: string }).text).toContain('needs you to log in first');
    expect((await fetch(`${front}/healthz`)).status).toBe(200);
    const jwks = await fetch(`${front}/.well-known/jwks.json`);
    expect(jwks.status).toBe(200);
    expect(((await jwks.json()) as { keys: unknown[] }).keys).not.toEqual([]);
  });
});
