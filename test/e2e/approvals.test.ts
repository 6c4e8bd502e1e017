import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRemoteJWKSet, type JWTPayload } from 'jose';
import nock from 'nock';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { verifyPhonegateRequest } from '../actions/endpoint.js';
import { type Harness, logIn, removeTempDirs, startBot, USERS } from '../helpers/harness.js';
import { serve } from '../helpers/serve.js';

/**
 * Issue 20: approvals inside Slack, by a second person who proves their own phone. The whole flow on the
 * real receiver: the requester's reason form, the approvers' messages, an approver's own code window,
 * the run (once) with the approvals in the token, and every message updated in place.
 */

const { alice: ADMIN, bob: REQUESTER, carol: APPROVER } = USERS;
const text = (value: unknown) => JSON.stringify(value ?? null);

let endpoint: Awaited<ReturnType<typeof serve>>;
let keyDir: string;
let h: Harness;
const received: Array<{ payload: JWTPayload; body: Record<string, unknown> } | { refused: string }> = [];

beforeAll(async () => {
  endpoint = await serve(async (req, res, rawBody) => {
    try {
      const jwks = createRemoteJWKSet(new URL(`${h.requests.baseUrl}/.well-known/jwks.json`), { cacheMaxAge: 0 });
      const payload = await verifyPhonegateRequest({
        authorization: req.headers.authorization,
        rawBody,
        jwks,
        audience: `${endpoint.origin}${req.url}`,
      });
      received.push({ payload, body: JSON.parse(rawBody.toString('utf8')) });
      res.writeHead(200, { 'content-type': 'text/plain' }).end('deployed');
    } catch (error) {
      received.push({ refused: String((error as Error).message) });
      res.writeHead(401, { 'content-type': 'text/plain' }).end('refused');
    }
  });
});
afterEach(async () => {
  await h?.stop();
  received.length = 0;
  rmSync(keyDir, { recursive: true, force: true });
});
afterAll(async () => {
  await endpoint.close();
  removeTempDirs();
  nock.restore();
});

async function start(command = '', policy = ''): Promise<Harness> {
  keyDir = mkdtempSync(join(tmpdir(), 'phonegate-keys-'));
  h = await startBot({
    fileText: `[command /deploy]
url = ${endpoint.origin}/hooks/deploy
allow = ${REQUESTER}
approvers = admins, ${APPROVER}
${command}

[policy]
${policy}

[actions]
signing_key_file = ${join(keyDir, 'key.pem')}
`,
  });
  return h;
}

/** The requester types /deploy and sends the reason form; returns when the approvers were asked. */
async function ask(reason: string, ticket = ''): Promise<void> {
  await logIn(h, REQUESTER);
  const opened = h.slack.callsOf('views.open').length;
  const ack = await h.requests.command('/deploy', REQUESTER, 'api 1.4.2');
  expect(ack.text).toBe('');
  await h.slack.waitFor((calls) => calls.filter((c) => c.method === 'views.open').length > opened, 'the reason form');
  const form = h.slack.lastView();
  expect(form.view.callback_id).toBe('approval_reason');
  expect(text(form.view)).toContain('Ask for approval');
  const sent = await h.requests.submitView(REQUESTER, form, {
    reason: { reason: { type: 'plain_text_input', value: reason } },
    ticket: { ticket: { type: 'plain_text_input', value: ticket } },
  });
  expect(sent.json).toEqual({ response_action: 'clear' });
  await h.slack.waitFor(() => h.slack.messagesIn(APPROVER).length > 0, 'the approvers to be asked');
  await h.slack.waitFor(
    () => h.slack.responses.some((r) => text(r.body).includes('approval_cancel')),
    'the requester’s status',
  );
}

/** An approver clicks Approve on their message and enters their own code; returns the window's last view. */
async function approve(approverId: string): Promise<any> {
  const [message] = h.slack.messagesIn(approverId);
  const opened = h.slack.callsOf('views.open').length;
  await h.requests.clickInMessage(approverId, message!, 'approval_approve');
  await h.slack.waitFor(
    (calls) => calls.filter((c) => c.method === 'views.open').length > opened,
    'the approver\u2019s window',
  );
  let window = h.slack.lastView();
  if (window.view.callback_id === 'delivery_choice') await h.requests.chooseDelivery(approverId, window, 'sms');
  await h.slack.waitFor(() => h.slack.lastView().view.callback_id === 'code_entry', 'the approver\u2019s code entry');
  window = h.slack.lastView();
  expect(text(window.view)).toContain(`Approving <@${REQUESTER}>'s request to run`);
  const done = await h.requests.submitCode(approverId, window, h.bandwidth.lastCode());
  return done.json.view;
}

