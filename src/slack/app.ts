import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { App } from '@slack/bolt';
import type { Config } from '../config.js';
import { systemClock, type Clock, type CodeProvider } from '../core/ports.js';
import { boltLogger, type Logger } from '../logger.js';
import { buildServices, type Services } from '../services.js';
import type { Store } from '../store/index.js';
import { SLACK_DEADLINE_MS } from './deadline.js';
import { registerListeners } from './listeners/index.js';
import { SlackNotifier } from './notifier.js';
import { createReceiver, healthz, serveHealthz } from './receiver.js';
import { onlyOnce } from './replay.js';
import { BoundedSocketModeReceiver, type SocketRetry, type SocketStartError } from './socket-mode.js';

export interface AppDeps {
  store: Store;
  provider: CodeProvider;
  clock: Clock;
  logger: Logger;
  /** Override only in tests, to exercise the late path without waiting seconds. */
  slackDeadlineMs?: number;
  /** Socket Mode start-up tries; override only in tests. */
  socketRetry?: SocketRetry;
  /** Socket Mode: the link dropped and could not be restored (main.ts exits). */
  onSocketLost?: (error: SocketStartError) => void;
}

export interface Bot {
  app: App;
  services: Services;
  /**
   * HTTP mode: listens on `port` (default `[slack] port`; 0 picks a free one) and returns the port.
   * Socket Mode: serves /healthz on `[slack] port` if it was set (0 picks a free one) and returns that
   * port, then connects; rejects with the cause when every try failed.
   */
  start(port?: number): Promise<number | undefined>;
  stop(): Promise<void>;
}

/** Builds the whole bot from config and its outside parts. The only place that knows Bolt's App. */
export function createApp(config: Config, deps: AppDeps): Bot {
  const { clock, logger, store } = deps;
  const bolt = boltLogger(logger);
  // Request signatures are checked against real time, as Bolt itself does, whatever clock the core uses.
  const receiver = createReceiver({
    config,
    clock: systemClock,
    logger: bolt,
    ping: () => store.ping(),
    log: logger,
    socketRetry: deps.socketRetry,
    onSocketLost: deps.onSocketLost,
  });
  const app = new App({
    token: config.slack.bot_token,
    receiver,
    logger: bolt,
    // Interactive calls must be quick (a trigger_id lives 3 s); a slow retry helps nobody.
    clientOptions: { slackApiUrl: config.slack.api_url, timeout: 5000, retryConfig: { retries: 0 } },
    // auth.test runs in start(), so a bad token or api_url stops start-up with a clear error.
    deferInitialization: true,
  });
  const notifier = new SlackNotifier(app.client, logger, () => clock.now());
  const services = buildServices(config, {
    store,
    provider: deps.provider,
    clock,
    logger,
    notifier,
    slackDeadlineMs: deps.slackDeadlineMs ?? SLACK_DEADLINE_MS,
  });
  // Before any listener: a request seen before runs nothing (invariant 9).
  app.use(onlyOnce(services, store.counters));
  registerListeners(app, services);
  app.error(async (error) => {
    logger.error({ err: error }, 'unhandled error in a listener');
  });

  let health: Server | undefined;
  return {
    app,
    services,
    async start(port?: number) {
      await app.init();
      if (receiver instanceof BoundedSocketModeReceiver) {
        if (port !== undefined || config.slack.port_set) {
          health = await serveHealthz(port ?? config.slack.port, healthz(() => store.ping(), () => receiver.state));
        }
        try {
          await app.start();
        } catch (error) {
          health?.close();
          throw error;
        }
        return health ? (health.address() as AddressInfo).port : undefined;
      }
      const server = (await app.start(port ?? config.slack.port)) as Server;
      return (server.address() as AddressInfo).port;
    },
    async stop() {
      health?.close();
      health?.closeAllConnections();
      await app.stop();
    },
  };
}
