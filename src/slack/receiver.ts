import { createServer, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from 'node:http';
import { type Logger as BoltLogger, HTTPReceiver, type Receiver } from '@slack/bolt';
import type { Config } from '../config.js';
import type { Clock } from '../core/ports.js';
import type { Logger } from '../logger.js';
import { httpDelivery, socketDelivery } from './middleware/replay.js';
import { BoundedSocketModeReceiver, SOCKET_RETRY, type SocketRetry, type SocketStartError } from './socket-mode.js';

/** When a response's request reached the receiver (performance.now()), for onAnswered. */
const STARTED_AT = Symbol('startedAt');

/** Where Slack sends events, commands and interactions in HTTP mode. */
const EVENTS_PATH = '/slack/events';

/** Slack's rule: a request more than five minutes from our clock, either way, may be a replay. */
export const MAX_CLOCK_SKEW_SECONDS = 5 * 60;

export interface ReceiverOptions {
  config: Config;
  clock: Clock;
  logger: BoltLogger;
  /** For GET /healthz: resolves when the store answers. */
  ping: () => Promise<void>;
  /** Socket Mode: where tries and reconnects are logged. */
  log: Logger;
  /** Socket Mode: how start-up tries (override only in tests). */
  socketRetry?: SocketRetry | undefined;
  /** Socket Mode: a dropped link could not be restored within the tries. */
  onSocketLost?: ((error: SocketStartError) => void) | undefined;
  /** More GET routes beside /healthz (/metrics, /.well-known/jwks.json), by path. */
  routes?: Readonly<Record<string, Handler>> | undefined;
  /** True once a shutdown has begun: /healthz then says 503. */
  draining?: (() => boolean) | undefined;
  /** Told when an HTTP request to /slack/events has been answered (for the ack latency metric). */
  onAnswered?: ((startedAt: number) => void) | undefined;
}

export type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/** Socket Mode when `[slack] app_token` is set, else HTTP on `[slack] port`. */
export function createReceiver({
  config,
  clock,
  logger,
  ping,
  log,
  socketRetry,
  onSocketLost,
  routes = {},
  onAnswered,
  draining,
}: ReceiverOptions): Receiver {
  const { slack } = config;
  if (slack.appToken) {
    return new BoundedSocketModeReceiver({
      appToken: slack.appToken,
      logger,
      // apps.connections.open goes to [slack] api_url too.
      installerOptions: { clientOptions: { slackApiUrl: slack.apiUrl } },
      customPropertiesExtractor: socketDelivery,
      retry: socketRetry ?? SOCKET_RETRY,
      log,
      onFatal: onSocketLost ?? ((error) => log.fatal({ cause: error.message }, 'Socket Mode link lost')),
    });
  }
  const receiver = new HTTPReceiver({
    signingSecret: slack.signingSecret!,
    endpoints: EVENTS_PATH,
    port: slack.port,
    logger,
    customRoutes: Object.entries({ '/healthz': healthz(ping, undefined, draining), ...routes }).map(
      ([path, handler]) => ({
        path,
        method: ['GET'],
        handler,
      }),
    ),
    // Runs after Bolt verified the signature: the id the replay check claims (see replay.ts).
    customPropertiesExtractor: httpDelivery,
  });
  const listener = screenSlackHeaders(rejectSkewedRequests(receiver.requestListener, clock));
  // One listener for every response (its `this`), the start kept on the response: no closure per request.
  const answered = function (this: ServerResponse & { [STARTED_AT]?: number }) {
    onAnswered?.(this[STARTED_AT]!);
  };
  receiver.requestListener = (req, res) => {
    if (refuseMalformedUrl(req, res, log)) return;
    // Once a shutdown has begun, each answer closes its connection. server.close() waits for every
    // connection to end but closes only those idle at that moment: a client that keeps one busy (a
    // balancer polling /healthz on a kept-alive socket) would otherwise hold the stop open forever.
    if (draining?.()) res.setHeader('Connection', 'close');
    if (onAnswered && req.method === 'POST') {
      (res as ServerResponse & { [STARTED_AT]?: number })[STARTED_AT] = performance.now();
      res.on('finish', answered);
    }
    listener(req, res);
  };
  return receiver;
}

/** The only spelling of a signature we accept: Slack's version `v0`, then exactly 64 lower-case hex digits. */
const SIGNATURE = /^v0=[0-9a-f]{64}$/;
/** Seconds since the epoch, as Slack writes them: digits, no sign, no leading zero, no fraction. */
const TIMESTAMP = /^[1-9][0-9]{0,14}$/;

/**
 * Bolt splits `X-Slack-Signature` at `=` and ignores what follows a second one, and signs the
 * timestamp as the number it parses, so one signed delivery passes under many spellings of its headers
 * (`v0=<hex>=x`, `v0=<hex><more hex>`, a timestamp with a leading zero or `.0`). Each spelling would
 * look like a new request. This answers 401 to any header present in another form, before Bolt reads
 * the body. (A request without the headers goes on: Bolt refuses it, or answers Slack's ssl_check.)
 */
export function screenSlackHeaders(next: RequestListener): RequestListener {
  return (req: IncomingMessage, res: ServerResponse) => {
    const { 'x-slack-signature': signature, 'x-slack-request-timestamp': timestamp } = req.headers;
    if (
      req.method === 'POST' &&
      ((signature !== undefined && !SIGNATURE.test(String(signature))) ||
        (timestamp !== undefined && !TIMESTAMP.test(String(timestamp))))
    ) {
      res.writeHead(401).end();
      return;
    }
    next(req, res);
  };
}

/**
 * Answers 400 to a request whose target is not a URL (`GET http://[::1 HTTP/1.1`) and says true; Bolt
 * would answer 500 and log an error, so anyone could fill the error log. Logged at debug only, without
 * the target: it is the sender's text.
 */
export function refuseMalformedUrl(req: IncomingMessage, res: ServerResponse, log: Logger): boolean {
  // Slack's own requests, every one of them, name the events path: no parse needed for that one.
  if (req.url === EVENTS_PATH || URL.canParse(req.url ?? '/', 'http://localhost')) return false;
  log.debug({ method: req.method }, 'refused a request whose target is not a URL (400)');
  res.writeHead(400, { Connection: 'close' }).end();
  return true;
}

/**
 * Bolt rejects requests older than five minutes but accepts any from the future. This answers 401
 * to both, before Bolt reads the body. (Bolt still checks the signature and the past side itself.)
 */
export function rejectSkewedRequests(next: RequestListener, clock: Clock): RequestListener {
  return (req: IncomingMessage, res: ServerResponse) => {
    const header = req.headers['x-slack-request-timestamp'];
    const timestamp = Number(Array.isArray(header) ? header[0] : header);
    if (
      req.method === 'POST' &&
      Number.isFinite(timestamp) &&
      Math.abs(clock.now() / 1000 - timestamp) > MAX_CLOCK_SKEW_SECONDS
    ) {
      res.writeHead(401).end();
      return;
    }
    next(req, res);
  };
}

/**
 * GET /healthz: 200 {"ok":true,...} when the store answers (and, in Socket Mode, the link is up);
 * else 503 naming what is not fine.
 */
export function healthz(
  ping: () => Promise<void>,
  socket?: () => string,
  draining: () => boolean = () => false,
): Handler {
  return (_req, res) => {
    ping()
      .then(
        () => 'ok',
        () => 'unavailable',
      )
      .then((store) => {
        const link = socket?.();
        // A replica shutting down says so, so that a load balancer stops routing to it before its port closes.
        const stopping = draining();
        const ok = store === 'ok' && (link === undefined || link === 'connected') && !stopping;
        res.writeHead(ok ? 200 : 503, { 'Content-Type': 'application/json' }).end(
          JSON.stringify({
            ok,
            store,
            ...(link === undefined ? {} : { socket: link }),
            ...(stopping ? { draining: true } : {}),
          }),
        );
      });
  };
}

/**
 * GET /.well-known/jwks.json: the public keys that verify action tokens, this replica's and every
 * other replica's (see actions/published-keys.ts). If the store cannot list them, 503: a partial list
 * would be cached by endpoints and refuse the other replicas' tokens.
 */
export function jwksRoute(keys: { jwks(): Promise<{ keys: object[] }> }): Handler {
  return (_req, res) => {
    keys.jwks().then(
      (jwks) =>
        // Short caching: a rotated key reaches endpoints within minutes (jose also refetches on an unknown kid).
        res
          .writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'public, max-age=300' })
          .end(JSON.stringify(jwks)),
      () => res.writeHead(503, { 'Content-Type': 'application/json', 'Retry-After': '5' }).end('{"keys":[]}'),
    );
  };
}

/** Socket Mode has no HTTP server of its own: this serves the GET routes (/healthz, ...) alone on `port` (on `host`, if given). */
export async function serveRoutes(
  port: number,
  routes: Readonly<Record<string, Handler>>,
  log: Logger,
  host?: string,
): Promise<Server> {
  const server = createServer((req, res) => {
    if (refuseMalformedUrl(req, res, log)) return;
    const handler = routes[new URL(req.url ?? '/', 'http://localhost').pathname];
    if (req.method === 'GET' && handler) handler(req, res);
    else res.writeHead(404).end();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port, ...(host ? { host } : {}) }, () => resolve());
  });
  return server;
}
