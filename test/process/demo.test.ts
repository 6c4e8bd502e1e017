import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, test } from 'vitest';
import { cleanEnv, groupMembers, ROOT, sleep } from '../helpers/process.js';

/**
 * `npm run demo` (issue 19 §1) as a new user runs it: a real child process, its page driven in headless
 * Chromium (the distribution's, through playwright-core) with the steps `npm run screenshots` takes
 * (demo/drive.mjs): a member logs in with a wrong code then the right one read off their phone in the
 * page, /whoami, the admin's /admin step-up, /deploy to the endpoint that verifies the token. Then
 * Ctrl-C: exit 0, the bot gone, the temporary folder gone. And if the demo is killed outright, the
 * bot still does not outlive it. Linux only (reads /proc).
 */

const CHROMIUM = '/usr/bin/chromium';
const HAS_CHROMIUM = existsSync(CHROMIUM);
if (!HAS_CHROMIUM) {
  if (process.env.REQUIRE_CHROMIUM === '1')
    throw new Error(
      `${CHROMIUM} is missing, and REQUIRE_CHROMIUM=1 says the demo's browser test must run (.ci/run installs chromium)`,
    );
  console.warn(
    `NOTE: ${CHROMIUM} is missing, so the demo's browser test is SKIPPED. Install the distribution's chromium package to run it; REQUIRE_CHROMIUM=1 makes this an error.`,
  );
}

interface Browser {
  openBrowser(options?: {
    width?: number;
    height?: number;
  }): Promise<{ page: any; context: any; close(): Promise<void> }>;
}
interface Drive {
  DemoPage: new (
    page: any,
    url: string,
  ) => {
    open(): Promise<void>;
    as(personId: string): Promise<void>;
    type(text: string): Promise<void>;
    waitForModal(options: { callbackId?: string; text?: string | RegExp }): Promise<any>;
    modalText(): Promise<string>;
    closeModal(): Promise<void>;
    newestCode(
      personId: string,
      previous?: { key: string | null },
    ): Promise<{ key: string; kind: string; code: string }>;
    enterCode(code: string): Promise<void>;
    waitForMessage(pattern: RegExp): Promise<string>;
    openHome(): Promise<void>;
    endpointReceived(count?: number): Promise<{
      verified: boolean;
      claims: Record<string, string>;
      body: Record<string, string>;
      answer: string;
    }>;
  };
  logIn(
    demo: unknown,
    personId: string,
    options?: { delivery?: string; wrongFirst?: boolean },
  ): Promise<{ refusal?: string; done: string }>;
  latestKey(demo: unknown, personId: string): Promise<{ key: string | null } | undefined>;
  shownText(locator: unknown): Promise<string>;
}
const { openBrowser } = (await import(new URL('../../demo/browser.mjs', import.meta.url).href)) as Browser;
const { DemoPage, logIn, latestKey, shownText } = (await import(
  new URL('../../demo/drive.mjs', import.meta.url).href
)) as Drive;

const ADMIN = 'U0DEMOADA';
const MEMBER = 'U0DEMOBEN';
const URL_LINE = /^PhoneGate demo, .*: (http:\/\/127\.0\.0\.1:\d+\/)$/m;
/** Settings a user may have in their shell (a copied .env): were any of them to reach the demo's bot, it could not start. */
const USERS_OWN_SETTINGS = {
  CONFIG_FILE: '/nonexistent/phonegate/config.ini',
  SLACK_API_URL: 'http://127.0.0.1:9/api/',
  SLACK_BOT_TOKEN: 'xoxb-the-users-real-token',
  SLACK_PORT: '1',
  BANDWIDTH_MFA_BASE_URL: 'http://127.0.0.1:9/api/v1',
  STORE_URL: 'redis://127.0.0.1:9',
  PHONES_U0DEMOBEN: '+14155550199',
};

/** A started demo: its process (npm or node), everything it printed, and the folder it was given as TMPDIR. */
class DemoProcess {
  readonly proc: ChildProcess;
  stdout = '';
  stderr = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(
    command: string[],
    readonly tmp: string,
  ) {
    this.proc = spawn(command[0]!, command.slice(1), {
      cwd: ROOT,
      env: { ...cleanEnv(), ...USERS_OWN_SETTINGS, DEMO_PORT: '0', TMPDIR: tmp },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true, // its own process group, as a terminal gives a foreground job: Ctrl-C reaches the group
    });
    this.proc.stdout!.setEncoding('utf8').on('data', (chunk: string) => (this.stdout += chunk));
    this.proc.stderr!.setEncoding('utf8').on('data', (chunk: string) => (this.stderr += chunk));
    this.exited = new Promise((resolve) => this.proc.once('exit', (code, signal) => resolve({ code, signal })));
  }

