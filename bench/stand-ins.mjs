// Stand-ins for Slack's Web API and Bandwidth's MFA API, served on 127.0.0.1 in the bench's own
// process. They answer at once, in the documented shapes, and let a login driver wait for the view
// the app opened or updated (by trigger_id or view id) without polling.
import { createServer } from 'node:http';

/** The code the Bandwidth stand-in "sends": fixed, so the login driver can type it. Checked on verify. */
export const CODE_DIGITS = '4826150937';

function listen(handler) {
  const server = createServer((req, res) => {
    const chunks = [];
    req.on('data', (chunk) => chunks.push(chunk));
    req.on('end', () => {
      const path = new URL(req.url ?? '/', 'http://localhost').pathname;
      const [status, payload] = handler(path, Buffer.concat(chunks).toString('utf8'), req.headers.authorization ?? '');
      const text = typeof payload === 'string' ? payload : JSON.stringify(payload);
      res
        .writeHead(status, { 'content-type': typeof payload === 'string' ? 'text/plain' : 'application/json' })
        .end(text);
    });
  });
  server.keepAliveTimeout = 60_000;
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({
        origin: `http://127.0.0.1:${server.address().port}`,
        close: () => new Promise((done) => (server.closeAllConnections(), server.close(() => done()))),
      }),
    ),
  );
}

/** Bolt's WebClient posts form fields, with objects as JSON strings. */
function parseArgs(text) {
  if (text.startsWith('{')) return JSON.parse(text);
  const args = {};
  for (const [key, value] of new URLSearchParams(text)) args[key] = /^[[{]/.test(value) ? JSON.parse(value) : value;
  return args;
}

/** One-shot waiters keyed by a string: `wait(key)` resolves with the first value `offer(key, v)` gives it (before or after). */
class Mailbox {
  #values = new Map();
  #waiters = new Map();
  offer(key, value) {
    const waiter = this.#waiters.get(key);
    if (waiter) {
      this.#waiters.delete(key);
      waiter(value);
    } else this.#values.set(key, value);
  }
  wait(key, timeoutMs = 10_000) {
    if (this.#values.has(key)) {
      const value = this.#values.get(key);
      this.#values.delete(key);
      return Promise.resolve(value);
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => (this.#waiters.delete(key), reject(new Error(`no Slack call for ${key} within ${timeoutMs} ms`))),
        timeoutMs,
      );
      this.#waiters.set(key, (value) => (clearTimeout(timer), resolve(value)));
    });
  }
}

export async function slackStandIn() {
  let views = 0;
  const opened = new Mailbox(); // trigger_id -> { id, view }
  const updated = new Mailbox(); // `${view_id}:${callback_id}` -> { id, view }
  const counts = {};
  const server = await listen((path, body) => {
    if (!path.startsWith('/api/')) return [200, 'ok']; // a response_url post
    const method = path.slice('/api/'.length);
    counts[method] = (counts[method] ?? 0) + 1;
    const args = method === 'auth.test' ? {} : parseArgs(body);
    switch (method) {
      case 'auth.test':
        return [
          200,
          {
            ok: true,
            url: 'https://bench.slack.com/',
            team: 'Bench',
            user: 'phonegate',
            team_id: 'T0001',
            user_id: 'UBOT0001',
            bot_id: 'BBOT0001',
          },
        ];
      case 'views.open': {
        const id = `V${String(++views).padStart(9, '0')}`;
        opened.offer(args.trigger_id, { id, view: args.view });
        return [200, { ok: true, view: { ...args.view, id } }];
      }
      case 'views.update':
        updated.offer(`${args.view_id}:${args.view?.callback_id ?? ''}`, { id: args.view_id, view: args.view });
        return [200, { ok: true, view: { ...args.view, id: args.view_id } }];
      case 'views.publish':
        return [200, { ok: true, view: { ...args.view, id: 'VHOME' } }];
      case 'chat.postMessage':
        return [200, { ok: true, channel: args.channel, ts: '1700000000.000100' }];
      default:
        return [200, { ok: true }];
    }
  });
  return {
    ...server,
    counts,
    viewOpened: (triggerId) => opened.wait(triggerId),
    viewUpdated: (viewId, callbackId) => updated.wait(`${viewId}:${callbackId}`),
  };
}

/** Bandwidth's MFA API (messaging, voice, verify) and its OAuth2 token endpoint. */
export async function bandwidthStandIn(accountId) {
  const sent = new Set(); // `${to}|${scope}|${code}` of every code sent
  const counts = { messaging: 0, voice: 0, verify: 0, token: 0, refused: 0 };
  const server = await listen((path, body) => {
    if (path === '/oauth2/token') {
      counts.token += 1;
      return [200, { access_token: `bench-token-${counts.token}`, token_type: 'Bearer', expires_in: 3600 }];
    }
    const match = /^\/api\/v1\/accounts\/([^/]+)\/code\/(messaging|voice|verify)$/.exec(path);
    if (!match || match[1] !== accountId) return [404, { message: 'Not Found' }];
    const operation = match[2];
    counts[operation] += 1;
    const request = JSON.parse(body);
    if (operation === 'verify') {
      const valid = sent.has(`${request.to}|${request.scope}|${request.code}`);
      if (!valid) counts.refused += 1;
      return [200, { valid }];
    }
    sent.add(`${request.to}|${request.scope}|${CODE_DIGITS.slice(0, request.digits)}`);
    return [200, operation === 'messaging' ? { messageId: 'bench-message' } : { callId: 'bench-call' }];
  });
  return { ...server, counts, tokenUrl: `${server.origin}/oauth2/token`, mfaBaseUrl: `${server.origin}/api/v1` };
}
