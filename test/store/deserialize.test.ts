import Keyv from 'keyv';
import { describe, expect, test } from 'vitest';
import { skipUnneededReviver } from '../../src/store/deserialize.js';

/**
 * The store's deserializer gives what keyv's own gives, for every text: plain JSON.parse only where no
 * string starts with ':' (keyv's escape for such strings and for Buffers).
 */
const keyv = new Keyv();
const escaped = keyv.deserialize!;
const fast = skipUnneededReviver(escaped);
const serialize = (value: unknown) => keyv.serialize!({ value, expires: 1_765_000_000_000 }) as string;

describe('skipUnneededReviver', () => {
  // Values as the app writes them, and every shape that keyv escapes, at each place a string can open.
  const values: unknown[] = [
    { grantedAt: 1, expiresAt: 2, epoch: '0', methods: ['sms', 'voice'] },
    { delivery: 'sms', epoch: 'b0c3' },
    'plain',
    ':starts with a colon',
    '::two colons',
    ':base64:not really base64',
    Buffer.from('a buffer'),
    ['a', ':b', { c: ':d' }],
    { ':key': 'a key with a colon is not escaped', n: [1, ':x'] },
    { nested: { deeper: [':y', Buffer.from([0, 1, 2])] } },
    { text: 'a colon later: "quoted": fine', list: ['x:y', 'z'] },
    null,
    0,
    '',
  ];
  test.each(values.map((value) => [serialize(value)]))('%s', (text) => {
    expect(fast(text)).toEqual(escaped(text));
  });

  // Text keyv did not write (another writer, or by hand): whitespace and \u003a spell the same strings.
  test.each([
    '{"value": ":spaced"}',
    '{"value":[ ":in an array"]}',
    '{"value":"\\u003aescaped colon"}',
    '{"value":"\\u003Aupper case"}',
    '":top level"',
    '  ":top level after spaces"',
    '{"value":{"a":1,"b":"\\u003abase64:YQ=="}}',
  ])('%s', (text) => {
    expect(fast(text)).toEqual(escaped(text));
  });

  test('colon strings are unescaped (the slow path runs), plain ones are as stored', () => {
    expect(fast(serialize(':x'))).toEqual({ value: ':x', expires: 1_765_000_000_000 });
    expect(fast(serialize(Buffer.from('hi')))).toEqual({ value: Buffer.from('hi'), expires: 1_765_000_000_000 });
    expect(fast(serialize({ a: 'b' }))).toEqual({ value: { a: 'b' }, expires: 1_765_000_000_000 });
  });
});
