// `npm run bench:start [-- runs]`: how long a warm `npm start` takes until GET /healthz answers 200.
// Builds once, then starts the bot several times (HTTP mode, SQLite in a temp folder, a stand-in of
// Slack's auth.test on 127.0.0.1) and prints the median. A measurement, not a test: the suite asserts
// no wall time, since a busy machine would fail it. The goal is a median under 2 s on a quiet machine.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const stamp = join(root, 'dist', '.tsbuildinfo'); // scripts/start.mjs touches it when it rebuilds
const runs = Number(process.argv[2] ?? 7);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function listen(server) {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server.address().port)));
}

/** Slack's Web API as far as a start needs it: auth.test. */
const slack = createServer((req, res) => {
  req.resume().on('end', () => {
    const body = req.url.endsWith('/auth.test')
      ? {
          ok: true,
          url: 'https://bench.slack.com/',
          team: 'Bench',
          user: 'phonegate',
          team_id: 'T0001',
          user_id: 'UBOT0001',
          bot_id: 'BBOT0001',
        }
      : { ok: true };
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  });
});
const slackPort = await listen(slack);

const dir = mkdtempSync(join(tmpdir(), 'phonegate-bench-'));
const configFile = join(dir, 'config.ini');
writeFileSync(configFile, ''); // so that a config.ini in the checkout is not read

/** This environment, less anything that would configure the bot or npm, plus a complete bench config. */
function benchEnv(port) {
  const env = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (/^(SLACK|BANDWIDTH|NUMBERS|PHONES|POLICY|STORE|LOG)_|^npm_|^CONFIG_FILE$/i.test(name)) continue;
    env[name] = value;
  }
  return {
    ...env,
    CONFIG_FILE: configFile,
    BANDWIDTH_ACCOUNT_ID: '9900000',
    BANDWIDTH_API_USER: 'bench-user',
    BANDWIDTH_API_PASSWORD: 'bench-password',
    BANDWIDTH_VOICE_APPLICATION_ID: 'voice-app-0001',
    BANDWIDTH_MESSAGING_APPLICATION_ID: 'messaging-app-0001',
    BANDWIDTH_MFA_BASE_URL: 'http://127.0.0.1:9/api/v1', // never called at start
    NUMBERS_FROM_NUMBER: '+14155550100',
    SLACK_BOT_TOKEN: 'xoxb-bench-token',
    SLACK_SIGNING_SECRET: 'bench-signing-secret',
    SLACK_API_URL: `http://127.0.0.1:${slackPort}/api/`,
    SLACK_PORT: String(port),
    STORE_URL: `sqlite://${join(dir, 'state.sqlite')}`,
    LOG_LEVEL: 'silent',
  };
}

async function freePort() {
  const server = createServer();
  const port = await listen(server);
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** One `npm start`: ms from spawn until /healthz answers 200; then the whole process group is stopped. */
async function oneStart() {
  const port = await freePort();
  const startedAt = performance.now();
  const child = spawn('npm', ['start'], {
    cwd: root,
    env: benchEnv(port),
    stdio: ['ignore', 'ignore', 'pipe'],
    detached: true,
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk) => (stderr += chunk));
  let exited = false;
  const exit = new Promise((resolve) => child.once('exit', () => resolve((exited = true))));
  try {
    for (;;) {
      if (exited) throw new Error(`npm start exited before /healthz answered:\n${stderr}`);
      if (performance.now() - startedAt > 30_000) throw new Error(`/healthz did not answer within 30 s:\n${stderr}`);
      const ok = await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(1000) }).then(
        async (res) => (await res.arrayBuffer(), res.status === 200),
        () => false,
      );
      if (ok) return performance.now() - startedAt;
      await sleep(10);
    }
  } finally {
    if (!exited) process.kill(-child.pid, 'SIGTERM');
    await Promise.race([exit, sleep(5000)]);
    if (!exited) process.kill(-child.pid, 'SIGKILL');
  }
}

try {
  const tsc = spawnSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-b'], {
    cwd: root,
    stdio: 'inherit',
  });
  if (tsc.status !== 0) throw new Error('the build failed');
  await oneStart(); // the first start after a build warms the file cache; it is not counted
  const times = [];
  for (let i = 0; i < runs; i++) {
    const builtAt = statSync(stamp).mtimeMs;
    const ms = await oneStart();
    // A source changed during the bench (an editor saving): that start compiled, so it is not a warm one.
    const rebuilt = statSync(stamp).mtimeMs !== builtAt;
    if (!rebuilt) times.push(ms);
    console.log(
      `start ${i + 1}/${runs}: /healthz answered 200 after ${Math.round(ms)} ms${rebuilt ? ' (rebuilt first: not counted)' : ''}`,
    );
  }
  if (times.length === 0) throw new Error('every start rebuilt (sources kept changing): no warm start to report');
  times.sort((a, b) => a - b);
  const median =
    times.length % 2 ? times[(times.length - 1) / 2] : (times[times.length / 2 - 1] + times[times.length / 2]) / 2;
  console.log(
    `warm start (npm start until /healthz answers 200): median ${Math.round(median)} ms over ${times.length} runs (min ${Math.round(times[0])}, max ${Math.round(times.at(-1))})`,
  );
} finally {
  slack.close();
  rmSync(dir, { recursive: true, force: true });
}
