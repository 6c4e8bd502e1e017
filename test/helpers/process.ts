import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** What the tests that start the real process (`npm start`) share. */

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The environment of someone who has configured nothing for this app, and is not inside npm. */
export function cleanEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (value === undefined) continue;
    if (/^(SLACK|BANDWIDTH|NUMBERS|PHONES|POLICY|STORE|LOG)_/.test(name)) continue;
    if (name === 'CONFIG_FILE' || /^npm_/i.test(name)) continue;
    env[name] = value;
  }
  return env;
}

export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  const address = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return address.port;
}

/** Live (not zombie) pids of a process group, from /proc. */
export function groupMembers(pgid: number): Array<{ pid: number; argv: string[] }> {
  const members: Array<{ pid: number; argv: string[] }> = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(pgrp) !== pgid || state === 'Z') continue;
      members.push({
        pid: Number(entry),
        argv: readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').filter(Boolean),
      });
    } catch {
      // ended while we looked
    }
  }
  return members;
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

const PACKAGE = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  name: string;
  version: string;
  scripts: Record<string, string>;
};
/** What npm itself prints on stdout before running the script; everything else must be our JSON. */
const NPM_BANNER = new Set(['', `> ${PACKAGE.name}@${PACKAGE.version} start`, `> ${PACKAGE.scripts.start}`]);

/**
 * One `npm start`, with everything it printed. It runs in its own process group (spawn's
 * `detached`), so that clean-up reaches the whole tree: npm -> node scripts/start.mjs (the script
 * runs `exec node`).
 */
export class AppProcess {
  readonly proc: ChildProcess;
  readonly startedAt = performance.now();
  stdout = '';
  stderr = '';
  exit: Exit | undefined;
  /** npm exited. */
  readonly exited: Promise<Exit>;
  /** npm exited and every process holding its stdout/stderr (e.g. an orphaned node) has too. */
  readonly closed: Promise<void>;

  constructor(env: Record<string, string>) {
    this.proc = spawn('npm', ['start'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    this.proc.stdout!.setEncoding('utf8').on('data', (chunk: string) => (this.stdout += chunk));
    this.proc.stderr!.setEncoding('utf8').on('data', (chunk: string) => (this.stderr += chunk));
    this.exited = new Promise((resolve) =>
      this.proc.once('exit', (code, signal) => {
        this.exit = { code, signal };
        resolve(this.exit);
      }),
    );
    this.closed = new Promise((resolve) => this.proc.once('close', () => resolve()));
  }

  get pgid(): number {
    return this.proc.pid!;
  }

  /** The node process running the bot (npm's child: the start script execs node), not npm itself. */
  appPid(): number | undefined {
    return groupMembers(this.pgid).find(
      ({ argv }) => /(^|\/)node$/.test(argv[0] ?? '') && argv.at(-1) === 'scripts/start.mjs',
    )?.pid;
  }

  /** stdout lines that are not npm's own banner. */
  appLines(): string[] {
    return this.stdout.split('\n').filter((line) => !NPM_BANNER.has(line));
  }

  /** Every line the bot printed, parsed: throws if one is not JSON. */
  jsonLines(): Array<Record<string, any>> {
    return this.appLines().map((line) => JSON.parse(line) as Record<string, any>);
  }

  /** The JSON lines the bot printed, anything else (a line cut short at a kill) left out. */
  lines(): Array<Record<string, any>> {
    return this.appLines().flatMap((line) => {
      try {
        return [JSON.parse(line) as Record<string, any>];
      } catch {
        return [];
      }
    });
  }

  /** Waits for a JSON stdout line with this msg. */
  async waitForLog(msg: string, timeoutMs = 5000): Promise<Record<string, any>> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const line = this.lines().find((l) => l.msg === msg);
      if (line) return line;
      if (Date.now() > until) throw new Error(`no log line "${msg}" within ${timeoutMs} ms.\n${this.describe()}`);
      await sleep(25);
    }
  }

  describe(): string {
    return `exit: ${JSON.stringify(this.exit)}\n--- stdout (last 8000) ---\n${this.stdout.slice(-8000)}\n--- stderr (last 4000) ---\n${this.stderr.slice(-4000)}`;
  }

  /** Resolves with how long npm took to exit, or rejects after `ms`. */
  async exitWithin(ms: number): Promise<Exit & { ms: number }> {
    const from = performance.now();
    const exit = await Promise.race([this.exited, sleep(ms).then(() => undefined)]);
    if (!exit) throw new Error(`npm start did not exit within ${ms} ms.\n${this.describe()}`);
    return { ...exit, ms: performance.now() - from };
  }

  /** Clean-up: SIGTERM to the whole process group, SIGKILL to whatever is left after a while. */
  async kill(graceMs = 3000): Promise<void> {
    for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
      if (groupMembers(this.pgid).length === 0) break;
      try {
        process.kill(-this.pgid, signal);
      } catch {
        break; // the group is gone
      }
      const until = Date.now() + graceMs;
      while (groupMembers(this.pgid).length > 0 && Date.now() < until) await sleep(25);
    }
    await Promise.race([this.closed, sleep(1000)]);
  }
}
