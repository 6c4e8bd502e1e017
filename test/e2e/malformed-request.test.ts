import { beforeEach, describe, expect, test } from 'vitest';
import { botsPerTest, type Harness, USERS } from '../helpers/harness.js';
import { MALFORMED_REQUEST_LINES, rawRequest } from '../helpers/raw-http.js';

/**
 * A request line whose target is not a URL reaches the receiver (Node's parser accepts it), and Bolt
 * answered 500 with an error-level line: anyone could fill the error log. It is a client error.
 */

const bot = botsPerTest();
let h: Harness;
beforeEach(async () => {
  h = await bot();
});

describe('a malformed request line', () => {
  test.each(MALFORMED_REQUEST_LINES)(
    '%j: 400, nothing logged above debug, and the bot serves the next request',
    async (line) => {
      const answer = await rawRequest(h.requests.baseUrl, `${line}\r\nHost: bot\r\n\r\n`);
      expect(answer).toMatch(/^HTTP\/1\.1 400 /);
      expect(h.logs.lines().filter((l) => l.level !== 'debug')).toEqual([]);
      // At debug it is one line, which does not echo the target.
      expect(h.logs.text()).not.toContain('[::1');

      const next = await h.requests.command('/whoami', USERS.alice);
      expect(next.status).toBe(200);
      expect(next.json.text).toContain('needs you to log in first');
      expect((await fetch(`${h.requests.baseUrl}/healthz`)).status).toBe(200);
    },
  );
});
