import { describe, expect, test } from 'vitest';
import { claimKey, UNCLAIMED_COMMANDS } from '../../src/slack/middleware/replay.js';
import { causeOf, SocketStartError, startFailure } from '../../src/slack/socket-mode.js';

describe('causeOf: a failed try in a few words', () => {
  test('a network error code buried in causes, as fetch reports a failed DNS lookup', () => {
    const dns = Object.assign(new Error('getaddrinfo ENOTFOUND slack.com'), { code: 'ENOTFOUND' });
    const fetchFailed = new TypeError('fetch failed', { cause: dns });
    const wrapped = Object.assign(new Error('A request error occurred: fetch failed', { cause: fetchFailed }), {
      code: 'slack_webapi_request_error',
    });
    expect(causeOf(wrapped, 1000)).toBe('ENOTFOUND');
  });

  test("an HTTP status, Slack's error string, an abort on the timeout", () => {
    expect(causeOf(Object.assign(new Error('x'), { statusCode: 503 }), 1000)).toBe(
      'apps.connections.open answered HTTP 503',
    );
    expect(
      causeOf(Object.assign(new Error('x'), { data: { ok: false, error: 'invalid_auth' } }), 1000, 'auth.test'),
    ).toBe('auth.test answered invalid_auth');
    const timeout = new DOMException('The operation was aborted due to timeout', 'TimeoutError');
    expect(causeOf(new Error('A request error occurred', { cause: timeout }), 1500)).toBe('no answer within 1500 ms');
  });

  test('never a token, and never an empty cause', () => {
    expect(causeOf(new Error('refused for xapp-1-A0001-secretvalue'), 1000)).not.toContain('secretvalue');
    expect(causeOf(new Error('', { cause: new Error('') }), 1000)).toBe('the connection failed and gave no reason');
    expect(startFailure(new SocketStartError('Socket Mode could not connect after 5 tries: ECONNREFUSED'))).toContain(
      'ECONNREFUSED',
    );
  });
});

describe('claimKey: which requests are claimed once', () => {
  const signed = { deliveryId: 'sig:abc' } as never;
  test('events by event_id (a retry has a new signature), /whoami not at all, the rest by delivery', () => {
    expect(claimKey({ type: 'event_callback', event_id: 'Ev1' }, signed)).toBe('seen:event:Ev1');
    expect(UNCLAIMED_COMMANDS.has('/whoami')).toBe(true);
    expect(claimKey({ command: '/whoami' }, signed)).toBeUndefined();
    expect(claimKey({ command: '/admin' }, signed)).toBe('seen:sig:abc');
    expect(claimKey({ type: 'view_submission' }, {} as never)).toBeUndefined();
  });
});
