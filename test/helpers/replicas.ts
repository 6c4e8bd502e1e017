import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from '@redis/client';
import { FakeBandwidth } from './fake-bandwidth.js';
import { FakeSlack } from './fake-slack.js';
import { ACCOUNT_ID, SECRETS, testEnv } from './harness.js';
import { dropPostgresSchema, POSTGRES_URL, postgresUrl } from './postgres.js';
import { AppProcess, cleanEnv, type Exit, freePort, groupMembers, ROOT, sleep } from './process.js';
import { serveOverHttp } from './serve.js';
import { SlackRequests, TEAM_ID } from './slack-client.js';

/**
 * Several real bot processes (`npm start`, as a user starts it) on one shared store, against one
 * stand-in Slack and one stand-in Bandwidth served from the test process on 127.0.0.1. Each process
 * runs in its own process group (spawn's `detached`), so clean-up reaches npm and node both.
 * Linux only (reads /proc).
 */

export { AppProcess, cleanEnv, type Exit, freePort, groupMembers, ROOT, sleep };

/** Compiles src/ once, so that the starts that follow find nothing to rebuild (and never build at once). */
export function buildOnce(): void {
  try {
    execFileSync('npx', ['tsc', '-b'], { cwd: ROOT, env: cleanEnv(), stdio: 'pipe', timeout: 120_000 });
  } catch (error) {
    throw new Error(`src/ does not compile (npx tsc -b):\n${String((error as { stdout?: Buffer }).stdout ?? error)}`);
  }
}

/** The stand-in Slack and Bandwidth, served over HTTP on 127.0.0.1 and shared by every replica. */
export class StandIns {
  readonly slack = new FakeSlack();
  readonly bandwidth = new FakeBandwidth(
    { now: () => Date.now() },
    { accountId: ACCOUNT_ID, auth: { kind: 'basic', username: SECRETS.apiUser, password: SECRETS.apiPassword } },
  );
  /** Every Bandwidth answer waits this long (a slow provider keeps requests in flight). */
  bandwidthDelayMs = 0;
  private constructor(
    readonly slackOrigin: string,
    readonly bandwidthOrigin: string,
    private readonly closers: Array<() => Promise<void>>,
  ) {}

  static async start(): Promise<StandIns> {
    let fakes: StandIns | undefined;
    const slackHttp = await serveOverHttp((path, body, auth) => fakes!.slack.handle(path, body, auth));
    const bandwidthHttp = await serveOverHttp(async (path, body, auth) => {
      if (fakes!.bandwidthDelayMs > 0) await sleep(fakes!.bandwidthDelayMs);
      return fakes!.bandwidth.handle(path, body, auth);
    });
    fakes = new StandIns(slackHttp.origin, bandwidthHttp.origin, [slackHttp.close, bandwidthHttp.close]);
    return fakes;
  }

  /** A response_url on the stand-in Slack, so that late replies can be counted. */
  responseUrl(): string {
    return `${this.slackOrigin}/commands/${TEAM_ID}/${randomUUID()}`;
  }

  async close(): Promise<void> {
    await Promise.all(this.closers.map((close) => close()));
  }
}

/** One replica: a port of its own, and `npm start` on it (again after a stop). */
export class Replica {
  app: AppProcess | undefined;
  /** Every process this replica ran, for the logs of the ones that ended. */
  readonly runs: AppProcess[] = [];
  readonly requests: SlackRequests;

