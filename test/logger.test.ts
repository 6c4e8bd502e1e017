import { LogLevel } from '@slack/bolt';
import pino from 'pino';
import { describe, expect, test } from 'vitest';
import { LOG_LEVELS } from '../src/config.js';
import { boltLogger, createLogger, PAYLOAD_OMITTED, scrub, serializeError } from '../src/logger.js';
import { LogCapture } from './helpers/logs.js';

function capturedLogger(level = 'info') {
  const capture = new LogCapture();
  return { capture, logger: createLogger({ level, destination: capture }) };
}

const PHONE = '+15553330101';
const BOT_TOKEN = 'xoxb-1234567890-0987654321-AbCdEfGhIjKlMnOp';
const APP_TOKEN = 'xapp-1-A012ABCDEF-1234567890-abcdef0123456789';

describe('scrub', () => {
  // Rule: E.164 numbers, with or without spacing, are masked.
  test.each(['+15553330101', '+1 555 333 0101', '+1 (555) 333-0101', '+44 20 7946 0958'])(
    'masks the phone number %j',
    (phone) => {
      expect(scrub(`sending to ${phone} now`)).toBe('sending to [number] now');
    },
  );

  // Rule: US numbers written without a country code, in the usual formats, are masked.
  test.each(['(555) 333-0101', '555-333-0101', '555.333.0101', '555 333 0101', '5553330101'])(
    'masks the US number %j',
    (phone) => {
      expect(scrub(`call ${phone}.`)).toBe('call [number].');
    },
  );

  // Rule: one-time codes of 6, 7 and 8 digits are masked, also next to punctuation.
  test.each(['123456', '1234567', '12345678'])('masks the code %s', (code) => {
    expect(scrub(`code ${code} sent`)).toBe('code [number] sent');
    expect(scrub(`code=${code};`)).toBe('code=[number];');
  });

  // Rule: Slack bot and app-level tokens keep only their prefix.
  test('masks xoxb- and xapp- tokens', () => {
    const out = scrub(`bot ${BOT_TOKEN} app ${APP_TOKEN}`);
    expect(out).toBe('bot xoxb-[redacted] app xapp-[redacted]');
  });

  // Rule: Bearer and Basic credentials are masked, whatever follows the scheme name.
  test('masks Bearer and Basic credentials', () => {
    expect(scrub('Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.sig-_x')).toBe(
      'Authorization: Bearer [redacted]',
    );
    expect(scrub('Authorization: Basic dXNlcjpwYXNzd29yZA==, retrying')).toBe(
      'Authorization: Basic [redacted], retrying',
    );
  });

  // Rule: ordinary text survives: dates, times, short numbers, Slack ids, counts.
  test.each([
    'login expires 2026-11-25 at 18:40:00Z',
    'retry in 30 s after 5 attempts (limit 10)',
    'listening on port 3000',
    'user U012ABCDEF ran /whoami in C0123456789',
    'code has 6 digits and lasts 5 minutes',
    'HTTP 429 from Bandwidth, request 12345',
  ])('keeps %j', (text) => {
    expect(scrub(text)).toBe(text);
  });
});

