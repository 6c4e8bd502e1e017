// The Slack Web API methods the bot calls (and those approvals will), served to the bot at
// [slack] api_url, plus the response_urls it posts replies to. Answers and errors take Slack's shapes:
// HTTP 200 with `{ok: false, error}` for a refused call. A refusal is also noted for the page.

import { json, listen } from '../http.mjs';
import { BOT, TEAM } from '../people.mjs';
import { messageProblem, viewProblem } from './limits.mjs';
import { slackView } from './workspace.mjs';

/** Form fields that Slack's SDKs send as JSON text. */
const JSON_FIELDS = new Set(['view', 'blocks', 'attachments', 'metadata']);

/**
 * @param {{ workspace: import('./workspace.mjs').Workspace, botToken: string }} options
 * @returns the server (origin, close) and `responseUrl(token)`, the URL for a token the workspace issued.
 */
export async function startSlackApi({ workspace, botToken }) {
  const server = await listen((req, res, rawBody) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (req.method !== 'POST') return json(res, 405, { ok: false, error: 'method_not_allowed' });
    if (path.startsWith('/hooks/')) return respondAt(workspace, path.slice('/hooks/'.length), rawBody, res);
    const method = /^\/api\/([\w.]+)$/.exec(path)?.[1];
    if (!method) return json(res, 404, { ok: false, error: 'unknown_method' });
    const args = parseArgs(rawBody.toString('utf8'), req.headers['content-type'] ?? '');
    const token = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '')?.[1] ?? args.token;
    const answer = !token
      ? { ok: false, error: 'not_authed' }
      : token !== botToken
        ? { ok: false, error: 'invalid_auth' }
        : call(workspace, method, args, server);
    if (!answer.ok) workspace.note(`Slack stand-in refused ${method}: ${answer.error}${detail(answer)}`);
    return json(res, 200, answer);
  });
  return { ...server, apiUrl: `${server.origin}/api/`, responseUrl: (token) => `${server.origin}/hooks/${token}` };
}

const detail = (answer) => (answer.response_metadata ? ` (${answer.response_metadata.messages.join('; ')})` : '');

function parseArgs(text, contentType) {
  if (contentType.startsWith('application/json')) {
    try {
      return JSON.parse(text);
    } catch {
      return {};
    }
  }
  const args = {};
  for (const [key, value] of new URLSearchParams(text)) {
    if (!JSON_FIELDS.has(key)) args[key] = value;
    else {
      try {
        args[key] = JSON.parse(value);
      } catch {
        args[key] = Symbol.for('invalid_json');
      }
    }
  }
  return args;
}

const invalid = (messages) => ({ ok: false, error: 'invalid_arguments', response_metadata: { messages } });

