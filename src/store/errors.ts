import { StoreError } from '../core/ports.js';

/**
 * Every store call ends within this, as a whole, so a listener that makes a few calls still answers
 * Slack inside its 3 s. A call that runs out fails like any store error: the core denies.
 */
export const STORE_DEADLINE_MS = 1000;

/** /healthz's probe gets less: the health check itself must answer well within a second. */
export const PING_DEADLINE_MS = 500;
/** Opening a store at start-up (connecting, creating tables): a busy machine or server needs longer than one call. */
export const OPEN_DEADLINE_MS = 10_000;

/** Runs a backend call within deadlineMs; any failure becomes a StoreError, which the core treats as "deny". */
export function guardStore<T>(
  operation: 'read' | 'write',
  fn: () => Promise<T>,
  deadlineMs = STORE_DEADLINE_MS,
): Promise<T> {
  // One promise, settled by the call or by the timer, whichever comes first (every gated command
  // makes a store call: no race of two promises). The timer does not cancel the call underneath:
  // each backend bounds its own waits too (SQLite's busy timeout and start limit), so a call that
  // lost here does not linger.
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new StoreError(`store timed out after ${deadlineMs} ms`)), deadlineMs);
    const fail = (error: unknown) => {
      clearTimeout(timer);
      reject(toStoreError(operation, error));
    };
    let call: Promise<T>;
    try {
      call = fn();
    } catch (error) {
      fail(error);
      return;
    }
    call.then((value) => {
      clearTimeout(timer);
      resolve(value);
    }, fail);
  });
}

export function toStoreError(operation: 'read' | 'write', error: unknown): StoreError {
  if (error instanceof StoreError) return error;
  const code = (error as { code?: unknown } | undefined)?.code;
  return new StoreError(`store ${operation} failed${typeof code === 'string' ? ` (${code})` : ''}`, { cause: error });
}

/** The store answers, but running on it as configured would be unsafe: the message says why and what to change. */
export class UnsafeStoreError extends Error {
  override name = 'UnsafeStoreError';
}
