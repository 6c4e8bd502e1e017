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
  /** For a command with approvers: who approved it, or none when the requester broke glass. */
  approved?: ApprovedClaims | undefined;
  /** The requester's reason and ticket, when given. */
  reason?: string | undefined;
  ticket?: string | undefined;
}

/** What an approved (or broken-glass) run tells the endpoint. */
export interface ApprovedClaims {
  approvals: ReadonlyArray<{ sub: string; approvedAt: number; authTime: number; methods: readonly Delivery[] }>;
  breakGlass: boolean;
}

const amr: Record<Delivery, string> = { sms: 'sms', voice: 'tel' };

export function sha256Hex(body: string | Uint8Array): string {
  return createHash('sha256').update(body).digest('hex');
}

/** Signs the token for one action call; `now` (ms) is an input so tests control time. */
export async function signActionToken(keys: SigningKeys, claims: ActionClaims, now: number): Promise<string> {
  const iat = Math.floor(now / 1000);
  const seconds = (ms: number) => Math.floor(ms / 1000);
  const { approved, reason, ticket } = claims;
  return new SignJWT({
    scope: claims.scope,
    auth_time: seconds(claims.authTime),
    amr: claims.methods.map((method) => amr[method]),
    body_sha256: sha256Hex(claims.body),
    // One object per approver (never the requester): when it was approved, and when and how their phone was proved.
    ...(approved
      ? {
          approvals: approved.approvals.map((a) => ({
            sub: a.sub,
            approved_at: seconds(a.approvedAt),
            auth_time: seconds(a.authTime),
            amr: a.methods.map((method) => amr[method]),
          })),
          ...(approved.breakGlass ? { break_glass: true } : {}),
        }
      : {}),
    ...(reason ? { reason } : {}),
    ...(ticket ? { ticket } : {}),
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
