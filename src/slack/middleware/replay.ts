import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { AnyMiddlewareArgs, Context, Middleware } from '@slack/bolt';
import type { Counters } from '../../core/ports.js';
import type { Services } from '../../services.js';
import { auditAfterAnswer } from '../audit-after-answer.js';
import { ephemeral } from '../reply.js';
import { messageModal } from '../views/modals.js';
import { unavailable } from '../views/text.js';

/**
 * A signed request is accepted while its timestamp is within five minutes of our clock, either way,
 * so the same bytes can arrive over ten minutes; Slack retries an event over about as long. A minute
 * more covers clock drift between instances.
 */
export const REPLAY_WINDOW_MS = 11 * 60_000;

/**
 * Commands that change nothing and answer only their sender: running one twice does no harm, so they
 * skip the claim and the gate stays one store read. Everything else is claimed.
 */
export const UNCLAIMED_COMMANDS: ReadonlySet<string> = new Set(['/whoami']);

/**
 * What the receiver adds to the context to name this one delivery: its id (Socket Mode), or what Slack
 * signed (HTTP), whose id is a hash made only if the request is claimed (/whoami never is).
 */
export interface DeliveryProperties {
  [key: string]: unknown;
  deliveryId?: string;
  signed?: SignedDelivery;
}

/** An HTTP delivery as Slack signed it: the timestamp (the number Bolt signs it as) and the raw body. */
export class SignedDelivery {
  private hash: string | undefined;

  constructor(
    private readonly timestamp: number,
    private readonly body: Buffer,
  ) {}

  /** `sig:` and a sha256 of the signed content, made on first use. */
  get id(): string {
    this.hash ??= createHash('sha256').update(`${this.timestamp}:`).update(this.body).digest('hex');
    return `sig:${this.hash}`;
  }
}

/**
 * HTTPReceiver's customPropertiesExtractor. Bolt calls it only after the signature was verified. The
 * delivery is named by what the signature covers, the timestamp (as the number Bolt signs it as) and
 * the raw body, never by the header: Bolt reads `v0=<hex>` and ignores anything after a second `=`, so
 * the same signed bytes can arrive under many spellings of the header (the receiver refuses those with
 * 401 too; see screenSlackHeaders). A hash keeps the key short; it is made only when a claim needs it.
 */
export function httpDelivery(req: IncomingMessage & { rawBody?: Buffer }): DeliveryProperties {
  const header = req.headers['x-slack-request-timestamp'];
  const timestamp = Number(Array.isArray(header) ? header[0] : header);
  if (!Number.isFinite(timestamp) || !req.rawBody) return {};
  return { signed: new SignedDelivery(timestamp, req.rawBody) };
}

/** The id of the delivery in `context`, from either receiver; undefined when it has none. */
export function deliveryIdOf(context: Context): string | undefined {
  if (typeof context.deliveryId === 'string') return context.deliveryId;
  return context.signed instanceof SignedDelivery ? context.signed.id : undefined;
}

/** SocketModeReceiver's customPropertiesExtractor: Slack redelivers an unacknowledged envelope with its id. */
export function socketDelivery(args: { envelope_id?: string }): DeliveryProperties {
  return args.envelope_id ? { deliveryId: `envelope:${args.envelope_id}` } : {};
}

interface Body {
  type?: string;
  command?: string;
  event_id?: string;
  user_id?: string;
  user?: { id?: string };
  event?: { user?: string; type?: string };
  view?: { title?: { text?: string } };
}

/** The key that makes this request "seen", or undefined when it need not be claimed. */
export function claimKey(body: Body, context: Context): string | undefined {
  // A retried event has a new signature (and a new envelope) but the same event_id.
  if (body.type === 'event_callback' && typeof body.event_id === 'string') return `seen:event:${body.event_id}`;
  if (typeof body.command === 'string' && UNCLAIMED_COMMANDS.has(body.command)) return undefined;
  const id = deliveryIdOf(context);
  return id === undefined ? undefined : `seen:${id}`;
}

/**
 * Global middleware: a request already seen (here or on another instance sharing the store) is
 * acknowledged and ignored, and audited. Slack's retries of an event run nothing twice. If the store
 * cannot record the claim, nothing runs (fail closed).
 */
export function onlyOnce(s: Pick<Services, 'audit' | 'logger'>, counters: Counters): Middleware<AnyMiddlewareArgs> {
  return async (args) => {
    const body = args.body as Body;
    const key = claimKey(body, args.context);
    if (key === undefined) {
      await args.next();
      return;
    }
    const kind = kindOf(body);
    let first: boolean;
    try {
      first = (await counters.increment(key, REPLAY_WINDOW_MS)).count === 1;
    } catch (error) {
      s.logger.error({ err: error, kind }, 'could not record a request as seen; ignoring it');
      await acknowledge(args, body, true);
      return;
    }
    if (first) {
      await args.next();
      return;
    }
    await acknowledge(args, body, false);
    const detail: Record<string, string | number> = { kind };
    if (body.command) detail.command = body.command;
    if (args.context.retryNum !== undefined) detail.retryNum = args.context.retryNum;
    await auditAfterAnswer(s, { event: 'replay_dropped', userId: userOf(body), outcome: 'refused', detail });
  };
}

/** Answers Slack without running anything: empty, or the plain "try again" when the store failed. */
async function acknowledge(args: AnyMiddlewareArgs, body: Body, storeFailed: boolean): Promise<void> {
  if (!('ack' in args) || typeof args.ack !== 'function') return; // events: Bolt has acknowledged already
  const ack = args.ack as (response?: unknown) => Promise<void>;
  if (!storeFailed || body.type === 'block_actions') {
    await ack();
  } else if (body.type === 'view_submission') {
    await ack({ response_action: 'update', view: messageModal(body.view?.title?.text ?? 'PhoneGate', unavailable) });
  } else if (body.command) {
    await ack(ephemeral(unavailable));
  } else {
    await ack();
  }
}

function kindOf(body: Body): string {
  if (body.command) return 'command';
  if (body.type === 'event_callback') return `event:${body.event?.type ?? 'unknown'}`;
  return body.type ?? 'unknown';
}

function userOf(body: Body): string {
  return body.user_id ?? body.user?.id ?? body.event?.user ?? 'unknown';
}
