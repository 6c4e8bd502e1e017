// `npm run bench [-- --quick] [-- --store=sqlite|redis]`: the real app (HTTP mode, a child process
// started as `npm start` starts it) against a bare Bolt app acking the same /whoami, side by side on
// this machine. See docs/performance.md for what it prints. A measurement, not a test: it
// asserts no speed, and exits 0 unless something failed outright (a wrong answer, a crash).
import { copyFileSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { build, cpuMs, ROOT, rssMb, runAdmin, startApp, startBare } from './processes.mjs';
import {
  cloneId,
  emptyRedisDb,
  flushRedis,
  redisClones,
  redisTemplate,
  sqliteClones,
  sqliteTemplate,
} from './seed.mjs';
import {
  codeValues,
  commandBody,
  deliveryValues,
  median,
  percentile,
  round,
  SlackClient,
  viewSubmissionBody,
} from './slack-requests.mjs';
import { bandwidthStandIn, CODE_DIGITS, slackStandIn } from './stand-ins.mjs';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const only = args.find((a) => a.startsWith('--store='))?.slice('--store='.length);
const seedUsers = args.find((a) => a.startsWith('--users='))?.slice('--users='.length);
const SIZE = {
  ...(quick
    ? { warm: 1000, rounds: 3, perRound: 500, perRoundSerial: 200, logins: 64, seedUsers: 10_000, readyStarts: 1 }
    : { warm: 5000, rounds: 5, perRound: 2000, perRoundSerial: 500, logins: 320, seedUsers: 100_000, readyStarts: 3 }),
  ...(seedUsers === undefined ? {} : { seedUsers: Number(seedUsers) }),
};
if (!(Number.isSafeInteger(SIZE.seedUsers) && SIZE.seedUsers >= 2))
  throw new Error(`--users: a whole number of users, at least 2, not ${seedUsers}`);
const USERS = 20;
const SIGNING_SECRET = 'bench0signing0secret0value012345';
const BOT_TOKEN = 'xoxb-bench-0000-token';
const USER_PHONE = '+14155550142';
const CODE = CODE_DIGITS.slice(0, 6); // [policy] code_digits, default
const STAMP = join(ROOT, 'dist', '.tsbuildinfo');
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const log = (line) => process.stderr.write(`${line}\n`);

const machine = {
  cpu: cpus()[0]?.model ?? 'unknown',
  cores: cpus().length,
  node: process.version,
  load: loadavg()
    .map((l) => l.toFixed(2))
    .join(' '),
  date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
};

// ----------------------------------------------------------------------------------------- the drivers

const liveWhoami = (r) => r.status === 200 && r.text.includes('`login`'); // the gated answer, with the live scope
const bareWhoami = (r) => r.status === 200 && r.text.includes('"ok"');

/** One /whoami body per user (repeated bodies are fine: /whoami is not claimed against replays). */
function whoamiBodies(users, slack) {
  return users.map((u) => commandBody('/whoami', u, slack.origin));
}

function whoamiRound(client, bodies, total, concurrency, check) {
  return round({
    total,
    concurrency,
    send: (i) => client.postRepeated(i % bodies.length, bodies[i % bodies.length]),
    check,
  });
}

/** A whole /login by SMS: the command, the delivery choice, the code. Returns the code submission's ack time. */
async function logIn(client, slack, userId) {
  const body = commandBody('/login', userId, slack.origin);
  const trigger = new URLSearchParams(body).get('trigger_id');
  const ack = await client.post(body);
  if (ack.status !== 200 || ack.text !== '')
    throw new Error(`/login for ${userId} answered ${ack.status} ${ack.text.slice(0, 300)}`);
  let shown = await slack.viewOpened(trigger);
  if (shown.view.callback_id === 'delivery_choice') {
    const chosen = await client.post(viewSubmissionBody(userId, shown, deliveryValues('sms')));
    if (chosen.status !== 200 || !chosen.text.includes('"update"'))
      throw new Error(`the delivery choice answered ${chosen.status} ${chosen.text.slice(0, 300)}`);
    shown = await slack.viewUpdated(shown.id, 'code_entry');
  }
  const entered = await client.post(viewSubmissionBody(userId, shown, codeValues(CODE)));
  if (entered.status !== 200 || !entered.text.includes('logged in'))
    throw new Error(`the code for ${userId} answered ${entered.status} ${entered.text.slice(0, 300)}`);
  return entered.ms;
}

/**
 * Logins at 32 concurrent, warmer: a first round of a quarter as many (its rate reported too), then the
 * timed round of `users`. Without it, the timed round measured code still being compiled: in rounds of
 * 150 one after another on one app, the first gave about 76 per second and the fourth 130–156. (A
 * quarter: every login of the run goes to one phone, whose sends Redis keeps across both parts, and
 * [policy] max_sends_per_phone_per_hour is at most 1,000.)
 */
async function warmLogins(client, slack, warmPrefix, users) {
  const warmUsers = Array.from({ length: warmLoginCount(users.length) }, (_, i) => cloneId(warmPrefix, i + 1));
  const warm = await loginRound(client, slack, warmUsers, 32);
  if (warm.failed.length > 0) log(`${warm.failed.length} logins of the round to warm failed, e.g. ${warm.failed[0]}`);
  return { ...(await loginRound(client, slack, users, 32)), warm: warm.perSecond };
}
const warmLoginCount = (timed) => Math.ceil(timed / 4);

async function loginRound(client, slack, users, concurrency) {
  const acks = [];
  const failed = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < users.length) {
        const user = users[next++];
        await logIn(client, slack, user).then(
          (ms) => acks.push(ms),
          (error) => failed.push(error.message),
        );
      }
    }),
  );
  const ms = performance.now() - started;
  acks.sort((a, b) => a - b);
  return { perSecond: (acks.length * 1000) / ms, failed, ackP50: percentile(acks, 50), ackP99: percentile(acks, 99) };
}

