import { LogLevel } from '@slack/bolt';
import { describe, expect, test } from 'vitest';
import { boltLogger, createLogger } from '../src/logger.js';
import { LogCapture } from './helpers/logs.js';

/** An argument that counts how often it is turned into text (the adapter reads an error's message). */
function counted() {
  const seen = { count: 0 };
  const arg = new Error();
  Object.defineProperty(arg, 'message', {
    get: () => {
      seen.count += 1;
      return 'described';
    },
  });
  return { seen, arg };
}

describe('boltLogger does no work for a level that is off', () => {
  // Bolt logs at debug several times per request: at info, those calls must not build or scrub a line.
  test('at info, a debug call never turns its arguments into text', () => {
    const capture = new LogCapture();
    const bolt = boltLogger(createLogger({ level: 'info', destination: capture }));
    const { seen, arg } = counted();
    for (let i = 0; i < 29; i++) bolt.debug('dispatching', arg);
    expect(seen.count).toBe(0);
    expect(capture.lines()).toEqual([]);
  });

  test('a call at an enabled level builds its line once', () => {
    const capture = new LogCapture();
    const bolt = boltLogger(createLogger({ level: 'info', destination: capture }));
    const { seen, arg } = counted();
    bolt.info('dispatching', arg);
    bolt.setLevel(LogLevel.DEBUG);
    bolt.debug('now', arg);
    expect(seen.count).toBe(2);
    expect(capture.lines().map((l) => l.msg)).toEqual(['dispatching Error: described', 'now Error: described']);
  });
});
