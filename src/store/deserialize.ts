import type { Deserialize } from 'keyv';

/**
 * Where a JSON string whose first character is `:` may begin: keyv's serializer writes such strings
 * escaped (`::text`, and a Buffer as `:base64:<data>`), and its deserializer undoes that with a
 * reviver called on every value. A string opens after `[`, `,`, `:` or at the start of the text, and
 * a `:` as its first character is written `:` or `\u003a` (JSON has no other spelling of it). Text
 * with no such place holds no such string. (A key after `,` matches too: the slow path, same result.)
 */
const COLON_STRING = /(?:^|[[,:])\s*"(?::|\\u003[aA])/;

/**
 * keyv's deserializer (`escaped`), skipped for plain JSON.parse where no string needs unescaping: the
 * same value for every text at about a third of the cost. The gate's read parses a handful per command.
 */
export function skipUnneededReviver(escaped: Deserialize): Deserialize {
  return (text) => (COLON_STRING.test(text) ? escaped(text) : JSON.parse(text));
}
