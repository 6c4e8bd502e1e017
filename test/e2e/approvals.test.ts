import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRemoteJWKSet, type JWTPayload } from 'jose';
import nock from 'nock';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { verifyPhonegateRequest } from '../actions/endpoint.js';
import { type Harness, logIn, removeTempDirs, startBot, USERS } from '../helpers/harness.js';
import { serve } from '../helpers/serve.js';
import { messageProblems, viewProblems } from '../slack/slack-limits.js';

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
  expect(text(window.view)).toContain(`This code approves <@${REQUESTER}>'s request to run`);
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
    expect(h.logs.audit('action_run')).toEqual([
      expect.objectContaining({
        userId: REQUESTER,
        outcome: 'success',
        detail: expect.objectContaining({ request: expect.any(String) }),
      }),
    ]);
    // A metric by outcome.
    const metrics = await (await fetch(`${h.requests.baseUrl}/metrics`)).text();
    for (const outcome of ['requested', 'approval', 'approved'])
      expect(metrics).toContain(`phonegate_approvals_total{outcome="${outcome}"} 1`);
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

/** The requester's ephemeral status (its newest form, posted or replaced at a response_url). */
function status(): { channel: string; ts: string; text: string; blocks: any[] } {
  const posted = h.slack.responses.filter((r) => Array.isArray(r.body.blocks) && text(r.body).includes('I asked'));
  const last = posted.at(-1);
  if (!last) throw new Error('no status was posted');
  return { channel: 'C0001', ts: 'ephemeral', text: last.body.text, blocks: last.body.blocks };
}

/** Opens an approver's code window (Approve, then the delivery choice): returns the code entry. */
async function approverWindow(approverId: string): Promise<{ id: string; view: any }> {
  const [message] = h.slack.messagesIn(approverId);
  const opened = h.slack.callsOf('views.open').length;
  await h.requests.clickInMessage(approverId, message!, 'approval_approve');
  await h.slack.waitFor((calls) => calls.filter((c) => c.method === 'views.open').length > opened, 'the window');
  const id = h.slack.lastView().id;
  if (h.slack.lastView().view.callback_id === 'delivery_choice')
    await h.requests.chooseDelivery(approverId, h.slack.lastView(), 'sms');
  await h.slack.waitFor(
    () => h.slack.lastView().id === id && h.slack.lastView().view.callback_id === 'code_entry',
    'the code entry',
  );
  return h.slack.lastView();
}

