import { describe, expect, test } from 'vitest';
import { chosenDelivery, typedCode, windowOf } from '../../../src/slack/input/view-state.js';
import { requestMetadata } from '../../../src/slack/views/modals.js';
import { picked, typed } from '../../helpers/bolt-args.js';

/** What a submitted window carries back: read defensively, since the client can send anything. */

describe('windowOf (the request id)', () => {
  test('reads back what requestMetadata wrote', () => {
    expect(windowOf(requestMetadata('abc')).requestId).toBe('abc');
  });

  // Rule: anything else gives no id (which can only make the step fail), never a throw.
  test('garbage gives no id', () => {
    for (const junk of [undefined, '', '{', 'null', '[]', '{"requestId":7}', '"req-0001"'])
      expect(windowOf(junk).requestId).toBe('');
  });
});

describe('chosenDelivery and typedCode', () => {
  test('a valid method, or none', () => {
    expect(chosenDelivery({ state: { values: picked('voice') } })).toBe('voice');
    expect(chosenDelivery({ state: { values: picked('sms') } })).toBe('sms');
    expect(chosenDelivery({ state: { values: picked('fax') } })).toBeUndefined();
    expect(chosenDelivery({ state: { values: picked() } })).toBeUndefined();
    expect(chosenDelivery({ state: { values: {} } })).toBeUndefined();
  });

  test('the code as typed, or empty', () => {
    expect(typedCode({ state: { values: typed(' 123 456 ') } })).toBe(' 123 456 ');
    expect(typedCode({ state: { values: { code: { code: { value: null } } } } })).toBe('');
    expect(typedCode({ state: { values: {} } })).toBe('');
  });
});
