import { type ChildProcess, execFile, execFileSync, spawn, spawnSync } from 'node:child_process';
import {
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parseEnv } from 'node:util';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { SECRETS, testEnv, USERS } from '../helpers/harness.js';
import { cleanEnv, freePort, ROOT, sleep } from '../helpers/process.js';
import { StandIns } from '../helpers/replicas.js';
import { SlackRequests } from '../helpers/slack-client.js';

/**
 * The container, without Docker: the files the Dockerfile, compose.yaml and the systemd unit hold are
 * read as Docker and systemd read them, and what the image runs is run in a clean folder: the
 * Dockerfile's own production install (`npm ci --omit=dev`, which builds SQLite's drivers from source where no
 * prebuilt binary fits: 1.5 minutes on an idle 2-core machine, done once), the compiled dist/, then the image's CMD
 * and HEALTHCHECK exactly as the Dockerfile writes them.
 */

const read = (file: string) => readFileSync(join(ROOT, file), 'utf8');
const PACKAGE = JSON.parse(read('package.json')) as {
  dependencies: Record<string, string>;
  scripts: Record<string, string>;
};
/** The node flags `npm start` passes (V8's young generation is sized only at start): every launcher passes the same. */
const NODE_FLAGS =
  /^exec node ((?:--\S+ )*)scripts\/start\.mjs$/
    .exec(PACKAGE.scripts.start ?? '')?.[1]
    ?.trim()
    .split(' ')
    .filter(Boolean) ?? [];

interface Instruction {
  op: string;
  args: string;
}
interface Stage {
  name: string;
  base: string;
  steps: Instruction[];
}

/** Dockerfile -> stages of instructions (comments dropped, `\` continuations joined). */
function parseDockerfile(text: string): Stage[] {
  const logical = text
    .split('\n')
    .filter((line) => !/^\s*#/.test(line))
    .join('\n')
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean);
  const stages: Stage[] = [];
  for (const line of logical) {
    const [, op = '', args = ''] = /^(\S+)\s*(.*)$/.exec(line) ?? [];
    const step = { op: op.toUpperCase(), args: args.replace(/\s+/g, ' ') };
    if (step.op === 'FROM') {
      const [, base = '', name] = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(step.args) ?? [];
      stages.push({ name: name ?? String(stages.length), base, steps: [] });
    } else if (stages.length > 0) {
      stages.at(-1)!.steps.push(step);
    }
  }
  return stages;
}

const STAGES = parseDockerfile(read('Dockerfile'));
const RUNTIME = STAGES.at(-1)!;
const stepsOf = (stage: Stage, op: string) => stage.steps.filter((s) => s.op === op).map((s) => s.args);
/** An exec-form (JSON array) CMD, or the HEALTHCHECK's CMD after its options. */
const execForm = (args: string) =>
  JSON.parse(/(?:^|\s)(?:CMD\s+)?(\[.*\])$/.exec(args)?.[1] ?? 'null') as string[] | null;
/** `COPY --from=<stage> <src> <dest>` of the runtime stage, by destination. */
function copies(stage: Stage): Array<{ from: string | undefined; src: string; dest: string }> {
  return stepsOf(stage, 'COPY').map((args) => {
    const from = /--from=(\S+)/.exec(args)?.[1];
    const paths = args.split(' ').filter((word) => !word.startsWith('--'));
    return { from, src: paths.slice(0, -1).join(' '), dest: paths.at(-1)! };
  });
}
/** The runtime's node_modules and the stage they are installed in. */
function dependencyStage(): Stage {
  const copy = copies(RUNTIME).find((c) => /node_modules\/?$/.test(c.dest));
  const stage = STAGES.find((s) => s.name === copy?.from);
  if (!stage) throw new Error('the runtime stage copies node_modules from no stage of the Dockerfile');
  return stage;
}
/** The runtime's ENV lines (`KEY=value`, several per line allowed; no quotes used). */
function runtimeEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const args of stepsOf(RUNTIME, 'ENV'))
    for (const [, key, value] of args.matchAll(/(\w+)=(\S*)/g)) env[key!] = value!;
  return env;
}

