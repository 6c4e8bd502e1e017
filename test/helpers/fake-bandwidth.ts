import { randomInt } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import nock from 'nock';
import type { Clock } from '../../src/core/ports.js';
import { wrongCode } from './codes.js';
import { serveOverHttp } from './serve.js';

/**
 * A stateful stand-in for Bandwidth's MFA API, mounted with nock at the real URLs
 * (https://mfa.bandwidth.com/api/v1/accounts/{accountId}/code/{messaging|voice|verify}) and the
 * OAuth2 token endpoint. It checks request bodies against research/bandwidth-mfa-openapi.yml and
 * answers with the documented shapes. Codes follow the documented semantics: partitioned by
 * (to, scope); verify accepts any code generated within the last `expirationTimeInMinutes`.
 * Nothing here enforces single use: the real API does not document it, so the bot must.
 */

export interface SentCode {
  channel: 'messaging' | 'voice';
  to: string;
  from: string;
  applicationId: string;
  scope: string;
  digits: number;
  message: string;
  code: string;
  at: number;
}

export interface VerifyCall {
  to: string;
  scope: string;
  code: string;
  expirationTimeInMinutes: number;
  valid?: boolean;
}

type Operation = 'messaging' | 'voice' | 'verify' | 'token';
interface Fault {
  operation: Operation | 'any';
  status?: number;
  body?: unknown;
  delayMs?: number;
  /** Fail the network, not the HTTP exchange. */
  networkError?: string;
}

export type BandwidthAuth =
  | { kind: 'basic'; username: string; password: string }
  | { kind: 'oauth'; clientId: string; clientSecret: string };

/** The request bodies the API accepts: one check, shared with the demo's stand-in. */
interface BandwidthRequests {
  sendProblem(body: unknown): string | undefined;
  verifyProblem(body: unknown): string | undefined;
}
const { sendProblem, verifyProblem } = (await import(
  new URL('../../demo/bandwidth-requests.mjs', import.meta.url).href
)) as BandwidthRequests;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const headerOf = (value: string | string[] | undefined) => (Array.isArray(value) ? value[0] : value) ?? '';
const requestId = () => `req-${randomInt(1e9)}`;

export class FakeBandwidth {
  readonly sent: SentCode[] = [];
  readonly verifies: VerifyCall[] = [];
  readonly authorizations: string[] = [];
  readonly badRequests: string[] = [];
  tokenRequests = 0;
  private readonly faults: Fault[] = [];
  private issuedToken = '';

  constructor(
    private readonly clock: Clock,
    private readonly options: {
      accountId: string;
      auth: BandwidthAuth;
      mfaOrigin?: string;
      tokenUrl?: string;
      tokenLifetimeSeconds?: number;
    },
  ) {}

  /** Mounts the fake with nock at the real URLs (or `mfaOrigin` / `tokenUrl`). */
  install(): this {
    const fake = this;
    const origin = this.options.mfaOrigin ?? 'https://mfa.bandwidth.com';
    nock(origin)
      .persist()
      .post(/^\/api\/v1\/accounts\/[^/]+\/code\/\w+$/)
      .reply(function (this: nock.ReplyFnContext, uri, body) {
        return fake.handle(
          uri,
          String(typeof body === 'string' ? body : JSON.stringify(body)),
          headerOf(this.req.headers.authorization),
        );
      });
    const tokenUrl = new URL(this.tokenUrl);
    nock(tokenUrl.origin)
      .persist()
      .post(tokenUrl.pathname)
      .reply(function (this: nock.ReplyFnContext, uri, body) {
        return fake.handle(uri, String(body), headerOf(this.req.headers.authorization));
      });
    return this;
  }

  /** Serves the fake over real HTTP on 127.0.0.1 (for a bot running in another process). */
  async listen(): Promise<{ origin: string; close: () => Promise<void> }> {
    return serveOverHttp((path, body, authorization) => this.handle(path, body, authorization));
  }

  private get tokenUrl(): string {
    return this.options.tokenUrl ?? 'https://api.bandwidth.com/api/v1/oauth2/token';
  }

  /** One request, whatever carried it: the path, the raw body and the Authorization header. */
  async handle(path: string, body: string, authorization: string): Promise<[number, unknown]> {
    if (path === new URL(this.tokenUrl).pathname) return this.token(authorization, body);
    const match = /^\/api\/v1\/accounts\/([^/]+)\/code\/(messaging|voice|verify)$/.exec(path);
    if (!match) return [404, { message: 'Not Found' }];
    if (match[1] !== this.options.accountId)
      return [403, { message: 'User is not authorized to access this resource' }];
    return this.answer(match[2] as 'messaging' | 'voice' | 'verify', body, authorization);
  }

  /** The next matching call fails (or is delayed) this way. */
  failNext(operation: Fault['operation'], fault: Omit<Fault, 'operation'>): void {
    this.faults.push({ operation, ...fault });
  }

  /** The code most recently sent, as the user would read it on their phone. */
  lastCode(): string {
    const last = this.sent.at(-1);
    if (!last) throw new Error('no code was sent');
    return last.code;
  }

  /** A code of the right length that none of the sent codes equals. */
  wrongCode(): string {
    return wrongCode(this.sent, this.sent.at(-1)?.digits ?? 6);
  }

  private takeFault(operation: Operation): Fault | undefined {
    const index = this.faults.findIndex((f) => f.operation === operation || f.operation === 'any');
    return index === -1 ? undefined : this.faults.splice(index, 1)[0];
  }

