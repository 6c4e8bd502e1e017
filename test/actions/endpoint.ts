import { createRemoteJWKSet, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { serve } from '../helpers/serve.js';

/** The README's example verifier, imported as is: the tests run exactly the code endpoint authors copy. */
interface Verifier {
  verifyPhonegateRequest(input: {
    authorization?: string;
    rawBody: Buffer;
    jwks: JWTVerifyGetKey;
    issuer?: string;
    audience: string;
    approvals?: number;
    allowBreakGlass?: boolean;
  }): Promise<JWTPayload>;
}
const example = new URL('../../examples/verify-phonegate-token.mjs', import.meta.url).href;
export const { verifyPhonegateRequest } = (await import(example)) as Verifier;

/** Serves whatever JWKS `current()` returns now, as PhoneGate's `/.well-known/jwks.json` will. */
export function serveJwks(current: () => { keys: object[] }) {
  return serve((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(current()));
  });
}

export interface Verdict {
  ok: boolean;
  /** jose's error code, or the example's own message. */
  refusal?: string;
  payload?: JWTPayload;
  body?: Record<string, string>;
}

/**
 * An operation's endpoint: it verifies every request with the example verifier against the JWKS
 * fetched over HTTP (never cached, so a key dropped from the JWKS is gone at once), answers 401 on a
 * refusal, and otherwise answers JSON text naming the user and what they typed.
 */
export async function serveVerifyingEndpoint(jwksUrl: string) {
  const jwks = createRemoteJWKSet(new URL(jwksUrl), { cacheMaxAge: 0 });
  const verdicts: Verdict[] = [];
  const server = await serve(async (req, res, rawBody) => {
    try {
      const payload = await verifyPhonegateRequest({
        authorization: req.headers.authorization,
        rawBody,
        jwks,
        issuer: 'phonegate',
        // Its own URL as PhoneGate calls it, path and query included: a token for another endpoint is refused.
        audience: `${server.origin}${req.url}`,
      });
      const body = JSON.parse(rawBody.toString('utf8')) as Record<string, string>;
      verdicts.push({ ok: true, payload, body });
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ text: `Ran ${body.command} ${body.text} for <@${payload.sub}>` }));
    } catch (error) {
      const refusal = (error as { code?: string }).code ?? (error as Error).message;
      verdicts.push({ ok: false, refusal });
      res.writeHead(401, { 'content-type': 'text/plain' }).end(`refused: ${refusal}`);
    }
  });
  return { ...server, url: `${server.origin}/hooks/phonegate?team=ops`, verdicts };
}
