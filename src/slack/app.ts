import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { App } from '@slack/bolt';
import type { Config } from '../config.js';
import { systemClock } from '../core/ports.js';
import { boltLogger, type Logger } from '../logger.js';
import { createReceiver, type Handler, healthz, serveRoutes } from './receiver.js';
import { BoundedSocketModeReceiver, type SocketRetry, type SocketStartError } from './socket-mode.js';

export interface SlackAppDeps {
  logger: Logger;
  /** For /healthz: resolves when the store answers. */
  ping: () => Promise<void>;
  /** Socket Mode start-up tries; override only in tests. */
  socketRetry?: SocketRetry | undefined;
  /** Socket Mode: the link dropped and could not be restored (main.ts exits). */
  onSocketLost?: ((error: SocketStartError) => void) | undefined;
  /** More GET routes beside /healthz, served in HTTP mode and, when a port is set, in Socket Mode. */
  routes?: Readonly<Record<string, Handler>> | undefined;
  /** True once a shutdown has begun: /healthz then says 503. */
  draining?: (() => boolean) | undefined;
  /** Told when an HTTP request to /slack/events has been answered. */
  onAnswered?: ((startedAt: number) => void) | undefined;
}

export interface SlackApp {
  app: App;
  /**
   * HTTP mode: listens on `port` (default `[slack] port`; 0 picks a free one) and returns the port.
   * Socket Mode: serves /healthz on `[slack] port` if it was set (0 picks a free one) and returns that
   * port, then connects; rejects with the cause when every try failed.
   */
  start(port?: number): Promise<number | undefined>;
  stop(): Promise<void>;
  /** Socket Mode: 1 while the link is up (for metrics); undefined in HTTP mode. */
  socketConnections?: (() => number) | undefined;
}

/** Bolt's App on the receiver `[slack]` asks for (HTTP or Socket Mode). Listeners are registered by compose.ts. */
export function createSlackApp(
  config: Config,
  { logger, ping, socketRetry, onSocketLost, routes = {}, onAnswered, draining }: SlackAppDeps,
): SlackApp {
  const bolt = boltLogger(logger);
  // Request signatures are checked against real time, as Bolt itself does, whatever clock the core uses.
  const receiver = createReceiver({
    config,
    clock: systemClock,
    logger: bolt,
    ping,
    log: logger,
    socketRetry,
    onSocketLost,
    routes,
    onAnswered,
    draining,
  });
  const app = new App({
    token: config.slack.botToken,
    receiver,
    logger: bolt,
    // Interactive calls must be quick (a trigger_id lives 3 s); a slow retry helps nobody.
    clientOptions: { slackApiUrl: config.slack.apiUrl, timeout: 5000, retryConfig: { retries: 0 } },
    // auth.test runs in start(), so a bad token or api_url stops start-up with a clear error.
    deferInitialization: true,
    // Two global middleware Bolt adds by default that do nothing for this app, yet run on every request:
    // the conversation store (unused; its default throws and catches a new Error per request) and the
    // filter of our own bot's events (we listen to no event a bot of ours can cause: only app_home_opened).
    convoStore: false,
    ignoreSelf: false,
  });
  app.error(async (error) => {
    logger.error({ err: error }, 'unhandled error in a listener');
  });

  let health: Server | undefined;
  return {
    app,
    socketConnections:
      receiver instanceof BoundedSocketModeReceiver ? () => (receiver.state === 'connected' ? 1 : 0) : undefined,
    async start(port?: number) {
      await app.init();
      if (receiver instanceof BoundedSocketModeReceiver) {
        if (port !== undefined || config.slack.portSet) {
          health = await serveRoutes(
            port ?? config.slack.port,
            { '/healthz': healthz(ping, () => receiver.state, draining), ...routes },
            logger,
            config.slack.host,
          );
        }
        try {
          await app.start();
        } catch (error) {
          health?.close();
          throw error;
        }
        return health ? (health.address() as AddressInfo).port : undefined;
      }
      const listenOn = { port: port ?? config.slack.port, ...(config.slack.host ? { host: config.slack.host } : {}) };
      const server = (await app.start(listenOn)) as Server;
      return (server.address() as AddressInfo).port;
    },
    async stop() {
      health?.close();
      health?.closeAllConnections();
      await app.stop();
    },
  };
}
