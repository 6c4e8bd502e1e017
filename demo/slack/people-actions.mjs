// What a person does in the Slack client, sent to the bot exactly as Slack sends it (the shapes of
// test/helpers/slack-client.ts): slash commands form-encoded, interactions as `payload=<json>`, events as
// JSON, each signed with v0 HMAC-SHA256 of `v0:<timestamp>:<body>`. Slack waits 3 s for the answer and
// then acts on it: an ephemeral reply, a modal updated, pushed, closed or marked with errors.
import { createHmac, randomUUID } from 'node:crypto';
import { BOT, dmChannelId, TEAM } from '../people.mjs';
import { messageProblem, viewProblem } from './limits.mjs';
import { slackView } from './workspace.mjs';

/** Slack's own deadline for an app's answer. */
const ANSWER_WITHIN_MS = 3000;
/** Slack's words when a modal's submission got no usable answer. */
const TROUBLE = 'We had some trouble connecting. Try again?';

export function signature(signingSecret, timestamp, body) {
  return `v0=${createHmac('sha256', signingSecret).update(`v0:${timestamp}:${body}`).digest('hex')}`;
}

/**
 * @param {{ workspace: import('./workspace.mjs').Workspace, botUrl: () => string, signingSecret: string,
 *   responseUrl: (token: string) => string }} options
 */
