import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import nock from 'nock';
import { afterAll, afterEach, beforeEach, describe, expect, test } from 'vitest';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import { createBandwidthProvider } from '../../src/bandwidth/mfa-provider.js';
import { parseConfig, type Config } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { createApp, type Bot } from '../../src/slack/app.js';
import { openStore, type Store } from '../../src/store/index.js';
import { TestClock } from '../helpers/clock.js';
import { FakeBandwidth } from '../helpers/fake-bandwidth.js';
import { FakeSlack } from '../helpers/fake-slack.js';
import { ACCOUNT_ID, PHONES, SECRETS, testEnv, USERS } from '../helpers/harness.js';
import { LogCapture } from '../helpers/logs.js';
import { SlackRequests, type HttpResult } from '../helpers/slack-client.js';

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
 *    the client close the socket, wait clientPingTimeout (5 s by default) and call
 *    apps.connections.open again for a new URL; so does the socket closing under it;
 *  - the client pings every clientPingTimeout/3 and drops a link that stops answering pongs (ws
 *    answers pings by itself); it watches server pings only once the server has sent one.
 */

const APP_TOKEN = 'xapp-1-A0001-test';
const API_ORIGIN = 'http://slack.test';
const ACK_TIMEOUT_MS = 5000;
/** The client waits clientPingTimeout (5 s, not configurable through our config) before it reconnects. */
const RECONNECT_TIMEOUT_MS = 10_000;

async function until(condition: () => boolean, what: string, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

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
    const link: Link = { ticket: new URL(req.url ?? '/', 'http://localhost').searchParams.get('ticket') ?? '', socket, received: [], closed: false };
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
    socket.send(
      JSON.stringify({
        type: 'hello',
        num_connections: this.links.filter((l) => !l.closed).length,
        debug_info: { host: 'applink-test', build_number: 1, approximate_connection_time: 18060 },
        connection_info: { app_id: 'A0001' },
      }),
    );
  }

  /** The link the client uses now (the newest open one). */
  current(): Link {
    const open = this.links.filter((l) => !l.closed && l.socket.readyState === WebSocket.OPEN);
    const link = open.at(-1);
    if (!link) throw new Error(`no open Socket Mode link (links: ${this.links.length})`);
    return link;
  }

  /** Sends an envelope on the current link; resolves with the client's acknowledgement frame. */
  deliver(envelope: Omit<Envelope, 'envelope_id'>, timeoutMs = ACK_TIMEOUT_MS): Promise<{ envelope_id: string; payload?: any }> {
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
  stop(): Promise<void>;
}

/** Builds the bot like test/helpers/harness.ts does, but configured for Socket Mode. */
async function startSocketBot(): Promise<SocketHarness> {
  nock.disableNetConnect();
  nock.enableNetConnect('127.0.0.1');
  const clock = new TestClock();
  const env = testEnv('basic', { SLACK_APP_TOKEN: APP_TOKEN, SLACK_API_URL: `${API_ORIGIN}/api/` });
  delete env.SLACK_SIGNING_SECRET; // Socket Mode needs none
  const config = parseConfig({ env });
  const dir = mkdtempSync(join(tmpdir(), 'phonegate-socket-test-'));
  const store = await openStore(`sqlite://${join(dir, 'state.sqlite')}`, clock);
  const logs = new LogCapture();
  const logger = createLogger({ level: 'debug', destination: logs });
  const bandwidth = new FakeBandwidth(clock, { accountId: ACCOUNT_ID, auth: { kind: 'basic', username: SECRETS.apiUser, password: SECRETS.apiPassword } }).install();
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
  const provider = createBandwidthProvider(config.bandwidth, config.numbers.from_number, clock);
  const bot = createApp(config, { store, provider, clock, logger });
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
  let started: number | undefined;
  try {
    started = await bot.start();
  } catch (error) {
    await stop();
    throw new Error(`start-up failed: ${String(error)}; Web API calls at ${API_ORIGIN}: ${slack.calls.map((c) => c.method).join(', ') || 'none'}; at https://slack.com: ${strays.join(', ') || 'none'}`, { cause: error });
  }
  return { config, bot, store, slack, bandwidth, server, requests: new SocketRequests(server), logs, strays, started, stop };
}

let h: SocketHarness | undefined;
async function harness(): Promise<SocketHarness> {
  h = await startSocketBot();
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
    expect(config.slack.signing_secret).toBeUndefined();
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
    expect(bandwidth.sent[0]).toMatchObject({ channel: 'messaging', to: PHONES.alice, scope: 'login' });

    const code = bandwidth.lastCode();
    const verified = await requests.submitCode(USERS.alice, entry, code);
    expect(verified.json.response_action).toBe('update');
    expect(JSON.stringify(verified.json.view)).toContain("You're logged in for 12 h");
    expect(bandwidth.verifies).toEqual([expect.objectContaining({ to: PHONES.alice, scope: 'login', valid: true })]);

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

  test("reconnects by itself after {type:'disconnect', reason:'refresh_requested'} and still answers", async () => {
    const { slack, server, requests, logs } = await harness();
    expect((await requests.command('/whoami', USERS.carol)).json.text).toContain('needs you to log in first');

    server.sendControl({ type: 'disconnect', reason: 'refresh_requested', debug_info: { host: 'applink-test' } });
    await until(() => server.links[0]!.closed, 'the client to close the refreshed link');
    await until(() => slack.callsOf('apps.connections.open').length === 2, 'a second apps.connections.open', RECONNECT_TIMEOUT_MS);
    expect(slack.callsOf('apps.connections.open')[1]!.authorization).toBe(`Bearer ${APP_TOKEN}`);
    await until(() => server.links.length === 2 && server.links[1]!.socket.readyState === WebSocket.OPEN, 'the new link');
    expect(server.links.map((l) => l.ticket)).toEqual(['1', '2']);

    const after = await requests.command('/whoami', USERS.carol);
    expect(after.json.text).toContain('`/whoami` needs you to log in first');
    expect(server.links[1]!.received.map((m) => m.envelope_id)).toEqual([requests.acks[1]!.envelope_id]);
    expect(errorLogs(logs)).toEqual([]);
  });

  test('reconnects by itself when the server drops the socket without a close handshake', async () => {
    const { slack, server, requests } = await harness();
    server.links[0]!.socket.terminate();
    await until(() => slack.callsOf('apps.connections.open').length === 2, 'a second apps.connections.open', RECONNECT_TIMEOUT_MS);
    await until(() => server.links.length === 2 && server.links[1]!.socket.readyState === WebSocket.OPEN, 'the new link');
    expect(server.links.map((l) => l.ticket)).toEqual(['1', '2']);

    const after = await requests.command('/whoami', USERS.carol);
    expect(after.json.text).toContain('`/whoami` needs you to log in first');
  });
});