/** Alternating rounds, bare first: each side's medians of throughput, CPU per request, p50 and p99. */
async function sideBySide(sides, total, concurrency) {
  const results = Object.fromEntries(sides.map((s) => [s.name, []]));
  const wrong = {};
  for (let r = 0; r < SIZE.rounds; r++) {
    for (const side of sides) {
      const cpuBefore = cpuMs(side.pid);
      const result = await whoamiRound(side.client, side.bodies, total, concurrency, side.check);
      const cpu = cpuMs(side.pid) - cpuBefore;
      // A wrong answer (e.g. "can't reach my database" when a statement waited past its deadline) is counted, not fatal.
      if (result.failures > 0)
        wrong[side.name] = { count: (wrong[side.name]?.count ?? 0) + result.failures, example: result.example };
      results[side.name].push({
        rps: (total * 1000) / result.ms,
        cpu: cpu / total,
        p50: percentile(result.latencies, 50),
        p99: percentile(result.latencies, 99),
      });
    }
  }
  return Object.fromEntries(
    Object.entries(results).map(([name, rounds]) => [
      name,
      {
        ...Object.fromEntries(['rps', 'cpu', 'p50', 'p99'].map((k) => [k, median(rounds.map((x) => x[k]))])),
        wrong: wrong[name],
      },
    ]),
  );
}

// ----------------------------------------------------------------------------------------- one store