  constructor(
    readonly name: string,
    readonly port: number,
    private readonly env: Record<string, string>,
  ) {
    this.requests = new SlackRequests(this.url, SECRETS.signingSecret);
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** `npm start`, then waits until /healthz answers 200. */
  async start(timeoutMs = 45_000): Promise<void> {
    const app = new AppProcess({ ...this.env, SLACK_PORT: String(this.port) });
    this.app = app;
    this.runs.push(app);
    for (;;) {
      const status = await this.health(1000).catch(() => 0);
      if (status === 200) return;
      if (app.exit)
        throw new Error(`replica ${this.name}: npm start exited before /healthz answered 200.\n${app.describe()}`);
      if (performance.now() - app.startedAt > timeoutMs)
        throw new Error(`replica ${this.name}: /healthz did not answer 200 within ${timeoutMs} ms.\n${app.describe()}`);
      await sleep(50);
    }
  }

  async health(timeoutMs = 3000): Promise<number> {
    const res = await fetch(`${this.url}/healthz`, { signal: AbortSignal.timeout(timeoutMs) });
    await res.arrayBuffer();
    return res.status;
  }

  /** Sends `signal` to the node process itself (not npm), as a supervisor or the kernel would. */
  signal(signal: NodeJS.Signals): void {
    const pid = this.app?.appPid();
    if (!pid) throw new Error(`replica ${this.name}: no node process to signal.\n${this.app?.describe()}`);
    process.kill(pid, signal);
  }

  /** A slash command as Slack sends it, with its response_url on the stand-in Slack. */
  commandBody(standIns: StandIns, command: string, userId: string, text = ''): string {
    const body = new URLSearchParams(this.requests.commandBody(command, userId, text));
    body.set('response_url', standIns.responseUrl());
    return body.toString();
  }

  command(standIns: StandIns, command: string, userId: string, text = '') {
    return this.requests.post(this.commandBody(standIns, command, userId, text));
  }

  /** Audit lines of every run, oldest first. */
  audit(event?: string): Array<Record<string, any>> {
    return this.runs
      .flatMap((run) => run.lines())
      .filter((l) => l.audit === true && (event === undefined || l.event === event));
  }

  async stop(): Promise<void> {
    await Promise.all(this.runs.map((run) => run.kill()));
  }
}

const configDir = mkdtempSync(join(tmpdir(), 'phonegate-replicas-'));
/** An empty config file, so that the checkout's config.ini is never read. */
const EMPTY_CONFIG = join(configDir, 'config.ini');
writeFileSync(EMPTY_CONFIG, '');

export function removeReplicaTempFiles(): void {
  rmSync(configDir, { recursive: true, force: true });
}

/** Two (or more) replicas on one store, started one after the other (two `tsc -b` at once could clash). */
export class Cluster {
  private constructor(
    readonly replicas: Replica[],
    readonly standIns: StandIns,
  ) {}

  /** `env`: for every replica, or per replica by its index (0 for A). */
  static async start(
    storeUrl: string,
    standIns: StandIns,
    env: Record<string, string> | ((index: number) => Record<string, string>) = {},
    count = 2,
  ): Promise<Cluster> {
    const base = {
      ...cleanEnv(),
      ...testEnv('basic'),
      SLACK_API_URL: `${standIns.slackOrigin}/api/`,
      BANDWIDTH_MFA_BASE_URL: `${standIns.bandwidthOrigin}/api/v1`,
      STORE_URL: storeUrl,
      CONFIG_FILE: EMPTY_CONFIG,
    };
    const envOf = (i: number) => ({ ...base, ...(typeof env === 'function' ? env(i) : env) });
    const replicas: Replica[] = [];
    const cluster = new Cluster(replicas, standIns);
    try {
      for (let i = 0; i < count; i++) {
        const replica = new Replica(String.fromCharCode(65 + i), await freePort(), envOf(i));
        replicas.push(replica);
        await replica.start();
      }
    } catch (error) {
      await cluster.stop();
      throw error;
    }
    return cluster;
  }

  get a(): Replica {
    return this.replicas[0]!;
  }

  get b(): Replica {
    return this.replicas[1]!;
  }

  /** Audit lines of every replica. */
  audit(event?: string): Array<Record<string, any>> {
    return this.replicas.flatMap((r) => r.audit(event));
  }

  describe(): string {
    return this.replicas.map((r) => `=== replica ${r.name} ===\n${r.app?.describe()}`).join('\n');
  }

