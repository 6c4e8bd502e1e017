import nock from 'nock';
import { afterAll, afterEach, beforeEach, describe, expect, test } from 'vitest';
import { logIn, openCodeEntry, PHONES, removeTempDirs, startBot, USERS, type Harness } from '../helpers/harness.js';

let h: Harness;
beforeEach(async () => {
  h = await startBot();
});
afterEach(async () => {
  await h.stop();
});
afterAll(() => {
  removeTempDirs();
  nock.restore();
});

describe('/login by SMS, end to end', () => {
  test('command -> delivery modal -> code sent -> code entry -> logged in -> /whoami works', async () => {
    const ack = await h.requests.command('/login', USERS.alice);
    expect(ack.status).toBe(200);
    expect(ack.text).toBe('');

    await h.slack.waitFor((calls) => calls.some((c) => c.method === 'views.open'));
    const choice = h.slack.lastView();
    expect(choice.view.callback_id).toBe('delivery_choice');
    expect(JSON.stringify(choice.view)).toContain('•••• 0101');
    expect(JSON.stringify(choice.view)).not.toContain(PHONES.alice);

    const chosen = await h.requests.chooseDelivery(USERS.alice, choice, 'sms');
    expect(chosen.json.response_action).toBe('update');
    expect(JSON.stringify(chosen.json.view)).toContain('Sending a code');

    await h.slack.waitFor(() => h.slack.lastView().view.callback_id === 'code_entry');
    const entry = h.slack.lastView();
    expect(entry.id).toBe(choice.id);

    expect(h.bandwidth.sent).toHaveLength(1);
    const sent = h.bandwidth.sent[0]!;
    expect(sent).toMatchObject({ channel: 'messaging', to: PHONES.alice, from: '+14155550100', applicationId: 'messaging-app-0001', scope: 'login', digits: 6 });
    expect(sent.message).toContain('{CODE}');
    expect(sent.message).toContain('PhoneGate');
    expect(sent.message).toContain('login');

    const verified = await h.requests.submitCode(USERS.alice, entry, sent.code);
    expect(verified.json.response_action).toBe('update');
    expect(JSON.stringify(verified.json.view)).toContain("You're logged in for 12 h");
    expect(h.bandwidth.verifies).toEqual([expect.objectContaining({ to: PHONES.alice, scope: 'login', code: sent.code, valid: true })]);

    const whoami = await h.requests.command('/whoami', USERS.alice);
    expect(whoami.json.response_type).toBe('ephemeral');
    expect(whoami.json.text).toContain('•••• 0101');
    expect(whoami.json.text).toContain('text message');
    expect(whoami.json.text).toContain('`login` (12 h left)');
    expect(h.bandwidth.badRequests).toEqual([]);
  });

  test('voice: the voice endpoint with the voice application id', async () => {
    await logIn(h, USERS.bob, 'voice');
    expect(h.bandwidth.sent[0]).toMatchObject({ channel: 'voice', applicationId: 'voice-app-0001', to: PHONES.bob, scope: 'login' });
  });
});
