import { createHash, randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import type { Delivery, Scope } from '../core/ports.js';
import type { SigningKeys } from './signing-keys.js';

/** How long an endpoint may accept a token: long enough for one call, too short to hoard. */
export const TOKEN_LIFETIME_SECONDS = 60;

export interface ActionClaims {
  /** `iss`: `[actions] issuer`. */
  issuer: string;
  /** `sub`: the Slack user id. */
  userId: string;
  /** The endpoint's URL, which is `aud`: a token for one endpoint is no good at another on the same host. */
  url: string;
  scope: Scope;
  /** When the scope was granted (ms); `auth_time` is in seconds. */
  authTime: number;
  /**
   * Every method by which the codes of the challenge that proved the phone went out (any of them may be
   * the code that was typed): `amr` names them, `["sms"]`, `["tel"]` or `["sms", "tel"]` (RFC 8176).
   */
  methods: readonly Delivery[];
  /** The exact request body; the token carries its SHA-256 so it cannot travel with another body. */
  body: string;
}

const amr: Record<Delivery, string> = { sms: 'sms', voice: 'tel' };

export function sha256Hex(body: string | Uint8Array): string {
  return createHash('sha256').update(body).digest('hex');
}

/** Signs the token for one action call; `now` (ms) is an input so tests control time. */
export async function signActionToken(keys: SigningKeys, claims: ActionClaims, now: number): Promise<string> {
  const iat = Math.floor(now / 1000);
  return new SignJWT({
    scope: claims.scope,
    auth_time: Math.floor(claims.authTime / 1000),
    amr: claims.methods.map((method) => amr[method]),
    body_sha256: sha256Hex(claims.body),
  })
    .setProtectedHeader({ alg: 'ES256', kid: keys.current.kid, typ: 'JWT' })
    .setIssuer(claims.issuer)
    .setSubject(claims.userId)
    .setAudience(claims.url)
    .setIssuedAt(iat)
    .setExpirationTime(iat + TOKEN_LIFETIME_SECONDS)
    .setJti(randomUUID())
    .sign(keys.current.privateKey);
}
