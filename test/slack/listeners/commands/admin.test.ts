import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import type { Actor } from '../../../../src/core/admin.js';
import { USAGE } from '../../../../src/slack/input/admin-command.js';
import { admin } from '../../../../src/slack/listeners/commands/admin.js';
import { help } from '../../../../src/slack/views/admin-text.js';
import { unavailable } from '../../../../src/slack/views/text.js';
import { type Core, FakeBolt, realCore, textOf } from '../../../helpers/bolt-args.js';
import { USERS } from '../../../helpers/harness.js';

/** /admin behind its middleware (adminsOnly and the login gate are tested in middleware/gate.test.ts). Alice is the admin. */

let core: Core;
afterEach(() => core.close());

async function grant(userId: string, scope: 'login' | 'admin'): Promise<void> {
  await core.s.sessions.grant(userId, scope, await core.s.sessions.epoch(userId), ['sms']);
}

const REVOKE_BOB = `revoke <@${USERS.bob}|bob>`;

describe('/admin', () => {
  beforeEach(async () => {
    core = await realCore();
    await grant(USERS.alice, 'login');
    await grant(USERS.bob, 'login');
  });

  // Rule: help and bad arguments are answered at once, with no code sent and nothing opened.
  test('help and usage are answered in the ack; no step-up starts', async () => {
    const slack = new FakeBolt();
    await admin(core.s)(slack.command('/admin', USERS.alice, ''));
    await admin(core.s)(slack.command('/admin', USERS.alice, 'revoke'));
    expect(slack.acks).toEqual([
      { response_type: 'ephemeral', text: help() },
      { response_type: 'ephemeral', text: expect.stringContaining(USAGE.revoke) },
    ]);
    expect(slack.calls).toEqual([]);
    expect(core.provider.sent).toHaveLength(0);
  });

  // Rule: without a live admin scope the command is kept server-side, by request id, and does not run yet.
  test('without the admin scope: a step-up window opens and the parsed command waits, not run', async () => {
    const slack = new FakeBolt();
    await admin(core.s)(slack.command('/admin', USERS.alice, REVOKE_BOB, 'https://hooks.slack.invalid/x'));
    expect(slack.acks).toEqual([undefined]);
    const [opened] = slack.of('views.open');
    expect(opened.view).toMatchObject({ callback_id: 'delivery_choice', title: { text: 'Admin step-up' } });
    // The window shows the command its code runs; what runs is kept on the server, bound to this window.
    expect(textOf(opened.view)).toContain(`This code runs \`/admin revoke\` <@${USERS.bob}>`);
    const { requestId, windowId } = JSON.parse(opened.view.private_metadata);
    expect(await core.s.requests.describe(USERS.alice, requestId)).toMatchObject({
      ok: true,
      request: { scope: 'admin' },
    });
    expect(await core.s.sessions.isLive(USERS.bob, 'login')).toBe(true);
    expect(await core.s.pending.take(requestId, windowId)).toMatchObject({
      kind: 'taken',
      pending: {
        command: { kind: 'revoke', target: USERS.bob },
        text: REVOKE_BOB,
        responseUrl: 'https://hooks.slack.invalid/x',
      },
    });
  });

  test('with a live admin scope: runs now and answers in the ack', async () => {
    await grant(USERS.alice, 'admin');
    const slack = new FakeBolt();
    await admin(core.s)(slack.command('/admin', USERS.alice, REVOKE_BOB));
    expect(slack.acks).toEqual([
      { response_type: 'ephemeral', text: expect.stringContaining(`Ended <@${USERS.bob}>'s session (login)`) },
    ]);
    expect(slack.calls).toEqual([]);
    expect(await core.s.sessions.isLive(USERS.bob, 'login')).toBe(false);
    expect(core.logs.audit('authn_session_revoked')).toMatchObject([
      { userId: USERS.bob, actorId: USERS.alice, outcome: 'success' },
    ]);
  });

  test('an admin with no phone cannot step up: says why in the ack', async () => {
    await core.s.phones.link(USERS.alice, null, USERS.alice, core.clock.now());
    const slack = new FakeBolt();
    await admin(core.s)(slack.command('/admin', USERS.alice, REVOKE_BOB));
    expect(slack.acks).toEqual([{ response_type: 'ephemeral', text: expect.stringContaining('No phone is linked') }]);
    expect(slack.calls).toEqual([]);
  });

  test('when the store fails: the plain "try again", nothing opened', async () => {
    await core.store.close();
    const slack = new FakeBolt();
    await admin(core.s)(slack.command('/admin', USERS.alice, REVOKE_BOB));
    expect(slack.acks).toEqual([{ response_type: 'ephemeral', text: unavailable }]);
    expect(slack.calls).toEqual([]);
  });
});

describe('/admin past the Slack deadline', () => {
  // Rule: slow work is acknowledged empty in time, and the reply goes to the response_url when it is ready.
  test('an empty ack first, then the reply by respond()', async () => {
    core = await realCore({ slackDeadlineMs: 10 });
    await grant(USERS.alice, 'admin');
    await grant(USERS.bob, 'login');
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    // The real admin actions, made slow: revoke waits until the test has seen the ack.
    const real = core.s.admin;
    const slowAdmin = Object.assign(Object.create(real), {
      revoke: async (actor: Actor, target: string) => {
        await held;
        return real.revoke(actor, target);
      },
    });
    const slack = new FakeBolt();
    const running = admin({ ...core.s, admin: slowAdmin })(slack.command('/admin', USERS.alice, REVOKE_BOB));
    await vi.waitFor(() => expect(slack.acks).toHaveLength(1));
    expect(slack.acks).toEqual([undefined]);
    expect(slack.responds).toEqual([]);
    release();
    await running;
    expect(slack.responds).toEqual([
      { response_type: 'ephemeral', text: expect.stringContaining(`Ended <@${USERS.bob}>'s session`) },
    ]);
    expect(await core.s.sessions.isLive(USERS.bob, 'login')).toBe(false);
  });
});
