import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { webApi } from '@slack/bolt';
import { compose } from '../../src/compose.js';
import { parseConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import type { Services } from '../../src/services.js';
import { ACTION, BLOCK } from '../../src/slack/ids.js';
import { openStore, type Store } from '../../src/store/index.js';
import { TestClock } from './clock.js';
import { testEnv } from './harness.js';
import { atErrorLevel, LogCapture } from './logs.js';
import { MemoryProvider } from './memory-provider.js';

/**
 * Listeners called directly, as slack-samples/bolt-ts-starter-template tests them: a payload object
 * and fake `ack`/`client`/`respond`/`next` that record what they were given. The core behind them is
 * the real one (compose) on a temporary SQLite file; only Slack and the code provider are fakes.
 */

export interface Core {
  s: Services;
  store: Store;
  clock: TestClock;
  provider: MemoryProvider;
  logs: LogCapture;
  close(): Promise<void>;
}

/** The real services on a temp SQLite, with the test config (Alice is the admin; Alice, Bob, Carol have phones). */
export async function realCore(
  options: { slackDeadlineMs?: number; env?: Record<string, string> } = {},
): Promise<Core> {
  const dir = mkdtempSync(join(tmpdir(), 'phonegate-listener-'));
  const clock = new TestClock();
  const store = await openStore(`sqlite://${join(dir, 'state.sqlite')}`, clock);
  const provider = new MemoryProvider(clock);
  const logs = new LogCapture();
  const logger = createLogger({ level: 'debug', destination: logs });
  const { services } = compose(parseConfig({ env: testEnv('basic', options.env) }), {
    store,
    provider,
    clock,
    logger,
    slackDeadlineMs: options.slackDeadlineMs,
  });
  return {
    s: services,
    store,
    clock,
    provider,
    logs,
    async close() {
      await store.close().catch(() => {}); // a test may have closed it to make the store fail
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface SlackCall {
  method: string;
  args: any;
}

/**
 * One fake Slack for one listener call: every ack, respond, next and Web API call is recorded.
 * `failWith(method)` makes that Web API method answer with a Slack error code, as the real client throws.
 */
export class FakeBolt {
  readonly acks: unknown[] = [];
  readonly responds: unknown[] = [];
  readonly calls: SlackCall[] = [];
  nextCalls = 0;
  private views = 0;

  constructor(private readonly failWith: (method: string, args: any) => string | undefined = () => undefined) {}

  readonly ack = async (response?: unknown): Promise<void> => {
    this.acks.push(response);
  };
  readonly respond = async (response: unknown): Promise<void> => {
    this.responds.push(response);
  };
  readonly next = async (): Promise<void> => {
    this.nextCalls++;
  };

  readonly client: any = {
    views: {
      open: this.call('views.open'),
      update: this.call('views.update'),
      push: this.call('views.push'),
      publish: this.call('views.publish'),
    },
    chat: { postMessage: this.call('chat.postMessage') },
  };

  /** The args of each call to `method`, in order. */
  of(method: string): any[] {
    return this.calls.filter((c) => c.method === method).map((c) => c.args);
  }

  /** A slash command as Bolt hands it to a listener. */
  command(name: string, userId: string, text = '', responseUrl = 'https://hooks.slack.invalid/commands/1/2/3'): any {
    const command = {
      command: name,
      text,
      user_id: userId,
      trigger_id: `trigger-${userId}`,
      response_url: responseUrl,
      channel_id: 'C0000001',
      team_id: 'T0000001',
    };
    return {
      ack: this.ack,
      respond: this.respond,
      next: this.next,
      client: this.client,
      command,
      body: command,
      payload: command,
      context: {},
    };
  }

  /** A submission of `view` (a view the bot built, shown as `viewId`) with the given state values. */
  submit(userId: string, view: any, values: Record<string, Record<string, unknown>> = {}, viewId = 'V0WINDOW1'): any {
    const shown = { ...view, id: viewId, hash: '1700000000.hash', state: { values } };
    return {
      ack: this.ack,
      next: this.next,
      client: this.client,
      view: shown,
      body: { type: 'view_submission', user: { id: userId }, view: shown },
      context: {},
    };
  }

  /** A click on `actionId`, on a modal (`view`) or on the Home tab (no view). */
  click(userId: string, actionId: string, view?: any): any {
    const body = {
      type: 'block_actions',
      user: { id: userId },
      trigger_id: `trigger-${userId}`,
      actions: [{ action_id: actionId }],
      ...(view ? { view } : {}),
    };
    return { ack: this.ack, next: this.next, client: this.client, body, action: body.actions[0], context: {} };
  }

  /** app_home_opened on `tab`. */
  homeOpened(userId: string, tab: 'home' | 'messages' = 'home'): any {
    const event = { type: 'app_home_opened', user: userId, channel: 'D0000001', tab };
    return { event, client: this.client, next: this.next, body: { type: 'event_callback', event }, context: {} };
  }

  private call(method: string) {
    return async (args: any) => {
      this.calls.push({ method, args });
      const error = this.failWith(method, args);
      if (error) throw new webApi.WebAPIPlatformError({ ok: false, error });
      return method === 'views.open' || method === 'views.push'
        ? { ok: true, view: { id: `V0OPENED${++this.views}`, hash: 'h1' } }
        : { ok: true };
    };
  }
}

/** State values of a code entry with `code` typed. */
export const typed = (code: string) => ({ [BLOCK.code]: { [ACTION.code]: { type: 'plain_text_input', value: code } } });

/** State values of a delivery choice with `delivery` picked (or nothing picked). */
export const picked = (delivery?: string) => ({
  [BLOCK.delivery]: {
    [ACTION.delivery]: { type: 'radio_buttons', selected_option: delivery ? { value: delivery } : null },
  },
});

/** Every text in a view or reply, joined: for "says X" and "never shows Y" checks. */
export const textOf = (value: unknown): string => JSON.stringify(value ?? null);

/** Log lines at error or fatal (the logger writes level labels, not numbers). */
export const errorsLogged = (logs: LogCapture): Array<Record<string, any>> => logs.lines().filter(atErrorLevel);