async function benchStore(store, stand) {
  const dir = mkdtempSync(join(tmpdir(), `phonegate-bench-${store.name}-`));
  const configFile = join(dir, 'config.ini');
  writeFileSync(configFile, ''); // so that a config.ini in the checkout is not read
  const appOptions = {
    configFile,
    slack: stand.slack,
    bandwidth: stand.bandwidth,
    signingSecret: SIGNING_SECRET,
    botToken: BOT_TOKEN,
    userNumber: USER_PHONE,
  };
  const started = [];
  const launch = async (storeUrl, logLevel) => {
    const builtAt = statSync(STAMP).mtimeMs;
    const app = await startApp({ ...appOptions, storeUrl, logLevel });
    started.push(app);
    app.rebuilt = statSync(STAMP).mtimeMs !== builtAt; // a source changed meanwhile: that start compiled
    return app;
  };
  const out = { name: store.name };
  try {
    // Time to ready with an empty store.
    const readies = [];
    for (let i = 0; i < SIZE.readyStarts; i++) {
      const url = await store.fresh(dir, `ready-${i}`);
      const app = await launch(url);
      if (!app.rebuilt) readies.push(app.readyMs);
      await app.stop();
    }
    out.readyEmpty = median(readies);

    // The app and the bare app, 20 users logged in through the real flow.
    const storeUrl = await store.fresh(dir, 'main');
    const app = await launch(storeUrl);
    const bare = await startBare({ slack: stand.slack, signingSecret: SIGNING_SECRET, botToken: BOT_TOKEN });
    started.push(bare);
    // The bare app plus the one read the gate makes (same driver, same request, same rows): the store call's share.
    const bareRead = await startBare({
      slack: stand.slack,
      signingSecret: SIGNING_SECRET,
      botToken: BOT_TOKEN,
      read: store.read(storeUrl),
    });
    started.push(bareRead);
    const appClient = new SlackClient(app.port, SIGNING_SECRET);
    const bareClient = new SlackClient(bare.port, SIGNING_SECRET);
    const bareReadClient = new SlackClient(bareRead.port, SIGNING_SECRET);
    const users = Array.from({ length: USERS }, (_, i) => cloneId('UB', i + 1));
    for (const user of users) await logIn(appClient, stand.slack, user);
    const sides = [
      { name: 'bare', pid: bare.pid, client: bareClient, bodies: whoamiBodies(users, stand.slack), check: bareWhoami },
      {
        name: 'bareRead',
        pid: bareRead.pid,
        client: bareReadClient,
        bodies: whoamiBodies(users, stand.slack),
        check: bareWhoami,
      },
      { name: 'app', pid: app.pid, client: appClient, bodies: whoamiBodies(users, stand.slack), check: liveWhoami },
    ];
    log(`${store.name}: warming both sides (${SIZE.warm} requests each)`);
    for (const side of sides) {
      const warm = await whoamiRound(side.client, side.bodies, SIZE.warm, 32, side.check);
      if (warm.failures > 0)
        log(`${store.name}: ${side.name} answered ${warm.failures} wrongly while warming, e.g. ${warm.example}`);
    }
    out.levels = {};
    for (const concurrency of [32, 128, 1]) {
      log(`${store.name}: ${SIZE.rounds} alternating rounds at ${concurrency} concurrent`);
      out.levels[concurrency] = await sideBySide(
        sides,
        concurrency === 1 ? SIZE.perRoundSerial : SIZE.perRound,
        concurrency,
      );
    }
    log(`${store.name}: ${SIZE.logins} logins at 32 concurrent`);
    const loginUsers = Array.from({ length: SIZE.logins }, (_, i) => cloneId('UL', i + 1));
    // The user whose state is cloned below has a phone linked by the operator, so every clone has one too.
    await runAdmin({ ...appOptions, storeUrl }, ['link', loginUsers[0], USER_PHONE]);
    out.logins = await warmLogins(appClient, stand.slack, 'UX', loginUsers);
    out.rss = { app: rssMb(app.pid), bare: rssMb(bare.pid) };
    appClient.close();
    bareReadClient.close();
    await Promise.all([app.stop(), bareRead.stop()]); // bare Bolt stays, for the rounds on the large store

    // Many users: clones of one user the app logged in above, then a start, and the purge it runs.
    log(`${store.name}: state of ${SIZE.seedUsers} users`);
    const seedStarted = performance.now();
    out.seed = await store.seed(dir, storeUrl, loginUsers[0], SIZE.seedUsers);
    out.seed.ms = performance.now() - seedStarted;
    // Once the purge is done: the same rounds and logins on the large store, bare Bolt beside it again.
    const onLargeStore = async (large) => {
      const largeClient = new SlackClient(large.port, SIGNING_SECRET);
      const live = Array.from({ length: USERS }, (_, i) => cloneId('US', 2 * i + 1)); // odd clones: logged in
      const largeSides = [
        sides[0],
        {
          name: 'app',
          pid: large.pid,
          client: largeClient,
          bodies: whoamiBodies(live, stand.slack),
          check: liveWhoami,
        },
      ];
      log(`${store.name}: ${SIZE.seedUsers} users: ${USERS} logins, warming, then the same rounds`);
      // As on the small store: USERS logins one after another first, so that the login round below
      // runs warm code here too (without them it paid this process's first compilations).
      for (let i = 1; i <= USERS; i++) await logIn(largeClient, stand.slack, cloneId('UW', i));
      await whoamiRound(largeClient, largeSides[1].bodies, SIZE.warm, 32, liveWhoami);
      const levels = {};
      for (const concurrency of [32, 128, 1])
        levels[concurrency] = await sideBySide(
          largeSides,
          concurrency === 1 ? SIZE.perRoundSerial : SIZE.perRound,
          concurrency,
        );
      const logins = await warmLogins(
        largeClient,
        stand.slack,
        'UY',
        Array.from({ length: SIZE.logins }, (_, i) => cloneId('UM', i + 1)),
      );
      const rss = { app: rssMb(large.pid), bare: rssMb(bare.pid) };
      largeClient.close();
      return { levels, logins, rss };
    };
    out.purge = await purgeRuns(
      launch,
      out.seed,
      stand.slack,
      () => store.fresh(dir, 'nothing-to-purge'),
      onLargeStore,
    );
    bareClient.close();
    return out;
  } finally {
    await Promise.all(started.map((child) => child.stop()));
    await store.cleanUp?.();
    rmSync(dir, { recursive: true, force: true });
  }
}

