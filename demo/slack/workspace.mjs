// What the Slack stand-in remembers, as Slack would: the conversations and their messages, each
// person's stack of modals and Home tab, the trigger_ids and response_urls it handed out. The Web API
// (web-api.mjs) and the people (people-actions.mjs) change it; the page reads it (snapshot).
import { randomBytes } from 'node:crypto';
import { BOT, CHANNELS, dmChannelId, PEOPLE, personById, TEAM } from '../people.mjs';

/** Slack: a trigger_id expires about 3 s after the interaction and works once. */
export const TRIGGER_LIFETIME_MS = 3000;
/** Slack: a response_url works up to 5 times within 30 minutes. */
const RESPONSE_URL_USES = 5;
const RESPONSE_URL_LIFETIME_MS = 30 * 60_000;
/** Slack: a modal holds at most 3 views. */
export const MAX_STACKED_VIEWS = 3;
/** What the page keeps of each conversation (the oldest are dropped). */
const KEPT_MESSAGES = 200;

const upperId = (prefix, length = 10) =>
  prefix +
  randomBytes(length)
    .toString('base64url')
    .replace(/[^A-Za-z0-9]/g, '')
    .toUpperCase()
    .padEnd(length, '0')
    .slice(0, length);

/**
 * A view as Slack shows it to the app: the app's view with Slack's own fields added, and the state of
 * its inputs (`values`: empty in a Web API answer, what was entered in a submission or an action).
 */
export function slackView(record, values = {}) {
  return {
    ...record.view,
    id: record.id,
    team_id: TEAM.id,
    app_id: BOT.appId,
    bot_id: BOT.botId,
    hash: record.hash,
    root_view_id: record.rootViewId,
    previous_view_id: record.previousViewId,
    private_metadata: record.view.private_metadata ?? '',
    callback_id: record.view.callback_id ?? '',
    external_id: record.view.external_id ?? '',
    state: { values },
    clear_on_close: record.view.clear_on_close ?? false,
    notify_on_close: record.view.notify_on_close ?? false,
  };
}

export class Workspace {
  /** @type {Map<string, { id: string, name: string, kind: 'channel' | 'dm', userId?: string, messages: object[] }>} */
  conversations = new Map();
  /** view id -> { id, userId, view, hash, rootViewId, previousViewId, errors, trouble } */
  views = new Map();
  /** user id -> ids of their open modal views, root first */
  stacks = new Map();
  /** user id -> the id of their Home tab view */
  homes = new Map();
  #triggers = new Map();
  #responseUrls = new Map();
  #lastTs = { seconds: 0, micros: 0 };
  #onChange;
  notes = [];

  constructor({ onChange }) {
    this.#onChange = onChange;
    for (const channel of CHANNELS) this.conversations.set(channel.id, { ...channel, kind: 'channel', messages: [] });
    for (const person of PEOPLE) {
      const id = dmChannelId(person.id);
      this.conversations.set(id, { id, name: person.name, kind: 'dm', userId: person.id, messages: [] });
    }
  }

  changed() {
    this.#onChange();
  }

  /** Something the stand-in refused or could not do, for the page's log (the bot's own log says its side). */
  note(text) {
    this.notes = [...this.notes, { at: Date.now(), text }].slice(-50);
    this.changed();
  }

  /** A channel id, or a user id (a post to a user lands in their direct messages with the bot). */
  conversation(channelOrUser) {
    if (/^[UW]/.test(channelOrUser ?? ''))
      return personById(channelOrUser) ? this.conversations.get(dmChannelId(channelOrUser)) : undefined;
    return this.conversations.get(channelOrUser);
  }

  /** Slack's message timestamps: unique and increasing, "seconds.micros". */
  nextTs() {
    const seconds = Math.floor(Date.now() / 1000);
    if (seconds > this.#lastTs.seconds) this.#lastTs = { seconds, micros: 0 };
    this.#lastTs.micros += 100;
    return `${this.#lastTs.seconds}.${String(this.#lastTs.micros).padStart(6, '0')}`;
  }

  /** Adds a message; `ephemeralTo` makes it visible to that person only. */
  post(conversation, message) {
    const posted = { ts: this.nextTs(), ...message };
    conversation.messages = [...conversation.messages, posted].slice(-KEPT_MESSAGES);
    this.changed();
    return posted;
  }

  message(conversation, ts) {
    return conversation?.messages.find((m) => m.ts === ts);
  }

  replaceMessage(conversation, ts, changes) {
    const found = this.message(conversation, ts);
    if (!found) return undefined;
    Object.assign(found, changes, { edited: true });
    this.changed();
    return found;
  }

  removeMessage(conversation, ts) {
    const before = conversation.messages.length;
    conversation.messages = conversation.messages.filter((m) => m.ts !== ts);
    this.changed();
    return conversation.messages.length < before;
  }

  // --- views ---------------------------------------------------------------------------------

  stack(userId) {
    return (this.stacks.get(userId) ?? []).map((id) => this.views.get(id));
  }

  #newView(userId, view, previousViewId, rootViewId) {
    const id = upperId('V');
    const record = {
      id,
      userId,
      view,
      hash: newHash(),
      rootViewId: rootViewId ?? id,
      previousViewId: previousViewId ?? null,
      errors: {},
    };
    this.views.set(id, record);
    return record;
  }