/** The names config.ini.default gives its keys (commented or not), as environment variables. */
function configEnvNames(): string[] {
  const names: string[] = [];
  let section = '';
  for (const line of read('config.ini.default').split('\n')) {
    // A section's keys, also commented ones; [phones] and [command /name] have no fixed env names.
    const header = /^[;#]?\s*\[([^\]]+)\]/.exec(line);
    if (header) section = /^\w+$/.test(header[1]!) && header[1] !== 'phones' ? header[1]! : '';
    const key = /^[;#]?\s*([a-z_]+)\s*=/.exec(line);
    if (key && section) names.push(`${section}_${key[1]}`.toUpperCase());
  }
  return names;
}

describe('the container and operator files, read as Docker and systemd read them', () => {
  test('Dockerfile: build, production-only dependencies and a runtime stage that runs node as a non-root user with a health check', () => {
    expect(STAGES.map((s) => s.name).length).toBeGreaterThanOrEqual(2);
    expect(RUNTIME.base).toMatch(/^node:/);

    const user = stepsOf(RUNTIME, 'USER').at(-1);
    expect(user, 'the runtime stage sets no USER: it would run as root').toBeDefined();
    expect(user).not.toMatch(/^(root|0)(:|$)/);

    const cmd = execForm(stepsOf(RUNTIME, 'CMD').at(-1) ?? '');
    expect(cmd, 'CMD must be in exec form, so that SIGTERM reaches node and not a shell').not.toBeNull();
    expect(NODE_FLAGS, 'npm start passes the young generation size').toContain('--max-semi-space-size=8');
    expect(cmd, 'the same node flags as npm start').toEqual(['node', ...NODE_FLAGS, 'dist/main.js']);
    expect(stepsOf(RUNTIME, 'ENTRYPOINT')).toEqual([]);

    const health = stepsOf(RUNTIME, 'HEALTHCHECK').at(-1) ?? '';
    expect(execForm(health)?.[0], 'HEALTHCHECK runs node (no curl in a slim image)').toBe('node');
    expect(execForm(health)?.join(' ')).toContain('/healthz');
    expect(stepsOf(RUNTIME, 'EXPOSE')).toContain('3000');
    expect(runtimeEnv()).toMatchObject({ NODE_ENV: 'production' });

    // Only the production install reaches the image; nothing is installed in the runtime stage itself.
    const install = stepsOf(dependencyStage(), 'RUN').filter((r) => /\bnpm (ci|install|i)\b/.test(r));
    expect(install).toHaveLength(1);
    expect(install[0]).toMatch(/\bnpm ci\b.*--omit=dev/);
    expect(stepsOf(RUNTIME, 'RUN').filter((r) => /\bnpm\b/.test(r))).toEqual([]);
    // The runtime gets node_modules, dist/, package.json ("type": "module") and scripts/ (`npm run jwks`), and no sources.
    expect(
      copies(RUNTIME)
        .map((c) => c.src)
        .sort(),
    ).toEqual(['/app/dist', '/app/node_modules', 'package.json', 'scripts']);
  });

  test('Dockerfile: state in a volume that the default [store] url reaches, writable by the runtime user; no config key baked in', () => {
    const volume = stepsOf(RUNTIME, 'VOLUME');
    expect(volume).toEqual(['/data']);
    const workdir = stepsOf(RUNTIME, 'WORKDIR').at(-1);
    expect(workdir).toBe('/app');
    const run = stepsOf(RUNTIME, 'RUN').join(' && ');
    expect(run).toContain('ln -s /data /app/data'); // sqlite://data/state.sqlite is relative to WORKDIR
    expect(run).toContain(`chown ${stepsOf(RUNTIME, 'USER').at(-1)}`);
    // The environment wins over config.ini: a key set here would silently override a mounted file.
    const configKeys = new Set(configEnvNames());
    expect(Object.keys(runtimeEnv()).filter((name) => configKeys.has(name) || name.startsWith('PHONES_'))).toEqual([]);
  });

  test('.dockerignore keeps secrets, local state and local builds out of the build context', () => {
    const ignored = read('.dockerignore')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'));
    for (const path of ['config.ini', '.env', 'data', 'node_modules', 'dist', '.git']) expect(ignored).toContain(path);
    // Everything the build stages copy from the context is not ignored.
    const fromContext = STAGES.flatMap(copies)
      .filter((c) => !c.from)
      .flatMap((c) => c.src.split(' '));
    for (const src of fromContext) expect(ignored).not.toContain(src.replace(/^\.\//, ''));
  });

  test('compose.yaml: two bot replicas on one Redis, configured by .env, behind a round-robin load balancer that checks /healthz', () => {
    const compose = parseYaml(read('compose.yaml'), { merge: true }) as { services: Record<string, any> };
    const bots = Object.entries(compose.services).filter(([, s]) => s.build !== undefined);
    expect(bots).toHaveLength(2);
    for (const [, bot] of bots) {
      expect(bot.build).toBe('.');
      expect([bot.env_file].flat()).toContain('.env');
      expect(bot.environment.STORE_URL).toMatch(/^redis:\/\/redis:6379\//);
      expect(bot.environment.SLACK_APP_TOKEN, 'replicas behind a load balancer run in HTTP mode').toBeUndefined();
      expect(bot.depends_on.redis.condition).toBe('service_healthy');
    }
    expect(compose.services.redis.image).toMatch(/^redis:/);

    const lb = compose.services.lb;
    expect(lb.image).toMatch(/^haproxy:/);
    const mount = (lb.volumes as string[]).find((v) => v.includes('haproxy.cfg'))!;
    expect(mount.split(':')[0]).toBe('./deploy/haproxy.cfg');
    const cfg = read('deploy/haproxy.cfg');
    expect(cfg).toMatch(/^\s*balance roundrobin$/m);
    expect(cfg).toMatch(/^\s*option httpchk GET \/healthz$/m);
    expect(cfg).toMatch(/^\s*default-server check\b/m);
    const servers = [...cfg.matchAll(/^\s*server \S+ (\S+):(\d+)/gm)].map(([, host, port]) => `${host}:${port}`);
    expect(servers.sort()).toEqual(bots.map(([name, bot]) => `${name}:${bot.environment.SLACK_PORT}`).sort());
    const published = (lb.ports as string[]).map((p) => p.split(':').at(-1));
    expect(cfg).toMatch(new RegExp(`^\\s*bind :${published[0]}$`, 'm'));
  });

  test('compose.yaml: ./config.ini (declared commands) is offered read-only to every replica, commented out so that compose starts without one', () => {
    const text = read('compose.yaml');
    // As shipped, nothing is mounted from the checkout into the replicas: a missing ./config.ini cannot break `up`.
    const shipped = parseYaml(text, { merge: true }) as { services: Record<string, any> };
    for (const bot of Object.values(shipped.services).filter((s) => s.build !== undefined))
      expect(bot.volumes).toBeUndefined();
    // With the documented two lines uncommented, each replica gets /app/config.ini read-only (the image's WORKDIR).
    const uncommented = text.replace(/^( {2})# (volumes:\n)\1# ( {2}- \.\/config\.ini:)/m, '$1$2$1$3');
    expect(uncommented).not.toBe(text);
    const withFile = parseYaml(uncommented, { merge: true }) as { services: Record<string, any> };
    const bots = Object.values(withFile.services).filter((s) => s.build !== undefined);
    expect(bots).toHaveLength(2);
    for (const bot of bots)
      expect(bot.volumes).toEqual([`./config.ini:${stepsOf(RUNTIME, 'WORKDIR').at(-1)}/config.ini:ro`]);
  });

  test('deploy/phonegate.service: node itself as an unprivileged user, SIGTERM with time to finish, hardened', () => {
    const text = read('deploy/phonegate.service');
    const service = Object.fromEntries(
      text
        .split('\n')
        .filter((l) => /^\w+=/.test(l))
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
    );
    expect(service.ExecStart, 'the same node flags as npm start').toBe(
      ['/usr/bin/node', ...NODE_FLAGS, 'dist/main.js'].join(' '),
    );
    expect(service.User).toBe('phonegate');
    expect(service.KillSignal).toBe('SIGTERM');
    expect(service.Restart).toBe('on-failure');
    expect(service.TimeoutStopSec).toBeDefined();
    expect(service.EnvironmentFile).toBeDefined();
    expect(service).toMatchObject({
      NoNewPrivileges: 'yes',
      ProtectSystem: 'strict',
      PrivateTmp: 'yes',
      ReadWritePaths: `${service.WorkingDirectory}/data`,
    });
    // systemd's own check, where systemd is installed: unknown keys and bad values are reported on stderr.
    const verify = execFileSync(
      'sh',
      [
        '-c',
        'command -v systemd-analyze >/dev/null || exit 0; systemd-analyze verify "$1" 2>&1',
        'sh',
        join(ROOT, 'deploy/phonegate.service'),
      ],
      { encoding: 'utf8' },
    );
    expect(verify).toBe('');
  });

  test('.env.example lists every config key by its environment name, and only those', () => {
    const text = read('.env.example');
    const named = [...text.matchAll(/^#? ?([A-Z][A-Z0-9_]*)=/gm)].map(([, name]) => name!);
    const known = configEnvNames();
    expect(new Set(named.filter((n) => !n.startsWith('PHONES_') && n !== 'CONFIG_FILE'))).toEqual(new Set(known));
    expect(named.filter((n) => n.startsWith('PHONES_'))).not.toEqual([]);
    // The lines left open parse as node --env-file reads them, all blank: no secret, nothing preset.
    expect(Object.values(parseEnv(text)).filter((v) => v !== '')).toEqual([]);
  });

  test('.nvmrc names the Node major the image is built on', () => {
    const nvmrc = read('.nvmrc').trim();
    expect(nvmrc).toMatch(/^\d+$/);
    expect(/^ARG NODE_VERSION=(\S+)$/m.exec(read('Dockerfile'))?.[1]).toBe(nvmrc);
  });
});

/** Runs the HEALTHCHECK's command as Docker would, in the container's environment; resolves with its exit code. */
function runHealthcheck(cwd: string, env: Record<string, string>): Promise<number> {
  const [file, ...args] = execForm(stepsOf(RUNTIME, 'HEALTHCHECK').at(-1) ?? '') ?? [];
  if (!file) throw new Error('the Dockerfile has no exec-form HEALTHCHECK');
  return new Promise((resolve) => {
    execFile(file, args, { cwd, env, timeout: 10_000 }, (error) => resolve(error ? Number(error.code ?? 1) : 0));
  });
}

/**
 * Starts a bot process the way a launcher does, collects what it prints, and waits until its /healthz
 * answers 200 (a generous bound: a cold start of a fresh install).
 */
async function launch(
  file: string,
  args: string[],
  options: { cwd: string; env: Record<string, string> },
  port: number,
): Promise<{
  child: ChildProcess;
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}> {
  const child = spawn(file, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const until = Date.now() + 30_000;
  for (;;) {
    const status = await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(1000) }).then(
      (r) => r.status,
      () => 0,
    );
    if (status === 200) break;
    if (child.exitCode !== null || Date.now() > until) {
      if (child.exitCode === null) child.kill('SIGKILL');
      throw new Error(`/healthz did not answer 200 (last: ${status}).\n${output}`);
    }
    await sleep(50);
  }
  return { child, output: () => output, exited };
}

/** Runs an install command in `cwd` without blocking the event loop; rejects with the end of its stderr. */
function shellInstall(command: string, cwd: string): Promise<number> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    execFile(
      'sh',
      ['-c', command],
      { cwd, env: cleanEnv(), timeout: 900_000, maxBuffer: 64 * 1024 * 1024 },
      (error, _out, stderr) =>
        error
          ? reject(new Error(`${command} failed:\n${String(stderr).slice(-2000)}`))
          : resolve(performance.now() - started),
    );
  });
}

/**
 * The two production installs (the image's `npm ci --omit=dev` and the unit's steps) each compile better-sqlite3 and sqlite3:
 * minutes apiece. The first describe starts both at once, so they overlap instead of queueing.
 */
let unitInstall: { dir: string; done: Promise<number> } | undefined;
function startUnitInstall(): { dir: string; done: Promise<number> } {
  if (unitInstall) return unitInstall;
  const dir = mkdtempSync(join(tmpdir(), 'phonegate-unit-'));
  // What a clone holds: the tracked files, as they are in this working tree.
  const tracked = execFileSync('git', ['ls-files', '-z'], { cwd: ROOT, encoding: 'utf8' }).split('\0').filter(Boolean);
  for (const file of tracked) {
    if (!existsSync(join(ROOT, file))) continue; // deleted in the working tree
    mkdirSync(dirname(join(dir, file)), { recursive: true });
    copyFileSync(join(ROOT, file), join(dir, file));
  }
  const done = shellInstall(unitInstallSteps().steps, dir);
  done.catch(() => undefined); // awaited (and reported) by its own describe
  unitInstall = { dir, done };
  return unitInstall;
}

describe('what the image runs, in a clean folder (no Docker)', () => {
  let dir: string;
  /** /app */
  let app: string;
  /** the volume /data */
  let volume: string;
  let installMs = 0;
  const running: ChildProcess[] = [];

  beforeAll(async () => {
    startUnitInstall();
    dir = mkdtempSync(join(tmpdir(), 'phonegate-image-'));
    app = join(dir, 'app');
    volume = join(dir, 'data');
    mkdirSync(app);
    mkdirSync(volume);

    // Stage "deps": the Dockerfile's own install command, on package.json and the lock file alone.
    for (const file of ['package.json', 'package-lock.json']) copyFileSync(join(ROOT, file), join(app, file));
    const install = stepsOf(dependencyStage(), 'RUN').find((r) => /\bnpm ci\b/.test(r))!;
    // A generous bound: 1.5 minutes on an idle 2-core machine, over 6 on a busy one (the SQLite compiles).
    installMs = await shellInstall(install, app);
    console.log(`production install (${install}): ${Math.round(installMs / 1000)} s`);

    // Stage "build": src/ compiled with the project's tsconfig (into this folder; the checkout's dist/ is left alone).
    execFileSync(
      process.execPath,
      [
        join(ROOT, 'node_modules/typescript/bin/tsc'),
        '-p',
        join(ROOT, 'tsconfig.json'),
        '--outDir',
        join(app, 'dist'),
        '--tsBuildInfoFile',
        join(dir, 'tsbuildinfo'),
      ],
      {
        cwd: ROOT,
        stdio: 'pipe',
        timeout: 120_000,
      },
    );
    // Runtime stage: what it copies from the build context (package.json is there already), and /app/data -> the volume.
    for (const { from, src, dest } of copies(RUNTIME))
      if (!from && src !== 'package.json') cpSync(join(ROOT, src), join(app, dest), { recursive: true });
    symlinkSync(volume, join(app, 'data'));
  }, 1_080_000);

  afterAll(() => {
    for (const child of running) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('only production dependencies are installed', () => {
    // What the lock file marks dev-only (vitest, typescript, nock and what only they need). A
    // devDependency may also be a production one's dependency (@types/node, through @types/express).
    const lock = JSON.parse(read('package-lock.json')) as { packages: Record<string, { dev?: boolean }> };
    const devOnly = Object.entries(lock.packages)
      .filter(([path, entry]) => path && entry.dev)
      .map(([path]) => path);
    expect(devOnly).toEqual(
      expect.arrayContaining(['node_modules/vitest', 'node_modules/typescript', 'node_modules/nock']),
    );
    expect(devOnly.filter((path) => existsSync(join(app, path)))).toEqual([]);
    for (const name of Object.keys(PACKAGE.dependencies)) {
      expect(existsSync(join(app, 'node_modules', name, 'package.json')), `dependency ${name} is missing`).toBe(true);
    }
  });

  test('the CMD, configured by the environment alone: /healthz 200, the HEALTHCHECK passes, a signed command is answered, state lands in the volume; SIGTERM: exit 0, and the HEALTHCHECK then fails', async () => {
    const standIns = await StandIns.start();
    try {
      const port = await freePort();
      // The container's environment: the image's ENV, then what an operator passes (-e / env_file).
      const env = {
        ...cleanEnv(),
        ...runtimeEnv(),
        ...testEnv('basic'),
        SLACK_API_URL: `${standIns.slackOrigin}/api/`,
        BANDWIDTH_MFA_BASE_URL: `${standIns.bandwidthOrigin}/api/v1`,
        SLACK_PORT: String(port),
      };
      const [file, ...args] = execForm(stepsOf(RUNTIME, 'CMD').at(-1) ?? '')!;
      const { child, output, exited } = await launch(file!, args, { cwd: app, env }, port);
      running.push(child);
      expect(await runHealthcheck(app, env), output()).toBe(0);

      const requests = new SlackRequests(`http://127.0.0.1:${port}`, SECRETS.signingSecret);
      const who = await requests.post(requests.commandBody('/whoami', USERS.bob));
      expect(who.status, output()).toBe(200);
      expect(who.json?.response_type).toBe('ephemeral');
      // The default [store] url reached the volume through /app/data.
      expect(existsSync(join(volume, 'state.sqlite'))).toBe(true);

      child.kill('SIGTERM');
      const exit = await Promise.race([exited, sleep(10_000).then(() => undefined)]);
      expect(exit, output()).toEqual({ code: 0, signal: null });
      expect(output()).toContain('"msg":"shutting down"');
      // With nothing listening, the health check reports unhealthy.
      expect(await runHealthcheck(app, env)).not.toBe(0);
    } finally {
      await standIns.close();
    }
  }, 60_000);

  test('`node scripts/jwks.mjs` in the image (no compiler): the JWKS of the signing key in the volume, from [actions] and a declared command alone', () => {
    expect(existsSync(join(app, 'node_modules', 'typescript'))).toBe(false);
    const configFile = join(dir, 'config.ini');
    writeFileSync(configFile, '[command /deploy]\nurl = https://deploy.example/hook\n');
    const run = spawnSync(process.execPath, ['scripts/jwks.mjs'], {
      cwd: app,
      env: { ...cleanEnv(), ...runtimeEnv(), CONFIG_FILE: configFile },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect((JSON.parse(run.stdout) as { keys: unknown[] }).keys).toHaveLength(1);
    // The default [actions] signing_key_file, data/actions-signing-key.pem, is in the volume, as the bot's is.
    expect(statSync(join(volume, 'actions-signing-key.pem')).mode & 0o777).toBe(0o600);
  });
});

/** The install steps the unit's header gives, after `cd <WorkingDirectory> &&`. */
function unitInstallSteps(): { workdir: string; steps: string } {
  const text = read('deploy/phonegate.service');
  const workdir = /^WorkingDirectory=(\S+)$/m.exec(text)?.[1] ?? '';
  const steps = new RegExp(`^#\\s+cd ${workdir} && (.+)$`, 'm').exec(text)?.[1]?.trim();
  if (!workdir || !steps)
    throw new Error('deploy/phonegate.service gives no `cd <WorkingDirectory> && ...` install line');
  return { workdir, steps };
}

describe("the systemd unit's install steps, in a clean copy of the checkout (no systemd)", () => {
  let dir: string;
  let installMs = 0;

  beforeAll(async () => {
    const install = startUnitInstall(); // started already by the image's describe, when that one runs
    dir = install.dir;
    installMs = await install.done;
    const { steps } = unitInstallSteps();
    console.log(`the unit's install (${steps}): ${Math.round(installMs / 1000)} s`);
  }, 1_080_000);

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('they build dist/ and leave only the production dependencies', () => {
    expect(unitInstallSteps().steps).toMatch(/\bnpm ci\b/);
    expect(existsSync(join(dir, 'dist', 'main.js'))).toBe(true);
    const lock = JSON.parse(read('package-lock.json')) as { packages: Record<string, { dev?: boolean }> };
    const devOnly = Object.entries(lock.packages)
      .filter(([path, entry]) => path && entry.dev)
      .map(([path]) => path);
    expect(devOnly.filter((path) => existsSync(join(dir, path)))).toEqual([]);
    for (const name of Object.keys(PACKAGE.dependencies))
      expect(existsSync(join(dir, 'node_modules', name, 'package.json')), `dependency ${name} is missing`).toBe(true);
  });

  test("the unit's ExecStart in its WorkingDirectory: /healthz 200, a signed command answered; SIGTERM: exit 0", async () => {
    const text = read('deploy/phonegate.service');
    const [node, ...args] = (/^ExecStart=(.+)$/m.exec(text)?.[1] ?? '').split(' ');
    expect(node).toBe('/usr/bin/node');
    const standIns = await StandIns.start();
    try {
      const port = await freePort();
      const env = {
        ...cleanEnv(),
        NODE_ENV: /^Environment=NODE_ENV=(\S+)$/m.exec(text)?.[1] ?? '',
        ...testEnv('basic'),
        SLACK_API_URL: `${standIns.slackOrigin}/api/`,
        BANDWIDTH_MFA_BASE_URL: `${standIns.bandwidthOrigin}/api/v1`,
        SLACK_PORT: String(port),
      };
      // This machine's node stands in for /usr/bin/node; the arguments are the unit's.
      const { child, output, exited } = await launch(process.execPath, args, { cwd: dir, env }, port);
      try {
        const requests = new SlackRequests(`http://127.0.0.1:${port}`, SECRETS.signingSecret);
        const who = await requests.post(requests.commandBody('/whoami', USERS.bob));
        expect(who.status, output()).toBe(200);
        expect(existsSync(join(dir, 'data', 'state.sqlite'))).toBe(true);
        child.kill('SIGTERM');
        const exit = await Promise.race([exited, sleep(10_000).then(() => undefined)]);
        expect(exit, output()).toEqual({ code: 0, signal: null });
      } finally {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      }
    } finally {
      await standIns.close();
    }
  }, 60_000);
});
