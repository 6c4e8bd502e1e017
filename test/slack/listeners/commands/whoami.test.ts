import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { whoami } from '../../../../src/slack/listeners/commands/whoami.js';
import { gate } from '../../../../src/slack/middleware/gate.js';
import { unavailable } from '../../../../src/slack/views/text.js';
import { type Core, FakeBolt, realCore } from '../../../helpers/bolt-args.js';
import { PHONES, USERS } from '../../../helpers/harness.js';

let core: Core;
beforeEach(async () => {
  core = await realCore();
});
afterEach(() => core.close());

describe('/whoami', () => {
  // Rule: only the user sees it; the phone is masked; the scopes and method are the server's.
  test('answers in the ack, only to the user, with the masked phone, the method and the live scopes', async () => {
    await core.s.sessions.grant(USERS.bob, 'login', await core.s.sessions.epoch(USERS.bob), ['sms']);
    await core.s.sessions.rememberDelivery(USERS.bob, 'sms');
    const slack = new FakeBolt();
    await whoami(core.s)(slack.command('/whoami', USERS.bob));
    expect(slack.acks).toHaveLength(1);
    const reply = slack.acks[0] as { response_type: string; text: string };
    expect(reply.response_type).toBe('ephemeral');
    expect(reply.text).toContain(`<@${USERS.bob}>`);
    expect(reply.text).toContain('•••• 0102');
    expect(reply.text).not.toContain(PHONES.bob);
    expect(reply.text).toContain('text message');
    expect(reply.text).toMatch(/`login` \(12 h left\)/);
    expect(reply.text).not.toContain('`admin`');
    expect(slack.calls).toEqual([]);
  });

  // Rule: behind the gate, /whoami shows what the gate read and reads the store no more.
  test("behind the gate: answers from the gate's read, even if the store fails after it", async () => {
    await core.s.sessions.grant(USERS.bob, 'login', await core.s.sessions.epoch(USERS.bob), ['sms']);
    const slack = new FakeBolt();
    const args = slack.command('/whoami', USERS.bob);
    await gate('login', core.s)(args);
    await core.store.close();
    await whoami(core.s)(args);
    expect(slack.acks).toHaveLength(1);
    expect((slack.acks[0] as { text: string }).text).toContain('•••• 0102');
  });

  // Rule: a context.user for someone else is never shown: the command reads its own user's state.
  test('a gate read for another user is not used', async () => {
    const slack = new FakeBolt();
    const args = slack.command('/whoami', USERS.bob);
    args.context.user = await core.s.sessions.userState(USERS.carol, core.s.phones);
    await whoami(core.s)(args);
    const text = (slack.acks[0] as { text: string }).text;
    expect(text).toContain('•••• 0102');
    expect(text).not.toContain('0103');
  });

  test('when the store fails: the plain "try again"', async () => {
    await core.store.close();
    const slack = new FakeBolt();
    await whoami(core.s)(slack.command('/whoami', USERS.bob));
    expect(slack.acks).toEqual([{ response_type: 'ephemeral', text: unavailable }]);
  });
});
