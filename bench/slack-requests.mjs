// Requests to /slack/events as Slack sends them (form-encoded, signed), over a keep-alive agent, and
// the load loop: N workers, a fixed number of requests per round, each request's latency kept.
import { createHmac, randomUUID } from 'node:crypto';
import { Agent, request } from 'node:http';
import { performance } from 'node:perf_hooks';

export const TEAM_ID = 'T0001';

export function sign(secret, body, timestamp = Math.floor(Date.now() / 1000)) {
  const signature = createHmac('sha256', secret).update(`v0:${timestamp}:${body}`).digest('hex');
  return { 'x-slack-request-timestamp': String(timestamp), 'x-slack-signature': `v0=${signature}` };
}

export function commandBody(command, userId, responseOrigin, text = '') {
  return new URLSearchParams({
    token: 'deprecated-verification-token',
    team_id: TEAM_ID,
    team_domain: 'bench',
    channel_id: 'C0001',
    channel_name: 'general',
    user_id: userId,
    user_name: userId.toLowerCase(),
    command,
    text,
    api_app_id: 'A0001',
    is_enterprise_install: 'false',
    response_url: `${responseOrigin}/commands/${TEAM_ID}/${randomUUID()}`,
    trigger_id: `${Date.now()}.1234.${randomUUID()}`,
  }).toString();
}

/** A modal submitted as the user: `shown` is the view the app last showed, `values` the input state. */
export function viewSubmissionBody(userId, shown, values) {
  const payload = {
    type: 'view_submission',
    team: { id: TEAM_ID, domain: 'bench' },
    user: { id: userId, username: userId.toLowerCase(), name: userId.toLowerCase(), team_id: TEAM_ID },
    api_app_id: 'A0001',
    token: 'deprecated-verification-token',
    trigger_id: `${Date.now()}.1234.${randomUUID()}`,
    view: {
      ...shown.view,
      id: shown.id,
      team_id: TEAM_ID,
      app_id: 'A0001',
      bot_id: 'BBOT0001',
      hash: `${Date.now()}.abc`,
      root_view_id: shown.id,
      previous_view_id: null,
      private_metadata: shown.view.private_metadata ?? '',
      callback_id: shown.view.callback_id ?? '',
      state: { values },
    },
    response_urls: [],
    is_enterprise_install: false,
    enterprise: null,
  };
  return new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
}

export const deliveryValues = (delivery) => ({
  delivery: {
    delivery: {
      type: 'radio_buttons',
      selected_option: { value: delivery, text: { type: 'plain_text', text: delivery } },
    },
  },
});
export const codeValues = (code) => ({ code: { code: { type: 'plain_text_input', value: code } } });

/** POSTs bodies to one app's /slack/events, signed, over keep-alive connections. */
export class SlackClient {
  constructor(port, secret, maxSockets = 256) {
    this.port = port;
    this.secret = secret;
    this.agent = new Agent({ keepAlive: true, maxSockets });
    this.signed = new Map(); // body index -> { second, headers }: one signature per body per second
  }

  /**
   * Resolves with { status, text, ms }; a network error resolves with status 0. A kept-alive socket
   * that the server closed just as we reused it (its idle timeout) is retried once, as browsers do.
   */
  post(body, headers = sign(this.secret, body), retry = true) {
    const started = performance.now();
    return new Promise((resolve) => {
      const req = request(
        {
          host: '127.0.0.1',
          port: this.port,
          method: 'POST',
          path: '/slack/events',
          agent: this.agent,
          headers: {
            'content-type': 'application/x-www-form-urlencoded',
            'content-length': Buffer.byteLength(body),
            ...headers,
          },
        },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (chunk) => (text += chunk));
          res.on('end', () => resolve({ status: res.statusCode, text, ms: performance.now() - started }));
        },
      );
      req.on('error', (error) => {
        if (retry && req.reusedSocket && error.code === 'ECONNRESET') resolve(this.post(body, headers, false));
        else resolve({ status: 0, text: `${error.code ?? ''} ${error.message}`, ms: performance.now() - started });
      });
      req.end(body);
    });
  }

  /** The same body again with a signature of this second (Slack would sign each delivery anew). */
  postRepeated(index, body) {
    const second = Math.floor(Date.now() / 1000);
    let entry = this.signed.get(index);
    if (!entry || entry.second !== second)
      this.signed.set(index, (entry = { second, headers: sign(this.secret, body, second) }));
    return this.post(body, entry.headers);
  }

  get(path, retry = true) {
    const started = performance.now();
    return new Promise((resolve) => {
      const req = request({ host: '127.0.0.1', port: this.port, path, agent: this.agent }, (res) => {
        res.resume().on('end', () => resolve({ status: res.statusCode, ms: performance.now() - started }));
      });
      req.on('error', (_error) =>
        resolve(retry && req.reusedSocket ? this.get(path, false) : { status: 0, ms: performance.now() - started }),
      );
      req.end();
    });
  }

  close() {
    this.agent.destroy();
  }
}

/**
 * One round: `total` requests from `concurrency` workers; `send(i)` makes request i and resolves with
 * { status, text, ms }; `check(result)` says whether the answer is the expected one.
 * Resolves with { ms (wall), latencies (sorted), failures, example }.
 */
export async function round({ total, concurrency, send, check }) {
  const latencies = [];
  let next = 0;
  let failures = 0;
  let example;
  const started = performance.now();
  const worker = async () => {
    while (next < total) {
      const i = next++;
      const result = await send(i);
      latencies.push(result.ms);
      if (!check(result)) {
        failures += 1;
        example ??= `${result.status} ${result.text.slice(0, 200)}`;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, total) }, worker));
  return { ms: performance.now() - started, latencies: latencies.sort((a, b) => a - b), failures, example };
}

export function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}
