import type { App } from '@slack/bolt';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { registerCommands } from '../../../../src/slack/listeners/commands/index.js';
import { notSetUp } from '../../../../src/slack/views/declared-text.js';
import { type Core, FakeBolt, realCore } from '../../../helpers/bolt-args.js';
import { USERS } from '../../../helpers/harness.js';

let core: Core;
beforeEach(async () => {
  core = await realCore();
});
afterEach(() => core.close());

type Listener = (args: unknown) => Promise<void>;

/** What registerCommands hands Bolt: one command listener, for every name. */
function registered(): Array<{ name: unknown; listeners: Listener[] }> {
  const calls: Array<{ name: unknown; listeners: Listener[] }> = [];
  const app = { command: (name: unknown, ...listeners: never[]) => calls.push({ name, listeners }) };
  registerCommands(app as unknown as App, core.s);
  return calls;
}

/** The one command listener registered. */
const commandListener = (): Listener => registered()[0]!.listeners[0]!;

describe('registerCommands', () => {
  // Bolt runs every registered listener's matchers on every request: one registration for all commands.
  test('registers one listener, for every command name', () => {
    const calls = registered();
    expect(calls).toHaveLength(1);
    expect(calls[0]!.name).toEqual(/.*/);
    expect(calls[0]!.listeners).toHaveLength(1);
  });

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
