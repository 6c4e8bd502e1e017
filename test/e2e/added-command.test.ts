import { describe, expect, test } from 'vitest';
import type { Services } from '../../src/services.js';
import type { CommandArgs } from '../../src/slack/listeners/args.js';
import { gate, gatedUser } from '../../src/slack/middleware/gate.js';
import { botsPerTest, type Harness, logIn, USERS } from '../helpers/harness.js';

/**
 * README, "Adding a gated command in code", followed word for word: a listener of the services, passed to
 * compose() as `commands` with the gate in front, sent through the real receiver signed as Slack signs.
 */

const bot = botsPerTest();
let h: Harness | undefined;

/** The listener the README describes: a function of the services returning a Bolt command listener that acks. */
const ran: Array<{ userId: string; text: string; gateRead: string | undefined }> = [];
function deploy(_s: Services) {
  return async ({ ack, command, context }: CommandArgs): Promise<void> => {
    ran.push({ userId: command.user_id, text: command.text, gateRead: gatedUser(context)?.userId });
    await ack(`Deploying ${command.text}`);
  };
}

describe('a command added in code (issue 19)', () => {
  // Rule: the command joins the router: the gate refuses without a login, and the listener runs with one.
  test('`commands: (s) => ({ "/deploy": [gate("login", s), deploy(s)] })`: the gate, then the listener', async () => {
    h = await bot({ commands: (s) => ({ '/deploy': [gate('login', s), deploy(s)] }) });
    ran.length = 0;

    const refused = await h.requests.command('/deploy', USERS.bob, 'api 1.4.2');
    expect(refused.status).toBe(200);
    expect(refused.json?.text).toBe(
      "`/deploy` needs you to log in first. Run `/login` and I'll send a code to your phone.",
    );
    expect(ran).toEqual([]);

    await logIn(h, USERS.bob);
    const answered = await h.requests.command('/deploy', USERS.bob, 'api 1.4.2');
    expect(answered.status).toBe(200);
    expect(answered.text).toBe('Deploying api 1.4.2');
    // The listener ran once, with what the gate read about the user.
    expect(ran).toEqual([{ userId: USERS.bob, text: 'api 1.4.2', gateRead: USERS.bob }]);

    // A command nobody added is still "not set up here".
    expect((await h.requests.command('/unknown', USERS.bob)).json?.text).toContain('not set up');
  });

  // Rule: a name already taken (built in, or declared in config.ini) is refused at start, not silently shadowed.
  test('a name that is built in stops start-up', async () => {
    await expect(bot({ commands: (s) => ({ '/login': [gate('login', s), deploy(s)] }) })).rejects.toThrow(
      '/login is built in or declared in config.ini: add it under another name',
    );
  });
});