export function peopleActions({ workspace, botUrl, signingSecret, responseUrl }) {
  async function send(body, contentType) {
    const timestamp = String(Math.floor(Date.now() / 1000));
    try {
      const res = await fetch(`${botUrl()}/slack/events`, {
        method: 'POST',
        headers: {
          'content-type': contentType,
          'x-slack-request-timestamp': timestamp,
          'x-slack-signature': signature(signingSecret, timestamp, body),
        },
        body,
        signal: AbortSignal.timeout(ANSWER_WITHIN_MS),
      });
      const text = await res.text();
      return { status: res.status, text };
    } catch (error) {
      return { status: 0, text: '', error: error?.name === 'TimeoutError' ? 'operation_timeout' : 'dispatch_failed' };
    }
  }
  const interaction = (payload) =>
    send(new URLSearchParams({ payload: JSON.stringify(payload) }).toString(), 'application/x-www-form-urlencoded');

  const who = (userId) => ({
    user: { id: userId, username: userId.toLowerCase(), name: userId.toLowerCase(), team_id: TEAM.id },
    team: { id: TEAM.id, domain: TEAM.domain },
    api_app_id: BOT.appId,
    token: 'deprecated-verification-token',
    is_enterprise_install: false,
    enterprise: null,
  });

  /** A message from "Slack" itself to one person, where they are. */
  const slackSays = (conversation, userId, text) =>
    workspace.post(conversation, { user: 'USLACKBOT', text, ephemeralTo: userId, fromSlack: true });

  /** Sends a slash command to the app and shows its answer (ephemeral unless `in_channel`), or Slack's error. */
  async function runCommand(conversation, userId, command, args, target) {
    const body = new URLSearchParams({
      token: 'deprecated-verification-token',
      team_id: TEAM.id,
      team_domain: TEAM.domain,
      channel_id: conversation.id,
      channel_name: conversation.kind === 'dm' ? 'directmessage' : conversation.name,
      user_id: userId,
      user_name: userId.toLowerCase(),
      command,
      text: escapeText(args), // Slack escapes &, < and > in what it sends an app, a command's text included
      api_app_id: BOT.appId,
      is_enterprise_install: 'false',
      response_url: responseUrl(workspace.issueResponseUrl(target)),
      trigger_id: workspace.issueTrigger(userId),
    }).toString();
    const answer = await send(body, 'application/x-www-form-urlencoded');
    if (answer.status !== 200) {
      slackSays(
        conversation,
        userId,
        `\`${escapeText(command)}\` failed with the error "${answer.error ?? 'dispatch_failed'}"`,
      );
      return;
    }
    if (answer.text === '') return;
    let reply;
    try {
      reply = JSON.parse(answer.text);
    } catch {
      reply = { text: answer.text }; // a plain-text answer is shown as it is
    }
    const problem = messageProblem(reply);
    if (problem) {
      slackSays(conversation, userId, `\`${escapeText(command)}\` failed with the error "${problem.error}"`);
      return;
    }
    const shown = workspace.post(conversation, {
      user: BOT.userId,
      botId: BOT.botId,
      text: reply.text ?? '',
      ...(Array.isArray(reply.blocks) ? { blocks: reply.blocks } : {}),
      ...(reply.response_type === 'in_channel' ? {} : { ephemeralTo: userId }),
    });
    target.messageTs = shown.ts; // what replace_original at its response_url replaces, until a reply there
  }

  return {
    /** A message or a slash command typed in a conversation. */
    async type(userId, channelId, typed) {
      const conversation = workspace.conversation(channelId);
      if (!conversation || (conversation.kind === 'dm' && conversation.userId !== userId))
        throw new Error('no such conversation');
      const text = typed.trim();
      if (!text.startsWith('/')) {
        workspace.post(conversation, { user: userId, text: escapeText(text) });
        return;
      }
      const [, command = '', args = ''] = /^(\S+)\s*([\s\S]*)$/.exec(text) ?? [];
      // Slack does not show a slash command in the conversation; the stand-in shows it to whoever typed it.
      workspace.post(conversation, { user: userId, text: escapeText(text), ephemeralTo: userId, command: true });
      // The command's answer is shown before anything the app posts at its response_url meanwhile.
      let answered;
      const target = {
        userId,
        channelId: conversation.id,
        command: true,
        answered: new Promise((resolve) => (answered = resolve)),
      };
      try {
        await runCommand(conversation, userId, command, args, target);
      } finally {
        answered();
      }
    },

    /** The modal's submit button, with what the person entered (`values[blockId][actionId]`: text, or an option's value). */
    async submit(userId, viewId, entered) {
      const record = ownView(workspace, userId, viewId);
      const { values, errors } = stateOf(record.view, entered);
      if (Object.keys(errors).length > 0) {
        // The Slack client checks required fields and lengths itself, before anything is sent.
        Object.assign(record, { errors, trouble: undefined });
        workspace.changed();
        return;
      }
      const answer = await interaction({
        type: 'view_submission',
        ...who(userId),
        trigger_id: workspace.issueTrigger(userId),
        view: slackView(record, values),
        response_urls: [],
      });
      if (!workspace.isOpen(record)) return; // closed meanwhile
      if (answer.status !== 200) return markTrouble(workspace, record);
      let ack = {};
      try {
        ack = answer.text === '' ? {} : JSON.parse(answer.text);
      } catch {
        return markTrouble(workspace, record);
      }
      switch (ack.response_action) {
        case undefined:
          return workspace.closeTop(userId);
        case 'clear':
          return workspace.clearModals(userId);
        case 'errors':
          Object.assign(record, { errors: ack.errors ?? {}, trouble: undefined });
          return workspace.changed();
        case 'update':
          if (viewProblem(ack.view, 'modal')) return markTrouble(workspace, record);
          return workspace.updateView(record, ack.view);
        case 'push':
          if (viewProblem(ack.view, 'modal') || !workspace.pushModal(userId, ack.view))
            return markTrouble(workspace, record);
          return;
        default:
          return markTrouble(workspace, record);
      }
    },

    /** The modal's close button (or its X). The app hears of it only if the view asked (`notify_on_close`). */
    async close(userId, viewId) {
      const record = ownView(workspace, userId, viewId);
      workspace.closeTop(userId);
      if (record.view.notify_on_close)
        await interaction({ type: 'view_closed', ...who(userId), view: slackView(record), is_cleared: false });
    },

    /**
     * A button: in a modal or the Home tab (`{ viewId }`), or in a message (`{ channelId, ts }`).
     * `entered` is what the view's inputs hold now (Slack sends their state with the click).
     */
    async click(userId, where, { blockId, actionId }, entered = {}) {
      const at = where.viewId
        ? locateInView(workspace, userId, where.viewId)
        : locateInMessage(workspace, userId, where);
      const button = findButton(at.blocks, blockId, actionId);
      if (!button) throw new Error('no such button');
      const action = {
        type: 'button',
        action_id: button.element.action_id,
        block_id: button.blockId,
        text: button.element.text,
        ...(button.element.value !== undefined ? { value: button.element.value } : {}),
        ...(button.element.style ? { style: button.element.style } : {}),
        action_ts: String(Date.now() / 1000),
      };
      const payload = {
        type: 'block_actions',
        ...who(userId),
        trigger_id: workspace.issueTrigger(userId),
        actions: [action],
      };
      if (at.record) {
        Object.assign(payload, {
          container: { type: 'view', view_id: at.record.id },
          view: slackView(at.record, stateOf(at.record.view, entered).values),
        });
      } else {
        const { conversation, message } = at;
        const ephemeral = Boolean(message.ephemeralTo);
        Object.assign(payload, {
          container: { type: 'message', message_ts: message.ts, channel_id: conversation.id, is_ephemeral: ephemeral },
          channel: { id: conversation.id, name: conversation.kind === 'dm' ? 'directmessage' : conversation.name },
          message: {
            type: 'message',
            ts: message.ts,
            user: message.user,
            ...(message.botId ? { bot_id: message.botId } : {}),
            text: message.text,
            ...(message.blocks ? { blocks: message.blocks } : {}),
          },
          state: { values: {} },
          response_url: responseUrl(
            workspace.issueResponseUrl({ userId, channelId: conversation.id, messageTs: message.ts }),
          ),
        });
      }
      const answer = await interaction(payload);
      if (answer.status !== 200)
        workspace.note(
          `the bot did not take a click on "${action.text?.text}" (${answer.error ?? `HTTP ${answer.status}`})`,
        );
    },

    /** The person opens the app: its Home tab or its Messages tab. */
    async openApp(userId, tab) {
      const home = workspace.views.get(workspace.homes.get(userId));
      const body = JSON.stringify({
        token: 'deprecated-verification-token',
        team_id: TEAM.id,
        api_app_id: BOT.appId,
        event: {
          type: 'app_home_opened',
          user: userId,
          channel: dmChannelId(userId),
          tab,
          event_ts: String(Date.now() / 1000),
          ...(home ? { view: slackView(home) } : {}),
        },
        type: 'event_callback',
        event_id: `Ev${randomUUID().replaceAll('-', '').slice(0, 10).toUpperCase()}`,
        event_time: Math.floor(Date.now() / 1000),
        authorizations: [{ team_id: TEAM.id, user_id: BOT.userId, is_bot: true, is_enterprise_install: false }],
        is_ext_shared_channel: false,
      });
      const answer = await send(body, 'application/json');
      if (answer.status !== 200)
        workspace.note(`the bot did not take app_home_opened (${answer.error ?? `HTTP ${answer.status}`})`);
    },
  };
}