  /** views.open: a new modal for the person (whatever was open is replaced, as only one modal shows at a time). */
  openModal(userId, view) {
    for (const id of this.stacks.get(userId) ?? []) this.views.delete(id);
    const record = this.#newView(userId, view);
    this.stacks.set(userId, [record.id]);
    this.changed();
    return record;
  }

  /** views.push / response_action push; undefined when the stack is full. */
  pushModal(userId, view) {
    const stack = this.stacks.get(userId) ?? [];
    if (stack.length >= MAX_STACKED_VIEWS) return undefined;
    const top = stack.at(-1);
    const record = this.#newView(userId, view, top, top ? this.views.get(top).rootViewId : undefined);
    this.stacks.set(userId, [...stack, record.id]);
    this.changed();
    return record;
  }

  /** views.update / response_action update: same view id, new content and hash. */
  updateView(record, view) {
    Object.assign(record, { view, hash: newHash(), errors: {}, trouble: undefined });
    this.changed();
    return record;
  }

  /** Whether the view is shown right now (on a stack, or a Home tab). */
  isOpen(record) {
    return record.view.type === 'home' || (this.stacks.get(record.userId) ?? []).includes(record.id);
  }

  /** The top view closes (Cancel, or a submission acknowledged with nothing). */
  closeTop(userId) {
    const stack = this.stacks.get(userId) ?? [];
    const closed = stack.at(-1);
    if (closed) this.views.delete(closed);
    this.stacks.set(userId, stack.slice(0, -1));
    this.changed();
  }

  clearModals(userId) {
    for (const id of this.stacks.get(userId) ?? []) this.views.delete(id);
    this.stacks.set(userId, []);
    this.changed();
  }

  publishHome(userId, view) {
    const existing = this.views.get(this.homes.get(userId));
    if (existing) return this.updateView(existing, view);
    const record = this.#newView(userId, view);
    this.homes.set(userId, record.id);
    this.changed();
    return record;
  }

  // --- triggers and response URLs ------------------------------------------------------------

  /** A trigger_id for an interaction of `userId`, in Slack's shape. */
  issueTrigger(userId) {
    const id = `${Date.now()}.${Math.floor(Math.random() * 1e12)}.${randomBytes(16).toString('hex')}`;
    this.#triggers.set(id, { userId, at: Date.now(), used: false });
    return id;
  }

  /** The person a trigger_id was issued for, or Slack's error for it. Each works once, within 3 s. */
  takeTrigger(id) {
    const trigger = this.#triggers.get(id);
    if (!trigger) return { error: 'invalid_trigger_id' };
    if (trigger.used) return { error: 'trigger_exchanged' };
    if (Date.now() - trigger.at > TRIGGER_LIFETIME_MS) return { error: 'expired_trigger_id' };
    trigger.used = true;
    return { userId: trigger.userId };
  }

  /**
   * A response_url token for a command or a click: where a reply lands, and the message it may replace
   * (`messageTs`: the clicked message; for a command, set once the command produced a message).
   */
  issueResponseUrl(target) {
    const token = randomBytes(18).toString('hex');
    this.#responseUrls.set(token, Object.assign(target, { at: Date.now(), uses: 0 }));
    return token;
  }

  /** The target of a response_url, counting the use; undefined once it is used up or expired, as Slack refuses it. */
  useResponseUrl(token) {
    const target = this.#responseUrls.get(token);
    if (!target || target.uses >= RESPONSE_URL_USES || Date.now() - target.at > RESPONSE_URL_LIFETIME_MS)
      return undefined;
    target.uses += 1;
    return target;
  }

  // --- what the page shows -------------------------------------------------------------------

  /** Everything `userId` can see: public channels, their own DMs, ephemeral messages meant for them, their views. */
  snapshot(userId) {
    const visible = (m) => !m.ephemeralTo || m.ephemeralTo === userId;
    const home = this.views.get(this.homes.get(userId));
    return {
      conversations: [...this.conversations.values()]
        .filter((c) => c.kind === 'channel' || c.userId === userId)
        .map(({ messages, ...c }) => ({ ...c, messages: messages.filter(visible) })),
      modals: this.stack(userId).map(viewForPage),
      home: home ? viewForPage(home) : null,
      notes: this.notes,
    };
  }
}

function newHash() {
  return `${Date.now() / 1000}.${randomBytes(4).toString('hex')}`;
}

const viewForPage = ({ id, hash, view, errors, trouble }) => ({ id, hash, view, errors, trouble });