  async stop(): Promise<void> {
    await Promise.all(this.replicas.map((r) => r.stop()));
  }
}

// --- shared stores ---------------------------------------------------------------------------

export interface SharedStore {
  kind: 'redis' | 'postgres';
  url: string;
  /** Removes what the test wrote. */
  drop(): Promise<void>;
}

/**
 * A Redis database of its own on the shared server (the app's keys have a fixed prefix, so a database
 * is the unit to clean). REPLICAS_REDIS_DB overrides the number; nothing else here uses it.
 */
export async function redisStore(db = Number(process.env.REPLICAS_REDIS_DB ?? 9)): Promise<SharedStore> {
  const url = `redis://127.0.0.1:6379/${db}`;
  const flush = async () => {
    const client = createClient({ url });
    await client.connect();
    try {
      await client.flushDb();
    } finally {
      client.destroy();
    }
  };
  await flush();
  return { kind: 'redis', url, drop: flush };
}

/** A PostgreSQL schema of its own, dropped afterwards. */
export async function postgresStore(): Promise<SharedStore> {
  const schema = `replicas_${randomUUID().replace(/-/g, '').slice(0, 16)}`;
  return { kind: 'postgres', url: postgresUrl(schema), drop: () => dropPostgresSchema(schema) };
}

/**
 * A Redis server of our own (the shared one must keep running for other tests), that a test can kill
 * and start again. Append-only with fsync on every write: what Redis acknowledged survives a SIGKILL,
 * so "nothing committed is lost" can be checked after a crash.
 */
export class OwnRedis {
  private proc: ChildProcess | undefined;
  private readonly dir = mkdtempSync(join(tmpdir(), 'phonegate-redis-'));
  private constructor(
    readonly port: number,
    private readonly settings: string[],
  ) {}

