import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { PHONES, USERS } from '../helpers/harness.js';
import { atErrorLevel } from '../helpers/logs.js';
import { POSTGRES_URL } from '../helpers/postgres.js';
import { REDIS_URL } from '../helpers/redis.js';
import {
  buildOnce,
  Cluster,
  postgresStore,
  type Replica,
  redisStore,
  removeReplicaTempFiles,
  type SharedStore,
  StandIns,
  sleep,
} from '../helpers/replicas.js';
import { requireService } from '../helpers/services.js';
import { until as waitFor } from '../helpers/until.js';

/**
 * Issue 9, "replicas that behave as one": two real processes (`npm start`) on one Redis, then on one
 * PostgreSQL, with one stand-in Slack and one stand-in Bandwidth. Each step of a flow goes to the
 * replica the test names, so every rule is seen to hold across processes, not inside one.
 */

const HAVE = {
  redis: await requireService('redis', REDIS_URL),
  postgres: await requireService('postgres', POSTGRES_URL),
};
const { alice: ADMIN, bob, carol } = USERS;
const TEST_TIMEOUT_MS = 90_000;

let standIns: StandIns;
let store: SharedStore | undefined;
let cluster: Cluster | undefined;

beforeAll(() => buildOnce(), 150_000);
afterEach(async () => {
  await cluster?.stop();
  cluster = undefined;
  await standIns?.close();
  await store?.drop();
  store = undefined;
});
afterAll(() => removeReplicaTempFiles());

const text = (value: unknown) => JSON.stringify(value ?? null);

const until = (condition: () => boolean, what: string, timeoutMs = 10_000) =>
  waitFor(condition, what, { timeoutMs, context: () => cluster?.describe() });

/** `/login` on `on`, the delivery choice on `choose`: returns the code-entry window. */
async function openLogin(
  c: Cluster,
  userId: string,
  on: Replica,
  choose: Replica = on,
): Promise<{ id: string; view: any }> {
  const { slack, bandwidth } = c.standIns;
  const opened = slack.callsOf('views.open').length;
  const sent = bandwidth.sent.length;
  const ack = await on.command(c.standIns, '/login', userId);
  expect(ack.status).toBe(200);
  await until(() => slack.callsOf('views.open').length > opened, 'the login window');
  const choice = slack.lastView();
  if (choice.view.callback_id === 'delivery_choice') {
    const chosen = await choose.requests.chooseDelivery(userId, choice, 'sms');
    expect(chosen.json?.response_action).toBe('update');
  }
  await until(
    () => bandwidth.sent.length > sent && slack.lastView().view.callback_id === 'code_entry',
    'the code-entry window',
  );
  return slack.lastView();
}

/** A whole login, its three steps on the replicas named. */
async function logIn(
  c: Cluster,
  userId: string,
  on: Replica,
  choose: Replica = on,
  submit: Replica = choose,
): Promise<void> {
  const entry = await openLogin(c, userId, on, choose);
  const updates = c.standIns.slack.callsOf('views.update').length;
  const done = await submit.requests.submitCode(userId, entry, c.standIns.bandwidth.lastCode());
  expect(await granted(c, [done], updates, "You're logged in"), c.describe()).toBe(1);
}

/**
 * How many of these code submissions granted: in the ack, or, when Bandwidth answered after Slack's
 * deadline (a loaded machine), by the views.update that replaces "checking…". Waits for late results.
 */
async function granted(
  c: Cluster,
  acks: Array<{ json?: any }>,
  updatesBefore: number,
  phrase: string,
): Promise<number> {
  const late = acks.filter((a) => text(a.json).includes('Checking your code')).length;
  const lateResults = () =>
    c.standIns.slack
      .callsOf('views.update')
      .slice(updatesBefore)
      .filter((u) =>
        /logged in|unlocked|Nothing was granted|isn't right|already been used|no longer|try again/i.test(
          text(u.args.view),
        ),
      );
  if (late > 0) await until(() => lateResults().length >= late, 'the late results of the code submissions', 20_000);
  return (
    acks.filter((a) => text(a.json).includes(phrase)).length +
    lateResults().filter((u) => text(u.args.view).includes(phrase)).length
  );
}

