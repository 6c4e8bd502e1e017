import { describe, expect, test } from 'vitest';
import { AuditLog } from '../../src/core/audit.js';
import { createLogger } from '../../src/logger.js';
import { auditAfterAnswer } from '../../src/slack/audit-after-answer.js';
import { TestClock } from '../helpers/clock.js';
import { LogCapture } from '../helpers/logs.js';

/** The user was already answered: an audit write that fails is logged, and neither thrown nor lost silently. */
describe('auditAfterAnswer', () => {
  const event = { event: 'authz_fail', userId: 'U0BOB0001', outcome: 'refused' } as const;

  test('records the event in every sink', async () => {
    const seen: unknown[] = [];
    const logs = new LogCapture();
    await auditAfterAnswer(
      {
        audit: new AuditLog(new TestClock(), [(r) => void seen.push(r)]),
        logger: createLogger({ level: 'info', destination: logs }),
      },
      event,
    );
    expect(seen).toEqual([expect.objectContaining(event)]);
  });

  test('a failed write resolves, and is logged as "audit write failed"', async () => {
    const logs = new LogCapture();
    const failing = new AuditLog(new TestClock(), [
      () => {
        throw new Error('store down');
      },
    ]);
    await expect(
      auditAfterAnswer({ audit: failing, logger: createLogger({ level: 'info', destination: logs }) }, event),
    ).resolves.toBeUndefined();
    expect(logs.lines()).toEqual([expect.objectContaining({ level: 'error', msg: 'audit write failed' })]);
  });
});
