import { ProviderError } from '../core/ports.js';

/**
 * Runs one Bandwidth call with a deadline for the whole of it. axios's `timeout` watches the socket,
 * not the clock, so an answer that trickles in byte by byte could keep the user waiting far longer. The
 * signal aborts the request itself; the race also ends the waits the signal cannot reach (the SDK awaits
 * the OAuth token source before it starts the request).
 */
export async function withDeadline<T>(
  operation: 'send' | 'verify' | 'token',
  ms: number,
  call: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const signal = AbortSignal.timeout(ms);
  let onAbort = () => {};
  const expired = new Promise<never>((_, reject) => {
    onAbort = () =>
      reject(new ProviderError('unavailable', `Bandwidth ${operation}: no complete answer within ${ms / 1000} s`));
    signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([call(signal), expired]);
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}
