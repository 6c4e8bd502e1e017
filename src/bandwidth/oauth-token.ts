import axios from 'axios';
import { type Clock, ProviderError } from '../core/ports.js';
import { withDeadline } from './deadline.js';
import { toProviderError } from './errors.js';

export interface OAuthClient {
  tokenUrl: string;
  clientId: string;
  clientSecret: string;
}

/** Refresh this long before the token's stated expiry, so no request goes out with a dying token. */
const REFRESH_MARGIN_MS = 60_000;

/**
 * OAuth2 client-credentials tokens for Bandwidth. bandwidth-sdk fetches its own from a hard-coded URL;
 * we fetch from `[bandwidth] oauth_token_url` instead and hand the SDK this function as `accessToken`.
 * One fetch at a time, ending within `timeoutMs` on its own (callers share it, so no one caller's deadline
 * may end it); the token is reused until shortly before it expires.
 */
export function createTokenSource(
  client: OAuthClient,
  options: { clock: Clock; timeoutMs: number },
): () => Promise<string> {
  let cached: { token: string; refreshAt: number } | undefined;
  let inFlight: Promise<string> | undefined;

  async function fetchToken(): Promise<string> {
    try {
      const { data, status } = await withDeadline('token', options.timeoutMs, (signal) =>
        axios.post<unknown>(client.tokenUrl, 'grant_type=client_credentials', {
          auth: { username: client.clientId, password: client.clientSecret },
          headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
          signal,
        }),
      );
      const { access_token: token, expires_in: expiresIn } = (
        typeof data === 'object' && data !== null ? data : {}
      ) as { access_token?: unknown; expires_in?: unknown };
      if (typeof token !== 'string' || token === '')
        throw new ProviderError(
          'unavailable',
          `Bandwidth token: no access_token in the answer (HTTP ${status})`,
          status,
        );
      const lifetimeMs = (Number(expiresIn) || 0) * 1000;
      const now = options.clock.now();
      cached = { token, refreshAt: now + Math.max(lifetimeMs - REFRESH_MARGIN_MS, lifetimeMs / 2) };
      return token;
    } catch (error) {
      throw toProviderError('token', error);
    }
  }

  return async () => {
    if (cached && options.clock.now() < cached.refreshAt) return cached.token;
    inFlight ??= fetchToken().finally(() => {
      inFlight = undefined;
    });
    return inFlight;
  };
}
