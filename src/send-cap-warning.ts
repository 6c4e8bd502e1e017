import type { AuditSink } from './core/audit.js';
import type { Logger } from './logger.js';

/**
 * The audit log's sink that tells operators when the bot's hourly cap on codes is reached: one warn
 * line per window, from the one send (of every replica) that found the cap reached, not one per
 * refused user. Everyone's codes stop until the window ends, so someone should look.
 */
export function sendCapWarning(logger: Logger): AuditSink {
  return (record) => {
    const { detail } = record;
    if (record.event !== 'excess_rate_limit_exceeded' || detail?.limit !== 'sends_per_hour_total' || !detail.first)
      return;
    const until = new Date(Number(detail.until)).toISOString();
    logger.warn(
      { limit: detail.limit, max: detail.max, until },
      `the hourly cap on codes is reached ([policy] max_sends_per_hour_total = ${detail.max}): no code goes out, to anyone, until ${until}. If this is real use, raise the cap; if not, /admin audit shows who asked`,
    );
  };
}
