import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import nock from 'nock';
import { afterAll, afterEach, beforeEach, describe, expect, test } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { DRAIN_MS, drainMs, REPLY_MARGIN_MS } from '../../src/compose.js';
import { parseConfig } from '../../src/config.js';
import { type Harness, logIn, removeTempDirs, startBot, testEnv, USERS } from '../helpers/harness.js';
import { ROOT } from '../helpers/process.js';
import { serve } from '../helpers/serve.js';

/**
 * A graceful stop waits for the requests in flight, their work after the ack included. A declared
 * command may take its timeout_seconds (up to 30): the stop must let it finish, tell the user and
 * audit the run, not cut it off after the 10 s that suit everything else.
 */

const { alice } = USERS;

describe('how long the drain waits', () => {
  const config = (commands: string) => parseConfig({ fileText: commands, env: testEnv() });
  const command = (name: string, seconds?: number) =>
    `[command /${name}]\nurl = https://ops.example/hooks/${name}\n${seconds ? `timeout_seconds = ${seconds}\n` : ''}`;

  // Rule: no declared command, 10 s; else the longest declared timeout plus the margin for the reply, never less than 10 s.
  test('10 s without declared commands; the longest declared timeout plus the reply margin with them', () => {
    expect(drainMs(config(''))).toBe(DRAIN_MS);
    expect(DRAIN_MS).toBe(10_000);
    expect(drainMs(config(command('deploy', 30) + command('ping', 2)))).toBe(30_000 + REPLY_MARGIN_MS);
    expect(drainMs(config(command('deploy')))).toBe(10_000 + REPLY_MARGIN_MS); // timeout_seconds defaults to 10
    expect(drainMs(config(command('ping', 1)), 60_000)).toBe(60_000);
  });

  // Rule: the shipped launchers give a stop the longest drain there can be (timeout_seconds is at most 30), after the grace.
  test('the systemd unit and compose.yaml wait long enough before SIGKILL', () => {
    const longest = drainMs(config(command('deploy', 30)));
    expect(() => config(command('deploy', 31))).toThrow(); // 30 s is the most a command may take
    const unit = readFileSync(join(ROOT, 'deploy/phonegate.service'), 'utf8');
    const timeoutStop = /^TimeoutStopSec=(\d+)s$/m.exec(unit)?.[1];
    expect(Number(timeoutStop) * 1000).toBeGreaterThan(longest);
    const compose = parseYaml(readFileSync(join(ROOT, 'compose.yaml'), 'utf8'), { merge: true }) as {
      services: Record<string, { stop_grace_period?: string; environment?: Record<string, string> }>;
    };
    for (const name of ['bot-a', 'bot-b']) {
      const bot = compose.services[name]!;
      const grace = Number(bot.environment?.SLACK_SHUTDOWN_GRACE_SECONDS ?? 0) * 1000;
      expect(Number(/^(\d+)s$/.exec(bot.stop_grace_period ?? '')?.[1]) * 1000).toBeGreaterThan(grace + longest);
    }
  });
});

describe('SIGTERM while a declared command runs', () => {
  /** The endpoint takes this long: far past the drain the test gives the bot, well within timeout_seconds. */
  const ENDPOINT_MS = 600;
  let h: Harness;
  let keyDir: string;
  let endpoint: { origin: string; close: () => Promise<void> };
  let arrived: Promise<void>;
  const requests: string[] = [];

  beforeEach(async () => {
    requests.length = 0;
    let received: () => void = () => {};
    arrived = new Promise((resolve) => (received = resolve));
    endpoint = await serve(async (req, res) => {
      requests.push(req.url ?? '');
      received();
      await new Promise((resolve) => setTimeout(resolve, ENDPOINT_MS));
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ text: 'Deployed api 1.2' }));
    });
    keyDir = mkdtempSync(join(tmpdir(), 'phonegate-keys-'));
    h = await startBot({
      // A drain far shorter than the endpoint takes: only the declared timeout can make the stop wait.
      drainMs: 50,
      fileText: `[command /deploy]\nurl = ${endpoint.origin}/hooks/deploy\ntimeout_seconds = 5\n\n[actions]\nsigning_key_file = ${join(keyDir, 'actions.pem')}\n`,
    });
  });
  afterEach(async () => {
    await h.store.close().catch(() => {});
    nock.cleanAll();
    await endpoint.close();
    rmSync(keyDir, { recursive: true, force: true });
  });
  afterAll(() => {
    removeTempDirs();
    nock.restore();
  });

  test('the endpoint runs, the user gets its answer at the response_url, action_run is audited, then the stop ends cleanly', async () => {
    await logIn(h, alice);
    const ack = await h.requests.command('/deploy', alice, 'api 1.2');
    expect(ack.json.text).toContain('/deploy');
    await arrived; // the endpoint has the request; the bot waits for its answer

    // What main.ts does on SIGTERM (then it closes the store and exits 0).
    await h.bot.stop();

    expect(requests).toEqual(['/hooks/deploy']);
    expect(h.slack.responses.map((r) => r.body.text)).toEqual(['Deployed api 1.2']);
    expect(h.logs.audit('action_run')).toMatchObject([
      { userId: alice, outcome: 'success', detail: { command: '/deploy', status: 200 } },
    ]);
    expect(h.logs.lines().filter((l) => l.level === 'warn' || l.level === 'error')).toEqual([]);
    await expect(fetch(`${h.requests.baseUrl}/healthz`)).rejects.toThrow(); // no longer listening
  });
});
