// The whole demo on this machine: the stand-ins of Slack's Web API and Bandwidth's MFA API, the /deploy
// endpoint, the real bot (a child process, configured by the demo), and the page that plays the Slack
// client. Every server listens on 127.0.0.1 only; everything lives in one temporary folder that stop()
// removes.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startBandwidth } from './bandwidth.mjs';
import { ACCOUNT_ID, botEnv, makeSecrets, writeBotConfig } from './bot-config.mjs';
import { startBot } from './bot-process.mjs';
import { startDeployEndpoint } from './deploy-endpoint.mjs';
import { startPageServer } from './page-server.mjs';
import { BOT, FROM_NUMBER, PEOPLE, TEAM } from './people.mjs';
import { startSlackStandIn } from './slack/stand-in.mjs';

/** The page's port when it is free (a stable address to keep open in a browser); else any free port. */
export const DEFAULT_PORT = 3100;
/** Longest text a person may type (Slack's message box takes about this much). */
const MAX_TYPED = 4000;
const LEVELS = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' };

export class Demo {
  /** The temporary folder (config, SQLite store, signing key). */
  folder = '';
  url = '';
  bot;
  #closers = [];
  #stopping;

  /**
   * @param {{ port?: number, env?: Record<string, string | undefined>, onBotExit?: (how: object) => void }} options
   * `onBotExit` is told when the bot ends on its own (not by stop()).
   */
  constructor({ port = DEFAULT_PORT, env = process.env, onBotExit } = {}) {
    this.options = { port, env, onBotExit };
  }

  async start() {
    this.folder = mkdtempSync(join(tmpdir(), 'phonegate-demo-'));
    this.#closers.push(() => rmSync(this.folder, { recursive: true, force: true }));
    const secrets = makeSecrets();
    let page;
    let botOrigin = '';
    const changed = () => page?.changed();
    const slack = this.#keep(
      await startSlackStandIn({
        botToken: secrets.botToken,
        signingSecret: secrets.signingSecret,
        botUrl: () => botOrigin,
        onChange: changed,
      }),
    );
    const bandwidth = this.#keep(
      await startBandwidth({
        accountId: ACCOUNT_ID,
        clientId: secrets.clientId,
        clientSecret: secrets.clientSecret,
        onChange: changed,
      }),
    );
    const endpoint = this.#keep(await startDeployEndpoint({ onChange: changed }));
    const configFile = writeBotConfig(this.folder, {
      slackApiUrl: slack.apiUrl,
      mfaBaseUrl: bandwidth.mfaBaseUrl,
      tokenUrl: bandwidth.tokenUrl,
      deployUrl: endpoint.url,
    });
    this.#checkNotStopped();
    const bot = startBot({
      env: botEnv(this.options.env, secrets, configFile),
      folder: this.folder,
      onLine: changed,
      onExit: (how) => {
        if (!this.#stopping) this.options.onBotExit?.({ ...how, lines: bot.lines });
      },
    });
    this.bot = bot;
    this.#closers.push(() => bot.stop());
    botOrigin = `http://127.0.0.1:${await bot.started}`;
    this.#checkNotStopped();
    endpoint.trust(`${botOrigin}/.well-known/jwks.json`);

    page = this.#keep(
      await startPageServer({
        port: this.options.port,
        fallback: this.options.port !== 0,
        people: PEOPLE.map((p) => p.id),
        state: (as) => pageState(as, { slack, bandwidth, endpoint, bot }),
        act: (action) => dispatch(slack.people, action),
      }),
    );
    this.url = page.url;
    this.#checkNotStopped();
    return this;
  }

  /** Stops the bot (gracefully, as on SIGTERM), closes every server, removes the folder. Safe to call twice. */
  stop() {
    this.#stopping ??= (async () => {
      for (const close of this.#closers.splice(0).reverse()) await Promise.resolve(close()).catch(() => {});
    })();
    return this.#stopping;
  }

  #keep(server) {
    if (this.#stopping) {
      void server.close(); // started while stop() ran: it missed the closing
      throw new Error('stopped while starting');
    }
    this.#closers.push(() => server.close());
    return server;
  }

  #checkNotStopped() {
    if (this.#stopping) throw new Error('stopped while starting');
  }
}

/** What the page shows `as`: the Slack stand-in as they see it, the phones, the endpoint, the bot's log. */
export function pageState(as, { slack, bandwidth, endpoint, bot }) {
  return {
    team: TEAM,
    bot: { id: BOT.userId, name: BOT.name },
    me: as,
    people: PEOPLE,
    fromNumber: FROM_NUMBER,
    ...slack.workspace.snapshot(as),
    phones: Object.fromEntries(PEOPLE.map((p) => [p.id, bandwidth.arrivedAt(p.phone)])),
    endpoint: { command: '/deploy', url: endpoint.url, received: endpoint.received },
    log: bot.lines.slice(-150).map(logLine),
  };
}

/** One thing a person did on the page. Anything malformed is refused with an error the page shows. */
export function dispatch(actions, action) {
  const { as, kind } = action;
  const text = (value) => {
    if (typeof value !== 'string') throw new Error('expected text');
    if (value.length > MAX_TYPED) throw new Error(`at most ${MAX_TYPED} characters`);
    return value;
  };
  const values = typeof action.values === 'object' && action.values !== null ? action.values : {};
  switch (kind) {
    case 'type':
      return actions.type(as, text(action.channel), text(action.text));
    case 'submit':
      return actions.submit(as, text(action.view), values);
    case 'close':
      return actions.close(as, text(action.view));
    case 'click': {
      const where = action.where?.view
        ? { viewId: text(action.where.view) }
        : { channelId: text(action.where?.channel), ts: text(action.where?.ts) };
      return actions.click(as, where, { blockId: text(action.block), actionId: text(action.action) }, values);
    }
    case 'open_app':
      if (action.tab !== 'home' && action.tab !== 'messages') throw new Error('no such tab');
      return actions.openApp(as, action.tab);
    default:
      throw new Error('unknown action');
  }
}

/** A log line of the bot as the page shows it: level, message, then the other fields. */
function logLine({ source, text, json }) {
  if (!json || typeof json !== 'object') return { level: source === 'stderr' ? 'error' : 'info', text };
  const { level, time, pid, hostname, msg, ...rest } = json;
  const fields = Object.entries(rest)
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(' ');
  return { level: LEVELS[level] ?? String(level), at: time, text: [msg, fields].filter(Boolean).join('  ') };
}
