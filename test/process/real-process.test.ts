import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { FakeBandwidth } from '../helpers/fake-bandwidth.js';
import { FakeSlack } from '../helpers/fake-slack.js';
import { ACCOUNT_ID, FROM_NUMBER, PHONES, SECRETS, testEnv, USERS } from '../helpers/harness.js';
import { AppProcess, cleanEnv, freePort, groupMembers, ROOT, sleep } from '../helpers/process.js';
import { SlackRequests, TEAM_ID } from '../helpers/slack-client.js';

/**
 * The real process, started the way a new user starts it (`npm start` in the project directory),
 * configured from the environment, driven over HTTP the way Slack drives it, against the fake Slack
 * Web API and the fake Bandwidth MFA API served on 127.0.0.1. CONFIG_FILE names an empty file, so a
 * config.ini in the checkout (the README has newcomers create one) is never read.
 * How long a start takes is measured by `npm run bench:start` (bench/warm-start.mjs), not asserted here.
 *
 * Each `npm start` runs in its own process group (spawn's `detached`), so that clean-up reaches
 * the whole tree: npm -> node scripts/start.mjs (the script runs `exec node`). Linux only (reads /proc).
 */

const STOP_WITHIN_MS = 5000;
/** Room for a start that has to rebuild (src changed since beforeAll): about 10 s here. */
const TEST_TIMEOUT_MS = 40_000;
const BASIC_AUTH = `Basic ${Buffer.from(`${SECRETS.apiUser}:${SECRETS.apiPassword}`).toString('base64')}`;

/** GETs /healthz every ~25 ms until it answers 200. */
async function waitUntilHealthy(app: AppProcess, port: number, timeoutMs = 30_000): Promise<void> {
  for (;;) {
    try {
      const res = await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(1000) });
      await res.arrayBuffer();
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    if (app.exit) throw new Error(`npm start exited before /healthz answered 200.\n${app.describe()}`);
    if (performance.now() - app.startedAt > timeoutMs)
      throw new Error(`/healthz did not answer 200 within ${timeoutMs} ms.\n${app.describe()}`);
    await sleep(25);
  }
}

// ---------------------------------------------------------------------------------------------

const started: AppProcess[] = [];
const tempDirs: string[] = [];
let slack: FakeSlack;
let bandwidth: FakeBandwidth;
let slackHttp: { origin: string; close: () => Promise<void> };
let bandwidthHttp: { origin: string; close: () => Promise<void> };
let storeUrl: string;
/** An empty config file, so that the checkout's config.ini is not read. */
let configFile: string;

function launch(overrides: Record<string, string | undefined> = {}, port?: number): AppProcess {
  const env: Record<string, string> = {
    ...cleanEnv(),
    ...testEnv('basic'),
    SLACK_API_URL: `${slackHttp.origin}/api/`,
    BANDWIDTH_MFA_BASE_URL: `${bandwidthHttp.origin}/api/v1`,
    STORE_URL: storeUrl,
    CONFIG_FILE: configFile,
    ...(port === undefined ? {} : { SLACK_PORT: String(port) }),
  };
  for (const [name, value] of Object.entries(overrides)) {
    if (value === undefined) delete env[name];
    else env[name] = value;
  }
  const app = new AppProcess(env);
  started.push(app);
  return app;
}

/** `npm start` on a free port, once /healthz answers 200. */
async function startApp(): Promise<{ app: AppProcess; port: number; requests: SlackRequests }> {
  const port = await freePort();
  const app = launch({}, port);
  await waitUntilHealthy(app, port);
  return { app, port, requests: new SlackRequests(`http://127.0.0.1:${port}`, SECRETS.signingSecret) };
}

/** A slash command as Slack sends it, with its response_url on the fake Slack (not hooks.slack.com). */
function commandBody(requests: SlackRequests, command: string, userId: string, text = ''): string {
  const body = new URLSearchParams(requests.commandBody(command, userId, text));
  body.set('response_url', `${slackHttp.origin}/commands/${TEAM_ID}/${randomUUID()}`);
  return body.toString();
}

/** /login by SMS through to "logged in"; returns the code that worked. */
async function logInOverHttp(requests: SlackRequests, userId: string): Promise<string> {
  const ack = await requests.post(commandBody(requests, '/login', userId));
  expect(ack.status).toBe(200);
  expect(ack.text).toBe('');

  await slack.waitFor((calls) => calls.some((c) => c.method === 'views.open'), 'views.open');
  const open = slack.callsOf('views.open').at(-1)!;
  expect(open.authorization).toBe(`Bearer ${SECRETS.botToken}`);
  const choice = slack.lastView();
  expect(choice.view.callback_id).toBe('delivery_choice');

  const sentBefore = bandwidth.sent.length;
  const chosen = await requests.chooseDelivery(userId, choice, 'sms');
  expect(chosen.status).toBe(200);
  expect(chosen.json?.response_action).toBe('update');

  await slack.waitFor(
    () => slack.lastView().view.callback_id === 'code_entry',
    'views.update with the code-entry window',
  );
  const update = slack.callsOf('views.update').at(-1)!;
  expect(update.authorization).toBe(`Bearer ${SECRETS.botToken}`);
  const entry = slack.lastView();

  expect(bandwidth.sent).toHaveLength(sentBefore + 1);
  expect(bandwidth.sent.at(-1)).toMatchObject({
    channel: 'messaging',
    to: PHONES[userId === USERS.alice ? 'alice' : 'bob'],
    from: FROM_NUMBER,
    scope: expect.stringMatching(/^login(-|$)/),
  });
  expect(bandwidth.authorizations.length).toBeGreaterThan(0);
  expect(new Set(bandwidth.authorizations)).toEqual(new Set([BASIC_AUTH]));
  expect(bandwidth.badRequests).toEqual([]);

  const code = bandwidth.lastCode();
  const verified = await requests.submitCode(userId, entry, code);
  expect(verified.status).toBe(200);
  expect(verified.json?.response_action).toBe('update');
  expect(JSON.stringify(verified.json?.view)).toContain('logged in');
  return code;
}