async function whoami(on: Replica, userId: string): Promise<string> {
  const res = await on.command(cluster!.standIns, '/whoami', userId);
  expect(res.status).toBe(200);
  return String(res.json?.text);
}

/** `/admin <command>` on `on` without a live admin scope: returns the step-up's code-entry window. */
async function startStepUp(
  c: Cluster,
  on: Replica,
  command: string,
): Promise<{ id: string; view: any; responses: number }> {
  const { slack, bandwidth } = c.standIns;
  const opened = slack.callsOf('views.open').length;
  const sent = bandwidth.sent.length;
  const ack = await on.command(c.standIns, '/admin', ADMIN, command);
  expect(ack.status).toBe(200);
  expect(ack.text, 'the step-up window opens; nothing is answered in the ack').toBe('');
  await until(
    () =>
      slack.callsOf('views.open').length > opened &&
      bandwidth.sent.length > sent &&
      slack.lastView().view.callback_id === 'code_entry',
    'the admin code entry',
  );
  return { ...slack.lastView(), responses: slack.responses.length };
}

/** Steps up on `on` with `command` (so the admin scope is live afterwards). */
async function stepUp(c: Cluster, on: Replica, command: string, submit: Replica = on): Promise<void> {
  const entry = await startStepUp(c, on, command);
  const updates = c.standIns.slack.callsOf('views.update').length;
  const done = await submit.requests.submitCode(ADMIN, entry, c.standIns.bandwidth.lastCode());
  expect(await granted(c, [done], updates, 'Admin commands are unlocked'), c.describe()).toBe(1);
  await until(() => c.standIns.slack.responses.length > entry.responses, 'the pending command result');
}

const dmsTo = (c: Cluster, userId: string) =>
  c.standIns.slack.callsOf('chat.postMessage').filter((call) => call.args.channel === userId);

const BACKENDS = [
  { kind: 'redis' as const, open: () => redisStore() },
  { kind: 'postgres' as const, open: () => postgresStore() },
];