  /** `settings`: more redis-server arguments, e.g. ['--maxmemory-policy', 'allkeys-lru']. */
  static async start(settings: string[] = []): Promise<OwnRedis> {
    const redis = new OwnRedis(await freePort(), settings);
    await redis.up();
    return redis;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}/0`;
  }

  async up(): Promise<void> {
    this.proc = spawn(
      'redis-server',
      [
        '--port',
        String(this.port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'yes',
        '--appendfsync',
        'always',
        '--dir',
        this.dir,
        ...this.settings,
      ],
      { stdio: 'ignore' },
    );
    const until = Date.now() + 10_000;
    while (!(await accepts(this.port))) {
      if (Date.now() > until) throw new Error(`redis-server on ${this.port} did not start`);
      await sleep(25);
    }
  }

  /** SIGKILL: a crash, not a shutdown. */
  async down(): Promise<void> {
    const proc = this.proc;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise((resolve) => proc.once('exit', resolve));
    proc.kill('SIGKILL');
    await exited;
  }

  async stop(): Promise<void> {
    await this.down();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * A TCP relay to the shared PostgreSQL server that a test can cut (listener closed, open connections
 * reset: the server is gone) and open again on the same port.
 */
export class PostgresRelay {
  private server: net.Server | undefined;
  private readonly sockets = new Set<net.Socket>();
  private constructor(readonly port: number) {}

  static async start(): Promise<PostgresRelay> {
    const relay = new PostgresRelay(await freePort());
    await relay.open();
    return relay;
  }

  /** A store URL through the relay, with a schema of its own. */
  url(schema: string): string {
    return postgresUrl(schema, POSTGRES_URL.replace(/@[^/]+\//, `@127.0.0.1:${this.port}/`));
  }

  async open(): Promise<void> {
    const { hostname, port } = new URL(POSTGRES_URL);
    const server = net.createServer((client) => {
      this.sockets.add(client);
      client.on('error', () => {});
      client.on('close', () => this.sockets.delete(client));
      const upstream = net.connect(Number(port) || 5432, hostname);
      this.sockets.add(upstream);
      upstream.on('error', () => client.destroy());
      upstream.on('close', () => {
        this.sockets.delete(upstream);
        client.destroy();
      });
      client.on('close', () => upstream.destroy());
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve, reject) => server.once('error', reject).listen(this.port, '127.0.0.1', resolve));
    this.server = server;
  }

  cut(): void {
    this.server?.close();
    this.server = undefined;
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
  }
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

// --- a load balancer, as the tests need one ---------------------------------------------------

export interface Answer {
  status: number;
  text: string;
  json: any;
  ms: number;
  replica: string;
}

/** One POST on a connection of its own (as nginx talks to its upstreams by default), or the socket error. */
function postOnce(
  url: string,
  body: string,
  headers: Record<string, string>,
  timeoutMs: number,
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      url,
      {
        method: 'POST',
        agent: false,
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          ...headers,
          'content-length': String(Buffer.byteLength(body)),
        },
        timeout: timeoutMs,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () =>
      req.destroy(Object.assign(new Error(`no answer within ${timeoutMs} ms`), { code: 'TIMEOUT' })),
    );
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * Round robin over the replicas. A request goes to another replica only when its connection was
 * refused (the port is closed: nothing was sent), as a load balancer does; any other failure is the
 * caller's to count.
 */
export class Balancer {
  private next = 0;
  /** Requests sent to each replica and not yet answered, by replica name. */
  readonly inFlight = new Map<string, string[]>();
  /** Replicas whose last health check was not 200 (see watchHealth). */
  private readonly out = new Set<string>();
  constructor(private readonly replicas: Replica[]) {}

  /**
   * As a real load balancer does: a replica whose /healthz is not 200 (draining, store down, port
   * closed) gets no new requests until it answers 200 again. Returns the function that stops watching.
   */
  watchHealth(everyMs = 100): () => void {
    const check = () => {
      for (const replica of this.replicas) {
        fetch(`${replica.url}/healthz`, { signal: AbortSignal.timeout(everyMs * 5) }).then(
          async (res) => {
            await res.arrayBuffer();
            if (res.status === 200) this.out.delete(replica.name);
            else this.out.add(replica.name);
          },
          () => this.out.add(replica.name),
        );
      }
    };
    check();
    const timer = setInterval(check, everyMs);
    return () => clearInterval(timer);
  }

  async post(body: string, headers: Record<string, string>, timeoutMs = 5000): Promise<Answer> {
    const first = this.next++;
    const order = this.replicas.map((_, i) => this.replicas[(first + i) % this.replicas.length]!);
    const healthy = order.filter((r) => !this.out.has(r.name));
    let refused: unknown;
    for (const replica of healthy.length > 0 ? healthy : order) {
      const started = performance.now();
      const what =
        new URLSearchParams(body).get('command') ??
        JSON.parse(new URLSearchParams(body).get('payload') ?? '{}').type ??
        'event';
      const flying = this.inFlight.get(replica.name) ?? [];
      this.inFlight.set(replica.name, flying);
      flying.push(what);
      try {
        const { status, text } = await postOnce(`${replica.url}/slack/events`, body, headers, timeoutMs);
        let json: any;
        try {
          json = text ? JSON.parse(text) : undefined;
        } catch {
          json = undefined;
        }
        return { status, text, json, ms: performance.now() - started, replica: replica.name };
      } catch (error) {
        if ((error as { code?: string }).code !== 'ECONNREFUSED')
          throw Object.assign(error as Error, { replica: replica.name });
        refused = error;
      } finally {
        flying.splice(flying.indexOf(what), 1);
      }
    }
    throw refused;
  }
}

/** SlackRequests whose every request goes through the balancer. */
export class BalancedRequests extends SlackRequests {
  constructor(private readonly balancer: Balancer) {
    super('http://balancer.invalid', SECRETS.signingSecret);
  }

  override async post(body: string, headers: Record<string, string> = this.sign(body)) {
    this.sent.push({ body, headers });
    return this.balancer.post(body, headers);
  }
}
