import nock from 'nock';
import { serveOverHttp } from './serve.js';

/**
 * Slack's Web API at its real URL (https://slack.com/api/<method>), stubbed with nock, plus
 * response_url posts to https://hooks.slack.com. Records every call with its parsed arguments and
 * answers in the documented shapes. Import this (or nock) before building the app: Bolt 5's
 * WebClient keeps the `fetch` it saw at construction.
 */

export interface SlackCall {
  method: string;
  args: Record<string, any>;
  authorization: string;
}

export const RESPONSE_URL_ORIGIN = 'https://hooks.slack.com';

export class FakeSlack {
  readonly calls: SlackCall[] = [];
  readonly responses: Array<{ path: string; body: Record<string, any> }> = [];
  private readonly failures = new Map<string, string>();
  /** When set, response_url posts are refused as Slack refuses an expired or overused one. */
  refuseResponseUrls = false;
  private viewCount = 0;
  private messageCount = 0;

  constructor(private readonly origin = 'https://slack.com') {}

  /** Mounts the fake with nock at https://slack.com/api/ (or `origin`) and https://hooks.slack.com. */
  install(): this {
    const fake = this;
    nock(this.origin)
      .persist()
      .post(/^\/api\/[\w.]+$/)
      .reply(function (this: nock.ReplyFnContext, uri, body) {
        const header = this.req.headers.authorization;
        return fake.handle(
          uri,
          typeof body === 'string' ? body : JSON.stringify(body),
          String(Array.isArray(header) ? header[0] : (header ?? '')),
        );
      });
    nock(RESPONSE_URL_ORIGIN)
      .persist()
      .post(/.*/)
      .reply((uri, body) => fake.handle(uri, typeof body === 'string' ? body : JSON.stringify(body), ''));
    return this;
  }

  /**
   * Serves the fake over real HTTP on 127.0.0.1 (for a bot in another process): the Web API under
   * /api/, and response_url posts under /commands/ (use `${origin}/commands/...` as response_url).
   */
  async listen(): Promise<{ origin: string; close: () => Promise<void> }> {
    return serveOverHttp((path, body, authorization) => this.handle(path, body, authorization));
  }

  /** One request, whatever carried it: a Web API call (/api/<method>) or a response_url post. */
  async handle(path: string, body: string, authorization: string): Promise<[number, unknown]> {
    if (!path.startsWith('/api/')) {
      if (this.refuseResponseUrls) return [404, 'expired_url'];
      this.responses.push({ path, body: JSON.parse(body) });
      return [200, 'ok'];
    }
    const call = { method: path.slice('/api/'.length), args: parseArgs(body), authorization };
    this.calls.push(call);
    return [200, this.answer(call)];
  }

  /** The next call of `method` answers `{ok:false, error}`. */
  failNext(method: string, error: string): void {
    this.failures.set(method, error);
  }

  callsOf(method: string): SlackCall[] {
    return this.calls.filter((c) => c.method === method);
  }

  /** Views shown so far by views.open / views.update, oldest first, with the id Slack gave them. */
  views(): Array<{ id: string; view: any }> {
    return this.calls
      .filter((c) => c.method === 'views.open' || c.method === 'views.update')
      .map((c) => ({ id: c.method === 'views.open' ? c.args.__id : c.args.view_id, view: c.args.view }));
  }

  /**
   * The messages posted to `channel` (chat.postMessage), each as it reads now (with its chat.update
   * calls applied), oldest first.
   */
  messagesIn(channel: string): Array<{ channel: string; ts: string; text: string; blocks: any[] }> {
    const posted = this.callsOf('chat.postMessage').filter((c) => c.args.channel === channel);
    return posted.map((c) => {
      const updates = this.callsOf('chat.update').filter(
        (u) => u.args.channel === channel && u.args.ts === c.args.__ts,
      );
      const now = updates.at(-1)?.args ?? c.args;
      return { channel, ts: c.args.__ts as string, text: now.text as string, blocks: (now.blocks ?? []) as any[] };
    });
  }

  lastView(): { id: string; view: any } {
    const last = this.views().at(-1);
    if (!last) throw new Error('no view was opened');
    return last;
  }

  /** Waits until `predicate` holds for the recorded calls (work that runs after the ack). */
  async waitFor(predicate: (calls: SlackCall[]) => boolean, what = 'a Slack call', timeoutMs = 5000): Promise<void> {
    const until = Date.now() + timeoutMs;
    while (!predicate(this.calls)) {
      if (Date.now() > until)
        throw new Error(`timed out waiting for ${what}; calls: ${this.calls.map((c) => c.method).join(', ')}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  private answer(call: SlackCall): Record<string, unknown> {
    const failure = this.failures.get(call.method);
    if (failure) {
      this.failures.delete(call.method);
      return { ok: false, error: failure };
    }
    switch (call.method) {
      case 'auth.test':
        return {
          ok: true,
          url: 'https://acme.slack.com/',
          team: 'Acme',
          user: 'phonegate',
          team_id: 'T0001',
          user_id: 'UBOT0001',
          bot_id: 'BBOT0001',
        };
      case 'views.open':
        call.args.__id = `V${String(++this.viewCount).padStart(8, '0')}`;
        return { ok: true, view: { ...call.args.view, id: call.args.__id } };
      case 'views.update':
      case 'views.publish':
        return { ok: true, view: { ...call.args.view, id: call.args.view_id ?? 'VHOME' } };
      case 'chat.postMessage':
        call.args.__ts = `1700000000.${String(++this.messageCount).padStart(6, '0')}`;
        return { ok: true, channel: call.args.channel, ts: call.args.__ts };
      default:
        return { ok: true };
    }
  }
}

function parseArgs(text: string): Record<string, any> {
  if (text.startsWith('{')) return JSON.parse(text);
  const args: Record<string, any> = {};
  for (const [key, value] of new URLSearchParams(text)) {
    args[key] = /^[[{]/.test(value) ? JSON.parse(value) : value;
  }
  return args;
}
