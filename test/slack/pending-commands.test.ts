import { afterEach, describe, expect, test } from 'vitest';
import { PendingCommands } from '../../src/slack/pending-commands.js';
import { type CoreFixture, coreFixture } from '../helpers/core-fixture.js';

/** Invariant 11: a pending step-up command is bound to the one window that shows it. */

let f: CoreFixture;
afterEach(async () => {
  await f?.store.close().catch(() => {});
});

const revoke = { command: { kind: 'revoke' as const, target: 'U0BOB0001' }, text: 'revoke <@U0BOB0001>' };
const unlink = { command: { kind: 'unlink' as const, target: 'U0CAROL01' }, text: 'unlink <@U0CAROL01>' };

describe('PendingCommands', () => {
  test('a window takes only its own command, once; a replaced window takes nothing and learns what replaced it', async () => {
    f = await coreFixture();
    const pending = new PendingCommands(f.store.kv);
    const first = await pending.keep('request-1', revoke);
    expect(await pending.replacedFor('request-1', first)).toBeUndefined();
    // A second command typed while the request is open: the first window is replaced.
    const second = await pending.keep('request-1', unlink);
    expect(second).not.toBe(first);
    expect(await pending.replacedFor('request-1', first)).toMatchObject({ text: unlink.text });
    // The code granted in the first window (the replacement came while it was being checked): nothing runs.
    expect(await pending.take('request-1', first)).toMatchObject({ kind: 'replaced', by: { text: unlink.text } });
    // The second window's command stays, and is taken once.
    expect(await pending.take('request-1', second)).toMatchObject({ kind: 'taken', pending: { text: unlink.text } });
    expect(await pending.take('request-1', second)).toEqual({ kind: 'none' });
  });
});