const DURING_LOAD_MS = 15_000;
// A minute per 250,000 users, at least one (the whole run near 5 minutes at 100,000); a longer purge is reported as "> N s".
const PURGE_TIMEOUT_MS = Math.max(60_000, SIZE.seedUsers * 0.24);
/** The control probes as long as the purge did, a minute at most: enough to see what the machine gives. */
const CONTROL_PROBES_MAX = 10_000;
const logTime = (line) => (typeof line?.time === 'string' ? Date.parse(line.time) : line?.time);
const purgeLine = (app) =>
  app.jsonLines().find((l) => l.msg === 'purged old state' || l.msg === 'purging old state failed');

/** Requests that run code for the first time in a new process (compiled on the way): kept out of the stall. */
const FIRST_PROBES = 20;

/**
 * The event loop of a process just started, seen from outside and from inside. First its first
 * requests (a scrape of /metrics and FIRST_PROBES probes: their worst is `firstMax`, the price of code
 * that has never run), then a second scrape, which starts the app's own monitor afresh, and a GET
 * every 5 ms to a path no route serves (answered 404 with no store call) until `done()` or `count`
 * probes: the worst latency (`probeMax`, an upper bound on how long the loop was held) and the app's
 * monitor over the same span (`lagMax`: prom-client's `nodejs_eventloop_lag_max_seconds`, the longest
 * interval between the ticks of a 10 ms timer, so a stall was at least this less 10 ms and at most this).
 */
async function probeEventLoop(app, { done = () => false, count = Number.POSITIVE_INFINITY }) {
  const client = new SlackClient(app.port, SIGNING_SECRET, 1);
  const probe = async () => {
    const { ms } = await client.get('/bench-probe');
    await sleep(5);
    return ms;
  };
  const lagMaxMs = async () => {
    const text = await (await fetch(`http://127.0.0.1:${app.port}/metrics`)).text();
    const match = /^nodejs_eventloop_lag_max_seconds (\S+)$/m.exec(text);
    return match ? Number(match[1]) * 1000 : undefined;
  };
  await lagMaxMs();
  const first = [];
  for (let i = 0; i < FIRST_PROBES; i++) first.push(await probe());
  await lagMaxMs();
  const probes = [];
  const until = performance.now() + PURGE_TIMEOUT_MS;
  while (!done() && probes.length < count && performance.now() < until && !app.exit) probes.push(await probe());
  const lagMax = await lagMaxMs();
  client.close();
  return {
    firstMax: Math.max(...first),
    probeMax: probes.length > 0 ? Math.max(...probes) : undefined,
    probes: probes.length,
    lagMax,
  };
}

/**
 * The purge that main.ts starts right after "ready", measured on two starts of the same state.
 * First alone: its duration (from the "ready" line to the "purged old state" line) and the event loop
 * while it runs (probeEventLoop); then /whoami at 32 concurrent, purged ("without").
 * Then again on the same state made anew, with /whoami at 32 concurrent from "ready" for as long as the
 * purge took alone, at most 15 s ("during"; a purge under load takes longer than alone).
 * Last, the event loop of a start with nothing to purge, for as many probes as the purge took: what a
 * probe and the monitor meet on this machine anyway (start-up's garbage collections, the scheduler, the
 * bench itself), to read the purge's numbers against.
 */
