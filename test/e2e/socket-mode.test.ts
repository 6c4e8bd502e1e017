import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import nock from 'nock';
import { afterAll, afterEach, beforeEach, describe, expect, test } from 'vitest';
import { type RawData, WebSocket, WebSocketServer } from 'ws';
import { createBandwidthProvider } from '../../src/bandwidth/mfa-provider.js';
import { type Bot, compose } from '../../src/compose.js';
import { type Config, parseConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { type SocketRetry, SocketStartError, startFailure } from '../../src/slack/socket-mode.js';
import { openStore, type Store } from '../../src/store/index.js';
import { TestClock } from '../helpers/clock.js';
import { FakeBandwidth } from '../helpers/fake-bandwidth.js';
import { FakeSlack } from '../helpers/fake-slack.js';
import { ACCOUNT_ID, PHONES, SECRETS, testEnv, USERS } from '../helpers/harness.js';
import { LogCapture } from '../helpers/logs.js';
import { MALFORMED_REQUEST_LINES, rawRequest } from '../helpers/raw-http.js';
import { type HttpResult, SlackRequests } from '../helpers/slack-client.js';
import { until as waitFor } from '../helpers/until.js';

/**
 * The bot in Socket Mode, end to end, with no internet: Slack's Web API is a FakeSlack mounted with
 * nock at http://slack.test/api/ (the configured api_url), and Slack's Socket Mode backend is a real
 * WebSocket server on 127.0.0.1 speaking the protocol as @slack/socket-mode 3 expects it:
 *
 *  - apps.connections.open (Bearer <xapp token>) answers {ok, url} (wss://... at Slack, ws://127.0.0.1:<port>/link?ticket=N here);
 *  - on connect the server sends {type:'hello', ...}; the client's start() resolves on it;
 *  - work arrives as envelopes {envelope_id, type, payload, accepts_response_payload}, type
 *    'slash_commands' | 'interactive' | 'events_api'; the client acks with {envelope_id, payload};
 *  - {type:'disconnect', reason} (refresh_requested, warning, link_disabled: all handled alike) makes
 *    the client close the socket; our receiver (src/slack/socket-mode.ts) then calls
 *    apps.connections.open again for a new URL, with bounded tries; so does the socket closing under it;
 *  - the client pings every clientPingTimeout/3 and drops a link that stops answering pongs (ws
 *    answers pings by itself); it watches server pings only once the server has sent one.
 */

const APP_TOKEN = 'xapp-1-A0001-test';
const API_ORIGIN = 'http://slack.test';
const ACK_TIMEOUT_MS = 5000;
/** Our receiver reconnects at once; the margin is for a slow machine. */
const RECONNECT_TIMEOUT_MS = 10_000;

const until = (condition: () => boolean, what: string, timeoutMs = 3000) =>
  waitFor(condition, what, { timeoutMs, everyMs: 10 });

interface Envelope {
  envelope_id: string;
  type: 'slash_commands' | 'interactive' | 'events_api';
  payload: Record<string, unknown>;
  accepts_response_payload: boolean;
}

interface Link {
  ticket: string;
  socket: WebSocket;
  /** Every text frame the client sent on this link, parsed. */
  received: any[];
  closed: boolean;
}

/** Slack's Socket Mode backend: one WebSocket endpoint, a link per apps.connections.open ticket. */
class FakeSocketModeServer {
  readonly links: Link[] = [];
  /** When true, new links get no hello until releaseHello(): the client is connected at TCP level only. */
  holdHello = false;
  private held: WebSocket[] = [];
  private readonly pending = new Map<string, (ack: any) => void>();
  private server: WebSocketServer | undefined;
  private port = 0;

  async listen(): Promise<void> {
    const server = new WebSocketServer({ host: '127.0.0.1', port: 0, path: '/link' });
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('listening', resolve);
      server.once('error', reject);
    });
    this.port = (server.address() as AddressInfo).port;
    server.on('connection', (socket: WebSocket, req: IncomingMessage) => this.accept(socket, req));
  }

  url(ticket: number): string {
    return `ws://127.0.0.1:${this.port}/link?ticket=${ticket}`;
  }

  private accept(socket: WebSocket, req: IncomingMessage): void {
    const link: Link = {
      ticket: new URL(req.url ?? '/', 'http://localhost').searchParams.get('ticket') ?? '',
      socket,
      received: [],
      closed: false,
    };
    this.links.push(link);
    socket.on('message', (data: RawData, isBinary: boolean) => {
      if (isBinary) return;
      const message = JSON.parse(data.toString());
      link.received.push(message);
      const resolve = typeof message.envelope_id === 'string' ? this.pending.get(message.envelope_id) : undefined;
      if (resolve) {
        this.pending.delete(message.envelope_id);
        resolve(message);
      }
    });
    socket.on('close', () => {
      link.closed = true;
    });
    if (this.holdHello) this.held.push(socket);
    else this.hello(socket);
  }

  releaseHello(): void {
    this.holdHello = false;
    for (const socket of this.held.splice(0)) this.hello(socket);
  }

  private hello(socket: WebSocket): void {
    socket.send(
      JSON.stringify({
        type: 'hello',
        num_connections: this.links.filter((l) => !l.closed).length,
        debug_info: { host: 'applink-test', build_number: 1, approximate_connection_time: 18060 },
        connection_info: { app_id: 'A0001' },
      }),
    );
  }

  /** A ws:// URL where nothing listens (a port that was just free). */
  static async deadUrl(): Promise<string> {
    return `ws://127.0.0.1:${await freePort()}/link?ticket=dead`;
  }

  /** The link the client uses now (the newest open one). */
  current(): Link {
    const open = this.links.filter((l) => !l.closed && l.socket.readyState === WebSocket.OPEN);
    const link = open.at(-1);
    if (!link) throw new Error(`no open Socket Mode link (links: ${this.links.length})`);
    return link;
  }

  /** Sends an envelope on the current link; resolves with the client's acknowledgement frame. */
  deliver(
    envelope: Omit<Envelope, 'envelope_id'>,
    timeoutMs = ACK_TIMEOUT_MS,
  ): Promise<{ envelope_id: string; payload?: any }> {
    const link = this.current();
    const envelope_id = randomUUID();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(envelope_id);
        reject(new Error(`no ack for ${envelope.type} envelope ${envelope_id} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(envelope_id, (ack) => {
        clearTimeout(timer);
        resolve(ack);
      });
      link.socket.send(JSON.stringify({ envelope_id, ...envelope }));
    });
  }

  /** Sends a non-envelope message, such as {type:'disconnect', reason}. */
  sendControl(message: Record<string, unknown>): void {
    this.current().socket.send(JSON.stringify(message));
  }

  /** Gives the client a moment to close its links itself, then cuts the rest and stops listening. */
  async close(): Promise<void> {
    await until(() => this.links.every((l) => l.closed), 'the client to close its links', 2000).catch(() => undefined);
    for (const link of this.links) if (!link.closed) link.socket.terminate();
    const server = this.server;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

/** FakeSlack plus apps.connections.open, which hands out a link to the Socket Mode server. */
class SocketModeSlack extends FakeSlack {
  private tickets = 0;
  /** How apps.connections.open answers: as Slack does, HTTP 500, never, or with a URL where nothing listens. */
  open: 'ok' | 'http500' | 'hang' | { url: string } = 'ok';

  constructor(
    origin: string,
    private readonly linkUrl: (ticket: number) => string,
  ) {
    super(origin);
  }

  override async handle(path: string, body: string, authorization: string): Promise<[number, unknown]> {
    const answer = await super.handle(path, body, authorization); // records the call
    if (path !== '/api/apps.connections.open') return answer;
    // Slack refuses anything but an app-level token here; invalid_auth stops start-up at once.
    if (authorization !== `Bearer ${APP_TOKEN}`) return [200, { ok: false, error: 'invalid_auth' }];
    if (this.open === 'http500') return [500, 'Internal Server Error'];
    if (this.open === 'hang') return new Promise(() => undefined);
    if (typeof this.open === 'object') return [200, { ok: true, url: this.open.url }];
    return [200, { ok: true, url: this.linkUrl(++this.tickets) }];
  }
}

/**
 * The payloads SlackRequests builds (slash command form fields, interaction payloads) are what Slack
 * puts in a Socket Mode envelope; this carries them over the socket instead of a signed HTTP POST,
 * and returns the ack's payload where the HTTP client returns the response body.
 */
class SocketRequests extends SlackRequests {
  /** The envelopes sent, in order (without their ids). */
  readonly envelopes: Array<Omit<Envelope, 'envelope_id'>> = [];
  /** The raw ack frames, in order. */
  readonly acks: Array<{ envelope_id: string; payload?: any }> = [];

  constructor(private readonly server: FakeSocketModeServer) {
    super('socket-mode:', 'no-signing-secret-in-socket-mode');
  }

  override async post(body: string): Promise<HttpResult> {
    const started = Date.now();
    const form = new URLSearchParams(body);
    const interaction = form.get('payload');
    let envelope: Omit<Envelope, 'envelope_id'>;
    if (interaction === null) {
      envelope = { type: 'slash_commands', payload: Object.fromEntries(form), accepts_response_payload: true };
    } else {
      const payload = JSON.parse(interaction) as Record<string, unknown>;
      envelope = { type: 'interactive', payload, accepts_response_payload: payload.type === 'view_submission' };
    }
    this.envelopes.push(envelope);
    const ack = await this.server.deliver(envelope);
    this.acks.push(ack);
    return { status: 200, text: JSON.stringify(ack.payload ?? {}), json: ack.payload, ms: Date.now() - started };
  }
}

interface SocketHarness {
  config: Config;
  bot: Bot;
  store: Store;
  slack: SocketModeSlack;
  bandwidth: FakeBandwidth;
  server: FakeSocketModeServer;
  requests: SocketRequests;
  logs: LogCapture;
  /** Calls that reached https://slack.com (there must be none). */
  strays: string[];
  started: number | undefined;
  /** What onSocketLost received (main.ts exits on it). */
  lost: SocketStartError[];
  stop(): Promise<void>;
}

interface SocketOptions {
  /** Serve /healthz on this port (0: a free one). */
  port?: number;
  socketRetry?: SocketRetry;
  /** Set up the stand-ins before start(), e.g. make apps.connections.open fail. */
  before?: (h: Omit<SocketHarness, 'started'>) => void;
  /** More environment for the config. */
  env?: Record<string, string>;
}

/** Quick tries, so failure tests take milliseconds. */
const FAST_RETRY: SocketRetry = { tries: 3, firstDelayMs: 10, timeoutMs: 300 };

/** Builds the bot like test/helpers/harness.ts does, but configured for Socket Mode. */
async function startSocketBot(options: SocketOptions = {}): Promise<SocketHarness> {
  nock.disableNetConnect();
  nock.enableNetConnect('127.0.0.1');
  const clock = new TestClock();
  const env = testEnv('basic', { SLACK_APP_TOKEN: APP_TOKEN, SLACK_API_URL: `${API_ORIGIN}/api/`, ...options.env });
  delete env.SLACK_SIGNING_SECRET; // Socket Mode needs none
  const config = parseConfig({ env });
  const dir = mkdtempSync(join(tmpdir(), 'phonegate-socket-test-'));
  const store = await openStore(`sqlite://${join(dir, 'state.sqlite')}`, clock);
  const logs = new LogCapture();
  const logger = createLogger({ level: 'debug', destination: logs });
  const bandwidth = new FakeBandwidth(clock, {
    accountId: ACCOUNT_ID,
    auth: { kind: 'basic', username: SECRETS.apiUser, password: SECRETS.apiPassword },
  }).install();
  const server = new FakeSocketModeServer();
  await server.listen();
  const slack = new SocketModeSlack(API_ORIGIN, (ticket) => server.url(ticket)).install();
  const strays: string[] = [];
  nock('https://slack.com')
    .persist()
    .post(/.*/)
    .reply((uri) => {
      strays.push(uri);
      return [200, { ok: false, error: 'invalid_auth' }];
    });
  const provider = createBandwidthProvider(config.bandwidth, config.numbers.fromNumber, clock, config.slack.appName);
  const lost: SocketStartError[] = [];
  const bot = compose(config, {
    store,
    provider,
    clock,
    logger,
    socketRetry: options.socketRetry,
    onSocketLost: (error) => lost.push(error),
  });
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    try {
      await bot.stop();
    } finally {
      await server.close();
      await store.close();
      nock.cleanAll();
      rmSync(dir, { recursive: true, force: true });
    }
  };
  const parts = {
    config,
    bot,
    store,
    slack,
    bandwidth,
    server,
    requests: new SocketRequests(server),
    logs,
    strays,
    lost,
    stop,
  };
  options.before?.(parts);
  let started: number | undefined;
  try {
    started = await bot.start(options.port);
  } catch (error) {
    await stop();
    throw new Error(
      `start-up failed: ${String(error)}; Web API calls at ${API_ORIGIN}: ${slack.calls.map((c) => c.method).join(', ') || 'none'}; at https://slack.com: ${strays.join(', ') || 'none'}`,
      { cause: error },
    );
  }
  return { ...parts, started };
}

/** Starts a bot whose start-up must fail; returns the error and the logs. */
async function failedStart(before: (h: Omit<SocketHarness, 'started'>) => void, socketRetry = FAST_RETRY) {
  let parts: Omit<SocketHarness, 'started'> | undefined;
  const error = await startSocketBot({
    socketRetry,
    before: (p) => {
      parts = p;
      before(p);
    },
  }).then(
    () => undefined,
    (e: Error) => e.cause,
  );
  return { error, ...parts! };
}

let h: SocketHarness | undefined;
async function harness(options: SocketOptions = {}): Promise<SocketHarness> {
  h = await startSocketBot(options);
  return h;
}
beforeEach(() => {
  h = undefined;
});
afterEach(async () => {
  await h?.stop();
});
afterAll(() => {
  nock.restore();
});

function errorLogs(logs: LogCapture): Array<Record<string, any>> {
  return logs.lines().filter((l) => l.level === 'error' || l.level === 'fatal');
}

describe('Socket Mode, against a local stand-in of Slack', () => {
  test('start-up opens a link through the configured api_url with the app token; a gated command is refused with a pointer to /login', async () => {
    const { config, slack, server, requests, strays, started, logs } = await harness();
    expect(config.slack.signingSecret).toBeUndefined();
    expect(started).toBeUndefined();

    // auth.test with the bot token, then apps.connections.open with the app token, both at api_url.
    expect(slack.calls.map((c) => c.method)).toEqual(['auth.test', 'apps.connections.open']);
    expect(slack.callsOf('auth.test')[0]!.authorization).toBe(`Bearer ${SECRETS.botToken}`);
    expect(slack.callsOf('apps.connections.open')[0]!.authorization).toBe(`Bearer ${APP_TOKEN}`);
    expect(strays).toEqual([]);
    expect(server.links.map((l) => l.ticket)).toEqual(['1']);

    const refused = await requests.command('/whoami', USERS.bob);
    expect(requests.acks).toHaveLength(1);
    const ack = requests.acks[0]!;
    expect(Object.keys(ack).sort()).toEqual(['envelope_id', 'payload']);
    expect(ack.payload).toEqual({ response_type: 'ephemeral', text: expect.stringContaining('`/login`') });
    expect(refused.json.text).toContain('`/whoami` needs you to log in first');
    // The command itself never ran, and nothing else went to Slack.
    expect(slack.calls.map((c) => c.method)).toEqual(['auth.test', 'apps.connections.open']);
    expect(errorLogs(logs)).toEqual([]);
    expect(logs.text()).not.toContain(APP_TOKEN);
    expect(logs.text()).not.toContain(SECRETS.botToken);
  });

  test('a whole /login by SMS over the socket: modal, delivery choice, code, logged in, then /whoami passes the gate', async () => {
    const { slack, bandwidth, requests, server, logs } = await harness();

    const login = await requests.command('/login', USERS.alice);
    expect(login.json).toEqual({}); // an empty ack: the answer is the modal
    await slack.waitFor((calls) => calls.some((c) => c.method === 'views.open'), 'views.open', 3000);
    const open = slack.callsOf('views.open')[0]!;
    expect(open.authorization).toBe(`Bearer ${SECRETS.botToken}`);
    expect(open.args.trigger_id).toBe(requests.envelopes[0]!.payload.trigger_id);
    const choice = slack.lastView();
    expect(choice.view.callback_id).toBe('delivery_choice');
    expect(JSON.stringify(choice.view)).toContain('•••• 0101');

    const chosen = await requests.chooseDelivery(USERS.alice, choice, 'sms');
    expect(chosen.json.response_action).toBe('update');
    expect(JSON.stringify(chosen.json.view)).toContain('Sending a code');

    await slack.waitFor(() => slack.lastView().view.callback_id === 'code_entry', 'the code-entry window', 3000);
    const entry = slack.lastView();
    expect(entry.id).toBe(choice.id);
    expect(bandwidth.sent).toHaveLength(1);
    expect(bandwidth.sent[0]).toMatchObject({
      channel: 'messaging',
      to: PHONES.alice,
      scope: expect.stringMatching(/^login-/),
    });

    const code = bandwidth.lastCode();
    const verified = await requests.submitCode(USERS.alice, entry, code);
    expect(verified.json.response_action).toBe('update');
    expect(JSON.stringify(verified.json.view)).toContain("You're logged in for 12 h");
    expect(bandwidth.verifies).toEqual([
      expect.objectContaining({ to: PHONES.alice, scope: bandwidth.sent[0]!.scope, valid: true }),
    ]);

    const whoami = await requests.command('/whoami', USERS.alice);
    expect(whoami.json.response_type).toBe('ephemeral');
    expect(whoami.json.text).toContain('`login` (12 h left)');

    // Every envelope was acked once, on the one link, in order.
    expect(server.links).toHaveLength(1);
    expect(requests.acks).toHaveLength(4);
    expect(server.links[0]!.received.map((m) => m.envelope_id)).toEqual(requests.acks.map((a) => a.envelope_id));
    expect(bandwidth.badRequests).toEqual([]);
    expect(errorLogs(logs)).toEqual([]);
    // Bolt logs whole envelopes at debug level: the code and the phone number must not be in them.
    expect(logs.text()).not.toContain(code);
    expect(logs.text()).not.toContain(PHONES.alice);
  });

  // Issue 20: approvals work over Socket Mode as over HTTP (the buttons of a message, the approver's window).
  test('an approval over the socket: another admin approves a revoke with their own code, and it runs', async () => {
    const { slack, bandwidth, requests } = await harness({
      env: { POLICY_ADMINS: `${USERS.alice},${USERS.carol}`, POLICY_ADMIN_APPROVALS: 'revoke' },
    });
    const windowFor = async (userId: string) => {
      if (slack.lastView().view.callback_id === 'delivery_choice')
        await requests.chooseDelivery(userId, slack.lastView(), 'sms');
      await slack.waitFor(() => slack.lastView().view.callback_id === 'code_entry', 'a code entry', 3000);
      return slack.lastView();
    };
    await requests.command('/login', USERS.alice);
    await slack.waitFor((calls) => calls.some((c) => c.method === 'views.open'), 'the login window', 3000);
    await requests.submitCode(USERS.alice, await windowFor(USERS.alice), bandwidth.lastCode());
    await requests.command('/admin', USERS.alice, `revoke <@${USERS.bob}>`);
    await slack.waitFor(
      () => slack.lastView().view.callback_id === 'code_entry' && slack.callsOf('views.open').length === 2,
      'the step-up',
      3000,
    );
    const stepped = await requests.submitCode(USERS.alice, slack.lastView(), bandwidth.lastCode());
    expect(JSON.stringify(stepped.json)).toContain("needs another admin's approval");
    await slack.waitFor(() => slack.messagesIn(USERS.carol).length === 1, 'the other admin asked', 3000);

    await requests.clickInMessage(USERS.carol, slack.messagesIn(USERS.carol)[0]!, 'approval_approve');
    await slack.waitFor(
      (calls) => calls.filter((c) => c.method === 'views.open').length === 3,
      'the approver window',
      3000,
    );
    const done = await requests.submitCode(USERS.carol, await windowFor(USERS.carol), bandwidth.lastCode());
    expect(JSON.stringify(done.json)).toContain('Approved.');
    await slack.waitFor(() => JSON.stringify(slack.messagesIn(USERS.carol)[0]).includes('It ran.'), 'the run', 3000);
  });

  // Bolt's Socket Mode client logs every envelope it receives and every ack it sends, whole, at debug.
  test('at debug, no envelope reaches the log: not the code typed as `123 456`, the legacy token, a response_url or a phone number', async () => {
    const { slack, bandwidth, requests, logs } = await harness();
    await requests.command('/login', USERS.alice);
    await slack.waitFor((calls) => calls.some((c) => c.method === 'views.open'), 'views.open', 3000);
    await requests.chooseDelivery(USERS.alice, slack.lastView(), 'sms');
    await slack.waitFor(() => slack.lastView().view.callback_id === 'code_entry', 'the code-entry window', 3000);
    const code = bandwidth.lastCode();
    const spaced = `${code.slice(0, 3)} ${code.slice(3)}`;
    const verified = await requests.submitCode(USERS.alice, slack.lastView(), spaced);
    expect(JSON.stringify(verified.json.view)).toContain("You're logged in");
    await requests.command('/whoami', USERS.alice);

    const text = logs.text();
    expect(text).toContain('Received a message on the WebSocket'); // the envelopes were logged, without their payload
    const command = requests.envelopes[0]!.payload as Record<string, string>;
    expect(command.token).toBeTruthy();
    for (const secret of [code, spaced, command.token!, command.response_url!, PHONES.alice])
      expect(text).not.toContain(secret);
    expect(text).not.toContain('hooks.slack.com');
  });

  test("reconnects by itself after {type:'disconnect', reason:'refresh_requested'} and still answers", async () => {
    const { slack, server, requests, logs } = await harness();
    expect((await requests.command('/whoami', USERS.carol)).json.text).toContain('needs you to log in first');

    server.sendControl({ type: 'disconnect', reason: 'refresh_requested', debug_info: { host: 'applink-test' } });
    await until(() => server.links[0]!.closed, 'the client to close the refreshed link');
    await until(
      () => slack.callsOf('apps.connections.open').length === 2,
      'a second apps.connections.open',
      RECONNECT_TIMEOUT_MS,
    );
    expect(slack.callsOf('apps.connections.open')[1]!.authorization).toBe(`Bearer ${APP_TOKEN}`);
    await until(
      () => server.links.length === 2 && server.links[1]!.socket.readyState === WebSocket.OPEN,
      'the new link',
    );
    expect(server.links.map((l) => l.ticket)).toEqual(['1', '2']);

    const after = await requests.command('/whoami', USERS.carol);
    expect(after.json.text).toContain('`/whoami` needs you to log in first');
    expect(server.links[1]!.received.map((m) => m.envelope_id)).toEqual([requests.acks[1]!.envelope_id]);
    expect(errorLogs(logs)).toEqual([]);
  });

  test('reconnects by itself when the server drops the socket without a close handshake', async () => {
    const { slack, server, requests } = await harness();
    server.links[0]!.socket.terminate();
    await until(
      () => slack.callsOf('apps.connections.open').length === 2,
      'a second apps.connections.open',
      RECONNECT_TIMEOUT_MS,
    );
    await until(
      () => server.links.length === 2 && server.links[1]!.socket.readyState === WebSocket.OPEN,
      'the new link',
    );
    expect(server.links.map((l) => l.ticket)).toEqual(['1', '2']);

    const after = await requests.command('/whoami', USERS.carol);
    expect(after.json.text).toContain('`/whoami` needs you to log in first');
  });
});

const warnings = (logs: LogCapture, msg: string) => logs.lines().filter((l) => l.msg === msg);

describe('Socket Mode start-up: bounded, and it says why', () => {
  test('apps.connections.open answering HTTP 500: each try is logged with the status, then start-up fails with the cause', async () => {
    const { error, slack, logs } = await failedStart((p) => (p.slack.open = 'http500'));
    expect(error).toBeInstanceOf(SocketStartError);
    expect((error as Error).message).toBe(
      'Socket Mode could not connect after 3 tries: apps.connections.open answered HTTP 500',
    );
    expect(slack.callsOf('apps.connections.open')).toHaveLength(3);
    const tries = warnings(logs, 'Socket Mode could not connect');
    expect(tries.map((l) => [l.level, l.attempt, l.tries, l.cause, l.retryInMs])).toEqual([
      ['warn', 1, 3, 'apps.connections.open answered HTTP 500', 10],
      ['warn', 2, 3, 'apps.connections.open answered HTTP 500', 20],
      ['warn', 3, 3, 'apps.connections.open answered HTTP 500', undefined],
    ]);
    expect(startFailure(error)).toBe(
      'Socket Mode could not connect after 3 tries: apps.connections.open answered HTTP 500; check [slack] app_token, api_url and the network',
    );
    expect(logs.text()).not.toContain(APP_TOKEN);
  });

  test('apps.connections.open never answering: each try times out and says so', async () => {
    const { error, slack, logs } = await failedStart((p) => (p.slack.open = 'hang'));
    expect((error as Error).message).toBe('Socket Mode could not connect after 3 tries: no answer within 300 ms');
    expect(slack.callsOf('apps.connections.open')).toHaveLength(3);
    expect(warnings(logs, 'Socket Mode could not connect').map((l) => l.cause)).toEqual(
      Array(3).fill('no answer within 300 ms'),
    );
  });

  test('a WebSocket URL where nothing listens: logged with ECONNREFUSED, bounded', async () => {
    const url = await FakeSocketModeServer.deadUrl();
    const { error, slack, logs } = await failedStart((p) => (p.slack.open = { url }));
    expect((error as Error).message).toBe('Socket Mode could not connect after 3 tries: ECONNREFUSED');
    expect(slack.callsOf('apps.connections.open')).toHaveLength(3);
    expect(warnings(logs, 'Socket Mode could not connect').map((l) => l.cause)).toEqual(Array(3).fill('ECONNREFUSED'));
  });

  test('no network: the fatal line names ENOTFOUND, not only the config', async () => {
    const { error } = await failedStart(() => {
      nock.cleanAll(); // no stand-in of Slack: every call fails as a failed DNS lookup does
      nock(API_ORIGIN)
        .persist()
        .post(/.*/)
        .replyWithError(Object.assign(new Error('getaddrinfo ENOTFOUND slack.test'), { code: 'ENOTFOUND' }));
    });
    expect(startFailure(error)).toBe('cannot start (ENOTFOUND): check [slack] bot_token, api_url and the network');
  });

  test('start() resolves only after Slack said hello; /healthz says 503 "connecting" until then, then 200', async () => {
    const port = await freePort();
    let parts: Omit<SocketHarness, 'started'> | undefined;
    let resolved = false;
    const starting = startSocketBot({
      port,
      before: (p) => {
        parts = p;
        p.server.holdHello = true;
      },
    }).then((started) => {
      resolved = true;
      return started;
    });
    await until(() => parts !== undefined && parts.server.links.length === 1, 'the WebSocket to open');
    const waiting = await fetch(`http://127.0.0.1:${port}/healthz`);
    expect(resolved).toBe(false);
    expect(waiting.status).toBe(503);
    expect(await waiting.json()).toEqual({ ok: false, store: 'ok', socket: 'connecting' });

    parts!.server.releaseHello();
    h = await starting;
    expect(h.started).toBe(port);
    const health = await fetch(`http://127.0.0.1:${port}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ ok: true, store: 'ok', socket: 'connected' });
    expect((await fetch(`http://127.0.0.1:${port}/nope`)).status).toBe(404);
  });
});

/** A TCP port that was free a moment ago. */
async function freePort(): Promise<number> {
  const probe = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((resolve) => probe.once('listening', () => resolve()));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

describe('Socket Mode once running', () => {
  // The health server's own request handler parsed the target itself: a malformed one threw there.
  test.each(MALFORMED_REQUEST_LINES)(
    'a malformed request line %j to the /healthz port: 400, nothing logged above debug, still serving',
    async (line) => {
      const { started, logs } = await harness({ port: 0 });
      const base = `http://127.0.0.1:${started}`;
      expect(await rawRequest(base, `${line}\r\nHost: bot\r\n\r\n`)).toMatch(/^HTTP\/1\.1 400 /);
      expect(logs.lines().filter((l) => l.level !== 'debug')).toEqual([]);
      expect((await fetch(`${base}/healthz`)).status).toBe(200);
    },
  );

  test('/healthz names the store when the store is down', async () => {
    const { started, bot, server, store } = await harness({ port: 0 });
    expect((await fetch(`http://127.0.0.1:${started}/healthz`)).status).toBe(200);
    await store.close();
    h!.stop = async () => {
      await bot.stop();
      await server.close();
      nock.cleanAll();
    };
    const down = await fetch(`http://127.0.0.1:${started}/healthz`);
    expect(down.status).toBe(503);
    expect(await down.json()).toEqual({ ok: false, store: 'unavailable', socket: 'connected' });
  });

  test('a dropped link that cannot be restored: the tries are logged, then onSocketLost gets the cause; /healthz says so', async () => {
    const { server, slack, lost, logs, started } = await harness({ port: 0, socketRetry: FAST_RETRY });
    slack.open = 'http500';
    server.links[0]!.socket.terminate();
    await until(() => lost.length === 1, 'the link to be given up');
    expect(lost[0]!.message).toBe(
      'Socket Mode could not connect after 3 tries: apps.connections.open answered HTTP 500',
    );
    expect(warnings(logs, 'the Socket Mode link closed; reconnecting')).toHaveLength(1);
    expect(warnings(logs, 'Socket Mode could not connect')).toHaveLength(3);
    const health = await fetch(`http://127.0.0.1:${started}/healthz`);
    expect(health.status).toBe(503);
    expect(await health.json()).toEqual({ ok: false, store: 'ok', socket: 'disconnected' });
  });

  test('an event retried over the socket (retry_attempt 1, new envelope, same event_id) runs once', async () => {
    const { server, slack, logs } = await harness();
    const payload = {
      token: 'deprecated-verification-token',
      team_id: 'T0001',
      api_app_id: 'A0001',
      event: {
        type: 'app_home_opened',
        user: USERS.bob,
        channel: 'D0BOB',
        tab: 'home',
        event_ts: `${Date.now() / 1000}`,
      },
      type: 'event_callback',
      event_id: 'Ev0SOCKET1',
      event_time: Math.floor(Date.now() / 1000),
      authorizations: [{ team_id: 'T0001', user_id: 'UBOT0001', is_bot: true, is_enterprise_install: false }],
    };
    await server.deliver({ type: 'events_api', payload, accepts_response_payload: false });
    await slack.waitFor((calls) => calls.some((c) => c.method === 'views.publish'), 'the Home tab');
    await server.deliver({
      type: 'events_api',
      payload,
      accepts_response_payload: false,
      retry_attempt: 1,
      retry_reason: 'timeout',
    } as never);
    await until(
      () => logs.audit('replay_dropped').length === 1 || slack.callsOf('views.publish').length > 1,
      'the retry to be handled',
    );
    expect(slack.callsOf('views.publish')).toHaveLength(1);
    expect(logs.audit('replay_dropped')[0]).toMatchObject({
      userId: USERS.bob,
      detail: { kind: 'event:app_home_opened', retryNum: 1 },
    });
  });
});
