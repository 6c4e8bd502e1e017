import { describe, expect, test } from 'vitest';
import { codeMessage } from '../../src/bandwidth/message.js';

describe('the text sent with a code', () => {
  test('names the scope in words, carries {CODE} and the lifetime, and never the raw scope placeholder', () => {
    const text = codeMessage('PhoneGate', 'admin', 5);
    expect(text).toBe('Your PhoneGate admin code is {CODE}. It expires in 5 minutes. Do not share it.');
    expect(text).not.toContain('{SCOPE}');
    expect(text.length).toBeLessThanOrEqual(2048); // Bandwidth's maxLength for `message`
  });
});