async function whoami(requests: SlackRequests, userId: string) {
  const result = await requests.post(commandBody(requests, '/whoami', userId));
  expect(result.status).toBe(200);
  return result;
}

beforeAll(() => {
  const dir = mkdtempSync(join(tmpdir(), 'phonegate-process-config-'));
  tempDirs.push(dir);
  configFile = join(dir, 'config.ini');
  writeFileSync(configFile, '');
  // One build now, so that each `npm start` below is a warm start (its own `tsc -b` finds nothing to do).
  execFileSync('npx', ['tsc', '-b'], { cwd: ROOT, env: cleanEnv(), stdio: 'pipe', timeout: 120_000 });
}, 150_000);

beforeEach(async () => {
  slack = new FakeSlack();
  bandwidth = new FakeBandwidth(
    { now: () => Date.now() },
    { accountId: ACCOUNT_ID, auth: { kind: 'basic', username: SECRETS.apiUser, password: SECRETS.apiPassword } },
  );
  slackHttp = await slack.listen();
  bandwidthHttp = await bandwidth.listen();
  const dir = mkdtempSync(join(tmpdir(), 'phonegate-process-'));
  tempDirs.push(dir);
  storeUrl = `sqlite://${join(dir, 'state.sqlite')}`;
});

afterEach(async () => {
  await Promise.all(started.splice(0).map((app) => app.kill()));
  await Promise.all([slackHttp.close(), bandwidthHttp.close()]);
});