  private async token(authorization: string, body: string): Promise<[number, unknown]> {
    this.tokenRequests += 1;
    const auth = this.options.auth;
    const expected =
      auth.kind === 'oauth' ? `Basic ${Buffer.from(`${auth.clientId}:${auth.clientSecret}`).toString('base64')}` : '';
    const fault = this.takeFault('token');
    const respond = async (status: number, payload: unknown): Promise<[number, unknown]> => {
      if (fault?.delayMs) await sleep(fault.delayMs);
      return [status, payload];
    };
    if (fault?.status) return respond(fault.status, fault.body ?? { error: 'server_error' });
    if (authorization !== expected || body !== 'grant_type=client_credentials')
      return respond(401, { error: 'invalid_client' });
    this.issuedToken = `tok-${randomInt(1e9)}`;
    return respond(200, {
      access_token: this.issuedToken,
      token_type: 'Bearer',
      expires_in: this.options.tokenLifetimeSeconds ?? 3600,
    });
  }

  private authorized(authorization: string): boolean {
    this.authorizations.push(authorization);
    const auth = this.options.auth;
    if (auth.kind === 'basic')
      return authorization === `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}`;
    return this.issuedToken !== '' && authorization === `Bearer ${this.issuedToken}`;
  }

  private async answer(
    operation: 'messaging' | 'voice' | 'verify',
    rawBody: string,
    authorization: string,
  ): Promise<[number, unknown]> {
    const fault = this.takeFault(operation);
    const respond = async (status: number, payload: unknown): Promise<[number, unknown]> => {
      if (fault?.delayMs) await sleep(fault.delayMs);
      return [status, payload];
    };
    if (fault?.networkError) {
      if (fault.delayMs) await sleep(fault.delayMs);
      throw Object.assign(new Error(fault.networkError), { code: fault.networkError });
    }
    if (fault?.status) return respond(fault.status, fault.body ?? { error: 'Internal Error', requestId: requestId() });
    if (!this.authorized(authorization)) return respond(401, { message: 'Unauthorized' });

    const body = JSON.parse(rawBody) as Record<string, unknown>;
    const problem = operation === 'verify' ? verifyProblem(body) : sendProblem(body);
    if (problem) {
      this.badRequests.push(problem);
      return respond(400, { error: problem, requestId: requestId() });
    }
    if (operation === 'verify') {
      const call = body as unknown as VerifyCall;
      const since = this.clock.now() - call.expirationTimeInMinutes * 60_000;
      const valid = this.sent.some(
        (s) => s.to === call.to && s.scope === call.scope && s.code === call.code && s.at >= since,
      );
      this.verifies.push({ ...call, valid });
      return respond(200, { valid });
    }
    const request = body as Omit<SentCode, 'channel' | 'code' | 'at'>;
    const code = String(randomInt(10 ** request.digits)).padStart(request.digits, '0');
    this.sent.push({ ...request, channel: operation, code, at: this.clock.now() });
    return respond(
      200,
      operation === 'messaging'
        ? { messageId: `1589228074636lm4k2je7j7jklbn2` }
        : { callId: 'c-15ac29a2-1331029c-2cb0-4a07-b215-b22865662d85' },
    );
  }
}

/**
 * A response body that arrives one byte every `intervalMs`: never silent long enough for an idle
 * timeout, yet `text` takes `text.length * intervalMs` to arrive. `pushed` counts the bytes sent so far;
 * `stop()` ends the drip (call it after the test, so no timer outlives it).
 */
export function drip(
  text: string,
  intervalMs = 250,
): { body: Readable; pushed: () => number; finished: () => boolean; stop: () => void } {
  const bytes = Buffer.from(text);
  let sent = 0;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const stop = () => {
    stopped = true;
    clearInterval(timer);
  };
  const body = new Readable({
    read() {
      if (timer || stopped) return;
      timer = setInterval(() => {
        if (sent < bytes.length) body.push(bytes.subarray(sent, ++sent));
        if (sent === bytes.length) {
          stop();
          body.push(null);
        }
      }, intervalMs);
    },
  });
  body.on('close', stop);
  return { body, pushed: () => sent, finished: () => sent === bytes.length, stop };
}

export interface SlowRoute {
  body: string;
  /** Send the body one byte per this many ms (see drip). */
  dripMs?: number;
  /** Wait this long before the status line. */
  delayMs?: number;
  /** Break the connection once the body is sent (so it never ends properly). */
  cut?: boolean;
}

/**
 * A real HTTP server on 127.0.0.1 whose answers are slow. Needed for drips: nock runs axios's idle
 * `timeout` as a plain timer, so under nock a dripping body looks cut off in time when a real socket is not.
 * Paths not in `routes` get 404.
 */
export async function serveSlowly(routes: Record<string, SlowRoute>) {
  const requests: string[] = [];
  const drips: Array<ReturnType<typeof drip>> = [];
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    requests.push(path);
    req.resume();
    const route = routes[path];
    if (!route) return void res.writeHead(404, { 'content-type': 'application/json' }).end('{"message":"Not Found"}');
    setTimeout(() => {
      res.writeHead(200, { 'content-type': 'application/json' });
      if (route.cut) return void res.write(route.body, () => res.destroy());
      if (route.dripMs === undefined) return void res.end(route.body);
      const d = drip(route.body, route.dripMs);
      drips.push(d);
      d.body.pipe(res);
    }, route.delayMs ?? 0);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    requests,
    drips,
    close: () =>
      new Promise<void>((resolve, reject) => {
        for (const d of drips) d.stop();
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
