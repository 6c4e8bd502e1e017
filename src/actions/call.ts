import type { Scope } from '../core/ports.js';

/** Slack's limit on the text we show (see research/slack.md); longer answers are cut with an ellipsis. */
export const ANSWER_TEXT_MAX = 3000;
/** We read at most this much of an answer: enough for any text we can show, and a runaway endpoint cannot fill our memory. */
const ANSWER_BYTES_MAX = 64 * 1024;

export interface ActionRequest {
  command: string;
  text: string;
  user_id: string;
  team_id: string;
  channel_id: string;
  scope: Scope;
  request_id: string;
  /** The requester's reason (or the break-glass reason); null when none was asked or given. */
  reason?: string | null | undefined;
}

/** The exact JSON that is hashed into the token and sent: one builder, so the two can never differ. */
export function actionBody({
  command,
  text,
  user_id,
  team_id,
  channel_id,
  scope,
  request_id,
  reason,
}: ActionRequest): string {
  return JSON.stringify({ command, text, user_id, team_id, channel_id, scope, request_id, reason: reason ?? null });
}

export type ActionFailure = 'http' | 'timeout' | 'unreachable' | 'bad_answer';

/** `text` is what the user reads (mrkdwn-safe); it never holds the token or the URL's path and query. */
export type ActionResult =
  | { ok: true; status: number; text: string; ms: number }
  | { ok: false; status?: number; reason: ActionFailure; text: string; ms: number };

type WithoutMs<T> = T extends unknown ? Omit<T, 'ms'> : never;

export interface ActionCall {
  url: string;
  body: string;
  token: string;
  timeoutMs: number;
  fetchImpl?: typeof fetch;
}

/**
 * POSTs one action and turns whatever happens into a result; it never throws for network or HTTP
 * failures. The deadline covers the whole call, reading the answer included, so an endpoint that drips
 * its answer cannot hold the user longer than `timeoutMs`. Redirects are not followed: the token's
 * audience is this URL, and the body should not travel on to somewhere else.
 */
export async function callAction({
  url,
  body,
  token,
  timeoutMs,
  fetchImpl = fetch,
}: ActionCall): Promise<ActionResult> {
  const started = performance.now();
  const origin = new URL(url).origin;
  const signal = AbortSignal.timeout(timeoutMs);
  let status: number | undefined;
  const done = (result: WithoutMs<ActionResult>): ActionResult => ({
    ...result,
    ms: Math.round(performance.now() - started),
  });
  const fail = (reason: ActionFailure, why: string): ActionResult =>
    done({ ok: false, reason, text: `The endpoint at ${origin} ${why}.`, ...(status === undefined ? {} : { status }) });
  try {
    return await withSignal(signal, async () => {
      const res = await fetchImpl(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body,
        redirect: 'manual',
        signal,
      });
      status = res.status;
      if (res.status < 200 || res.status > 299) {
        await res.body?.cancel().catch(() => {});
        return fail('http', `answered HTTP ${res.status}`);
      }
      const answer = await readAnswer(res);
      return answer.ok
        ? done({ ok: true, status: res.status, text: answer.text })
        : fail('bad_answer', `answered HTTP ${res.status} ${answer.why}`);
    });
  } catch (error) {
    if (signal.aborted)
      return fail(
        'timeout',
        `did not ${status === undefined ? 'answer' : `finish its answer (HTTP ${status})`} within ${timeoutMs / 1000} s`,
      );
    if (status !== undefined) return fail('bad_answer', `broke off its answer (HTTP ${status})`);
    return fail('unreachable', `could not be reached${networkCode(error)}`);
  }
}

/** Runs `call`, but gives up when the signal aborts even if something inside does not listen to it. */
async function withSignal<T>(signal: AbortSignal, call: () => Promise<T>): Promise<T> {
  let onAbort = () => {};
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([call(), aborted]);
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}

type Answer = { ok: true; text: string } | { ok: false; why: string };

/** A 2xx answer: JSON `{"text": "..."}` or text/plain, made safe for mrkdwn and cut to Slack's limit. */
async function readAnswer(res: Response): Promise<Answer> {
  const { bytes, complete } = await readAtMost(res, ANSWER_BYTES_MAX);
  const raw = new TextDecoder().decode(bytes);
  if (raw.trim() === '') return { ok: true, text: `The endpoint answered HTTP ${res.status} with no text.` };
  const type = (res.headers.get('content-type') ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  if (type === 'text/plain') return { ok: true, text: slackText(raw) };
  if (type !== 'application/json' && !type.endsWith('+json'))
    return { ok: false, why: 'with neither JSON nor text/plain' };
  if (!complete) return { ok: false, why: `with more than ${ANSWER_BYTES_MAX / 1024} KB of JSON` };
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    return { ok: false, why: 'with JSON that does not parse' };
  }
  const text = (parsed as { text?: unknown } | null)?.text;
  if (typeof text !== 'string') return { ok: false, why: 'with JSON that has no "text" string' };
  return {
    ok: true,
    text: text.trim() === '' ? `The endpoint answered HTTP ${res.status} with no text.` : slackText(text),
  };
}

async function readAtMost(res: Response, max: number): Promise<{ bytes: Uint8Array; complete: boolean }> {
  if (!res.body) return { bytes: new Uint8Array(), complete: true };
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    size += value.byteLength;
    if (size > max) {
      await reader.cancel().catch(() => {});
      return { bytes: concat(chunks).subarray(0, max), complete: false };
    }
  }
  return { bytes: concat(chunks), complete: true };
}

function concat(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.byteLength, 0));
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.byteLength;
  }
  return out;
}

/**
 * Text an endpoint wrote, made safe to show in mrkdwn (Slack's three control characters escaped, so
 * the endpoint cannot mention @channel or forge links) and cut to `max` characters with an ellipsis,
 * never inside an entity or a surrogate pair.
 */
export function slackText(raw: string, max = ANSWER_TEXT_MAX): string {
  const escaped = raw.trim().replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  if (escaped.length <= max) return escaped;
  const cut = escaped
    .slice(0, max - 1)
    .replace(/[\uD800-\uDBFF]$/, '')
    .replace(/&[a-z]*$/, '');
  return `${cut}…`;
}

/** The system's error code (ECONNREFUSED, ENOTFOUND...) is safe to show; the rest of a fetch error may carry the URL. */
function networkCode(error: unknown): string {
  const code = (error as { cause?: { code?: unknown } } | undefined)?.cause?.code;
  return typeof code === 'string' && /^[A-Z_]+$/.test(code) ? ` (${code})` : '';
}