async function purgeRuns(launch, seed, slack, freshUrl, onLargeStore) {
  const live = Array.from({ length: USERS }, (_, i) => cloneId('US', 2 * i + 1)); // odd clones are not aged: logged in
  const bodies = whoamiBodies(live, slack);
  const result = {};

  const alone = await launch(seed.url, 'info');
  result.readyMs = alone.readyMs;
  result.rebuilt = alone.rebuilt;
  result.loop = await probeEventLoop(alone, { done: () => purgeLine(alone) });
  const purged = purgeLine(alone);
  if (purged) {
    result.line = Object.fromEntries(
      Object.entries(purged).filter(([k]) => !['level', 'time', 'pid', 'hostname', 'app'].includes(k)),
    );
    if (result.line.err) result.line.err = result.line.err.message; // no stack in the table
    result.ms = logTime(purged) - logTime(alone.jsonLines().find((l) => l.msg === 'ready'));
  }
  const client = new SlackClient(alone.port, SIGNING_SECRET);
  const without = await whoamiRound(client, bodies, SIZE.perRound, 32, liveWhoami);
  client.close();
  result.large = await onLargeStore(alone);
  await alone.stop();
  result.without = {
    stillPurging: !purged,
    wrong: without.failures,
    p50: percentile(without.latencies, 50),
    p99: percentile(without.latencies, 99),
    rps: (without.latencies.length * 1000) / without.ms,
  };

  const loaded = await launch(await seed.again(), 'info');
  const loadedClient = new SlackClient(loaded.port, SIGNING_SECRET);
  const during = [];
  let duringWrong = 0;
  let duringExample;
  const from = performance.now();
  const window = Math.min(result.ms ?? DURING_LOAD_MS, DURING_LOAD_MS);
  while (performance.now() - from < window && !purgeLine(loaded)) {
    const r = await whoamiRound(loadedClient, bodies, 100, 32, liveWhoami);
    duringWrong += r.failures;
    duringExample ??= r.example;
    during.push(...r.latencies);
  }
  const elapsed = performance.now() - from;
  loadedClient.close();
  await loaded.stop();
  during.sort((a, b) => a - b);
  result.during = {
    wrong: duringWrong,
    example: duringExample,
    n: during.length,
    p50: percentile(during, 50),
    p99: percentile(during, 99),
    rps: (during.length * 1000) / elapsed,
  };

  const control = await launch(await freshUrl(), 'info');
  result.control = await probeEventLoop(control, { count: Math.min(result.loop.probes, CONTROL_PROBES_MAX) });
  await control.stop();
  return result;
}

// ----------------------------------------------------------------------------------------- the stores

const sqlite = {
  name: 'SQLite',
  fresh: async (dir, name) => `sqlite://${join(dir, `${name}.sqlite`)}`,
  read: (url) => `sqlite:${url.slice('sqlite://'.length)}`,
  async seed(dir, fromUrl, templateUser, users) {
    const template = await sqliteTemplate(fromUrl.slice('sqlite://'.length), templateUser);
    const file = join(dir, 'many.sqlite');
    const rows = await sqliteClones(file, template, { users, prefix: 'US', now: Date.now() });
    copyFileSync(file, join(dir, 'many-again.sqlite')); // for the second start
    const again = async () => `sqlite://${join(dir, 'many-again.sqlite')}`;
    return { url: `sqlite://${file}`, users, shapes: template.shapes, rows, mb: statSync(file).size / 1e6, again };
  },
};

function redisStore(url) {
  return {
    name: 'Redis',
    read: (storeUrl) => `redis:${storeUrl}`,
    async fresh() {
      await flushRedis(url);
      return url;
    },
    async seed(_dir, fromUrl, templateUser, users) {
      const template = await redisTemplate(fromUrl, templateUser);
      const now = Date.now();
      const rows = await redisClones(url, template, { users, prefix: 'US', now });
      const again = async () => (await redisClones(url, template, { users, prefix: 'US', now }), url);
      return { url, users, shapes: template.shapes, rows, again };
    },
    cleanUp: () => flushRedis(url),
  };
}

// ----------------------------------------------------------------------------------------- the report

const f = (n, digits = 0) => (n === undefined || Number.isNaN(n) ? '-' : n.toFixed(digits));

