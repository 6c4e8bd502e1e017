import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { USERS } from '../helpers/harness.js';
import { REDIS_URL } from '../helpers/redis.js';
import {
  BalancedRequests,
  Balancer,
  buildOnce,
  Cluster,
  redisStore,
  removeReplicaTempFiles,
  type SharedStore,
  StandIns,
  sleep,
} from '../helpers/replicas.js';
import { requireService } from '../helpers/services.js';

/**
 * Issue 9, graceful shutdown: two replicas on one Redis behind a load balancer (emulated: round robin,
 * and another replica only when the connection is refused), under a steady load of signed /whoami and
 * a few whole logins. SIGTERM one, wait for it to exit, start it again; then the other. No request may
 * be lost or answered with an error. (Database 10: replicas.test.ts uses 9, and files run at once.)
 */

const HAVE_REDIS = await requireService('redis', REDIS_URL);
const { alice, bob, carol } = USERS;

let standIns: StandIns | undefined;
let store: SharedStore | undefined;
let cluster: Cluster | undefined;

beforeAll(() => buildOnce(), 150_000);
afterEach(async () => {
  await cluster?.stop();
  await standIns?.close();
  await store?.drop();
});
afterAll(() => removeReplicaTempFiles());

const text = (value: unknown) => JSON.stringify(value ?? null);

interface Lost {
  what: string;
  detail: string;
}