function call(workspace, method, args, server) {
  for (const [key, value] of Object.entries(args))
    if (value === Symbol.for('invalid_json')) return invalid([`[ERROR] ${key} is not valid JSON`]);
  switch (method) {
    case 'auth.test':
      return {
        ok: true,
        url: `${server.origin}/`,
        team: TEAM.name,
        user: BOT.name.toLowerCase(),
        team_id: TEAM.id,
        user_id: BOT.userId,
        bot_id: BOT.botId,
        is_enterprise_install: false,
      };
    case 'views.open':
    case 'views.push': {
      const problem = viewProblem(args.view, 'modal');
      if (problem) return invalid([problem]);
      const trigger = workspace.takeTrigger(args.trigger_id);
      if (trigger.error) return { ok: false, error: trigger.error };
      const record =
        method === 'views.open'
          ? workspace.openModal(trigger.userId, args.view)
          : workspace.pushModal(trigger.userId, args.view);
      if (!record) return { ok: false, error: 'push_limit_reached' };
      return { ok: true, view: slackView(record) };
    }
    case 'views.update': {
      const record = workspace.views.get(args.view_id);
      if (!record || !workspace.isOpen(record)) return { ok: false, error: 'not_found' };
      const problem = viewProblem(args.view, record.view.type);
      if (problem) return invalid([problem]);
      if (args.hash && args.hash !== record.hash) return { ok: false, error: 'hash_conflict' };
      return { ok: true, view: slackView(workspace.updateView(record, args.view)) };
    }
    case 'views.publish': {
      if (!workspace.conversation(args.user_id)) return { ok: false, error: 'user_not_found' };
      const problem = viewProblem(args.view, 'home');
      if (problem) return invalid([problem]);
      const current = workspace.views.get(workspace.homes.get(args.user_id));
      if (args.hash && current && args.hash !== current.hash) return { ok: false, error: 'hash_conflict' };
      return { ok: true, view: slackView(workspace.publishHome(args.user_id, args.view)) };
    }
    case 'chat.postMessage': {
      const conversation = workspace.conversation(args.channel);
      if (!conversation) return { ok: false, error: 'channel_not_found' };
      const problem = messageProblem(args);
      if (problem) return problem;
      const message = workspace.post(conversation, { ...botMessage(args) });
      return { ok: true, channel: conversation.id, ts: message.ts, message: messageAnswer(message) };
    }
    case 'chat.postEphemeral': {
      const conversation = workspace.conversation(args.channel);
      if (!conversation) return { ok: false, error: 'channel_not_found' };
      if (!workspace.conversation(args.user) || (conversation.kind === 'dm' && conversation.userId !== args.user))
        return { ok: false, error: 'user_not_in_channel' };
      const problem = messageProblem(args);
      if (problem) return problem;
      const message = workspace.post(conversation, { ...botMessage(args), ephemeralTo: args.user });
      return { ok: true, message_ts: message.ts };
    }
    case 'chat.update': {
      const conversation = workspace.conversation(args.channel);
      if (!conversation) return { ok: false, error: 'channel_not_found' };
      const found = workspace.message(conversation, args.ts);
      if (!found || found.ephemeralTo) return { ok: false, error: 'message_not_found' };
      if (found.user !== BOT.userId) return { ok: false, error: 'cant_update_message' };
      const problem = messageProblem(args);
      if (problem) return problem;
      const { text, blocks } = botMessage(args);
      const message = workspace.replaceMessage(conversation, args.ts, { text, blocks });
      return {
        ok: true,
        channel: conversation.id,
        ts: message.ts,
        text: message.text,
        message: messageAnswer(message),
      };
    }
    case 'chat.delete': {
      const conversation = workspace.conversation(args.channel);
      if (!conversation) return { ok: false, error: 'channel_not_found' };
      const found = workspace.message(conversation, args.ts);
      if (!found || found.ephemeralTo) return { ok: false, error: 'message_not_found' };
      if (found.user !== BOT.userId) return { ok: false, error: 'cant_delete_message' };
      workspace.removeMessage(conversation, args.ts);
      return { ok: true, channel: conversation.id, ts: args.ts };
    }
    case 'conversations.open': {
      const conversation = workspace.conversation(String(args.users ?? '').split(',')[0]);
      if (!conversation) return { ok: false, error: 'user_not_found' };
      return { ok: true, channel: { id: conversation.id } };
    }
    default:
      return { ok: false, error: 'unknown_method' };
  }
}

const botMessage = ({ text, blocks }) => ({
  user: BOT.userId,
  botId: BOT.botId,
  text: text ?? '',
  ...(Array.isArray(blocks) ? { blocks } : {}),
});

const messageAnswer = (m) => ({
  type: 'message',
  ts: m.ts,
  user: m.user,
  bot_id: m.botId,
  text: m.text,
  ...(m.blocks ? { blocks: m.blocks } : {}),
});

/**
 * A post to a response_url: a new message (ephemeral unless `response_type: in_channel`), or
 * `replace_original` / `delete_original` of the message it belongs to: the clicked one, or the one the
 * command produced (its answer, or its latest reply here). Used up or expired: 404.
 */
async function respondAt(workspace, token, rawBody, res) {
  const target = workspace.useResponseUrl(token);
  const refuse = (status, error) => {
    workspace.note(`Slack stand-in refused a response_url post: ${error}`);
    res.writeHead(status, { 'content-type': 'text/plain' }).end(error);
  };
  if (!target) return refuse(404, 'expired_url');
  let body;
  try {
    body = JSON.parse(rawBody.toString('utf8'));
  } catch {
    return refuse(400, 'invalid_payload');
  }
  await target.answered; // a command's own answer comes first, as in Slack
  const conversation = workspace.conversation(target.channelId);
  const original = target.messageTs && workspace.message(conversation, target.messageTs);
  if (body.delete_original === true || body.delete_original === 'true') {
    if (original) workspace.removeMessage(conversation, original.ts);
  } else {
    const problem = messageProblem(body);
    if (problem) return refuse(400, problem.error);
    if ((body.replace_original === true || body.replace_original === 'true') && original)
      workspace.replaceMessage(conversation, original.ts, { text: body.text ?? '', blocks: body.blocks });
    else {
      const posted = workspace.post(conversation, {
        ...botMessage(body),
        ...(body.response_type === 'in_channel' ? {} : { ephemeralTo: target.userId }),
      });
      if (target.command) target.messageTs = posted.ts;
    }
  }
  res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
}
