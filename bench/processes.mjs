// Child processes of the bench: the real app (`node <flags> scripts/start.mjs`, what `npm start` runs) and
// the bare Bolt app; their CPU time and memory from /proc (Linux).
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
// The node flags `npm start` passes (package.json), so that the bench runs the app as a user does.
const START_FLAGS = /^exec node ((?:--\S+ )*)scripts\/start\.mjs$/
  .exec(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).scripts.start)?.[1]
  ?.trim()
  .split(' ')
  .filter(Boolean);
if (!START_FLAGS) throw new Error('package.json: "start" is not `exec node [--flags] scripts/start.mjs`');
const TICKS_PER_SECOND = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

export async function freePort() {
  const server = createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** utime + stime of a process, in ms. */
export function cpuMs(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // fields[0] is field 3 (state)
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SECOND;
}

/** VmRSS in MB. */
export function rssMb(pid) {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) / 1024 : NaN;
}

/** This environment, less anything that would configure the bot or npm. */
function cleanEnv() {
  const env = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (/^(SLACK|BANDWIDTH|NUMBERS|PHONES|POLICY|STORE|LOG)_|^npm_|^CONFIG_FILE$/i.test(name)) continue;
    env[name] = value;
  }
  return env;
}

class Child {
  constructor(argv, env) {
    this.startedAt = performance.now();
    this.proc = spawn(process.execPath, argv, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.pid = this.proc.pid;
    this.stdout = '';
    this.stderr = '';
    this.proc.stdout.setEncoding('utf8').on('data', (chunk) => (this.stdout += chunk));
    this.proc.stderr.setEncoding('utf8').on('data', (chunk) => (this.stderr += chunk));
    this.exited = new Promise((resolve) =>
      this.proc.once('exit', (code, signal) => resolve((this.exit = { code, signal }))),
    );
  }

  /** JSON lines on stdout (the app logs with pino). */
  jsonLines() {
    return this.stdout.split('\n').flatMap((line) => {
      try {
        return line.startsWith('{') ? [JSON.parse(line)] : [];
      } catch {
        return [];
      }
    });
  }

  async waitForLog(msg, timeoutMs) {
    const until = performance.now() + timeoutMs;
    for (;;) {
      const line = this.jsonLines().find((l) => l.msg === msg);
      if (line) return line;
      if (this.exit || performance.now() > until) return undefined;
      await sleep(20);
    }
  }

  describe() {
    return `exit ${JSON.stringify(this.exit)}\n--- stderr ---\n${this.stderr.slice(-3000)}\n--- stdout ---\n${this.stdout.slice(-3000)}`;
  }

  async stop() {
    if (this.exit) return;
    this.proc.kill('SIGTERM');
    if (await Promise.race([this.exited, sleep(5000).then(() => false)])) return;
    this.proc.kill('SIGKILL');
    await this.exited;
  }
}

/**
 * The real app, configured by environment only (CONFIG_FILE names an empty file, so the checkout's
 * config.ini is never read). Resolves once GET /healthz answers 200, with `readyMs` = spawn to 200.
 */
export async function startApp(options) {
  const port = await freePort();
  const app = new Child([...START_FLAGS, 'scripts/start.mjs'], appEnv({ ...options, port }));
  app.port = port;
  for (;;) {
    const ok = await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(1000) }).then(
      async (res) => (await res.arrayBuffer(), res.status === 200),
      () => false,
    );
    if (ok) break;
    if (app.exit) throw new Error(`the app exited before /healthz answered 200\n${app.describe()}`);
    if (performance.now() - app.startedAt > 60_000) {
      await app.stop();
      throw new Error(`/healthz did not answer 200 within 60 s\n${app.describe()}`);
    }
    await sleep(10);
  }
  app.readyMs = performance.now() - app.startedAt;
  return app;
}

/** `npm run admin -- <args>` on the app's store, configured as the app is; resolves with its stdout, or throws. */
export async function runAdmin(options, args) {
  const admin = new Child(['scripts/admin.mjs', ...args], appEnv({ ...options, port: 0 }));
  const { code } = await admin.exited;
  if (code !== 0) throw new Error(`npm run admin -- ${args.join(' ')} failed\n${admin.describe()}`);
  return admin.stdout;
}

/** The app's environment (the only configuration it gets). */
function appEnv({
  configFile,
  storeUrl,
  slack,
  bandwidth,
  signingSecret,
  botToken,
  userNumber,
  logLevel = 'warn',
  port,
}) {
  return {
    ...cleanEnv(),
    CONFIG_FILE: configFile,
    BANDWIDTH_ACCOUNT_ID: '9900000',
    BANDWIDTH_CLIENT_ID: 'bench-client-id',
    BANDWIDTH_CLIENT_SECRET: 'bench-client-secret',
    BANDWIDTH_OAUTH_TOKEN_URL: bandwidth.tokenUrl,
    BANDWIDTH_MFA_BASE_URL: bandwidth.mfaBaseUrl,
    BANDWIDTH_VOICE_APPLICATION_ID: 'voice-app-0001',
    BANDWIDTH_MESSAGING_APPLICATION_ID: 'messaging-app-0001',
    NUMBERS_FROM_NUMBER: '+14155550100',
    // Every user without a [phones] entry gets codes on this phone: any user id can log in.
    NUMBERS_USER_NUMBER: userNumber,
    // That one phone takes every login of the run (a few hundred per store): the spend caps at their top.
    POLICY_MAX_SENDS_PER_PHONE_PER_HOUR: '1000',
    POLICY_MAX_SENDS_PER_HOUR_TOTAL: '100000',
    SLACK_BOT_TOKEN: botToken,
    SLACK_SIGNING_SECRET: signingSecret,
    SLACK_API_URL: `${slack.origin}/api/`,
    SLACK_PORT: String(port),
    STORE_URL: storeUrl,
    LOG_LEVEL: logLevel,
  };
}

/** The bare Bolt app (bench/bare-bolt.mjs), with the gate's store read first if `read` is set; resolves once it printed its port. */
export async function startBare({ slack, signingSecret, botToken, read }) {
  const bare = new Child(['bench/bare-bolt.mjs'], {
    ...cleanEnv(),
    BENCH_SIGNING_SECRET: signingSecret,
    BENCH_BOT_TOKEN: botToken,
    BENCH_SLACK_API_URL: `${slack.origin}/api/`,
    BENCH_PORT: '0',
    ...(read ? { BENCH_READ: read } : {}),
  });
  for (;;) {
    const match = /listening (\d+)/.exec(bare.stdout);
    if (match) {
      bare.port = Number(match[1]);
      return bare;
    }
    if (bare.exit) throw new Error(`the bare Bolt app exited\n${bare.describe()}`);
    await sleep(10);
  }
}

/** `tsc -b`, so that every start below is a warm one. */
export function build() {
  const tsc = spawnSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-b'], {
    cwd: ROOT,
    stdio: 'inherit',
  });
  if (tsc.status !== 0) throw new Error('the build (tsc -b) failed');
}
