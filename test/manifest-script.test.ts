import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv } from 'ajv';
import { describe, expect, test } from 'vitest';
import { parseDocument } from 'yaml';
// @ts-expect-error: a plain .mjs script, without types
import { manifestYaml } from '../scripts/manifest.mjs';
import { declaredCommandsOf } from '../src/config.js';
import { cleanEnv, ROOT } from './helpers/process.js';

/** `npm run manifest`: the built-in and the declared commands, for Socket Mode and HTTP mode, valid against Slack's schema. */

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));
const render = manifestYaml as (options?: { commands?: unknown[]; http?: string }) => string;

const ajv = new Ajv({ strict: false, allErrors: true, logger: false });
ajv.addFormat('uri', (value: string) => URL.canParse(value));
ajv.addKeyword({
  keyword: 'regex',
  type: 'string',
  schemaType: 'string',
  validate: (pattern: string, data: string) => new RegExp(pattern).test(data),
});
const validate = ajv.compile(
  JSON.parse(readFileSync(here('./fixtures/slack-manifest-schema/manifest.schema.1.0.0.json'), 'utf8')) as object,
);

function parse(text: string): any {
  const doc = parseDocument(text);
  expect(doc.errors).toEqual([]);
  expect(doc.warnings).toEqual([]);
  return doc.toJS();
}
function errorsOf(manifest: unknown) {
  validate(manifest);
  return (validate.errors ?? []).map(({ instancePath, keyword }) => ({ instancePath, keyword }));
}

const CONFIG = `
[command /deploy]
url = https://deploy.internal.example/hooks/phonegate
scope = admin
description = Deploy a service to production: "quoted", #hash, key: value
usage = <service> <version>

[command /rotate-keys]
url = https://ops.example/rotate
`;
const commands = declaredCommandsOf({ fileText: CONFIG });

describe('the manifest the script prints', () => {
  test('with no declared command, it is manifest.yml as shipped', () => {
    expect(render()).toBe(readFileSync(here('../manifest.yml'), 'utf8'));
  });

  test('Socket Mode: the declared commands follow the built-in ones, with their descriptions and usage hints; valid', () => {
    const manifest = parse(render({ commands }));
    expect(manifest.features.slash_commands.map((c: { command: string }) => c.command)).toEqual([
      '/login',
      '/logout',
      '/whoami',
      '/admin',
      '/deploy',
      '/rotate-keys',
    ]);
    expect(manifest.features.slash_commands.slice(4)).toEqual([
      {
        command: '/deploy',
        description: 'Deploy a service to production: "quoted", #hash, key: value',
        usage_hint: '<service> <version>',
        should_escape: false,
      },
      {
        command: '/rotate-keys',
        description: 'Runs /rotate-keys once PhoneGate has checked your phone',
        should_escape: false,
      },
    ]);
    expect(manifest.settings.socket_mode_enabled).toBe(true);
    expect(JSON.stringify(manifest)).not.toContain('url');
    expect(errorsOf(manifest)).toEqual([]);
  });

  test('HTTP mode: every command, the events and interactivity post to /slack/events; valid', () => {
    const manifest = parse(render({ commands, http: 'https://phonegate.example.com/' }));
    const events = 'https://phonegate.example.com/slack/events';
    expect(manifest.features.slash_commands.map((c: { url?: string }) => c.url)).toEqual(Array(6).fill(events));
    expect(manifest.settings).toMatchObject({
      socket_mode_enabled: false,
      event_subscriptions: { request_url: events },
      interactivity: { is_enabled: true, request_url: events },
    });
    expect(errorsOf(manifest)).toEqual([]);
  });

  test("the validator can fail: a description over Slack's limit is caught by the config first", () => {
    expect(() =>
      declaredCommandsOf({ fileText: `[command /x]\nurl = https://x.example\ndescription = ${'d'.repeat(2001)}` }),
    ).toThrow(/\[command \/x\] description: must be at most 2000 characters/);
    const tooLong = parse(render({ commands: [{ name: '/x', description: 'd'.repeat(2001) }] }));
    expect(errorsOf(tooLong)).toEqual([
      { instancePath: '/features/slash_commands/4/description', keyword: 'maxLength' },
    ]);
  });
});

describe('the command line (issue 19)', () => {
  const script = here('../scripts/manifest.mjs');
  const run = (...args: string[]) =>
    spawnSync(process.execPath, [script, ...args], { encoding: 'utf8', env: cleanEnv() });

  // Rule: a mistake in the command line is one line on stderr and exit 2; nothing is printed or written.
  test.each([
    [
      ['--http', 'phonegate.example.com'],
      'manifest: --http needs your public URL, like --http https://phonegate.example.com',
    ],
    [['--http'], 'manifest: --http needs your public URL, like --http https://phonegate.example.com'],
    [
      ['--http', 'http://phonegate.example.com'],
      'manifest: --http needs an https:// URL: Slack sends commands and events only to HTTPS request URLs',
    ],
    [
      ['--htp', 'https://phonegate.example.com'],
      'manifest: unknown option --htp: the options are --http https://YOUR_HOST and --out FILE',
    ],
    [['--out'], 'manifest: --out needs a file name, like --out manifest.yml'],
    [
      ['manifest.yml'],
      'manifest: unexpected argument "manifest.yml": the options are --http https://YOUR_HOST and --out FILE',
    ],
  ])('%j is refused', (args, message) => {
    const result = run(...args);
    expect(result.stderr).toBe(`${message}\n`);
    expect(result.stdout).toBe('');
    expect(result.status).toBe(2);
  });

  // Rule: the commands the README gives write a manifest that is valid YAML and the one the script makes, nothing else.
  test('`npm run manifest -- --out FILE` and `npm run -s manifest > FILE` write exactly the manifest', () => {
    const dir = mkdtempSync(join(tmpdir(), 'phonegate-manifest-'));
    try {
      const configFile = join(dir, 'config.ini');
      writeFileSync(configFile, CONFIG);
      const env = { ...cleanEnv(), CONFIG_FILE: configFile };
      const out = join(dir, 'manifest.yml');
      const written = spawnSync(
        'npm',
        ['run', 'manifest', '--', '--out', out, '--http', 'https://phonegate.example.com'],
        {
          cwd: ROOT,
          env,
          encoding: 'utf8',
        },
      );
      expect(written.status, written.stderr).toBe(0);
      expect(written.stderr).toContain(`manifest: wrote ${out}`);
      const expected = render({ commands, http: 'https://phonegate.example.com' });
      expect(readFileSync(out, 'utf8')).toBe(expected);
      expect(errorsOf(parse(readFileSync(out, 'utf8')))).toEqual([]);

      const printed = spawnSync('npm', ['run', '-s', 'manifest'], { cwd: ROOT, env, encoding: 'utf8' });
      expect(printed.status, printed.stderr).toBe(0);
      expect(printed.stdout).toBe(render({ commands }));
      // What the README warned about: without -s, npm's own lines come first and the file is not the manifest.
      const plain = spawnSync('npm', ['run', 'manifest'], { cwd: ROOT, env, encoding: 'utf8' });
      expect(plain.stdout).not.toBe(render({ commands }));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
