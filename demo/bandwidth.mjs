// A stand-in for Bandwidth's MFA API and its OAuth2 token endpoint, as test/helpers/fake-bandwidth.ts
// is for the tests: the paths, bodies and answers of research/bandwidth-mfa-openapi.yml, the bodies
// checked by the same code (bandwidth-requests.mjs). Each send makes a random code; codes are kept per
// (number, scope), and verify accepts any code made for that pair within `expirationTimeInMinutes`, as
// Bandwidth documents (it does not burn a code: the bot must). What "arrives" is put on the
// recipient's phone: a text, or a call's transcript.
import { randomBytes, randomInt } from 'node:crypto';
import { sendProblem, verifyProblem } from './bandwidth-requests.mjs';
import { json, listen } from './http.mjs';

const TOKEN_PATH = '/api/v1/oauth2/token';
const requestId = () => `req-${randomBytes(6).toString('hex')}`;

/**
 * @param {{ accountId: string, clientId: string, clientSecret: string, onChange: () => void }} options
 * @returns the server (origin, close), the URLs to configure, and `phones`: what arrived, by number.
 */
export async function startBandwidth({ accountId, clientId, clientSecret, onChange }) {
  /** `${to}|${scope}` -> [{ code, at }]: Bandwidth keeps codes per number and scope. */
  const codes = new Map();
  /** number -> [{ kind: 'sms' | 'call', at, from, text, code }], oldest first. */
  const phones = new Map();
  const tokens = new Set();
  const expectedBasic = `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString('base64')}`;

  const server = await listen((req, res, rawBody) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    const authorization = req.headers.authorization ?? '';
    if (req.method !== 'POST') return json(res, 405, { message: 'Method Not Allowed' });
    if (path === TOKEN_PATH) {
      if (authorization !== expectedBasic || rawBody.toString() !== 'grant_type=client_credentials')
        return json(res, 401, { error: 'invalid_client' });
      const token = randomBytes(24).toString('base64url');
      tokens.add(token);
      return json(res, 200, { access_token: token, token_type: 'Bearer', expires_in: 3600 });
    }
    const match = /^\/api\/v1\/accounts\/([^/]+)\/code\/(messaging|voice|verify)$/.exec(path);
    if (!match) return json(res, 404, { message: 'Not Found' });
    if (!tokens.has(/^Bearer (\S+)$/.exec(authorization)?.[1] ?? ''))
      return json(res, 401, { message: 'Unauthorized' });
    if (match[1] !== accountId) return json(res, 403, { message: 'User is not authorized to access this resource' });
    let body;
    try {
      body = JSON.parse(rawBody.toString('utf8'));
    } catch {
      return json(res, 400, { error: 'Request body is not JSON', requestId: requestId() });
    }
    const operation = match[2];
    const problem = operation === 'verify' ? verifyProblem(body) : sendProblem(body);
    if (problem) return json(res, 400, { error: problem, requestId: requestId() });
    const key = `${body.to}|${body.scope ?? '2FA'}`;
    if (operation === 'verify') {
      const since = Date.now() - body.expirationTimeInMinutes * 60_000;
      const valid = (codes.get(key) ?? []).some((c) => c.code === body.code && c.at >= since);
      return json(res, 200, { valid });
    }
    const code = String(randomInt(10 ** body.digits)).padStart(body.digits, '0');
    const at = Date.now();
    codes.set(key, [...(codes.get(key) ?? []).filter((c) => c.at > at - 15 * 60_000), { code, at }]);
    const id =
      operation === 'messaging' ? `demo-${randomBytes(8).toString('hex')}` : `c-demo-${randomBytes(8).toString('hex')}`;
    const arrived = phones.get(body.to) ?? [];
    arrived.push(
      operation === 'messaging'
        ? { id, kind: 'sms', at, from: body.from, text: body.message.replaceAll('{CODE}', code), code }
        : // A voice call reads the code digit by digit.
          {
            id,
            kind: 'call',
            at,
            from: body.from,
            text: body.message.replaceAll('{CODE}', code.split('').join(', ')),
            code,
          },
    );
    phones.set(body.to, arrived.slice(-20));
    onChange();
    return json(res, 200, operation === 'messaging' ? { messageId: id } : { callId: id });
  });

  return {
    ...server,
    mfaBaseUrl: `${server.origin}/api/v1`,
    tokenUrl: `${server.origin}${TOKEN_PATH}`,
    /** What arrived on `number`, oldest first. */
    arrivedAt: (number) => phones.get(number) ?? [],
  };
}