describe('createLogger', () => {
  // Rule: each log call writes one JSON object on its own line, with level label, time and app name.
  test('writes one JSON object per line', () => {
    const { capture, logger } = capturedLogger();
    logger.info({ user: 'U012ABCDEF' }, 'first');
    logger.warn('second');
    const lines = capture.text().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[2]).toBe('');
    const [first, second] = capture.lines();
    expect(first).toMatchObject({ level: 'info', app: 'phonegate', user: 'U012ABCDEF', msg: 'first' });
    expect(second).toMatchObject({ level: 'warn', app: 'phonegate', msg: 'second' });
    expect(new Date(first!.time as string).toISOString()).toBe(first!.time);
  });

  // Rule: the level option filters: debug lines are dropped at the default level info.
  test('respects the level', () => {
    const { capture, logger } = capturedLogger();
    logger.debug('hidden');
    logger.info('shown');
    expect(capture.lines().map((l) => l.msg)).toEqual(['shown']);
  });

  const sensitive = [
    'code',
    'phone',
    'to',
    'from',
    'token',
    'password',
    'secret',
    'authorization',
    // A Slack payload, or the parts of it that must not be logged.
    'body',
    'payload',
    'response_url',
    'responseUrl',
  ] as const;

  // Rule: a field with a sensitive name is censored at the top level.
  test.each(sensitive)('redacts top-level %s', (field) => {
    const { capture, logger } = capturedLogger();
    logger.info({ [field]: 'SENSITIVE-VALUE', other: 'kept' }, 'event');
    const [line] = capture.lines();
    expect(line![field]).toBe('[redacted]');
    expect(line!.other).toBe('kept');
    expect(capture.text()).not.toContain('SENSITIVE-VALUE');
  });

  // Rule: a field with a sensitive name is censored one level down too.
  test.each(sensitive)('redacts nested %s', (field) => {
    const { capture, logger } = capturedLogger();
    logger.info({ request: { [field]: 'SENSITIVE-VALUE', id: 'req-1' } }, 'event');
    const [line] = capture.lines();
    expect(line!.request).toEqual({ [field]: '[redacted]', id: 'req-1' });
    expect(capture.text()).not.toContain('SENSITIVE-VALUE');
  });

  // Rule: whole headers and config objects (which carry credentials) are censored.
  test('redacts headers and config objects', () => {
    const { capture, logger } = capturedLogger();
    logger.info({ headers: { cookie: 'c=SENSITIVE-1' }, call: { config: { key: 'SENSITIVE-2' } } }, 'event');
    const [line] = capture.lines();
    expect(line!.headers).toBe('[redacted]');
    expect(line!.call).toEqual({ config: '[redacted]' });
    expect(capture.text()).not.toMatch(/SENSITIVE/);
  });
});

describe('log levels', () => {
  // Rule: the levels config accepts for LOG_LEVEL are exactly pino's, so a level config passes never crashes createLogger.
  test("config's LOG_LEVELS are pino's levels", () => {
    expect([...LOG_LEVELS].sort()).toEqual([...Object.keys(pino.levels.values), 'silent'].sort());
    for (const level of LOG_LEVELS) expect(() => capturedLogger(level)).not.toThrow();
    expect(() => capturedLogger('verbose')).toThrow();
  });
});

describe('serializeError', () => {
  // Rule: an error message holding a phone number and a token keeps neither, also in the stack.
  test('scrubs message and stack', () => {
    const safe = serializeError(new Error(`send to ${PHONE} failed with ${BOT_TOKEN}`));
    expect(safe.type).toBe('Error');
    expect(safe.message).toBe('send to [number] failed with xoxb-[redacted]');
    expect(safe.stack).toMatch(/^Error: send to \[number\] failed with xoxb-\[redacted\]\n/);
    expect(JSON.stringify(safe)).not.toContain(PHONE);
    expect(JSON.stringify(safe)).not.toContain(BOT_TOKEN.slice(5));
  });

  // Rule: only whitelisted fields are kept (type, message, errorCode, status, failure, requestId, stack, cause).
  test('keeps diagnostics, drops everything else', () => {
    const error = Object.assign(new Error('MFA failed'), {
      code: 'ERR_BAD_REQUEST',
      status: 400,
      failure: 'rejected',
      requestId: 'req-1',
      body: { to: PHONE },
    });
    error.name = 'BandwidthError';
    const safe = serializeError(error);
    expect(Object.keys(safe).sort()).toEqual([
      'errorCode',
      'failure',
      'message',
      'requestId',
      'stack',
      'status',
      'type',
    ]);
    expect(safe).toMatchObject({
      type: 'BandwidthError',
      message: 'MFA failed',
      errorCode: 'ERR_BAD_REQUEST',
      status: 400,
      failure: 'rejected',
      requestId: 'req-1',
    });
  });

  // Rule: causes are followed, scrubbed, and cut off after two levels.
  test('follows causes two levels deep', () => {
    const root = new Error(`root ${PHONE}`);
    const middle = new Error('middle', { cause: root });
    const top = new Error('top', { cause: new Error('second', { cause: middle }) });
    const safe = serializeError(top);
    expect(safe.cause?.message).toBe('second');
    expect(safe.cause?.cause?.message).toBe('middle');
    expect(safe.cause?.cause?.cause).toBeUndefined();
  });

  // Rule: a thrown non-Error is stringified and scrubbed.
  test('handles thrown strings', () => {
    expect(serializeError(`no route to ${PHONE}`)).toEqual({ type: 'string', message: 'no route to [number]' });
  });

  // Rule: an AxiosError-like error logged as {err} leaks neither config.auth.password nor headers.Authorization.
  test('an AxiosError-like error logged as {err} leaks no credentials', () => {
    const { capture, logger } = capturedLogger();
    const password = 'Pa55-word-SECRET';
    const basic = Buffer.from(`api-user:${password}`).toString('base64');
    const axiosLike = Object.assign(new Error('Request failed with status code 401'), {
      name: 'AxiosError',
      isAxiosError: true,
      code: 'ERR_BAD_REQUEST',
      status: 401,
      config: {
        url: 'https://mfa.bandwidth.com/api/v1/accounts/9900000/code/messaging',
        auth: { username: 'api-user', password },
        headers: { Authorization: `Basic ${basic}`, 'Content-Type': 'application/json' },
        data: JSON.stringify({ to: PHONE, from: '+15553330100' }),
      },
      request: { _header: `POST /api/v1 HTTP/1.1\r\nAuthorization: Basic ${basic}\r\n` },
      response: {
        status: 401,
        headers: { 'www-authenticate': 'Basic' },
        config: { auth: { password } },
        data: { error: 'Unauthorized' },
      },
    });
    logger.error({ err: axiosLike }, 'MFA request failed');
    const text = capture.text();
    expect(text).not.toContain(password);
    expect(text).not.toContain(basic);
    expect(text).not.toContain(PHONE);
    const [line] = capture.lines();
    expect(line!.err).toMatchObject({
      type: 'AxiosError',
      message: 'Request failed with status code 401',
      status: 401,
    });
    expect(Object.keys(line!.err as object)).not.toContain('config');
    expect(Object.keys(line!.err as object)).not.toContain('response');
  });
});