  /** Resolves with the one URL the demo printed, once it printed it. */
  async url(timeoutMs = 120_000): Promise<string> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const url = URL_LINE.exec(this.stdout)?.[1];
      if (url) return url;
      if (this.proc.exitCode !== null || Date.now() > until)
        throw new Error(`the demo printed no URL.\n--- stdout ---\n${this.stdout}\n--- stderr ---\n${this.stderr}`);
      await sleep(50);
    }
  }

  /** The node process running demo/main.mjs (npm's child, or the process itself). */
  demoPid(): number {
    const pid = groupMembers(this.proc.pid!).find(({ argv }) => argv.includes('demo/main.mjs'))?.pid;
    if (!pid) throw new Error('no demo/main.mjs process');
    return pid;
  }

  /** The bot: the demo's child running scripts/start.mjs, in a process group of its own. */
  botPid(): number {
    const pid = childrenOf(this.demoPid()).find((child) => commandLine(child).includes('scripts/start.mjs'));
    if (!pid) throw new Error('no bot process');
    return pid;
  }

  async kill(): Promise<void> {
    for (const pgid of [this.proc.pid!, ...botGroups]) {
      try {
        process.kill(-pgid, 'SIGKILL');
      } catch {
        // gone
      }
    }
  }
}

const started: DemoProcess[] = [];
const botGroups: number[] = [];
const folders: string[] = [];

function launch(command: string[]): DemoProcess {
  const tmp = mkdtempSync(join(tmpdir(), 'phonegate-demo-test-'));
  folders.push(tmp);
  const demo = new DemoProcess(command, tmp);
  started.push(demo);
  return demo;
}

function commandLine(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
  } catch {
    return [];
  }
}

/** Live (not zombie) children of `pid`, from /proc. */
function childrenOf(pid: number): number[] {
  const children: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(ppid) === pid && state !== 'Z') children.push(Number(entry));
    } catch {
      // ended while we looked
    }
  }
  return children;
}

function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0] !== 'Z';
  } catch {
    return false;
  }
}

async function waitUntil(what: string, check: () => boolean, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > until) throw new Error(`timed out waiting until ${what}`);
    await sleep(50);
  }
}

/** Where the sockets of `pids` listen ("127.0.0.1:port", "[::]:port", ...), from /proc/net/tcp and tcp6. */
function listeningOn(pids: number[]): string[] {
  const inodes = new Set<string>();
  for (const pid of pids) {
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      try {
        const target = readlinkSync(`/proc/${pid}/fd/${fd}`);
        const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
        if (inode) inodes.add(inode);
      } catch {
        // closed while we looked
      }
    }
  }
  const addresses: string[] = [];
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of readFileSync(file, 'utf8').split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      const [local, , state] = fields.slice(1, 4);
      if (state !== '0A' || !local || !inodes.has(fields[9] ?? '')) continue; // 0A: LISTEN
      const [hex = '', port = ''] = local.split(':');
      const address =
        hex.length === 8
          ? (hex.match(/../g) ?? [])
              .reverse()
              .map((byte) => Number.parseInt(byte, 16))
              .join('.')
          : /^0+$/.test(hex)
            ? '[::]'
            : `[${hex}]`;
      addresses.push(`${address}:${Number.parseInt(port, 16)}`);
    }
  }
  return addresses;
}

/** The status of one request, with any headers (Host included, which fetch will not set). */
function statusOf(url: string, { method = 'GET', headers = {}, body = '' } = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.once('error', reject);
    req.end(body);
  });
}

beforeAll(() => {
  // One build now, so that the demo's bot starts warm (its own `tsc -b` finds nothing to do).
  execFileSync('npx', ['tsc', '-b'], { cwd: ROOT, env: cleanEnv(), stdio: 'pipe', timeout: 120_000 });
}, 150_000);

afterEach(async () => {
  await Promise.all(started.splice(0).map((demo) => demo.kill()));
  botGroups.splice(0);
  for (const folder of folders.splice(0)) rmSync(folder, { recursive: true, force: true });
});

