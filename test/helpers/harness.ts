import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import nock from 'nock';
import { afterAll, afterEach } from 'vitest';
import { type Bot, type BotDeps, compose, loadActionKeys } from '../../src/compose.js';
import { type Config, parseConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import type { RequestLoad } from '../../src/slack/request-load.js';
import { openStore, type Store } from '../../src/store/index.js';
import { TestClock } from './clock.js';
import { type BandwidthAuth, FakeBandwidth } from './fake-bandwidth.js';
import { FakeSlack } from './fake-slack.js';
import { LogCapture } from './logs.js';
import { SlackRequests } from './slack-client.js';

/** Secrets that must never appear in a log line or a Slack message. */
export const SECRETS = {
  botToken: 'xoxb-1111-2222-botTokenSecretValue',
  signingSecret: 'signing0secret0value0123456789ab',
  apiUser: 'bw-api-user-name',
  apiPassword: 'bw-api-P4ssw0rd-value',
  clientId: 'bw-oauth-client-id',
  clientSecret: 'bw-oauth-client-Secret-value',
};

export const USERS = { alice: 'U0ALICE01', bob: 'U0BOB0001', carol: 'U0CAROL01', stranger: 'U0STRANGE' } as const;
export const PHONES = { alice: '+14155550101', bob: '+14155550102', carol: '+14155550103' } as const;
export const FROM_NUMBER = '+14155550100';
export const ACCOUNT_ID = '9900000';

export function testEnv(auth: 'basic' | 'oauth' = 'basic', extra: Record<string, string> = {}): Record<string, string> {
  return {
    BANDWIDTH_ACCOUNT_ID: ACCOUNT_ID,
    ...(auth === 'basic'
      ? { BANDWIDTH_API_USER: SECRETS.apiUser, BANDWIDTH_API_PASSWORD: SECRETS.apiPassword }
      : { BANDWIDTH_CLIENT_ID: SECRETS.clientId, BANDWIDTH_CLIENT_SECRET: SECRETS.clientSecret }),
    BANDWIDTH_VOICE_APPLICATION_ID: 'voice-app-0001',
    BANDWIDTH_MESSAGING_APPLICATION_ID: 'messaging-app-0001',
    NUMBERS_FROM_NUMBER: FROM_NUMBER,
    SLACK_BOT_TOKEN: SECRETS.botToken,
    SLACK_SIGNING_SECRET: SECRETS.signingSecret,
    PHONES_U0ALICE01: PHONES.alice,
    PHONES_U0BOB0001: PHONES.bob,
    PHONES_U0CAROL01: PHONES.carol,
    POLICY_ADMINS: USERS.alice,
    ...extra,
  };
}

export interface HarnessOptions {
  auth?: 'basic' | 'oauth';
  env?: Record<string, string>;
  slackDeadlineMs?: number;
  /** Reuse a database (to test a restart). */
  dbFile?: string;
  clock?: TestClock;
  /** config.ini text, for what env cannot carry ([command /name] sections). */
  fileText?: string;
  /** The shutdown's drain when no command is declared (compose's DRAIN_MS unless given). */
  drainMs?: number;
  /** Slash commands added in code, passed to compose() as main.ts would. */
  commands?: BotDeps['commands'];
  /** Told of each request; the store joins reads while requests arrive together, as main.ts wires it. */
  load?: RequestLoad;
}

export interface Harness {
  clock: TestClock;
  config: Config;
  store: Store;
  bot: Bot;
  slack: FakeSlack;
  bandwidth: FakeBandwidth;
  logs: LogCapture;
  requests: SlackRequests;
  dbFile: string;
  stop(): Promise<void>;
}

const dirs: string[] = [];

/** The whole bot on a real HTTPReceiver (port 0) and real SQLite, with Slack and Bandwidth stubbed at their URLs. */
export async function startBot(options: HarnessOptions = {}): Promise<Harness> {
  nock.disableNetConnect();
  nock.enableNetConnect('127.0.0.1');
  const clock = options.clock ?? new TestClock();
  const auth = options.auth ?? 'basic';
  const config = parseConfig({ fileText: options.fileText, env: testEnv(auth, options.env) });
  let dbFile = options.dbFile;
  if (!dbFile) {
    const dir = mkdtempSync(join(tmpdir(), 'phonegate-test-'));
    dirs.push(dir);
    dbFile = join(dir, 'state.sqlite');
  }
  const store = await openStore(`sqlite://${dbFile}`, clock, { busy: options.load?.busy });
  const logs = new LogCapture();
  const logger = createLogger({ level: 'debug', destination: logs });
  const bandwidthAuth: BandwidthAuth =
    auth === 'basic'
      ? { kind: 'basic', username: SECRETS.apiUser, password: SECRETS.apiPassword }
      : { kind: 'oauth', clientId: SECRETS.clientId, clientSecret: SECRETS.clientSecret };
  const bandwidth = new FakeBandwidth(clock, { accountId: ACCOUNT_ID, auth: bandwidthAuth }).install();
  const slack = new FakeSlack().install();
  // The real Bandwidth adapter (compose builds it), against the fake at Bandwidth's URLs.
  let bot: Bot;
  try {
    bot = compose(config, {
      store,
      clock,
      logger,
      slackDeadlineMs: options.slackDeadlineMs,
      signingKeys: await loadActionKeys(config),
      commands: options.commands,
      drainMs: options.drainMs,
      load: options.load,
    });
  } catch (error) {
    await store.close();
    nock.cleanAll();
    throw error;
  }
  const port = await bot.start(0);
  const requests = new SlackRequests(`http://127.0.0.1:${port}`, SECRETS.signingSecret);
  let stopped: Promise<void> | undefined;
  return {
    clock,
    config,
    store,
    bot,
    slack,
    bandwidth,
    logs,
    requests,
    dbFile,
    stop() {
      // Once: a test may stop a bot itself (to restart on its database) before the hooks stop the rest.
      stopped ??= (async () => {
        await bot.stop();
        await store.close();
        nock.cleanAll();
      })();
      return stopped;
    },
  };
}

export function removeTempDirs(): void {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/**
 * For a test file whose tests start bots of their own: returns `bot(options)`, which starts one, and
 * registers the hooks that stop every bot a test started once it ends (newest first), and that clean up
 * after the file.
 */
export function botsPerTest(): (options?: HarnessOptions) => Promise<Harness> {
  let running: Harness[] = [];
  afterEach(async () => {
    for (const h of running.reverse()) await h.stop();
    running = [];
  });
  afterAll(() => {
    removeTempDirs();
    nock.restore();
  });
  return async (options) => {
    const h = await startBot(options);
    running.push(h);
    return h;
  };
}

/** Drives /login up to the code-entry window; returns that window. */
export async function openCodeEntry(
  h: Harness,
  userId: string,
  delivery: 'sms' | 'voice' = 'sms',
): Promise<{ id: string; view: any }> {
  const before = h.bandwidth.sent.length;
  // Only views shown after this /login count: an earlier user's window must never be taken for this one.
  const viewsBefore = h.slack.views().length;
  const newViews = () => h.slack.views().slice(viewsBefore);
  const ack = await h.requests.command('/login', userId);
  if (ack.status !== 200) throw new Error(`/login answered ${ack.status}`);
  await h.slack.waitFor(() => newViews().length > 0, 'views.open');
  let shown = h.slack.lastView();
  if (shown.view.callback_id === 'delivery_choice') {
    const chosen = await h.requests.chooseDelivery(userId, shown, delivery);
    if (chosen.json?.response_action !== 'update') throw new Error(`delivery choice answered ${chosen.text}`);
  }
  await h.slack.waitFor(
    () => newViews().some((v) => v.view.callback_id === 'code_entry') || h.bandwidth.sent.length > before + 5,
    'the code-entry window',
  );
  shown = h.slack.lastView();
  return shown;
}

/** A whole /login: returns the code that worked. */
export async function logIn(h: Harness, userId: string, delivery: 'sms' | 'voice' = 'sms'): Promise<string> {
  const shown = await openCodeEntry(h, userId, delivery);
  const code = h.bandwidth.lastCode();
  const result = await h.requests.submitCode(userId, shown, code);
  if (result.json?.response_action !== 'update' || !JSON.stringify(result.json).includes('logged in')) {
    throw new Error(`login failed: ${result.text}`);
  }
  return code;
}