describe('boltLogger', () => {
  // Rule: Bolt's messages pass through scrub before they are logged.
  test("scrubs Bolt's messages", () => {
    const { capture, logger } = capturedLogger();
    const bolt = boltLogger(logger);
    bolt.info('posting to', PHONE, 'with', BOT_TOKEN);
    bolt.error(new Error('Authorization: Bearer abc.def-ghi rejected'));
    const lines = capture.lines();
    expect(lines.map((l) => [l.level, l.component, l.msg])).toEqual([
      ['info', 'bolt', 'posting to [number] with xoxb-[redacted]'],
      ['error', 'bolt', 'Error: Authorization: Bearer [redacted] rejected'],
    ]);
  });

  // Rule: a library's line never carries a payload, whatever its fields are called: an object argument
  // is not serialized, and JSON inlined in a message is cut off where it starts.
  test('leaves payloads out, as arguments or inlined in the message', () => {
    const { capture, logger } = capturedLogger('debug');
    const bolt = boltLogger(logger);
    bolt.setLevel(LogLevel.DEBUG);
    const command = {
      token: 'legacy-verification-token',
      response_url: 'https://hooks.slack.com/commands/T0001/1/abc',
      view: { state: { values: { code: { code: { value: '123 456' } } } } },
    };
    bolt.warn(command);
    bolt.debug(`http request body: ${JSON.stringify(command)}`);
    bolt.debug(`Received a message on the WebSocket: ${JSON.stringify({ envelope_id: 'e1', payload: command })}`);
    bolt.debug('ack() call begins (body:', [command], ')');
    bolt.error(new Error(`Unexpected answer ${JSON.stringify(command)}`));
    expect(capture.lines().map((l) => l.msg)).toEqual([
      PAYLOAD_OMITTED,
      `http request body: ${PAYLOAD_OMITTED}`,
      `Received a message on the WebSocket: ${PAYLOAD_OMITTED}`,
      `ack() call begins (body: ${PAYLOAD_OMITTED} )`,
      `Error: Unexpected answer ${PAYLOAD_OMITTED}`,
    ]);
    expect(capture.text()).not.toMatch(/legacy-verification|hooks\.slack|123 456/);
  });

  // Rule: setLevel changes what gets through, and getLevel reports it back.
  test('setLevel and getLevel', () => {
    const { capture, logger } = capturedLogger();
    const bolt = boltLogger(logger);
    expect(bolt.getLevel()).toBe(LogLevel.INFO);
    bolt.debug('dropped');
    bolt.setLevel(LogLevel.DEBUG);
    bolt.debug('kept');
    bolt.setLevel(LogLevel.ERROR);
    bolt.warn('dropped too');
    expect(bolt.getLevel()).toBe(LogLevel.ERROR);
    expect(capture.lines().map((l) => l.msg)).toEqual(['kept']);
  });
});