describe('a declared command with approvers', () => {
  test('reason, one approval with the approver\u2019s own code, the run once with the approvals in the token, messages updated', async () => {
    await start();
    await ask('hotfix for <!here> see http://evil.example', 'OPS-1');
    // Each approver gets a DM; the requester is not an approver here, so gets none.
    expect(h.slack.messagesIn(ADMIN)).toHaveLength(1);
    expect(h.slack.messagesIn(REQUESTER)).toHaveLength(0);
    const [message] = h.slack.messagesIn(APPROVER);
    expect(text(message)).toContain(`<@${REQUESTER}> asks to run \`/deploy api 1.4.2\``);
    // The reason is plain text: no mention or link in it can ping or mislead.
    const reasonBlock = message!.blocks.find((b: any) => b.text?.text?.startsWith('Reason:'));
    expect(reasonBlock.text).toEqual({
      type: 'plain_text',
      text: 'Reason: hotfix for <!here> see http://evil.example',
      emoji: true,
    });
    // The requester sees, where they typed, who was asked, with Cancel.
    const status = h.slack.responses.find((r) => text(r.body).includes('approval_cancel'))!.body;
    expect(status.response_type).toBe('ephemeral');
    expect(text(status)).toContain('1 approval needed');
    expect(text(status)).toContain('approval_cancel');

    const window = await approve(APPROVER);
    expect(text(window)).toContain('Approved.');
    await h.slack.waitFor(() => received.length === 1, 'the endpoint');
    const run = received[0] as { payload: JWTPayload; body: Record<string, unknown> };
    expect(run.body).toMatchObject({
      command: '/deploy',
      text: 'api 1.4.2',
      user_id: REQUESTER,
      reason: 'hotfix for <!here> see http://evil.example',
    });
    expect(run.payload).toMatchObject({
      sub: REQUESTER,
      reason: 'hotfix for <!here> see http://evil.example',
      ticket: 'OPS-1',
      approvals: [{ sub: APPROVER, approved_at: expect.any(Number), auth_time: expect.any(Number), amr: ['sms'] }],
    });
    expect(run.payload.break_glass).toBeUndefined();

    // Every approval message updated in place: who approved, the outcome, no buttons.
    await h.slack.waitFor(
      () => text(h.slack.messagesIn(ADMIN)[0]).includes('It ran: HTTP 200'),
      'the messages updated',
    );
    for (const approver of [ADMIN, APPROVER]) {
      const updated = h.slack.messagesIn(approver)[0]!;
      expect(text(updated)).toContain(`Approved by <@${APPROVER}>`);
      expect(updated.blocks.some((b: any) => b.type === 'actions')).toBe(false);
    }
    // The requester sees the result where they typed.
    expect(h.slack.responses.some((r) => r.body.text === 'deployed')).toBe(true);
    expect(h.logs.audit('approval_requested')).toHaveLength(1);
    expect(h.logs.audit('action_run')).toEqual([expect.objectContaining({ userId: REQUESTER, outcome: 'success' })]);
  });

  test('the requester cannot approve their own request, a non-approver is refused, and neither is sent a code', async () => {
    await start(`approvals = 1`);
    await ask('routine');
    const [message] = h.slack.messagesIn(APPROVER);
    const sent = h.bandwidth.sent.length;
    for (const [who, says] of [
      [REQUESTER, "You can't approve your own request"],
      [USERS.stranger, "You're not one of the approvers"],
    ] as const) {
      const opened = h.slack.callsOf('views.open').length;
      await h.requests.clickInMessage(who, message!, 'approval_approve');
      await h.slack.waitFor((calls) => calls.filter((c) => c.method === 'views.open').length > opened, 'the refusal');
      expect(text(h.slack.lastView().view)).toContain(says);
    }
    expect(h.bandwidth.sent).toHaveLength(sent);
    expect(received).toHaveLength(0);
  });

  test('Deny needs no code, ends it naming who, and a later Approve reads that it has ended', async () => {
    await start();
    await ask('routine');
    const [message] = h.slack.messagesIn(ADMIN);
    await h.requests.clickInMessage(ADMIN, message!, 'approval_deny');
    await h.slack.waitFor(() => h.slack.lastView().view.callback_id === 'approval_deny', 'the deny form');
    const denied = await h.requests.submitView(ADMIN, h.slack.lastView(), {
      note: { note: { type: 'plain_text_input', value: 'not during the freeze' } },
    });
    expect(text(denied.json)).toContain('You denied');
    await h.slack.waitFor(() => text(h.slack.messagesIn(APPROVER)[0]).includes('Denied by'), 'the messages updated');
    const opened = h.slack.callsOf('views.open').length;
    await h.requests.clickInMessage(APPROVER, message!, 'approval_approve');
    await h.slack.waitFor((calls) => calls.filter((c) => c.method === 'views.open').length > opened, 'the refusal');
    expect(text(h.slack.lastView().view)).toContain('This request has ended');
    expect(received).toHaveLength(0);
    expect(h.logs.audit('approval_denied')).toEqual([
      expect.objectContaining({ detail: expect.objectContaining({ by: ADMIN }) }),
    ]);
  });
});