function markTrouble(workspace, record) {
  record.trouble = TROUBLE;
  workspace.changed();
}

function ownView(workspace, userId, viewId) {
  const record = workspace.views.get(viewId);
  if (!record || record.userId !== userId || !workspace.isOpen(record)) throw new Error('no such view');
  return record;
}

function locateInView(workspace, userId, viewId) {
  const record = ownView(workspace, userId, viewId);
  return { record, blocks: record.view.blocks };
}

function locateInMessage(workspace, userId, { channelId, ts }) {
  const conversation = workspace.conversation(channelId);
  const message = workspace.message(conversation, ts);
  if (!message || (message.ephemeralTo && message.ephemeralTo !== userId)) throw new Error('no such message');
  if (conversation.kind === 'dm' && conversation.userId !== userId) throw new Error('no such message');
  return { conversation, message, blocks: message.blocks ?? [] };
}

/** Slack names the blocks and elements an app left unnamed; the stand-in names them by position. */
export const blockIdOf = (block, index) => block.block_id ?? `b${index}`;
export const actionIdOf = (element, index) => element.action_id ?? `a${index}`;

function findButton(blocks, blockId, actionId) {
  for (const [i, block] of (blocks ?? []).entries()) {
    if (blockIdOf(block, i) !== blockId) continue;
    const elements = block.type === 'actions' ? block.elements : block.accessory ? [block.accessory] : [];
    for (const [j, element] of elements.entries())
      if (element.type === 'button' && actionIdOf(element, j) === actionId)
        return { blockId: blockIdOf(block, i), element: { ...element, action_id: actionIdOf(element, j) } };
  }
  return undefined;
}

/**
 * `view.state.values` as Slack builds it from what was entered, for every input block of the view, and
 * the errors the Slack client itself shows (a required field left empty, a length out of bounds).
 */
export function stateOf(view, entered) {
  const values = {};
  const errors = {};
  for (const [i, block] of (view.blocks ?? []).entries()) {
    if (block.type !== 'input') continue;
    const blockId = blockIdOf(block, i);
    const element = block.element;
    const actionId = actionIdOf(element, 0);
    const raw = entered?.[blockId]?.[actionId];
    if (element.type === 'plain_text_input') {
      const value = typeof raw === 'string' && raw !== '' ? raw : null;
      values[blockId] = { [actionId]: { type: 'plain_text_input', value } };
      if (value === null && !block.optional) errors[blockId] = 'Please complete this required field.';
      else if (value !== null && element.min_length && value.length < element.min_length)
        errors[blockId] = `Must be at least ${element.min_length} characters.`;
      else if (value !== null && element.max_length && value.length > element.max_length)
        errors[blockId] = `Must be ${element.max_length} characters or fewer.`;
    } else if (element.type === 'radio_buttons') {
      const option = (element.options ?? []).find((o) => o.value === raw) ?? null;
      values[blockId] = { [actionId]: { type: 'radio_buttons', selected_option: option } };
      if (!option && !block.optional) errors[blockId] = 'Please complete this required field.';
    }
  }
  return { values, errors };
}

/** What a person types is sent as Slack sends it: &, < and > escaped (so it cannot forge a mention or a link). */
function escapeText(text) {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}
