import { describe, expect, test } from 'vitest';
import { chain } from '../../../src/slack/listeners/chain.js';
import { FakeBolt } from '../../helpers/bolt-args.js';

/** Several commands share one Bolt listener; each still runs its own middleware in order, as Bolt would. */
describe('chain', () => {
  test('runs each step in order while each calls next(), with the same args and context', async () => {
    const seen: string[] = [];
    const run = chain(
      async ({ context, next }) => {
        seen.push('first');
        context.user = 'read by the first';
        await next();
        seen.push('first, after the rest');
      },
      async ({ next }) => {
        seen.push('second');
        await next();
      },
      async ({ command, context }) => {
        seen.push(`listener for ${command.user_id}, ${String(context.user)}`);
      },
    );
    await run(new FakeBolt().command('/whoami', 'U1'));
    expect(seen).toEqual(['first', 'second', 'listener for U1, read by the first', 'first, after the rest']);
  });

  test('a step that does not call next() ends the chain: the listener never runs', async () => {
    const seen: string[] = [];
    const run = chain(
      async ({ ack }) => {
        seen.push('refused');
        await ack();
      },
      async () => {
        seen.push('listener');
      },
    );
    await run(new FakeBolt().command('/whoami', 'U1'));
    expect(seen).toEqual(['refused']);
  });

  test("a step's error reaches the caller (Bolt's error handler)", async () => {
    const run = chain(
      async ({ next }) => next(),
      async () => {
        throw new Error('listener failed');
      },
    );
    await expect(run(new FakeBolt().command('/whoami', 'U1'))).rejects.toThrow('listener failed');
  });
});
