import { isAxiosError } from 'axios';
import { ProviderError } from '../core/ports.js';

/**
 * Maps whatever the SDK or axios threw to a ProviderError that is safe to log. A raw AxiosError
 * carries the Basic-auth password, the bearer token and the request body (with the phone number) in
 * `config`, so it must never reach a log; only the status, axios's code and Bandwidth's requestId pass.
 */
export function toProviderError(operation: 'send' | 'verify' | 'token', error: unknown): ProviderError {
  if (error instanceof ProviderError) return error;
  if (isAxiosError(error)) {
    const status = error.response?.status;
    const data = error.response?.data as { requestId?: unknown } | undefined;
    const requestId = typeof data?.requestId === 'string' ? data.requestId : undefined;
    if (status === undefined) {
      return new ProviderError('unavailable', `Bandwidth ${operation}: no response (${error.code ?? 'network error'})`);
    }
    // Only a 4xx is Bandwidth refusing the request; a 2xx here is an answer that broke off midway.
    const failure =
      status === 429
        ? 'rate_limited'
        : status === 401 || status === 403
          ? 'misconfigured'
          : status >= 400 && status < 500
            ? 'rejected'
            : 'unavailable';
    const code = status < 400 && error.code ? ` (${error.code})` : '';
    return new ProviderError(failure, `Bandwidth ${operation}: HTTP ${status}${code}`, status, requestId);
  }
  // The SDK's RequiredError (a missing argument) is our bug, not Bandwidth's; anything else is unknown.
  const name = error instanceof Error ? error.name : 'unknown error';
  return new ProviderError('rejected', `Bandwidth ${operation}: ${name}`);
}