describe.each(BACKENDS)('two replicas on one $kind', ({ kind, open }) => {
  async function start(env: Record<string, string> = {}): Promise<Cluster> {
    standIns = await StandIns.start();
    store = await open();
    cluster = await Cluster.start(store.url, standIns, env);
    return cluster;
  }

  test.skipIf(!HAVE[kind])(
    'a login through one is honoured by the other at once; a logout through the other ends it for both',
    async () => {
      const c = await start();
      await logIn(c, bob, c.a, c.b, c.a); // each step on another replica than the one before
      expect(await whoami(c.b, bob)).toContain('`login`');
      expect(await whoami(c.a, bob)).toContain('`login`');

      const out = await c.b.command(c.standIns, '/logout', bob);
      expect(out.json?.text).toContain("You're logged out");
      expect(await whoami(c.a, bob)).toContain('needs you to log in first');
      expect(c.standIns.bandwidth.sent).toHaveLength(1);
    },
    TEST_TIMEOUT_MS,
  );

  test.skipIf(!HAVE[kind])(
    '/admin revoke and /admin link through one take effect on the other at once',
    async () => {
      const c = await start();
      await logIn(c, ADMIN, c.a);
      await logIn(c, bob, c.b);
      await logIn(c, carol, c.a);
      await stepUp(c, c.b, `revoke <@${bob}|bob>`, c.a); // the command on B, its code on A
      expect(c.standIns.slack.responses.at(-1)!.body.text).toContain(`Ended <@${bob}>'s session`);
      expect(await whoami(c.b, bob)).toContain('needs you to log in first');
      expect(await whoami(c.a, bob)).toContain('needs you to log in first');

      const linked = await c.b.command(c.standIns, '/admin', ADMIN, `link <@${carol}|carol> +1 415 555 0177`);
      expect(linked.json?.text).toContain('Linked the phone *•••• 0177*');
      expect(await whoami(c.a, carol)).toContain('needs you to log in first');
      await openLogin(c, carol, c.a);
      expect(c.standIns.bandwidth.sent.at(-1)!.to).toBe('+14155550177');
      expect(c.audit('authn_session_revoked')).toHaveLength(1);
      expect(c.audit('authn_phone_linked')).toHaveLength(1);
    },
    TEST_TIMEOUT_MS,
  );

  test.skipIf(!HAVE[kind])(
    'a lock (lockout_failures wrong codes) through one holds on the other at once',
    async () => {
      const c = await start({ POLICY_LOCKOUT_FAILURES: '3' });
      await logIn(c, ADMIN, c.b);
      const entry = await startStepUp(c, c.a, 'sessions');
      for (let i = 0; i < 3; i++) {
        const wrong = await c.a.requests.submitCode(ADMIN, entry, c.standIns.bandwidth.wrongCode());
        expect(wrong.status).toBe(200);
      }
      // The audit line is the replica's stdout, which can reach us a moment after the HTTP answer.
      await until(() => c.audit('authn_login_lock').length > 0, 'the lock in the audit lines', 5_000).catch(() => {});
      expect(c.audit('authn_login_lock')).toHaveLength(1);
      expect(await whoami(c.b, ADMIN)).toContain('needs you to log in first');
      const login = await c.b.command(c.standIns, '/login', ADMIN);
      expect(login.json?.text).toContain('Too many wrong codes');
      // The right code of the step-up, on the other replica, grants nothing now.
      const right = await c.b.requests.submitCode(ADMIN, entry, c.standIns.bandwidth.lastCode());
      expect(text(right.json)).not.toContain('unlocked');
      expect(c.standIns.bandwidth.sent).toHaveLength(2);
    },
    TEST_TIMEOUT_MS,
  );

  test.skipIf(!HAVE[kind])(
    '20 simultaneous wrong codes over both reach Bandwidth at most max_attempts times',
    async () => {
      const c = await start();
      const entry = await openLogin(c, bob, c.a);
      const { bandwidth } = c.standIns;
      const wrong = bandwidth.wrongCode();
      const answers = await Promise.all(
        Array.from({ length: 20 }, (_, i) => c.replicas[i % 2]!.requests.submitCode(bob, entry, wrong)),
      );
      expect(answers.map((a) => a.status)).toEqual(Array(20).fill(200));
      expect(bandwidth.verifies.length, c.describe()).toBeGreaterThan(0);
      expect(bandwidth.verifies.length).toBeLessThanOrEqual(5);
      // The challenge is dead: even the right code is refused, on either replica, without asking Bandwidth.
      const right = await c.b.requests.submitCode(bob, entry, bandwidth.lastCode());
      expect(text(right.json)).toContain('Too many wrong codes for this code');
      expect(bandwidth.verifies.length).toBeLessThanOrEqual(5);
      expect(await whoami(c.a, bob)).toContain('needs you to log in first');
    },
    TEST_TIMEOUT_MS,
  );

  test.skipIf(!HAVE[kind])(
    'two simultaneous right codes, one per replica: exactly one success',
    async () => {
      const c = await start();
      const entry = await openLogin(c, bob, c.a);
      const code = c.standIns.bandwidth.lastCode();
      const updates = c.standIns.slack.callsOf('views.update').length;
      const [a, b] = await Promise.all([
        c.a.requests.submitCode(bob, entry, code),
        c.b.requests.submitCode(bob, entry, code),
      ]);
      expect(await granted(c, [a, b], updates, "You're logged in"), c.describe()).toBe(1);
      expect([...c.audit('authn_login_success'), ...c.audit('authn_login_successafterfail')]).toHaveLength(1);
    },
    TEST_TIMEOUT_MS,
  );

  test.skipIf(!HAVE[kind])(
    'the resend cooldown holds across both: resends on either replica within it send nothing',
    async () => {
      const c = await start();
      const { bandwidth, slack } = c.standIns;
      const entry = await openLogin(c, bob, c.a);
      const pushes = slack.callsOf('views.update').length;
      const clicks = await Promise.all(
        Array.from({ length: 6 }, (_, i) => c.replicas[i % 2]!.requests.clickInView(bob, entry, 'resend_code')),
      );
      expect(clicks.map((r) => r.status)).toEqual(Array(6).fill(200));
      await until(() => slack.callsOf('views.update').length >= pushes + 6, 'the six resends to be answered');
      expect(bandwidth.sent).toHaveLength(1);
      expect(
        slack
          .callsOf('views.update')
          .slice(pushes)
          .every((u) => text(u.args.view).includes('You can ask for another in')),
      ).toBe(true);
    },
    TEST_TIMEOUT_MS,
  );

  test.skipIf(!HAVE[kind])(
    'the hourly cap holds across both: 10 simultaneous resends over both send up to max_sends_per_hour in all',
    async () => {
      const c = await start({ POLICY_RESEND_COOLDOWN_SECONDS: '0', POLICY_MAX_SENDS_PER_HOUR: '3' });
      const { bandwidth } = c.standIns;
      const entry = await openLogin(c, bob, c.a);
      await Promise.all(
        Array.from({ length: 10 }, (_, i) => c.replicas[i % 2]!.requests.clickInView(bob, entry, 'resend_code')),
      );
      // A click the store could not claim in time (a loaded machine) is refused and runs nothing; count those too.
      const failed = () =>
        c.replicas
          .flatMap((r) => r.app!.lines())
          .filter(
            (l) => atErrorLevel(l) && /could not record a request as seen|resending a code failed/.test(String(l.msg)),
          ).length;
      const handled = () => c.audit('authn_otp_sent').length + c.audit('excess_rate_limit_exceeded').length + failed();
      await until(() => handled() >= 11, 'every resend to be sent, refused or failed closed', 30_000);
      const ran = 10 - failed();
      expect(bandwidth.sent).toHaveLength(Math.min(3, 1 + ran));
      expect(c.audit('excess_rate_limit_exceeded')).toHaveLength(Math.max(0, ran - 2));
    },
    TEST_TIMEOUT_MS,
  );

  test.skipIf(!HAVE[kind])(
    "the step-up's pending command runs once, whichever replica gets the code (both at once)",
    async () => {
      const c = await start();
      await logIn(c, ADMIN, c.a);
      await logIn(c, bob, c.b);
      const entry = await startStepUp(c, c.a, `unlink <@${bob}>`);
      const code = c.standIns.bandwidth.lastCode();
      const updates = c.standIns.slack.callsOf('views.update').length;
      const [a, b] = await Promise.all([
        c.a.requests.submitCode(ADMIN, entry, code),
        c.b.requests.submitCode(ADMIN, entry, code),
      ]);
      expect(await granted(c, [a, b], updates, 'Admin commands are unlocked'), c.describe()).toBe(1);
      await until(() => c.standIns.slack.responses.length > entry.responses, 'the command result');
      await sleep(500); // room for a second run, if there were one
      expect(c.standIns.slack.responses.slice(entry.responses).map((r) => r.body.text)).toEqual([
        expect.stringContaining(`Removed <@${bob}>'s phone`),
      ]);
      expect(c.audit('authn_phone_unlinked')).toHaveLength(1);
      expect(dmsTo(c, bob)).toHaveLength(1);
    },
    TEST_TIMEOUT_MS,
  );

  test.skipIf(!HAVE[kind])(
    'a declared admin command runs its endpoint once, whichever replica gets the code (both at once)',
    async () => {
      // A team's own /deploy, declared in config.ini, behind a fresh admin code; the endpoint counts its calls.
      const calls: string[] = [];
      const endpoint: Server = createServer((req, res) => {
        let body = '';
        req
          .on('data', (chunk) => (body += chunk))
          .on('end', () => {
            calls.push(body);
            res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"text":"deployed"}');
          });
      });
      await new Promise<void>((resolve) => endpoint.listen(0, '127.0.0.1', resolve));
      const dir = mkdtempSync(join(tmpdir(), 'phonegate-declared-'));
      const configFile = join(dir, 'config.ini');
      const { port } = endpoint.address() as { port: number };
      writeFileSync(
        configFile,
        `[command /deploy]\nurl = http://127.0.0.1:${port}/hook\nscope = admin\n\n[actions]\nsigning_key_file = ${join(dir, 'key.pem')}\n`,
      );
      try {
        const c = await start({ CONFIG_FILE: configFile });
        await logIn(c, ADMIN, c.b);
        const { slack, bandwidth } = c.standIns;
        const opened = slack.callsOf('views.open').length;
        const sent = bandwidth.sent.length;
        const ack = await c.a.command(c.standIns, '/deploy', ADMIN, 'api 1.4.2');
        expect(ack.status).toBe(200);
        await until(
          () =>
            slack.callsOf('views.open').length > opened &&
            bandwidth.sent.length > sent &&
            slack.lastView().view.callback_id === 'code_entry',
          'the step-up window of /deploy',
        );
        const entry = slack.lastView();
        const code = bandwidth.lastCode();
        const updates = slack.callsOf('views.update').length;
        const [a, b] = await Promise.all([
          c.a.requests.submitCode(ADMIN, entry, code),
          c.b.requests.submitCode(ADMIN, entry, code),
        ]);
        expect(await granted(c, [a, b], updates, 'Admin commands are unlocked'), c.describe()).toBe(1);
        await until(() => calls.length > 0, 'the call to the endpoint');
        await sleep(500); // room for a second run, if there were one
        expect(calls).toHaveLength(1);
        expect(JSON.parse(calls[0]!)).toMatchObject({
          command: '/deploy',
          text: 'api 1.4.2',
          user_id: ADMIN,
          scope: 'admin',
        });
        expect(c.audit('action_run')).toHaveLength(1);
      } finally {
        endpoint.close();
        rmSync(dir, { recursive: true, force: true });
      }
    },
    TEST_TIMEOUT_MS,
  );

  test.skipIf(!HAVE[kind])(
    'a replayed /admin link sent to the replica that did not see it is acknowledged and ignored',
    async () => {
      const c = await start();
      await logIn(c, ADMIN, c.a);
      await stepUp(c, c.a, 'sessions');
      const first = await c.a.command(c.standIns, '/admin', ADMIN, `link <@${carol}> +1 415 555 0177`);
      expect(first.json?.text).toContain('•••• 0177');
      const captured = c.a.requests.sent.at(-1)!;
      const second = await c.a.command(c.standIns, '/admin', ADMIN, `link <@${carol}> +1 415 555 0178`);
      expect(second.json?.text).toContain('•••• 0178');

      const replay = await c.b.requests.resend(captured);
      expect(replay.status).toBe(200);
      expect(replay.text).toBe('');
      await until(() => c.b.audit('replay_dropped').length > 0, 'the replay audit line (written after the ack)');
      expect(c.b.audit('replay_dropped')).toEqual([
        expect.objectContaining({ userId: ADMIN, detail: { kind: 'command', command: '/admin' } }),
      ]);
      expect(c.audit('authn_phone_linked')).toHaveLength(2);
      expect(dmsTo(c, carol)).toHaveLength(2);
      await openLogin(c, carol, c.b);
      expect(c.standIns.bandwidth.sent.at(-1)!.to).toBe('+14155550178');
    },
    TEST_TIMEOUT_MS,
  );

  test.skipIf(!HAVE[kind])(
    'one replica killed with SIGKILL after the code was sent: the other takes the code',
    async () => {
      const c = await start();
      const entry = await openLogin(c, bob, c.a);
      c.a.signal('SIGKILL');
      const exit = await c.a.app!.exited;
      expect(exit.code).not.toBe(0);
      await expect(c.a.health(1000)).rejects.toThrow();
      const updates = c.standIns.slack.callsOf('views.update').length;
      const done = await c.b.requests.submitCode(bob, entry, c.standIns.bandwidth.lastCode());
      expect(await granted(c, [done], updates, "You're logged in"), c.describe()).toBe(1);
      expect(await whoami(c.b, bob)).toContain('`login`');
      expect(c.standIns.bandwidth.sent.map((s) => s.to)).toEqual([PHONES.bob]);
    },
    TEST_TIMEOUT_MS,
  );
});
