import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { HTTPReceiver, SocketModeReceiver, type Logger as BoltLogger, type Receiver } from '@slack/bolt';
import type { Config } from '../config.js';
import type { Clock } from '../core/ports.js';

/** Slack's rule: a request more than five minutes from our clock, either way, may be a replay. */
export const MAX_CLOCK_SKEW_SECONDS = 5 * 60;

export interface ReceiverOptions {
  config: Config;
  clock: Clock;
  logger: BoltLogger;
  /** For GET /healthz: resolves when the store answers. */
  ping: () => Promise<void>;
}

/** Socket Mode when `[slack] app_token` is set, else HTTP on `[slack] port`. */
export function createReceiver({ config, clock, logger, ping }: ReceiverOptions): Receiver {
  const { slack } = config;
  if (slack.app_token) {
    return new SocketModeReceiver({
      appToken: slack.app_token,
      logger,
      autoReconnectEnabled: true,
      // apps.connections.open goes to [slack] api_url too.
      installerOptions: { clientOptions: { slackApiUrl: slack.api_url } },
    });
  }
  const receiver = new HTTPReceiver({
    signingSecret: slack.signing_secret!,
    endpoints: '/slack/events',
    port: slack.port,
    logger,
    customRoutes: [{ path: '/healthz', method: ['GET'], handler: healthz(ping) }],
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

function healthz(ping: () => Promise<void>) {
  return (_req: IncomingMessage, res: ServerResponse) => {
    ping().then(
      () => res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"ok":true}'),
      () => res.writeHead(503, { 'Content-Type': 'application/json' }).end('{"ok":false,"store":"unavailable"}'),
    );
  };
}
