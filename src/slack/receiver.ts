import { createServer, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from 'node:http';
import { HTTPReceiver, type Logger as BoltLogger, type Receiver } from '@slack/bolt';
import type { Config } from '../config.js';
import type { Clock } from '../core/ports.js';
import type { Logger } from '../logger.js';
import { httpDelivery, socketDelivery } from './middleware/replay.js';
import { BoundedSocketModeReceiver, SOCKET_RETRY, type SocketRetry, type SocketStartError } from './socket-mode.js';

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
}

/** Socket Mode when `[slack] app_token` is set, else HTTP on `[slack] port`. */
export function createReceiver({ config, clock, logger, ping, log, socketRetry, onSocketLost }: ReceiverOptions): Receiver {
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
    endpoints: '/slack/events',
    port: slack.port,
    logger,
    customRoutes: [{ path: '/healthz', method: ['GET'], handler: healthz(ping) }],
    // Runs after Bolt verified the signature: the id the replay check claims (see replay.ts).
    customPropertiesExtractor: httpDelivery,
  });
  receiver.requestListener = rejectSkewedRequests(receiver.requestListener, clock);
  return receiver;
}

/**
 * Bolt rejects requests older than five minutes but accepts any from the future. This answers 401
 * to both, before Bolt reads the body. (Bolt still checks the signature and the past side itself.)
 */
export function rejectSkewedRequests(next: RequestListener, clock: Clock): RequestListener {
  return (req: IncomingMessage, res: ServerResponse) => {
    const header = req.headers['x-slack-request-timestamp'];
    const timestamp = Number(Array.isArray(header) ? header[0] : header);
    if (req.method === 'POST' && Number.isFinite(timestamp) && Math.abs(clock.now() / 1000 - timestamp) > MAX_CLOCK_SKEW_SECONDS) {
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
export function healthz(ping: () => Promise<void>, socket?: () => string): (req: IncomingMessage, res: ServerResponse) => void {
  return (_req, res) => {
    ping().then(
      () => 'ok',
      () => 'unavailable',
    ).then((store) => {
      const link = socket?.();
      const ok = store === 'ok' && (link === undefined || link === 'connected');
      res.writeHead(ok ? 200 : 503, { 'Content-Type': 'application/json' }).end(JSON.stringify({ ok, store, ...(link === undefined ? {} : { socket: link }) }));
    });
  };
}

/** Socket Mode has no HTTP server of its own: this serves GET /healthz alone on `port`. */
export async function serveHealthz(port: number, handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<Server> {
  const server = createServer((req, res) => {
    if (req.method === 'GET' && new URL(req.url ?? '/', 'http://localhost').pathname === '/healthz') handler(req, res);
    else res.writeHead(404).end();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, () => resolve());
  });
  return server;
}