describe('approvals that must hold', () => {
  // Two approvals needed, both given at the same moment: the command runs once.
  test('two approvers at once, two needed: it runs exactly once', async () => {
    await start('approvals = 2');
    await ask('routine');
    const adminWindow = await approverWindow(ADMIN);
    const adminCode = h.bandwidth.lastCode();
    const approverWindowView = await approverWindow(APPROVER);
    const approverCode = h.bandwidth.lastCode();
    const [a, b] = await Promise.all([
      h.requests.submitCode(ADMIN, adminWindow, adminCode),
      h.requests.submitCode(APPROVER, approverWindowView, approverCode),
    ]);
    expect([text(a.json), text(b.json)].filter((t) => t.includes('runs now'))).toHaveLength(1);
    await h.slack.waitFor(() => received.length === 1, 'the run');
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(received).toHaveLength(1);
    expect((received[0] as { payload: JWTPayload }).payload.approvals).toHaveLength(2);
    expect(h.logs.audit('action_run')).toHaveLength(1);
  });

  test('a replayed code submission of an approver counts nothing', async () => {
    await start('approvals = 2');
    await ask('routine');
    const window = await approverWindow(ADMIN);
    const first = await h.requests.submitCode(ADMIN, window, h.bandwidth.lastCode());
    expect(text(first.json)).toContain('1 of 2');
    const replay = await h.requests.resend();
    expect(replay.text).toBe('');
    expect(h.logs.audit('replay_dropped')).toHaveLength(1);
    expect(h.logs.audit('approval_granted')).toHaveLength(1);
  });

  test('Cancel by the requester ends it; every message says so; a later Approve sends no code', async () => {
    await start();
    await ask('routine');
    await h.requests.clickInMessage(REQUESTER, status(), 'approval_cancel', { ephemeral: true });
    await h.slack.waitFor(() => text(h.slack.messagesIn(ADMIN)[0]).includes('Cancelled by'), 'the messages updated');
    await h.slack.waitFor(() => text(h.slack.responses.at(-1)?.body).includes('Cancelled by'), 'the status updated');
    // The status is replaced in place, at the response_url of the click on it.
    expect(h.slack.responses.at(-1)!.body).toMatchObject({ replace_original: true });
    expect(h.slack.responses.at(-1)!.path).toMatch(/^\/actions\//);
    expect(text(h.slack.responses.at(-1)!.body)).toContain('Cancelled by');
    const sent = h.bandwidth.sent.length;
    const [message] = h.slack.callsOf('chat.postMessage').filter((c) => c.args.channel === APPROVER);
    await h.requests.clickInMessage(
      APPROVER,
      { channel: APPROVER, ts: message!.args.__ts, blocks: message!.args.blocks },
      'approval_approve',
    );
    await h.slack.waitFor(() => text(h.slack.lastView().view).includes('This request has ended'), 'the refusal');
    expect(h.bandwidth.sent).toHaveLength(sent);
    expect(h.logs.audit('approval_cancelled')).toHaveLength(1);
  });

  test('it expires unrun at approval_minutes: the sweep updates every message and tells the requester', async () => {
    await start('approval_minutes = 5');
    await ask('routine');
    h.clock.advance(5 * 60_000);
    expect(await h.bot.sweepApprovals()).toBe(1);
    expect(text(h.slack.messagesIn(ADMIN)[0])).toContain('Expired at');
    expect(text(h.slack.responses.at(-1)!.body)).toContain('Expired at');
    expect(await h.bot.sweepApprovals()).toBe(0);
    expect(received).toHaveLength(0);
  });

  test('the requester logging out ends it unrun', async () => {
    await start();
    await ask('routine');
    await h.requests.command('/logout', REQUESTER);
    expect(await h.bot.sweepApprovals()).toBe(1);
    expect(text(h.slack.messagesIn(APPROVER)[0])).toContain('session ended before it was approved');
    const window = await approverWindow(ADMIN).catch(() => undefined);
    expect(window).toBeUndefined();
    expect(received).toHaveLength(0);
  });

  test('long text and reasons stay within Slack\u2019s limits, and a mention in the command cannot ping', async () => {
    await start();
    await logIn(h, REQUESTER);
    await h.requests.command('/deploy', REQUESTER, `<!channel> ${'x'.repeat(5000)}`);
    await h.slack.waitFor(() => h.slack.lastView().view.callback_id === 'approval_reason', 'the reason form');
    expect(viewProblems(h.slack.lastView().view)).toEqual([]);
    await h.requests.submitView(REQUESTER, h.slack.lastView(), {
      reason: { reason: { type: 'plain_text_input', value: 'y'.repeat(500) } },
      ticket: { ticket: { type: 'plain_text_input', value: '' } },
    });
    await h.slack.waitFor(() => h.slack.messagesIn(ADMIN).length > 0, 'the approvers');
    const [message] = h.slack.messagesIn(ADMIN);
    expect(viewProblems({ blocks: message!.blocks })).toEqual([]);
    expect(messageProblems(message!.text)).toEqual([]);
    expect(text(message)).not.toContain('<!channel>');
    expect(text(message)).toContain('&lt;!channel&gt;');
  });
});

describe('break glass', () => {
  test('a reason and a fresh code of the requester: it runs at once, with break_glass in the token; everyone is told', async () => {
    await start('break_glass = yes', 'security_channel = C0SECURITY');
    await ask('routine');
    expect(text(status())).toContain('approval_break_glass');
    await h.requests.clickInMessage(REQUESTER, status(), 'approval_break_glass', { ephemeral: true });
    await h.slack.waitFor(() => h.slack.lastView().view.callback_id === 'approval_break_glass', 'the break-glass form');
    const form = h.slack.lastView();
    const sent = h.bandwidth.sent.length;
    const answered = await h.requests.submitView(REQUESTER, form, {
      reason: { reason: { type: 'plain_text_input', value: 'prod is down' } },
    });
    expect(answered.json.response_action).toBe('update');
    await h.slack.waitFor(
      () => h.slack.lastView().view.callback_id === 'code_entry',
      'the requester\u2019s code entry',
    );
    expect(h.bandwidth.sent.length).toBe(sent + 1); // a fresh code, under its own scope
    expect(h.bandwidth.sent.at(-1)!.scope).toMatch(/^approval-/);
    const done = await h.requests.submitCode(REQUESTER, h.slack.lastView(), h.bandwidth.lastCode());
    expect(text(done.json)).toContain('Glass broken');
    await h.slack.waitFor(() => received.length === 1, 'the run');
    const run = received[0] as { payload: JWTPayload; body: Record<string, unknown> };
    expect(run.payload).toMatchObject({ break_glass: true, approvals: [], reason: 'prod is down' });
    expect(run.body.reason).toBe('prod is down');
    await h.slack.waitFor(() => h.slack.messagesIn('C0SECURITY').length === 1, 'the notice');
    expect(text(h.slack.messagesIn('C0SECURITY')[0])).toContain(`Break glass: <@${REQUESTER}> ran`);
    await h.slack.waitFor(() => text(h.slack.messagesIn(ADMIN)[0]).includes('broke glass'), 'the messages updated');
    expect(h.logs.audit('break_glass')).toHaveLength(1);
  });
});

describe('[policy] admin_approvals', () => {
  test('/admin link takes effect only once another admin approves with their own code; the number is masked with its region', async () => {
    keyDir = mkdtempSync(join(tmpdir(), 'phonegate-keys-'));
    h = await startBot({ env: { POLICY_ADMINS: `${ADMIN},${APPROVER}`, POLICY_ADMIN_APPROVALS: 'link' } });
    await logIn(h, ADMIN);
    await h.requests.command('/admin', ADMIN, `link <@${REQUESTER}> +1 415 555 0177`);
    await h.slack.waitFor(() => h.slack.lastView().view.callback_id === 'code_entry', 'the step-up');
    const stepped = await h.requests.submitCode(ADMIN, h.slack.lastView(), h.bandwidth.lastCode());
    expect(text(stepped.json)).toContain("needs another admin's approval");
    await h.slack.waitFor(() => h.slack.messagesIn(APPROVER).length === 1, 'the other admin asked');
    expect(h.slack.messagesIn(ADMIN)).toHaveLength(0); // not the requester
    const [message] = h.slack.messagesIn(APPROVER);
    expect(text(message)).toContain('*•••• 0177 (US)*');
    expect(text(message)).not.toMatch(/555.?0177/);
    expect(await h.bot.services.phones.phoneOf(REQUESTER)).toBe('+14155550102');

    const window = await approverWindow(APPROVER);
    await h.requests.submitCode(APPROVER, window, h.bandwidth.lastCode());
    await h.slack.waitFor(() => text(h.slack.messagesIn(APPROVER)[0]).includes('It ran.'), 'the run');
    expect(await h.bot.services.phones.phoneOf(REQUESTER)).toBe('+14155550177');
    // The admin who asked reads the result where they typed.
    expect(h.slack.responses.some((r) => String(r.body.text).startsWith('Linked the phone *•••• 0177*'))).toBe(true);
    expect(h.logs.audit('authn_phone_linked')).toEqual([
      expect.objectContaining({ userId: REQUESTER, actorId: ADMIN, outcome: 'success' }),
    ]);
  });

  test('/admin approvals lists the open requests of everyone', async () => {
    keyDir = mkdtempSync(join(tmpdir(), 'phonegate-keys-'));
    h = await startBot({ env: { POLICY_ADMINS: `${ADMIN},${APPROVER}`, POLICY_ADMIN_APPROVALS: 'revoke' } });
    await logIn(h, ADMIN);
    await h.requests.command('/admin', ADMIN, `revoke <@${REQUESTER}>`);
    await h.slack.waitFor(() => h.slack.lastView().view.callback_id === 'code_entry', 'the step-up');
    await h.requests.submitCode(ADMIN, h.slack.lastView(), h.bandwidth.lastCode());
    await h.slack.waitFor(() => h.slack.messagesIn(APPROVER).length === 1, 'the other admin asked');
    const listed = await h.requests.command('/admin', ADMIN, 'approvals');
    expect(listed.json.text).toContain('*Open approval requests* (1)');
    expect(listed.json.text).toContain(`<@${ADMIN}> \`/admin revoke\` <@${REQUESTER}>: 0 of 1 approval`);
  });
});

describe('when nobody can be asked', () => {
  test('the bot is not in approval_channel: the requester is told, the request ends, and nothing runs', async () => {
    await start('', 'approval_channel = C0APPROVE');
    h.slack.failNext('chat.postMessage', 'not_in_channel');
    await logIn(h, REQUESTER);
    await h.requests.command('/deploy', REQUESTER, 'api 1.4.2');
    await h.slack.waitFor(() => h.slack.lastView().view.callback_id === 'approval_reason', 'the reason form');
    await h.requests.submitView(REQUESTER, h.slack.lastView(), {
      reason: { reason: { type: 'plain_text_input', value: 'routine' } },
      ticket: { ticket: { type: 'plain_text_input', value: '' } },
    });
    await h.slack.waitFor(
      () => h.slack.responses.some((r) => text(r.body).includes("couldn't post")),
      'the requester told',
    );
    expect(text(h.slack.responses.at(-1)!.body)).toContain('invite it to that channel');
    expect(h.logs.audit('approval_cancelled')).toHaveLength(1);
    expect(received).toHaveLength(0);
  });
});
