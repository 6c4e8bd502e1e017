import { randomUUID } from 'node:crypto';
import type { webApi } from '@slack/bolt';
import { type ActionResult, actionBody, callAction } from '../../actions/call.js';
import { signActionToken } from '../../actions/token.js';
import type { AuditOutcome } from '../../core/audit.js';
import type { Services } from '../../services.js';
import { auditAfterAnswer } from '../audit-after-answer.js';
import type { DeclaredRun } from '../pending-commands.js';
import { postToResponseUrl } from '../reply.js';
import { deliveryUnknown, failed, noLongerSetUp, notAllowed } from '../views/declared-text.js';
import { loginRequired, refusal, unavailable } from '../views/text.js';

type Deps = Pick<Services, 'audit' | 'clock' | 'config' | 'logger' | 'sessions' | 'signingKeys'>;

const outcomeOf = (result: ActionResult): AuditOutcome =>
  result.ok ? 'success' : result.reason === 'timeout' || result.reason === 'unreachable' ? 'error' : 'failure';

/**
 * Runs a declared command: reads the user's live grant of its scope right before acting (an ending
 * that landed meanwhile wins), signs a token for this exact body, calls the endpoint, audits the run.
 * Returns the sentence the user reads; never throws.
 */
export async function runDeclared(s: Deps, run: DeclaredRun): Promise<string> {
  const { name, text, userId } = run;
  const command = s.config.commands.find((c) => c.name === name);
  // A step-up that outlived its command (the config changed, or another replica runs another config).
  if (!command || !s.signingKeys) return noLongerSetUp(name);
  const audit = (outcome: AuditOutcome, detail: Record<string, string | number>) =>
    auditAfterAnswer(s, {
      event: 'action_run',
      userId,
      scope: command.scope,
      outcome,
      detail: { command: name, ...detail },
    });
  try {
    // Authority is read when the command acts: `allow` as this instance's config says now, and the scope.
    if (command.allowed && !command.allowed.includes(userId)) {
      await audit('refused', { reason: 'not_allowed' });
      return notAllowed(name);
    }
    const grant = await s.sessions.liveGrant(userId, command.scope);
    if (!grant) {
      await audit('refused', { reason: 'ended' });
      return command.scope === 'admin'
        ? refusal({ ok: false, reason: 'ended' }, s.clock.now(), s.config.policy.admins)
        : loginRequired(name);
    }
    // The token names only methods by which this grant's codes went out; a grant that did not record them claims none.
    if (grant.methods.length === 0) {
      await audit('refused', { reason: 'delivery_unknown' });
      return deliveryUnknown(name);
    }
    const body = actionBody({
      command: name,
      text,
      user_id: userId,
      team_id: run.teamId,
      channel_id: run.channelId,
      scope: command.scope,
      request_id: randomUUID(),
    });
    const claims = {
      issuer: s.config.actions.issuer,
      userId,
      url: command.url,
      scope: command.scope,
      authTime: grant.grantedAt,
      methods: grant.methods,
      body,
    };
    const token = await signActionToken(s.signingKeys, claims, s.clock.now());
    const result = await callAction({ url: command.url, body, token, timeoutMs: command.timeoutMs });
    await audit(outcomeOf(result), {
      status: result.status ?? 0,
      ms: result.ms,
      ...(result.ok ? {} : { reason: result.reason }),
    });
    return result.ok ? result.text : failed(name, text, result.text, result.reason === 'timeout');
  } catch (error) {
    s.logger.error({ err: error, userId, command: name }, 'a declared command failed');
    await audit('error', { reason: 'internal' });
    return unavailable;
  }
}

/**
 * Shows the result where the user typed the command: at its response_url; if Slack refuses that
 * (expired, used up), as an ephemeral message in the channel; if the bot cannot post there, by DM.
 */
export async function answerWhereTyped(
  s: Pick<Services, 'logger'>,
  client: webApi.WebClient,
  run: DeclaredRun,
  reply: string,
): Promise<void> {
  try {
    if (!run.responseUrl) throw new Error('no response_url');
    await postToResponseUrl(run.responseUrl, reply);
    return;
  } catch (error) {
    s.logger.warn(
      { err: error, userId: run.userId },
      'could not reply at the response_url; posting an ephemeral message',
    );
  }
  try {
    await client.chat.postEphemeral({ channel: run.channelId, user: run.userId, text: reply });
  } catch (error) {
    s.logger.warn({ err: error, userId: run.userId }, 'could not post an ephemeral message; sending a direct message');
    await client.chat
      .postMessage({ channel: run.userId, text: reply })
      .catch((dmError: unknown) =>
        s.logger.error({ err: dmError, userId: run.userId }, 'could not send the result of a declared command'),
      );
  }
}