describe('rolling restart under load', () => {
  test.skipIf(!HAVE_REDIS)(
    'SIGTERM, exit, start again, one replica after the other: no request lost or answered with an error',
    async () => {
      standIns = await StandIns.start();
      store = await redisStore(10);
      // Room for every login of the run: the hourly caps are per user and per phone, and bob and carol log
      // in again and again.
      // A second of grace on SIGTERM: /healthz says 503 while requests are still served, so the balancer
      // (which watches /healthz, as real ones do) stops routing there before the port closes.
      cluster = await Cluster.start(store.url, standIns, {
        POLICY_MAX_SENDS_PER_HOUR: '50',
        POLICY_MAX_SENDS_PER_PHONE_PER_HOUR: '50',
        SLACK_SHUTDOWN_GRACE_SECONDS: '1',
      });
      const c = cluster;
      const { slack, bandwidth } = standIns;
      // A slow Bandwidth (each answer 400 ms): a code submission holds its request open while it verifies.
      standIns.bandwidthDelayMs = 400;
      const balancer = new Balancer(c.replicas);
      const stopWatching = balancer.watchHealth();
      const lb = new BalancedRequests(balancer);
      const commandBody = (command: string, userId: string) => {
        const body = new URLSearchParams(lb.commandBody(command, userId));
        body.set('response_url', standIns!.responseUrl());
        return body.toString();
      };

      const lost: Lost[] = [];
      let answered = 0;
      let logins = 0;
      let running = true;
      const t0 = performance.now();
      /** The last acknowledged step, to say where work after an ack went missing. */
      let lastAck = '';
      /** One step through the balancer; a socket error or a bad answer is a lost request. */
      const step = async <T>(
        what: string,
        send: () => Promise<{ status: number; json?: any; text: string }>,
        good: (json: any, body: string) => boolean,
      ): Promise<T | undefined> => {
        try {
          const res = await send();
          if (res.status === 200 && good(res.json, res.text)) {
            answered++;
            lastAck = `${what} acknowledged by replica ${(res as { replica?: string }).replica} at ${Math.round(performance.now() - t0)} ms`;
            return res.json as T;
          }
          lost.push({
            what,
            detail: `HTTP ${res.status} ${res.text.slice(0, 300)} (replica ${(res as { replica?: string }).replica})`,
          });
        } catch (error) {
          lost.push({
            what,
            detail: `${(error as { code?: string }).code ?? ''} ${String(error)} (replica ${(error as { replica?: string }).replica})`,
          });
        }
        return undefined;
      };
      /** Work Slack would see after the ack (views.open): it must happen even when the replica is stopping. */
      const waitFor = async (what: string, condition: () => boolean): Promise<boolean> => {
        const until = Date.now() + 10_000;
        while (!condition()) {
          if (Date.now() > until) {
            lost.push({
              what,
              detail: `${lastAck}, but the work after the ack never reached Slack or Bandwidth within 10 s (last view: ${slack.lastView().view.callback_id} ${text(slack.lastView().view).slice(0, 300)})`,
            });
            return false;
          }
          await sleep(20);
        }
        return true;
      };

      // Alice logs in first; the load is her /whoami.
      const logIn = async (userId: string): Promise<void> => {
        const opened = slack.callsOf('views.open').length;
        const sent = bandwidth.sent.length;
        await step(
          '/login',
          () => lb.post(commandBody('/login', userId)),
          (_json, body) => body === '',
        ); // acknowledged empty; the window follows
        if (!(await waitFor(`/login ${userId}: views.open`, () => slack.callsOf('views.open').length > opened))) return;
        const choice = slack.lastView();
        const chosen = await step<{ response_action: string }>(
          `delivery choice ${userId}`,
          () => lb.chooseDelivery(userId, choice, 'sms'),
          (json) => json?.response_action === 'update',
        );
        if (!chosen) return;
        if (
          !(await waitFor(
            `delivery choice ${userId}: code sent and shown`,
            () => bandwidth.sent.length > sent && slack.lastView().view.callback_id === 'code_entry',
          ))
        )
          return;
        const entry = slack.lastView();
        const updates = slack.callsOf('views.update').length;
        // The result comes in the ack, or (Bandwidth slower than Slack's deadline) "checking" now and the result by views.update.
        const done = await step<unknown>(
          `code ${userId}`,
          () => lb.submitCode(userId, entry, bandwidth.lastCode()),
          (json) => /You're logged in|Checking your code/.test(text(json)),
        );
        if (!done) return;
        if (text(done).includes("You're logged in")) logins++;
        else if (
          await waitFor(`code ${userId}: the late result`, () =>
            slack
              .callsOf('views.update')
              .slice(updates)
              .some((u) => text(u.args.view).includes("You're logged in")),
          )
        )
          logins++;
      };
      await logIn(alice);
      expect(lost).toEqual([]);

      const whoamiWorker = async () => {
        for (let i = 0; running && i < 5000; i++) {
          await step(
            '/whoami',
            () => lb.post(commandBody('/whoami', alice)),
            (json) => String(json?.text).includes('`login`'),
          );
        }
      };
      // A few whole logins, one at a time (they share the stand-in Slack's "last view"), each ended by /logout.
      const loginWorker = async () => {
        for (let i = 0; running && i < 80; i++) {
          const userId = i % 2 === 0 ? bob : carol;
          await logIn(userId);
          await step(
            '/logout',
            () => lb.post(commandBody('/logout', userId)),
            (json) => String(json?.text).includes('logged out'),
          );
          await sleep(200);
        }
      };
      const workers = [whoamiWorker(), whoamiWorker(), whoamiWorker(), loginWorker()];

      const exits: Array<{ replica: string; code: number | null; signal: string | null; ms: number }> = [];
      await sleep(1000);
      for (const replica of c.replicas) {
        const run = replica.app!;
        // SIGTERM while a code submission is in flight on this replica (waiting for Bandwidth), if one comes within 10 s.
        const waitUntil = Date.now() + 10_000;
        while (!(balancer.inFlight.get(replica.name) ?? []).includes('view_submission') && Date.now() < waitUntil)
          await sleep(5);
        await sleep(100);
        const from = performance.now();
        console.log(
          `SIGTERM to replica ${replica.name} at ${Math.round(from - t0)} ms; in flight there: ${JSON.stringify(balancer.inFlight.get(replica.name))}`,
        );
        replica.signal('SIGTERM');
        const exit = await Promise.race([run.exited, sleep(15_000).then(() => undefined)]);
        if (!exit) throw new Error(`replica ${replica.name} did not exit within 15 s of SIGTERM\n${run.describe()}`);
        exits.push({ replica: replica.name, ...exit, ms: Math.round(performance.now() - from) });
        await replica.start();
        await sleep(1000);
      }
      running = false;
      await Promise.all(workers);
      stopWatching();

      console.log(
        `rolling restart: ${answered} requests answered, ${logins} whole logins, ${lost.length} lost; exits ${JSON.stringify(exits)}`,
      );
      expect(lost, c.describe()).toEqual([]);
      expect(exits.map((e) => [e.code, e.signal])).toEqual([
        [0, null],
        [0, null],
      ]);
      expect(logins).toBeGreaterThan(1);
      expect(answered).toBeGreaterThan(50);
      // Each replica served requests again after its restart.
      for (const replica of c.replicas) expect(replica.runs[1]!.lines().some((l) => l.msg === 'ready')).toBe(true);
    },
    180_000,
  );
});
