// The endpoint behind the demo's `[command /deploy]`: what an operator's own service would be. It
// checks every request with the example verifier (examples/verify-phonegate-token.mjs, the code the
// README tells endpoint authors to copy) against the bot's /.well-known/jwks.json, answers, and keeps
// what it received and answered for the page. Nothing is deployed.
import { createRemoteJWKSet } from 'jose';
import { verifyPhonegateRequest } from '../examples/verify-phonegate-token.mjs';
import { json, listen } from './http.mjs';

export const DEPLOY_PATH = '/hooks/deploy';

/**
 * The audience a token for `url` carries, as the example verifier expects it (its comment: "this
 * endpoint's own URL, exactly as `url` in PhoneGate's [command /name]"; src/actions/token.ts sets `aud`
 * so). The one place the demo says it.
 */
export const audienceOf = (url) => url;

/**
 * @param {{ onChange: () => void }} options
 * @returns the server, its `url`, `received` (newest last) and `trust(jwksUrl)`, called once the bot is up.
 */
export async function startDeployEndpoint({ onChange }) {
  const received = [];
  let jwks;
  let url = '';
  const keep = (entry) => {
    received.push({ at: Date.now(), ...entry });
    if (received.length > 50) received.shift();
    onChange();
  };
  const server = await listen(async (req, res, rawBody) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (req.method !== 'POST' || path !== DEPLOY_PATH) return json(res, 404, { text: 'Not found' });
    let body;
    try {
      body = JSON.parse(rawBody.toString('utf8'));
    } catch {
      body = rawBody.toString('utf8').slice(0, 2000);
    }
    let claims;
    try {
      if (!jwks) throw new Error('the bot has not started yet');
      claims = await verifyPhonegateRequest({
        authorization: req.headers.authorization,
        rawBody,
        jwks,
        audience: audienceOf(url),
      });
    } catch (error) {
      const answer = { text: `Refused: ${error.code ?? ''}${error.code ? ' ' : ''}${error.message}` };
      keep({ verified: false, refusal: answer.text, body, answer: { status: 401, body: answer } });
      return json(res, 401, answer);
    }
    const answer = { text: deployed(body) };
    keep({ verified: true, claims, body, answer: { status: 200, body: answer } });
    return json(res, 200, answer);
  });
  url = `${server.origin}${DEPLOY_PATH}`;
  return {
    ...server,
    url,
    received,
    trust(jwksUrl) {
      jwks = createRemoteJWKSet(new URL(jwksUrl));
    },
  };
}

/** The answer the person reads in Slack (the bot shows it escaped, as any endpoint's text). */
function deployed(body) {
  const [service, version] = String(body?.text ?? '')
    .trim()
    .split(/\s+/)
    .filter(Boolean);
  if (!service || !version)
    return 'Nothing deployed: type `/deploy <service> <version>`, for example `/deploy api 1.4.2`.';
  return `:rocket: Deployed *${service}* version *${version}* (a demo endpoint: nothing really ran). The token was verified.`;
}
