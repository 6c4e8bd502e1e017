import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { SocketModeReceiver, type SocketModeReceiverOptions } from '@slack/bolt';
import { type Logger, scrub } from '../logger.js';

/** How Socket Mode start-up (and a reconnect) tries: `tries` attempts, waiting firstDelayMs, then twice that, and so on. */
export interface SocketRetry {
  tries: number;
  firstDelayMs: number;
  /** One try as a whole: apps.connections.open, then the WebSocket up to Slack's hello. */
  timeoutMs: number;
}

export const SOCKET_RETRY: SocketRetry = { tries: 5, firstDelayMs: 1000, timeoutMs: 10_000 };

/** What SocketModeClient.start() resolves with (apps.connections.open's answer). */
type Opened = ReturnType<SocketModeReceiver['start']>;

export type SocketState = 'connecting' | 'connected' | 'disconnected';

/** Every try failed; the message names the last cause (never a token). */
export class SocketStartError extends Error {
  override name = 'SocketStartError';
}

/**
 * SocketModeReceiver with a start that ends: each try has a deadline, failed tries are logged with
 * their cause and retried with backoff, and after the last one start() rejects. The client's own
 * reconnect loop is off (it retries for minutes without saying why); a dropped link is reconnected
 * here with the same bounded tries, and onFatal hears when they run out.
 */
export class BoundedSocketModeReceiver extends SocketModeReceiver {
  state: SocketState = 'disconnected';
  private stopping = false;
  private readonly retry: SocketRetry;
  private readonly log: Logger;
  private readonly onFatal: (error: SocketStartError) => void;

  constructor(
    options: SocketModeReceiverOptions & {
      retry: SocketRetry;
      log: Logger;
      onFatal: (error: SocketStartError) => void;
    },
  ) {
    const { retry, log, onFatal, ...rest } = options;
    super({
      ...rest,
      autoReconnectEnabled: false,
      installerOptions: {
        ...rest.installerOptions,
        // One call per try, bounded; the tries below are the retries.
        clientOptions: {
          ...rest.installerOptions?.clientOptions,
          timeout: retry.timeoutMs,
          retryConfig: { retries: 0 },
        },
      },
    });
    this.retry = retry;
    this.log = log;
    this.onFatal = onFatal;
    this.client.on('disconnected', () => {
      if (this.state !== 'connected' || this.stopping) return;
      this.state = 'disconnected';
      this.log.warn('the Socket Mode link closed; reconnecting');
      this.connect().catch((error: SocketStartError) => {
        if (!this.stopping) this.onFatal(error);
      });
    });
  }

  override async start(): Opened {
    this.stopping = false;
    return this.connect();
  }

  override async stop(): Promise<void> {
    this.stopping = true;
    this.state = 'disconnected';
    await super.stop();
  }

  private async connect(): Opened {
    const { tries, firstDelayMs } = this.retry;
    let cause = '';
    for (let attempt = 1; attempt <= tries && !this.stopping; attempt += 1) {
      this.state = 'connecting';
      try {
        const opened = await this.tryOnce();
        this.state = 'connected';
        if (attempt > 1) this.log.info({ attempt }, 'Socket Mode connected');
        return opened;
      } catch (error) {
        cause = causeOf(error, this.retry.timeoutMs);
        const last = attempt === tries;
        const retryInMs = firstDelayMs * 2 ** (attempt - 1);
        this.log.warn({ attempt, tries, cause, ...(last ? {} : { retryInMs }) }, 'Socket Mode could not connect');
        if (!last && !this.stopping) await new Promise((resolve) => setTimeout(resolve, retryInMs));
      }
    }
    this.state = 'disconnected';
    throw new SocketStartError(`Socket Mode could not connect after ${tries} tries: ${cause}`);
  }

  /** One apps.connections.open and WebSocket handshake. Rejects with the real cause, or on the deadline. */
  private async tryOnce(): Opened {
    const client = this.client;
    let socketError: unknown;
    let linkHost: string | undefined;
    const onOpened = (answer: { url?: string }) => {
      linkHost = answer.url ? new URL(answer.url).hostname : undefined;
    };
    const onError = (error: unknown) => {
      socketError ??= error;
    };
    // undici's WebSocket error event says nothing ("WebSocket error occurred: "); its diagnostics
    // channel carries the connect error itself (ECONNREFUSED, ENOTFOUND) for the link's host.
    const onConnectError = (message: unknown) => {
      const { connectParams, error } = message as { connectParams?: { hostname?: string }; error?: unknown };
      if (linkHost !== undefined && connectParams?.hostname === linkHost) socketError = error;
    };
    client.on('authenticated', onOpened);
    client.on('error', onError);
    subscribe(CONNECT_ERROR, onConnectError);
    let timer: NodeJS.Timeout | undefined;
    // The web client's own timeout bounds apps.connections.open; this bounds the WebSocket handshake too.
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new DeadlineError()), this.retry.timeoutMs * 2);
    });
    try {
      return await Promise.race([client.start(), deadline]);
    } catch (error) {
      if (error instanceof DeadlineError) void client.disconnect().catch(() => undefined);
      throw socketError ?? error ?? new Error('the WebSocket closed before Slack said hello');
    } finally {
      clearTimeout(timer);
      client.off('authenticated', onOpened);
      client.off('error', onError);
      unsubscribe(CONNECT_ERROR, onConnectError);
    }
  }
}

const CONNECT_ERROR = 'undici:client:connectError';

class DeadlineError extends Error {
  override name = 'DeadlineError';
}

/**
 * The cause of a failed try, in a few words: an HTTP status, Slack's error string, or the network
 * error code (ENOTFOUND, ECONNREFUSED) that fetch and undici bury a few `cause`s deep.
 */
export function causeOf(error: unknown, timeoutMs: number, called = 'apps.connections.open'): string {
  if (error instanceof DeadlineError) return `no answer within ${timeoutMs * 2} ms`;
  const e = error as { statusCode?: unknown; data?: { error?: unknown } } | undefined;
  if (typeof e?.statusCode === 'number') return `${called} answered HTTP ${e.statusCode}`;
  if (typeof e?.data?.error === 'string') return `${called} answered ${e.data.error}`;
  for (
    let current: unknown = error, depth = 0;
    current instanceof Error && depth < 6;
    current = current.cause ?? (current as { original?: unknown }).original, depth += 1
  ) {
    if (current.name === 'TimeoutError') return `no answer within ${timeoutMs} ms`;
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && /^E[A-Z_]+$/.test(code)) return code;
  }
  const said = [
    error instanceof Error ? error.message : String(error ?? ''),
    error instanceof Error && error.cause instanceof Error ? error.cause.message : '',
  ];
  return scrub(said.filter(Boolean).join(': ')) || 'the connection failed and gave no reason';
}

/** The fatal line when start-up fails: the real cause first (ENOTFOUND, HTTP 500, invalid_auth), then what to check. */
export function startFailure(error: unknown): string {
  if (error instanceof SocketStartError) return `${error.message}; check [slack] app_token, api_url and the network`;
  return `cannot start (${causeOf(error, 0, 'Slack')}): check [slack] bot_token, api_url and the network`;
}
