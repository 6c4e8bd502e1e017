/**
 * Reads config.ini the way the Python sample's `configparser` does, for the subset our keys use:
 * `[section]` headers, `key = value` or `key: value`, whole-line comments starting with `#` or `;`,
 * keys case-insensitive (except Slack user ids in [phones]), and a key set twice is an error.
 *
 * Why not the `ini` package: it cuts a value at the first `#` or `;` (`password = ab#cd` becomes `ab`),
 * which silently corrupts secrets that configparser reads whole. Values are taken verbatim, trimmed.
 */
export type IniSections = Record<string, Record<string, string>>;

export class IniSyntaxError extends Error {}

export function parseIni(text: string): IniSections {
  const sections: IniSections = {};
  let current: Record<string, string> | undefined;
  let section = '';
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) return;
    const header = /^\[([^\]]+)\]$/.exec(line);
    if (header) {
      section = header[1]!.trim().toLowerCase();
      current = sections[section] ??= {};
      return;
    }
    const delimiter = line.search(/[=:]/);
    if (delimiter <= 0) throw new IniSyntaxError(`line ${index + 1}: expected "key = value" or "[section]"`);
    const rawKey = line.slice(0, delimiter).trim();
    if (!current) throw new IniSyntaxError(`line ${index + 1}: "${rawKey}" is outside any [section]`);
    // configparser lower-cases keys; [phones] keys are Slack user ids, whose case matters.
    const key = section === 'phones' ? rawKey : rawKey.toLowerCase();
    if (key in current) throw new IniSyntaxError(`line ${index + 1}: "${key}" is set twice in [${section}]`);
    current[key] = line.slice(delimiter + 1).trim();
  });
  return sections;
}
