import { describe, expect, test } from 'vitest';
import { IniSyntaxError, parseIni } from '../src/config-file.js';

/** Runs parseIni and returns the IniSyntaxError it throws (fails the test if it does not throw one). */
function syntaxError(text: string): IniSyntaxError {
  try {
    parseIni(text);
  } catch (e) {
    expect(e).toBeInstanceOf(IniSyntaxError);
    return e as IniSyntaxError;
  }
  throw new Error('expected parseIni to throw an IniSyntaxError');
}

describe('parseIni: sections and keys', () => {
  // Rule: each [section] collects the key/value lines under it, and sections do not mix.
  test('keys land in the section above them', () => {
    const ini = parseIni(['[bandwidth]', 'account_id = 9900000', '[numbers]', 'from_number = +15551230000'].join('\n'));
    expect(ini).toEqual({ bandwidth: { account_id: '9900000' }, numbers: { from_number: '+15551230000' } });
  });

  // Rule: both configparser delimiters work, `key = value` and `key: value`, with or without spaces.
  test('"=" and ":" are both delimiters', () => {
    const ini = parseIni('[s]\na = 1\nb: 2\nc=3\nd:4\n');
    expect(ini.s).toEqual({ a: '1', b: '2', c: '3', d: '4' });
  });

  // Rule: only the FIRST delimiter splits; later "=" or ":" belong to the value (URLs, base64 padding).
  test('the first delimiter splits, later ones stay in the value', () => {
    const ini = parseIni('[s]\nurl = redis://cache:6379/0\nsecret: YWJj==\nodd = a=b:c\n');
    expect(ini.s).toEqual({ url: 'redis://cache:6379/0', secret: 'YWJj==', odd: 'a=b:c' });
  });

  // Rule: keys and values are trimmed; an empty value is the empty string, not missing.
  test('whitespace around keys and values is trimmed, empty values are ""', () => {
    const ini = parseIni('[s]\n   key   =   spaced value   \nempty =\n');
    expect(ini.s).toEqual({ key: 'spaced value', empty: '' });
  });

  // Rule: section names are trimmed and lower-cased, so [Bandwidth] and [ bandwidth ] are the same section.
  test('section names are trimmed and case-insensitive, and a repeated section merges', () => {
    const ini = parseIni('[Bandwidth]\na = 1\n[ bandwidth ]\nb = 2\n');
    expect(ini).toEqual({ bandwidth: { a: '1', b: '2' } });
  });

  // Rule: key case is kept, because [phones] keys are Slack user ids (U012ABCDEF) whose case matters.
  test('key case is preserved', () => {
    expect(parseIni('[phones]\nU012ABCDEF = +15551234567\n').phones).toEqual({ U012ABCDEF: '+15551234567' });
  });

  // Rule: an empty section still appears, so callers can tell "present but empty" from "absent".
  test('an empty section is present as {}', () => {
    expect(parseIni('[store]\n')).toEqual({ store: {} });
  });

  // Rule: Windows line endings are accepted and do not leak "\r" into values.
  test('CRLF line endings are handled', () => {
    expect(parseIni('[s]\r\na = 1\r\nb = two\r\n').s).toEqual({ a: '1', b: 'two' });
  });

  // Rule: empty text is an empty config, not an error.
  test('empty text gives no sections', () => {
    expect(parseIni('')).toEqual({});
  });
});

describe('parseIni: comments and values kept whole', () => {
  // Rule: whole lines starting with "#" or ";" (after indentation) are comments and are skipped.
  test('"#" and ";" comment lines are ignored', () => {
    const ini = parseIni(
      ['# top comment', '[s]', '; semicolon comment', '   # indented comment', 'a = 1', '\t; tabbed comment'].join(
        '\n',
      ),
    );
    expect(ini).toEqual({ s: { a: '1' } });
  });

  // Rule: "#" and ";" inside a value are NOT comments: a password like ab#cd;ef stays intact (the `ini` package would cut it).
  test('a value containing # and ; is kept whole', () => {
    const ini = parseIni('[bandwidth]\napi_password = ab#cd;ef\nclient_secret: x ; y # z\n');
    expect(ini.bandwidth!.api_password).toBe('ab#cd;ef');
    expect(ini.bandwidth!.client_secret).toBe('x ; y # z');
  });

  // Rule: a commented-out key (as in config.ini.default) is absent, not set to its example value.
  test('a commented-out key is absent', () => {
    const ini = parseIni('[policy]\n; code_digits = 6\n# port = 3000\n');
    expect(ini.policy).toEqual({});
    expect(ini.policy).not.toHaveProperty('code_digits');
  });
});

describe('parseIni: syntax errors name the line', () => {
  // Rule: a key before any [section] is an IniSyntaxError naming the line and the key.
  test('a key outside any section', () => {
    const error = syntaxError('# comment\n\naccount_id = 1\n[bandwidth]\n');
    expect(error.message).toBe('line 3: "account_id" is outside any [section]');
  });

  // Rule: a line that is neither a header, a comment nor key/value is an IniSyntaxError naming its line number.
  test('a line without a delimiter', () => {
    const error = syntaxError('[s]\na = 1\njust some words\n');
    expect(error.message).toMatch(/^line 3: /);
    expect(error.message).toContain('expected "key = value" or "[section]"');
  });

  // Rule: a line that starts with the delimiter (no key) is malformed.
  test.each([
    ['= value', 2],
    [': value', 2],
  ])('a line with no key (%s)', (line, lineNumber) => {
    expect(syntaxError(`[s]\n${line}\n`).message).toMatch(new RegExp(`^line ${lineNumber}: expected`));
  });

  // Rule: an unclosed or empty section header is malformed, not silently ignored.
  test.each(['[bandwidth', '[]'])('a broken header %s', (header) => {
    expect(syntaxError(`[s]\na = 1\n${header}\nb = 2\n`).message).toMatch(/^line 3: /);
  });

  // Rule: line numbers count CRLF lines correctly too.
  test('line numbers are right with CRLF endings', () => {
    expect(syntaxError('[s]\r\na = 1\r\n\r\nbroken\r\n').message).toMatch(/^line 4: /);
  });
});

describe('configparser compatibility', () => {
  // Rule: like configparser, keys are case-insensitive, except Slack user ids in [phones].
  test('keys are lower-cased outside [phones]', () => {
    expect(parseIni('[Policy]\nCode_Digits = 8\n[phones]\nU0ABC = +14155550123\n')).toEqual({
      policy: { code_digits: '8' },
      phones: { U0ABC: '+14155550123' },
    });
  });

  // Rule: like configparser (strict), a key set twice in a section is an error, not a silent overwrite.
  test('a duplicate key is an error naming the line', () => {
    expect(() => parseIni('[bandwidth]\napi_user = a\nAPI_USER = b\n')).toThrow(
      'line 3: "api_user" is set twice in [bandwidth]',
    );
  });
});
