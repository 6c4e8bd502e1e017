import { ConfigError, loadConfig } from './config.js';
import { systemClock } from './core/ports.js';
import { createLogger } from './logger.js';
import { operate, USAGE } from './operator.js';
import { openStore } from './store/index.js';

/**
 * Entry of `npm run admin -- <command>` (see operator.ts): reads config.ini and the environment as the
 * bot does, opens the configured store, runs one command, closes the store. Results go to stdout;
 * audit events and warnings, as JSON lines, to stderr.
 */
async function main(): Promise<number> {
  const args = process.argv.slice(2);
  if (args.length === 0 || args[0] === 'help' || args[0] === '--help') {
    process.stdout.write(`${USAGE}\n`);
    return args.length === 0 ? 2 : 0;
  }
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    for (const problem of error.problems) process.stderr.write(`config: ${problem}\n`);
    return 2;
  }
  const logger = createLogger({ level: config.log.level, destination: process.stderr });
  let store: Awaited<ReturnType<typeof openStore>>;
  try {
    store = await openStore(config.store.url, systemClock);
  } catch (error) {
    logger.error({ err: error, store: config.store.url.split('://')[0] }, 'cannot open the store');
    process.stdout.write('The store could not be opened: check [store] url (and that the store is up).\n');
    return 1;
  }
  try {
    return await operate(args, {
      config,
      store,
      clock: systemClock,
      logger,
      print: (line) => process.stdout.write(`${line}\n`),
    });
  } finally {
    await store.close().catch(() => undefined);
  }
}

process.exitCode = await main();
