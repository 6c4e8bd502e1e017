import type { App } from '@slack/bolt';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { routeCommands } from '../../../../src/slack/listeners/commands/index.js';
import { registerListeners } from '../../../../src/slack/listeners/index.js';
import { notSetUp } from '../../../../src/slack/views/declared-text.js';
import { type Core, FakeBolt, realCore } from '../../../helpers/bolt-args.js';
import { USERS } from '../../../helpers/harness.js';

let core: Core;
beforeEach(async () => {
  core = await realCore();
});
afterEach(() => core.close());

type Listener = (args: unknown) => Promise<void>;

/** The command router, as the app's one global middleware calls it. */
const commandListener = (): Listener => routeCommands(core.s) as Listener;

describe('registerListeners', () => {
  // Bolt runs every listener's chain on every request: the app registers no listener, one router.
  test('registers one global middleware and no Bolt listener', () => {
    const calls: string[] = [];
    const record =
      (method: string) =>
      (..._args: unknown[]) =>
        calls.push(method);
    const app = Object.fromEntries(
      ['use', 'command', 'view', 'action', 'event', 'shortcut', 'options'].map((m) => [m, record(m)]),
    );
    registerListeners(app as unknown as App, core.s);
    expect(calls).toEqual(['use']);
  });
});

describe('routeCommands', () => {
  test('routes by name, each command behind its own chain: /whoami without a login meets the gate', async () => {
    const listener = commandListener();
    const slack = new FakeBolt();
    await listener(slack.command('/whoami', USERS.bob));
    expect(slack.acks).toHaveLength(1);
    expect(JSON.stringify(slack.acks[0])).toContain('/login');

    await core.s.sessions.grant(USERS.bob, 'login', await core.s.sessions.epoch(USERS.bob), ['sms']);
    const again = new FakeBolt();
    await listener(again.command('/whoami', USERS.bob));
    expect(JSON.stringify(again.acks[0])).toContain('•••• 0102');
  });

  test('a command nobody declared gets "not set up here", and nothing else runs', async () => {
    const slack = new FakeBolt();
    await commandListener()(slack.command('/nope', USERS.bob));
    expect(slack.acks).toEqual([{ response_type: 'ephemeral', text: notSetUp('/nope') }]);
    expect(slack.calls).toEqual([]);
  });
});