describe.skipIf(!HAS_CHROMIUM)('npm run demo, in a real browser', () => {
  test('log in (a wrong code, then the right one), /whoami, an /admin step-up and /deploy; Ctrl-C leaves nothing', async () => {
    const demo = launch(['npm', 'run', 'demo']);
    const url = await demo.url();
    const bot = demo.botPid();
    botGroups.push(bot);

    // One temporary folder, and every server of the demo and of its bot on 127.0.0.1 only.
    expect(readdirSync(demo.tmp)).toEqual([expect.stringMatching(/^phonegate-demo-/)]);
    const listening = listeningOn([demo.demoPid(), bot]);
    expect(listening.length, listening.join(', ')).toBeGreaterThanOrEqual(5); // page, Slack, Bandwidth, /deploy, bot
    for (const address of listening) expect(address).toMatch(/^127\.0\.0\.1:\d+$/);

    // Only the demo's own page may act: another Host (a DNS rebinding) is refused, and actions are JSON only
    // (a form another site posts to 127.0.0.1 is not).
    expect(await statusOf(`${url}state`)).toBe(200);
    expect(await statusOf(`${url}state`, { headers: { host: 'attacker.example' } })).toBe(421);
    const act = JSON.stringify({ as: MEMBER, kind: 'type', channel: 'C0DEMOGEN', text: 'hello' });
    const form = new URLSearchParams({ as: MEMBER, kind: 'type', channel: 'C0DEMOGEN', text: 'hello' }).toString();
    expect(await statusOf(`${url}act`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: act })).toBe(
      415,
    );
    expect(
      await statusOf(`${url}act`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: form,
      }),
    ).toBe(415);

    const browser = await openBrowser({ width: 1200, height: 800 });
    const requested: string[] = [];
    browser.context.on('request', (request: { url(): string }) => requested.push(request.url()));
    try {
      const page = new DemoPage(browser.page, url);
      await page.open();
      expect(await shownText(browser.page.locator('#banner'))).toContain('A stand-in for Slack, not Slack');

      // A member: /login by text message, a wrong code first (refused in the window), then the code from their phone.
      const login = await logIn(page, MEMBER, { delivery: 'Text message', wrongFirst: true });
      expect(login.refusal).toMatch(/That code isn't right\. 4 attempts left\./);
      expect(login.done).toMatch(/You're logged in for 12 h/);
      await page.closeModal();
      await page.type('/whoami');
      const whoami = await page.waitForMessage(/Scopes:/);
      expect(whoami).toMatch(/Only visible to you/);
      expect(whoami).toMatch(/You: @Ben Ortiz/);
      expect(whoami).toMatch(/Phone: •••• 0102/);
      expect(whoami).toMatch(/Scopes: login \(12 h left\)/);

      // The admin: logged in by voice call, then /admin sessions asks for a step-up code of its own.
      await logIn(page, ADMIN, { delivery: 'Voice call' });
      await page.closeModal();
      const before = await latestKey(page, ADMIN);
      await page.type('/admin sessions');
      await page.waitForModal({ callbackId: 'code_entry', text: 'Admin step-up' });
      const stepUp = await page.newestCode(ADMIN, before);
      expect(stepUp.kind).toBe('call');
      await page.enterCode(stepUp.code);
      await page.waitForModal({ text: /Admin commands are unlocked/ });
      await page.closeModal();
      const sessions = await page.waitForMessage(/Live sessions/);
      expect(sessions).toMatch(/@Ada Park: admin .* login/);
      expect(sessions).toMatch(/@Ben Ortiz: login/);

      // /deploy: the endpoint verified the token with the example verifier and shows what it received.
      await page.type('/deploy api 1.4.2');
      const received = await page.endpointReceived(1);
      expect(received.verified).toBe(true);
      expect(received.claims).toMatchObject({
        sub: `${ADMIN} (Ada Park)`,
        scope: 'admin',
        amr: 'tel',
        iss: 'phonegate',
      });
      expect(received.body).toMatchObject({ command: '/deploy', text: 'api 1.4.2', user_id: ADMIN, scope: 'admin' });
      expect(await page.waitForMessage(/Deployed/)).toMatch(/Deployed api version 1\.4\.2/);

      // The member's App Home tab, published by the bot when they open it.
      await page.as(MEMBER);
      await page.openHome();
      const home = await shownText(browser.page.locator('#conversation .home'));
      expect(home).toContain('Your PhoneGate status');
      expect(home).toMatch(/login.*12 h left/);

      // Nothing came from anywhere but the demo's own page server.
      expect(requested.length).toBeGreaterThan(0);
      for (const address of requested) expect(address.startsWith(url)).toBe(true);
    } finally {
      await browser.close();
    }

    // Ctrl-C: the terminal sends SIGINT to the foreground job (npm and the demo; the bot has a group of its own).
    process.kill(-demo.proc.pid!, 'SIGINT');
    const exit = await Promise.race([demo.exited, sleep(20_000).then(() => undefined)]);
    expect(exit, `the demo did not stop.\n${demo.stderr}`).toEqual({ code: 0, signal: null });
    await waitUntil('the bot is gone', () => !alive(bot), 5000);
    expect(readdirSync(demo.tmp)).toEqual([]);
    // One URL, and nothing alarming.
    expect(demo.stdout.match(/http:\/\//g)).toHaveLength(1);
    expect(demo.stderr).toBe('');
  }, 120_000);

  test('killed outright (SIGKILL), the demo still leaves no bot and no folder behind', async () => {
    const demo = launch([process.execPath, 'demo/main.mjs']);
    await demo.url();
    const bot = demo.botPid();
    botGroups.push(bot);
    expect(readdirSync(demo.tmp)).toHaveLength(1);

    process.kill(demo.demoPid(), 'SIGKILL');
    await waitUntil('the bot is gone', () => !alive(bot), 20_000);
    await waitUntil('the folder is gone', () => readdirSync(demo.tmp).length === 0, 5000);
  }, 60_000);
});
