import { randomUUID } from 'node:crypto';
import type { webApi } from '@slack/bolt';
import { type ActionResult, actionBody, callAction } from '../../actions/call.js';
import { type ApprovedClaims, signActionToken } from '../../actions/token.js';
import type { Proof } from '../../core/approvals.js';
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
  return (await runDeclaredWith(s, run, {})).text;
}

/** What the requester gave and what proved them, for a run with a reason or approvals. */
export interface RunExtras {
  reason?: string | undefined;
  ticket?: string | undefined;
  /** The requester's proof when they asked (for an approved run, their session may since have expired). */
  proof?: Proof | undefined;
  /** Who approved it, or break glass. */
  approved?: ApprovedClaims | undefined;
  /** The approval request, for the audit. */
  approvalId?: string | undefined;
}

/** A run's outcome: the sentence the user reads, and the endpoint's HTTP status when it answered. */
export interface RunResult {
  text: string;
  status?: number | undefined;
  ran: boolean;
}

/** runDeclared, with a reason, approvals or break glass in the token and the body. Never throws. */
export async function runDeclaredWith(s: Deps, run: DeclaredRun, extras: RunExtras): Promise<RunResult> {
  const { name, text, userId } = run;
  const command = s.config.commands.find((c) => c.name === name);
  // A step-up that outlived its command (the config changed, or another replica runs another config).
  if (!command || !s.signingKeys) return { text: noLongerSetUp(name), ran: false };
  const audit = (outcome: AuditOutcome, detail: Record<string, string | number>) =>
    auditAfterAnswer(s, {
      event: 'action_run',
      userId,
      scope: command.scope,
      outcome,
      detail: {
        command: name,
        ...(extras.approvalId ? { request: extras.approvalId } : {}),
        ...(extras.approved?.breakGlass ? { break_glass: 'yes' } : {}),
        ...detail,
      },
    });
  try {
    // Authority is read when the command acts: `allow` as this instance's config says now, and the scope.
    if (command.allowed && !command.allowed.includes(userId)) {
      await audit('refused', { reason: 'not_allowed' });
      return { text: notAllowed(name), ran: false };
    }
    const grant = extras.proof
      ? { grantedAt: extras.proof.authTime, methods: extras.proof.methods }
      : await s.sessions.liveGrant(userId, command.scope);
    if (!grant) {
      await audit('refused', { reason: 'ended' });
      return {
        text:
          command.scope === 'admin'
            ? refusal({ ok: false, reason: 'ended' }, s.clock.now(), s.config.policy.admins)
            : loginRequired(name),
        ran: false,
      };
    }
    // The token names only methods by which this grant's codes went out; a grant that did not record them claims none.
    if (grant.methods.length === 0) {
      await audit('refused', { reason: 'delivery_unknown' });
      return { text: deliveryUnknown(name), ran: false };
    }
    const body = actionBody({
      command: name,
      text,
      user_id: userId,
      team_id: run.teamId,
      channel_id: run.channelId,
      scope: command.scope,
      request_id: randomUUID(),
      reason: extras.reason,
    });
    const claims = {
      issuer: s.config.actions.issuer,
      userId,
      url: command.url,
      scope: command.scope,
      authTime: grant.grantedAt,
      methods: grant.methods,
      body,
      approved: extras.approved,
      reason: extras.reason,
      ticket: extras.ticket,
    };
    const token = await signActionToken(s.signingKeys, claims, s.clock.now());
    const result = await callAction({ url: command.url, body, token, timeoutMs: command.timeoutMs });
    await audit(outcomeOf(result), {
      status: result.status ?? 0,
      ms: result.ms,
      ...(result.ok ? {} : { reason: result.reason }),
    });
    return {
      text: result.ok ? result.text : failed(name, text, result.text, result.reason === 'timeout'),
      status: result.status,
      ran: true,
    };
  } catch (error) {
    s.logger.error({ err: error, userId, command: name }, 'a declared command failed');
    await audit('error', { reason: 'internal' });
    return { text: unavailable, ran: false };
  }
}

/**
 * Shows the result where the user typed the command: at its response_url; if Slack refuses that
 * (expired, used up), as an ephemeral message in the channel; if the bot cannot post there, by DM.
 */
export async function answerWhereTyped(
  s: Pick<Services, 'logger'>,
  client: webApi.WebClient,
  run: Pick<DeclaredRun, 'userId' | 'channelId' | 'responseUrl'>,
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
