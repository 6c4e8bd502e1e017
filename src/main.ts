import { setFlagsFromString } from 'node:v8';
import { compose, loadActionKeys } from './compose.js';
import { type Config, ConfigError, loadConfig, startupNotes } from './config.js';
import { systemClock } from './core/ports.js';
import { createLogger } from './logger.js';
import { RequestLoad } from './slack/request-load.js';
import { startFailure } from './slack/socket-mode.js';
import { UnsafeStoreError } from './store/errors.js';
import { openStore, sqliteFileWarnings } from './store/index.js';

const PURGE_EVERY_MS = 10 * 60_000;
const SWEEP_EVERY_MS = 60_000;

// Under a burst of requests V8 lets the old generation grow to ~3x what survived the last full GC
// before collecting again (~100 MB of heap for ~30 MB live here). At 1.5x, with a 16 MB young
// generation (Node 20's default is 32 MB, Node 24's 64 MB), the process stays under 150 MB RSS
// after the bench; 1.25x kept it lower still, for ~10% more CPU per request (docs/performance.md).
// V8 reads the factor at every GC, so setting it here, before any work, takes effect. The young generation's size is read only at start: the launchers
// (npm start, the Dockerfile, the systemd unit) pass --max-semi-space-size=8.
const HEAP_GROWING_PERCENT = 50;

/** Entry point: the only place that reads the environment or starts a server. */
async function main(): Promise<void> {
  setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
  let config: Config;
  let signingKeys: Awaited<ReturnType<typeof loadActionKeys>>;
  try {
    config = loadConfig(process.env);
    // Before the store or Slack: a bad key is a configuration problem, told the same way.
    signingKeys = await loadActionKeys(config).catch((error: unknown) => {
      throw new ConfigError([(error as Error).message]);
    });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    for (const problem of error.problems) process.stderr.write(`config: ${problem}\n`);
    process.exitCode = 1;
    return;
  }

  const logger = createLogger({ level: config.log.level });
  for (const note of startupNotes(config)) logger.warn(note);
  const clock = systemClock;
  const load = new RequestLoad();
  const storeOptions = {
    allowEviction: config.store.allowEviction,
    warn: (message: string) => logger.warn(message),
    busy: load.busy,
  };
  const store = await openStore(config.store.url, clock, storeOptions).catch((error: unknown) => {
    const kind = config.store.url.split('://')[0];
    // A store that answers but is unsafe to run on says why and what to change, in one line.
    if (error instanceof UnsafeStoreError) logger.fatal({ store: kind }, `cannot open the store: ${error.message}`);
    else logger.fatal({ err: error, store: kind }, 'cannot open the store');
    process.exit(1);
  });
  // A database file that existed before keeps its mode: say so if other users can read it.
  for (const note of sqliteFileWarnings(config.store.url)) logger.warn(note);
  const bot = compose(config, {
    store,
    clock,
    logger,
    signingKeys,
    load,
    onSocketLost: (error) => {
      logger.fatal(`${error.message}; exiting`);
      process.exit(1);
    },
  });

  const purge = () =>
    bot.purge().then(
      ({ expired, trimmed, longestStatementMs }) =>
        expired + trimmed > 0 &&
        logger.info(
          // Absent (undefined, which pino leaves out) where the store has no such measure.
          { expired, trimmed, longestStatementMs: longestStatementMs && Math.round(longestStatementMs * 10) / 10 },
          'purged old state',
        ),
      (error: unknown) => logger.warn({ err: error }, 'purging old state failed'),
    );
  const purgeTimer = setInterval(purge, PURGE_EVERY_MS).unref();
  // Approval requests end at their expiry, or when their requester's session ends, even if nobody clicks.
  const sweepTimer = setInterval(
    () =>
      void bot
        .sweepApprovals()
        .catch((error: unknown) => logger.warn({ err: error }, 'sweeping approval requests failed')),
    SWEEP_EVERY_MS,
  ).unref();

  let port: number | undefined;
  try {
    port = await bot.start();
  } catch (error) {
    logger.fatal({ err: error }, startFailure(error));
    await store.close();
    process.exit(1);
  }
  logger.info({ mode: config.slack.appToken ? 'socket' : 'http', port, auth: config.bandwidth.auth.kind }, 'ready');
  void bot.startupWarnings().then(
    (warnings) => {
      for (const warning of warnings) logger.warn(warning);
    },
    (error: unknown) => logger.warn({ err: error }, 'could not check whether an admin has a phone'),
  );
  void purge(); // after listening: trimming the audit trail reads all its keys, which need not delay start-up

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    clearInterval(purgeTimer);
    clearInterval(sweepTimer);
    await bot.stop().catch((error: unknown) => logger.warn({ err: error }, 'stopping the app failed'));
    await store.close().catch((error: unknown) => logger.warn({ err: error }, 'closing the store failed'));
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

await main();
