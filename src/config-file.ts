/**
 * Reads config.ini the way the Python sample's `configparser` does, for the subset our keys use:
 * `[section]` headers, `key = value` or `key: value`, and whole-line comments starting with `#` or `;`.
 *
 * Why not the `ini` package: it cuts a value at the first `#` or `;` (`password = ab#cd` becomes `ab`),
 * which silently corrupts secrets that configparser reads whole. Values are taken verbatim, trimmed.
 */
export type IniSections = Record<string, Record<string, string>>;

export class IniSyntaxError extends Error {}

export function parseIni(text: string): IniSections {
  const sections: IniSections = {};
  let current: Record<string, string> | undefined;
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) return;
    const header = /^\[([^\]]+)\]$/.exec(line);
    if (header) {
      const name = header[1]!.trim().toLowerCase();
      current = sections[name] ??= {};
      return;
    }
    const delimiter = line.search(/[=:]/);
    if (delimiter <= 0) throw new IniSyntaxError(`line ${index + 1}: expected "key = value" or "[section]"`);
    if (!current) throw new IniSyntaxError(`line ${index + 1}: "${line.slice(0, delimiter).trim()}" is outside any [section]`);
    current[line.slice(0, delimiter).trim()] = line.slice(delimiter + 1).trim();
  });
  return sections;
}
