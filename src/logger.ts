import type { Logger as BoltLogger } from '@slack/bolt';
import { LogLevel } from '@slack/bolt';
import pino, { type DestinationStream, type Logger } from 'pino';

export type { Logger } from 'pino';

/**
 * Structured JSON lines on stdout. Three layers keep secrets out:
 *  1. We never put a code, phone number or token in a log call (phones are masked before logging).
 *  2. `redact` censors the field names that would hold one, should one slip in.
 *  3. The `err` serializer keeps only an error's type, status and scrubbed message: a raw AxiosError
 *     carries credentials and request bodies, and message text is not covered by `redact`.
 */
export function createLogger(options: { level?: string; destination?: DestinationStream } = {}): Logger {
  return pino(
    {
      level: options.level ?? 'info',
      base: { app: 'phonegate' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: {
        paths: [
          'code',
          '*.code',
          'phone',
          '*.phone',
          'to',
          '*.to',
          'from',
          '*.from',
          'token',
          '*.token',
          'password',
          '*.password',
          'secret',
          '*.secret',
          'authorization',
          '*.authorization',
          'Authorization',
          '*.Authorization',
          'headers',
          '*.headers',
          'config',
          '*.config',
          // A Slack payload carries the legacy verification token, a response_url and whatever the user typed.
          'body',
          '*.body',
          'payload',
          '*.payload',
          'response_url',
          '*.response_url',
          'responseUrl',
          '*.responseUrl',
        ],
        censor: '[redacted]',
      },
      serializers: { err: serializeError, error: serializeError },
    },
    options.destination,
  );
}

/** Masks anything in free text that looks like a phone number, a code, a Slack token or an auth header. */
export function scrub(text: string): string {
  return text
    .replace(/\b(xox[a-z]|xapp)-[\w-]+/gi, '$1-[redacted]')
    .replace(/\b(Bearer|Basic)\s+[\w.~+/=-]{8,}/gi, '$1 [redacted]')
    .replace(/\+\d[\d ().-]{6,}\d/g, '[number]') // +1 555 123 4567, +15551234567
    .replace(/\(?\b\d{3}\)?[ .-]\d{3}[ .-]\d{4}\b/g, '[number]') // (555) 123-4567
    .replace(/\b\d{6,}\b/g, '[number]'); // codes and bare numbers
}

interface SafeError {
  type: string;
  message: string;
  /** Not `code`: that field name is redacted everywhere, in case a one-time code lands in it. */
  errorCode?: string;
  status?: number;
  failure?: string;
  requestId?: string;
  stack?: string;
  cause?: SafeError;
}

export function serializeError(error: unknown, depth = 0): SafeError {
  if (!(error instanceof Error)) return { type: typeof error, message: scrub(String(error)) };
  const e = error as Error & { code?: unknown; status?: unknown; failure?: unknown; requestId?: unknown };
  const safe: SafeError = { type: e.name, message: scrub(e.message) };
  if (typeof e.code === 'string') safe.errorCode = e.code;
  if (typeof e.status === 'number') safe.status = e.status;
  if (typeof e.failure === 'string') safe.failure = e.failure;
  if (typeof e.requestId === 'string') safe.requestId = e.requestId;
  if (e.stack) safe.stack = scrub(e.stack);
  if (e.cause !== undefined && depth < 2) safe.cause = serializeError(e.cause, depth + 1);
  return safe;
}

/** What a library's line shows in place of a payload (a JSON object or array, or any object argument). */
export const PAYLOAD_OMITTED = '{…}';

/**
 * A library's message with its payload left out. Bolt, @slack/web-api and @slack/socket-mode log
 * whole bodies at debug, inlined as JSON after a label ("http request body: {...}", "Received a
 * message on the WebSocket: {...}", "ack() call begins (body: {...})"): a slash command's legacy
 * token and response_url, a typed code in a view's state, a Web API answer. So the rule is about
 * shape, not field names: everything from the first `{` on is dropped, whatever the payload holds.
 */
export function withoutPayload(text: string): string {
  const start = text.indexOf('{');
  return start === -1 ? text : `${text.slice(0, start)}${PAYLOAD_OMITTED}`;
}

/**
 * One argument of a library's log call as text; never throws. An object is never serialized (it is
 * a payload, a request, a response): only its place is kept. An error keeps its name and message.
 */
function describe(arg: unknown): string {
  if (arg instanceof Error) return withoutPayload(`${arg.name}: ${arg.message}`);
  if (typeof arg === 'string') return withoutPayload(arg);
  if (arg === null || (typeof arg !== 'object' && typeof arg !== 'function')) return String(arg);
  return PAYLOAD_OMITTED;
}

const boltLevels: Record<LogLevel, string> = {
  [LogLevel.DEBUG]: 'debug',
  [LogLevel.INFO]: 'info',
  [LogLevel.WARN]: 'warn',
  [LogLevel.ERROR]: 'error',
};

/**
 * Bolt's Logger interface over pino (Bolt hands it to its WebClient and SocketModeClient too). Their
 * messages lose any payload (withoutPayload), then are scrubbed like any other text. A call at a
 * level that is off does nothing at all: Bolt logs at debug several times per request, and building
 * and scrubbing those lines only to drop them would cost more than the request itself.
 */
export function boltLogger(logger: Logger): BoltLogger {
  const child = logger.child({ component: 'bolt' });
  let level: LogLevel = LogLevel.INFO;
  const at =
    (name: 'debug' | 'info' | 'warn' | 'error') =>
    (...args: unknown[]) => {
      if (child.isLevelEnabled(name)) child[name](scrub(args.map(describe).join(' ')));
    };
  return {
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    setLevel: (next) => {
      level = next;
      child.level = boltLevels[next];
    },
    getLevel: () => level,
    setName: () => {},
  };
}
