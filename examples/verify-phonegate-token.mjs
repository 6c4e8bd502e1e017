// An endpoint's check of a PhoneGate token (npm install jose). jwks: createRemoteJWKSet(new URL('https://phonegate.example.com/.well-known/jwks.json'))
// or createLocalJWKSet(pinned); audience: this endpoint's own URL, exactly as `url` in PhoneGate's [command /name]
// (a token made for another endpoint, even on this host, is refused); rawBody: the body's bytes as received, before parsing.
import { createHash } from 'node:crypto';
import { jwtVerify } from 'jose';

const seen = new Map(); // jti -> exp (ms): each token works once; share this store if the endpoint runs on several hosts

// approvals: how many people other than the requester must have approved, each with their own code
// (PhoneGate's `[command /name] approvals`); allowBreakGlass: accept a run without them, where the requester
// broke glass (the token says break_glass: true, and PhoneGate has told the security channel).
export async function verifyPhonegateRequest({
  authorization,
  rawBody,
  jwks,
  issuer = 'phonegate',
  audience,
  approvals = 0,
  allowBreakGlass = false,
}) {
  const token = /^Bearer ([\w.-]+)$/.exec(authorization ?? '')?.[1];
  if (!token) throw new Error('no bearer token');
  const { payload } = await jwtVerify(token, jwks, {
    issuer,
    audience,
    algorithms: ['ES256'],
    typ: 'JWT',
    requiredClaims: ['sub', 'jti', 'exp', 'body_sha256'],
  });
  if (payload.body_sha256 !== createHash('sha256').update(rawBody).digest('hex'))
    throw new Error('the body is not the one the token was made for');
  if (approvals > 0 && !(allowBreakGlass && payload.break_glass === true)) {
    const approvers = new Set(
      (Array.isArray(payload.approvals) ? payload.approvals : [])
        .filter(
          (a) =>
            typeof a?.sub === 'string' &&
            a.sub !== payload.sub &&
            Number.isInteger(a.auth_time) &&
            Array.isArray(a.amr),
        )
        .map((a) => a.sub),
    );
    if (approvers.size < approvals)
      throw new Error(`needs ${approvals} approval(s) from people other than the requester, has ${approvers.size}`);
  }
  for (const [jti, exp] of seen) if (exp < Date.now()) seen.delete(jti);
  if (seen.has(payload.jti)) throw new Error('token already used');
  seen.set(payload.jti, payload.exp * 1000);
  return payload; // sub: the Slack user; scope, auth_time, amr: what PhoneGate checked, when, and how; approvals, reason, ticket
}
