import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { USERS } from '../helpers/harness.js';
import { REDIS_URL } from '../helpers/redis.js';
import {
  buildOnce,
  Cluster,
  type Replica,
  redisStore,
  removeReplicaTempFiles,
  type SharedStore,
  StandIns,
  sleep,
} from '../helpers/replicas.js';
import { serve } from '../helpers/serve.js';
import { requireService } from '../helpers/services.js';
import { until as waitFor } from '../helpers/until.js';

/**
 * Issue 20 §4: N distinct approvers, counted exactly across two replicas: two approvers entering their
 * codes at the same moment, each on another replica, make the command run once.
 */

const HAVE_REDIS = await requireService('redis', REDIS_URL);
const { alice: APPROVER_A, bob: REQUESTER, carol: APPROVER_B } = USERS;

let dir: string;
let store: SharedStore | undefined;
let standIns: StandIns | undefined;
let cluster: Cluster | undefined;
let endpoint: Awaited<ReturnType<typeof serve>>;
const calls: string[] = [];

beforeAll(async () => {
  buildOnce();
  dir = mkdtempSync(join(tmpdir(), 'phonegate-replica-approvals-'));
  endpoint = await serve((req, res) => {
    calls.push(req.url ?? '');
    res.writeHead(200, { 'content-type': 'text/plain' }).end('deployed');
  });
}, 150_000);
afterAll(async () => {
  await cluster?.stop();
  await standIns?.close();
  await store?.drop();
  await endpoint?.close();
  rmSync(dir, { recursive: true, force: true });
  removeReplicaTempFiles();
});

const until = (condition: () => boolean, what: string) =>
  waitFor(condition, what, { timeoutMs: 10_000, context: () => cluster?.describe() });

describe.skipIf(!HAVE_REDIS)('approvals on two replicas', () => {
  test('two approvals needed, two approvers at the same moment on two replicas: it runs exactly once', async () => {
    store = await redisStore(12);
    standIns = await StandIns.start();
    const configFile = join(dir, 'config.ini');
    writeFileSync(
      configFile,
      `[command /deploy]\nurl = ${endpoint.origin}/hooks/deploy\nallow = ${REQUESTER}\napprovers = ${APPROVER_A}, ${APPROVER_B}\napprovals = 2\nreason = off\n\n[actions]\nsigning_key_file = ${join(dir, 'key.pem')}\n`,
    );
    cluster = await Cluster.start(store.url, standIns, { CONFIG_FILE: configFile });
    const { slack, bandwidth } = standIns;
    const last = () => slack.views().at(-1);

    // The requester logs in and asks, on replica A.
    await cluster.a.command(standIns, '/login', REQUESTER);
    await until(() => last()?.view.callback_id === 'delivery_choice', 'the login window');
    await cluster.a.requests.chooseDelivery(REQUESTER, last()!, 'sms');
    await until(() => last()?.view.callback_id === 'code_entry', 'the code entry');
    await cluster.a.requests.submitCode(REQUESTER, last()!, bandwidth.lastCode());
    await cluster.a.command(standIns, '/deploy', REQUESTER, 'api 1.4.2');
    await until(
      () => slack.messagesIn(APPROVER_A).length === 1 && slack.messagesIn(APPROVER_B).length === 1,
      'the approvers asked',
    );

    // Each approver opens their own window on a replica of their own, and gets their own code.
    const windowOn = async (replica: Replica, approverId: string) => {
      const opened = slack.callsOf('views.open').length;
      await replica.requests.clickInMessage(approverId, slack.messagesIn(approverId)[0]!, 'approval_approve');
      await until(() => slack.callsOf('views.open').length > opened, 'the approver window');
      const id = last()!.id;
      await replica.requests.chooseDelivery(approverId, last()!, 'sms');
      await until(() => last()?.id === id && last()?.view.callback_id === 'code_entry', 'the approver code entry');
      return { window: last()!, code: bandwidth.lastCode() };
    };
    const a = await windowOn(cluster.a, APPROVER_A);
    const b = await windowOn(cluster.b, APPROVER_B);
    const [onA, onB] = await Promise.all([
      cluster.a.requests.submitCode(APPROVER_A, a.window, a.code),
      cluster.b.requests.submitCode(APPROVER_B, b.window, b.code),
    ]);
    const said = [JSON.stringify(onA.json), JSON.stringify(onB.json)];
    expect(
      said.filter((text) => text.includes('runs now')),
      cluster.describe(),
    ).toHaveLength(1);
    await until(() => calls.length === 1, 'the run');
    await sleep(500); // a second run, if there were one, would have come by now
    expect(calls).toEqual(['/hooks/deploy']);
    expect(cluster.audit('action_run')).toHaveLength(1);
  }, 120_000);
});