function report(results, skipped) {
  const lines = [];
  lines.push(`PhoneGate bench, ${machine.date}${quick ? ' (--quick)' : ''}`);
  lines.push(
    `machine: ${machine.cpu}, ${machine.cores} cores, Node ${machine.node}, load average at start ${machine.load}`,
  );
  lines.push(
    `/whoami: ${SIZE.rounds} alternating rounds per level (${SIZE.perRound} requests at 32 and 128, ${SIZE.perRoundSerial} at 1), after ${SIZE.warm} each to warm; medians of rounds; ${USERS} logged-in users`,
  );
  for (const r of results) {
    lines.push('');
    lines.push(`== ${r.name}`);
    lines.push(
      'concurrency | bare req/s | app req/s | app/bare | bare CPU ms/req | app CPU ms/req | app/bare CPU | bare p50/p99 ms | app p50/p99 ms',
    );
    for (const c of [1, 32, 128]) {
      const { bare, app } = r.levels[c];
      lines.push(
        `${String(c).padStart(11)} | ${f(bare.rps).padStart(10)} | ${f(app.rps).padStart(9)} | ${f(app.rps / bare.rps, 2).padStart(8)} | ${f(bare.cpu, 3).padStart(15)} | ${f(app.cpu, 3).padStart(14)} | ${f(app.cpu / bare.cpu, 2).padStart(12)} | ${`${f(bare.p50, 1)}/${f(bare.p99, 1)}`.padStart(15)} | ${`${f(app.p50, 1)}/${f(app.p99, 1)}`.padStart(14)}`,
      );
    }
    lines.push(
      `bare Bolt + the gate's one read (same driver, same request; nothing else): what the store call alone costs`,
    );
    lines.push(
      "(÷ bare: about the most an app that reads its store once per command can reach; app ÷ this: what the app's own code costs beyond that read)",
    );
    lines.push('concurrency | req/s | ÷ bare | CPU ms/req | ÷ bare CPU | p50/p99 ms | app ÷ this | app CPU ÷ this');
    for (const c of [1, 32, 128]) {
      const { bare, bareRead: br, app } = r.levels[c];
      lines.push(
        `${String(c).padStart(11)} | ${f(br.rps).padStart(5)} | ${f(br.rps / bare.rps, 2).padStart(6)} | ${f(br.cpu, 3).padStart(10)} | ${f(br.cpu / bare.cpu, 2).padStart(10)} | ${`${f(br.p50, 1)}/${f(br.p99, 1)}`.padStart(10)} | ${f(app.rps / br.rps, 2).padStart(10)} | ${f(app.cpu / br.cpu, 2).padStart(14)}`,
      );
    }
    for (const c of [1, 32, 128]) {
      for (const side of ['bare', 'bareRead', 'app']) {
        const w = r.levels[c][side].wrong;
        if (w)
          lines.push(
            `  at ${c} concurrent, ${side} answered ${w.count} of ${SIZE.rounds * (c === 1 ? SIZE.perRoundSerial : SIZE.perRound)} requests wrongly, e.g. ${w.example}`,
          );
      }
    }
    lines.push(
      `logins at 32 concurrent (command, delivery choice, code): ${f(r.logins.perSecond, 1)}/s completed, ${SIZE.logins - r.logins.failed.length} of ${SIZE.logins}; code-submission ack p50 ${f(r.logins.ackP50)} ms, p99 ${f(r.logins.ackP99)} ms (the round before it, ${warmLoginCount(SIZE.logins)} logins to warm: ${f(r.logins.warm, 1)}/s)`,
    );
    if (r.logins.failed.length > 0) lines.push(`  ${r.logins.failed.length} logins failed, e.g. ${r.logins.failed[0]}`);
    lines.push(`RSS after the bench: app ${f(r.rss.app)} MB (bare Bolt ${f(r.rss.bare)} MB)`);
    const p = r.purge;
    lines.push(
      `ready (spawn to /healthz 200, warm start): empty store ${f(r.readyEmpty)} ms (median of ${SIZE.readyStarts}); ${r.seed.users} users ${f(p.readyMs)} ms (one start)${p.rebuilt ? ' (it rebuilt first: not a warm start)' : ''}`,
    );
    lines.push(
      `${r.seed.users} users: each a clone of one user the app logged in (${r.seed.shapes.join(', ')}), every second one aged a day; ${r.seed.rows} rows${r.seed.mb ? `, ${f(r.seed.mb)} MB` : ''}; seeded in ${f(r.seed.ms / 1000, 1)} s`,
    );
    const loop = (l) =>
      `worst 404 probe ${f(l.probeMax, 1)} ms (${l.probes} probes), the app's own monitor's longest tick ${f(l.lagMax, 1)} ms`;
    lines.push(
      `purge at start, alone: ${p.ms === undefined ? `> ${PURGE_TIMEOUT_MS / 1000} s (no "purged old state" line yet)` : `${f(p.ms)} ms`}${p.line ? ` ${JSON.stringify(p.line)}` : ''}`,
    );
    if (p.line?.longestStatementMs !== undefined)
      lines.push(
        `  its longest statement (SQLite runs on the main thread: the longest the purge itself held the event loop, a request's statement included): ${f(p.line.longestStatementMs, 1)} ms`,
      );
    lines.push(
      `  event loop during it: ${loop(p.loop)} (10 ms timer: the stall lies between it less 10 ms and it); first requests after start (cold code): worst ${f(p.loop.firstMax, 1)} ms`,
    );
    lines.push(
      `  a start with nothing to purge, the same probes: ${loop(p.control)}; first requests: worst ${f(p.control.firstMax, 1)} ms`,
    );
    lines.push(
      `  /whoami at 32 during the purge (a second start): p50 ${f(p.during.p50, 1)} ms, p99 ${f(p.during.p99, 1)} ms, ${f(p.during.rps)} req/s (n=${p.during.n}${p.during.wrong ? `, ${p.during.wrong} answered wrongly, e.g. ${p.during.example}` : ''}); ${p.without.stillPurging ? 'on the first start, purge still running' : 'after it'}: p50 ${f(p.without.p50, 1)} ms, p99 ${f(p.without.p99, 1)} ms, ${f(p.without.rps)} req/s${p.without.wrong ? ` (${p.without.wrong} answered wrongly)` : ''}`,
    );
    const large = p.large;
    lines.push(
      `at ${r.seed.users} users (the first start, ${p.ms === undefined ? 'its purge still running' : 'after its purge'}; bare Bolt beside it), and each ratio ÷ the same with ${USERS} users above:`,
    );
    lines.push('concurrency | app req/s | app/bare | ÷ small | app/bare CPU | ÷ small | app p50/p99 ms | p99 ÷ small');
    for (const c of [1, 32, 128]) {
      const small = r.levels[c];
      const { bare, app } = large.levels[c];
      const rps = app.rps / bare.rps;
      const cpu = app.cpu / bare.cpu;
      lines.push(
        `${String(c).padStart(11)} | ${f(app.rps).padStart(9)} | ${f(rps, 2).padStart(8)} | ${f(rps / (small.app.rps / small.bare.rps), 2).padStart(7)} | ${f(cpu, 2).padStart(12)} | ${f(cpu / (small.app.cpu / small.bare.cpu), 2).padStart(7)} | ${`${f(app.p50, 1)}/${f(app.p99, 1)}`.padStart(14)} | ${f(app.p99 / small.app.p99, 2).padStart(11)}`,
      );
      if (app.wrong)
        lines.push(`  at ${c} concurrent, the app answered ${app.wrong.count} wrongly, e.g. ${app.wrong.example}`);
    }
    lines.push(
      `  logins at 32 concurrent: ${f(large.logins.perSecond, 1)}/s (÷ small ${f(large.logins.perSecond / r.logins.perSecond, 2)}; the round to warm ${f(large.logins.warm, 1)}/s), ${SIZE.logins - large.logins.failed.length} of ${SIZE.logins}; code-submission ack p99 ${f(large.logins.ackP99)} ms${large.logins.failed.length ? `; failed e.g. ${large.logins.failed[0]}` : ''}; RSS after: app ${f(large.rss.app)} MB (bare Bolt ${f(large.rss.bare)} MB)`,
    );
  }
  for (const s of skipped) lines.push('', `== ${s.name}: skipped (${s.why})`);
  lines.push(
    '',
    `load average at the end: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  return lines.join('\n');
}

// ----------------------------------------------------------------------------------------- main

const stand = { slack: await slackStandIn(), bandwidth: await bandwidthStandIn('9900000') };
const results = [];
const skipped = [];
try {
  build();
  if (!only || only === 'sqlite') results.push(await benchStore(sqlite, stand));
  if (!only || only === 'redis') {
    const base = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
    const url = await emptyRedisDb(base);
    if (url) results.push(await benchStore(redisStore(url), stand));
    else skipped.push({ name: 'Redis', why: `no Redis answering at ${base}, or no empty database among 12-15` });
  }
  console.log(report(results, skipped));
} finally {
  await Promise.all([stand.slack.close(), stand.bandwidth.close()]);
}