afterAll(() => {
  for (const dir of tempDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('npm start: the real process over HTTP', () => {
  test(
    'warm start: /healthz answers 200, it logs "ready", and warns that Basic auth is retired',
    async () => {
      const buildInfo = join(ROOT, 'dist', '.tsbuildinfo');
      const builtAt = statSync(buildInfo).mtimeMs;
      const { app, port } = await startApp();
      // The requirement is about a start with nothing to rebuild; the start script touches the build info when it rebuilds.
      expect(
        statSync(buildInfo).mtimeMs,
        'not a warm start: dist was rebuilt during this start (src changed after the build in beforeAll, or another build ran)',
      ).toBe(builtAt);
      const ready = await app.waitForLog('ready');
      expect(ready).toMatchObject({ level: 'info', mode: 'http', port, auth: 'basic' });
      expect(slack.callsOf('auth.test')).toEqual([
        expect.objectContaining({ authorization: `Bearer ${SECRETS.botToken}` }),
      ]);
      expect(
        app
          .jsonLines()
          .filter((l) => l.level === 'warn' && String(l.msg).includes('Basic-auth API users on 2026-12-02')),
      ).toHaveLength(1);
    },
    TEST_TIMEOUT_MS,
  );

  test(
    'a changed source is compiled before the bot starts',
    async () => {
      const buildInfo = join(ROOT, 'dist', '.tsbuildinfo');
      const before = statSync(buildInfo).mtimeMs;
      const source = join(ROOT, 'src', 'main.ts');
      const touched = new Date();
      expect(touched.getTime()).toBeGreaterThan(before);
      utimesSync(source, touched, touched); // as an edit would
      const { app } = await startApp();
      await app.waitForLog('ready');
      expect(statSync(buildInfo).mtimeMs).toBeGreaterThanOrEqual(touched.getTime());
    },
    TEST_TIMEOUT_MS,
  );

  test(
    'a whole /login by SMS, then /whoami; the logs are JSON, carry the audit trail and no secret',
    async () => {
      const { app, requests } = await startApp();
      const code = await logInOverHttp(requests, USERS.alice);

      const who = await whoami(requests, USERS.alice);
      expect(who.json?.response_type).toBe('ephemeral');
      expect(who.json?.text).toContain('`login`');
      expect(who.json?.text).toContain('•••• 0101');

      await app.waitForLog('authn_login_success');
      // Stop it, so that "all of stdout" is all of it.
      await app.kill();
      expect(app.stdout).not.toBe('');

      const lines = app.appLines();
      expect(lines.length).toBeGreaterThan(0);
      for (const line of lines) {
        expect(() => JSON.parse(line), `not a JSON line: ${line}`).not.toThrow();
      }
      for (const output of [app.stdout, app.stderr]) {
        for (const secret of [code, PHONES.alice, SECRETS.botToken, SECRETS.signingSecret, SECRETS.apiPassword]) {
          expect(output.includes(secret), `the output contains ${secret === code ? 'the code' : secret}`).toBe(false);
        }
      }
      const audit = app.jsonLines().filter((l) => l.audit === true);
      expect(audit).toContainEqual(expect.objectContaining({ event: 'authn_otp_sent', userId: USERS.alice }));
      expect(audit).toContainEqual(expect.objectContaining({ event: 'authn_login_success', userId: USERS.alice }));
    },
    TEST_TIMEOUT_MS,
  );

  test(
    'request signatures: bad -> 401, 6 minutes old -> 401, 6 minutes ahead -> 401, correct -> 200',
    async () => {
      const { port, requests } = await startApp();
      const body = commandBody(requests, '/whoami', USERS.bob);
      const now = Math.floor(Date.now() / 1000);

      const forged = new SlackRequests(`http://127.0.0.1:${port}`, 'not-the-signing-secret-at-all-00');
      expect((await requests.post(body, forged.sign(body))).status).toBe(401);
      expect((await requests.post(body, requests.sign(body, now - 6 * 60))).status).toBe(401);
      expect((await requests.post(body, requests.sign(body, now + 6 * 60))).status).toBe(401);
      const good = await requests.post(body, requests.sign(body));
      expect(good.status).toBe(200);
      expect(good.json?.response_type).toBe('ephemeral');
    },
    TEST_TIMEOUT_MS,
  );

  // `npm start` runs `exec node`, so SIGTERM from a supervisor (docker stop, systemd, kill) reaches node
  // itself rather than a shell that would die and leave node running as an orphan.
  test(
    'SIGTERM to `npm start` stops the app: exit 0 within a few seconds, "shutting down" logged, nothing left running',
    async () => {
      const { app } = await startApp();
      app.proc.kill('SIGTERM');
      const exit = await app.exitWithin(STOP_WITHIN_MS);
      expect(exit, app.describe()).toMatchObject({ code: 0, signal: null });
      await app.waitForLog('shutting down', 1000);
      expect(groupMembers(app.pgid)).toEqual([]);
    },
    TEST_TIMEOUT_MS,
  );

  test(
    'restart: SIGTERM to the app stops it cleanly (exit 0, "shutting down"), and the session survives the next start',
    async () => {
      const first = await startApp();
      await logInOverHttp(first.requests, USERS.alice);

      const nodePid = first.app.appPid();
      expect(nodePid, first.app.describe()).toBeDefined();
      process.kill(nodePid!, 'SIGTERM');
      const exit = await first.app.exitWithin(STOP_WITHIN_MS);
      console.log(
        `stop: npm start exited ${JSON.stringify({ code: exit.code, signal: exit.signal })} ${Math.round(exit.ms)} ms after SIGTERM to node`,
      );
      expect(exit, first.app.describe()).toMatchObject({ code: 0, signal: null });
      expect(await first.app.waitForLog('shutting down', 1000)).toMatchObject({ signal: 'SIGTERM' });
      expect(groupMembers(first.app.pgid)).toEqual([]);

      const second = await startApp();
      const who = await whoami(second.requests, USERS.alice);
      expect(who.json?.response_type).toBe('ephemeral');
      expect(who.json?.text).toContain('`login`');
      // A new login would have sent a second code; the session came from the store.
      expect(bandwidth.sent).toHaveLength(1);
    },
    2 * TEST_TIMEOUT_MS,
  );

  test(
    'bad configuration: exit code 1, one "config: [section] key" line per problem on stderr, no stack trace',
    async () => {
      const app = launch({ BANDWIDTH_ACCOUNT_ID: undefined, NUMBERS_FROM_NUMBER: '12345', LOG_LEVEL: 'verbose' });
      const exit = await app.exitWithin(30_000);
      await Promise.race([app.closed, sleep(1000)]);
      expect(exit.code, app.describe()).toBe(1);

      const lines = app.stderr.split('\n');
      const problems = lines.filter((l) => l.startsWith('config: ['));
      expect(problems, app.stderr).toHaveLength(3);
      expect(problems.filter((l) => l.includes('[bandwidth] account_id'))).toHaveLength(1);
      expect(problems.filter((l) => l.includes('[numbers] from_number'))).toHaveLength(1);
      expect(
        problems.filter((l) =>
          l.startsWith('config: [log] level (env LOG_LEVEL): must be one of fatal, error, warn, info'),
        ),
      ).toHaveLength(1);
      // Besides the problems, no config line (CONFIG_FILE names a file, so there is no "no config.ini" hint).
      expect(lines.filter((l) => l.startsWith('config:') && !l.startsWith('config: ['))).toEqual([]);
      expect(lines.filter((l) => l.includes('    at '))).toEqual([]);
      expect(app.appLines().filter((l) => l.includes('"msg":"ready"'))).toEqual([]);
    },
    TEST_TIMEOUT_MS,
  );
});
