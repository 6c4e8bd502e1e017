import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv, type ErrorObject } from 'ajv';
import { describe, expect, test } from 'vitest';
import { parseDocument } from 'yaml';

/**
 * manifest.yml checked against Slack's published manifest JSON schema (v1.0.0, MIT, from slackapi/manifest-schema;
 * see test/fixtures/slack-manifest-schema/SOURCE). The schema is a copy kept in the repo so a fresh clone can run this.
 */
const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));
const SCHEMA_DIR = here('./fixtures/slack-manifest-schema/');
const SCHEMA_FILE = `${SCHEMA_DIR}manifest.schema.1.0.0.json`;
const MANIFEST_TEXT = readFileSync(here('../manifest.yml'), 'utf8');
const HTTP_URL = 'https://YOUR_HOST/slack/events';

interface SlashCommand {
  command: string;
  description: string;
  usage_hint?: string;
  should_escape?: boolean;
  url?: string;
}
interface Manifest {
  _metadata?: { major_version?: number };
  display_information: { name: string; description?: string; background_color?: string };
  features: {
    app_home: { home_tab_enabled?: boolean; messages_tab_enabled?: boolean; messages_tab_read_only_enabled?: boolean };
    bot_user: { display_name: string; always_online?: boolean };
    slash_commands: SlashCommand[];
  };
  oauth_config: { scopes: { bot?: string[]; user?: string[] } };
  settings: {
    event_subscriptions: { bot_events?: string[]; user_events?: string[]; request_url?: string };
    interactivity: { is_enabled: boolean; request_url?: string };
    org_deploy_enabled?: boolean;
    socket_mode_enabled?: boolean;
    token_rotation_enabled?: boolean;
  };
}

/** A fresh copy of manifest.yml as a JS object; fails on any YAML error or warning. */
function loadManifest(): Manifest {
  const doc = parseDocument(MANIFEST_TEXT);
  expect(doc.errors).toEqual([]);
  expect(doc.warnings).toEqual([]);
  return doc.toJS() as Manifest;
}

/** The schema's validator. strict:false lets ajv skip the schema's non-standard keys (`_note`); we then enforce `regex` and `format: uri` ourselves. */
function compileSchema() {
  const warnings: unknown[] = [];
  const ajv = new Ajv({
    strict: false,
    allErrors: true,
    logger: {
      log: () => {},
      warn: (...args: unknown[]) => warnings.push(args),
      error: (...args: unknown[]) => warnings.push(args),
    },
  });
  ajv.addFormat('uri', (value: string) => URL.canParse(value));
  ajv.addKeyword({
    keyword: 'regex',
    type: 'string',
    schemaType: 'string',
    validate: (pattern: string, data: string) => new RegExp(pattern).test(data),
  });
  const validate = ajv.compile(JSON.parse(readFileSync(SCHEMA_FILE, 'utf8')) as object);
  return { validate, warnings };
}
const { validate, warnings } = compileSchema();

function errorsOf(manifest: unknown): Array<Pick<ErrorObject, 'instancePath' | 'keyword'>> {
  validate(manifest);
  return (validate.errors ?? []).map(({ instancePath, keyword }) => ({ instancePath, keyword }));
}

/** The HTTP-mode manifest, made the way manifest.yml's header comment says. */
function httpVariant(): Manifest {
  const manifest = loadManifest();
  manifest.settings.socket_mode_enabled = false;
  for (const command of manifest.features.slash_commands) command.url = HTTP_URL;
  manifest.settings.event_subscriptions.request_url = HTTP_URL;
  manifest.settings.interactivity.request_url = HTTP_URL;
  return manifest;
}

/** Every key anywhere in value, with its path. */
function keysOf(value: unknown, path = ''): string[] {
  if (!value || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([k, v]) => [`${path}/${k}`, ...keysOf(v, `${path}/${k}`)]);
}

describe('manifest.yml against Slack manifest schema 1.0.0', () => {
  // Rule: the copied schema compiles without ajv warnings (unknown formats or keywords would weaken it silently).
  test('the schema copy compiles cleanly', () => {
    expect(warnings).toEqual([]);
    expect(existsSync(`${SCHEMA_DIR}LICENSE`)).toBe(true);
    expect(readFileSync(`${SCHEMA_DIR}SOURCE`, 'utf8')).toMatch(/^slackapi\/manifest-schema at commit [0-9a-f]{40}/);
  });

  // Rule: the Socket Mode manifest as shipped is valid (and is a v1 manifest, the schema version we check against).
  test('the manifest is valid', () => {
    const manifest = loadManifest();
    expect(manifest._metadata?.major_version ?? 1).toBe(1);
    expect(errorsOf(manifest)).toEqual([]);
  });

  // Rule: the HTTP-mode variant described in the header comment is valid too.
  test('the HTTP-mode variant is valid', () => {
    const manifest = httpVariant();
    expect(manifest.features.slash_commands.map((c) => c.url)).toEqual([HTTP_URL, HTTP_URL, HTTP_URL, HTTP_URL]);
    expect(errorsOf(manifest)).toEqual([]);
  });

  // Rule: the header comment gives the HTTP-mode steps: socket_mode_enabled false, a url per command, request_url twice.
  test('the header comment explains HTTP mode', () => {
    const lines = MANIFEST_TEXT.split('\n');
    const header = lines
      .slice(
        0,
        lines.findIndex((line) => !line.startsWith('#')),
      )
      .join('\n');
    expect(header.length).toBeGreaterThan(0);
    expect(header).toContain('socket_mode_enabled: false');
    expect(header).toContain(`url: ${HTTP_URL}`);
    expect(header).toContain(`request_url: ${HTTP_URL}`);
    expect(header).toMatch(/event_subscriptions/);
    expect(header).toMatch(/interactivity/);
  });

  // Rule: the validator can fail: a slash command without its leading "/" is rejected at that command.
  test('a command without the leading slash is rejected', () => {
    const manifest = loadManifest();
    manifest.features.slash_commands[0]!.command = 'login';
    expect(errorsOf(manifest)).toEqual([{ instancePath: '/features/slash_commands/0/command', keyword: 'pattern' }]);
  });

  // Rule: the validator also enforces the schema's custom `regex` keyword and unknown fields.
  test('a bad background colour and an unknown setting are rejected', () => {
    const manifest = loadManifest() as Manifest & { settings: Record<string, unknown> };
    manifest.display_information.background_color = 'navy';
    manifest.settings.socket_mode = true;
    expect(errorsOf(manifest)).toEqual([
      { instancePath: '/display_information/background_color', keyword: 'regex' },
      { instancePath: '/settings', keyword: 'additionalProperties' },
    ]);
  });
});

describe('what the manifest asks for', () => {
  // Rule: exactly the four commands the app handles, in order, and nothing else.
  test('declares exactly /login, /logout, /whoami, /admin', () => {
    const { slash_commands } = loadManifest().features;
    expect(slash_commands.map((c) => c.command)).toEqual(['/login', '/logout', '/whoami', '/admin']);
    expect(slash_commands[0]!.description).toBe('Verify your phone with a one-time code');
  });

  // Rule: /admin shows its sub-commands and escapes mentions so they arrive as <@U123|name>.
  test('/admin has its usage hint and escapes mentions', () => {
    const admin = loadManifest().features.slash_commands.find((c) => c.command === '/admin');
    expect(admin).toMatchObject({
      usage_hint: '<help|sessions|approvals|revoke|link|unlink|audit> [args]',
      should_escape: true,
    });
  });

  // Rule: least privilege: only the bot scopes commands and chat:write, no user scopes.
  test('requests only the bot scopes commands and chat:write', () => {
    const { scopes } = loadManifest().oauth_config;
    expect(scopes).toEqual({ bot: ['commands', 'chat:write'] });
  });

  // Rule: the App Home tab is on and the app_home_opened event that renders it is subscribed (and nothing else).
  test('home tab enabled and app_home_opened subscribed', () => {
    const manifest = loadManifest();
    expect(manifest.features.app_home).toEqual({
      home_tab_enabled: true,
      messages_tab_enabled: true,
      messages_tab_read_only_enabled: true,
    });
    expect(manifest.settings.event_subscriptions).toEqual({ bot_events: ['app_home_opened'] });
  });

  // Rule: interactivity (modals) is enabled.
  test('interactivity enabled', () => {
    expect(loadManifest().settings.interactivity.is_enabled).toBe(true);
  });

  // Rule: as shipped it is a Socket Mode app: socket mode on, no url or request_url anywhere, no token rotation or org deploy.
  test('Socket Mode settings and no URLs', () => {
    const manifest = loadManifest();
    expect(manifest.settings).toMatchObject({
      socket_mode_enabled: true,
      org_deploy_enabled: false,
      token_rotation_enabled: false,
    });
    expect(keysOf(manifest).filter((k) => /\/(url|request_url)$/.test(k))).toEqual([]);
  });

  // Rule: the app and bot are named as the code expects (PhoneGate / phonegate), always online.
  test('display name and bot user', () => {
    const manifest = loadManifest();
    expect(manifest.display_information.name).toBe('PhoneGate');
    expect(manifest.display_information.description).toBeTruthy();
    expect(manifest.features.bot_user).toEqual({ display_name: 'phonegate', always_online: true });
  });
});

const SHARED_SCHEMA = '/work/shared/research/slack-manifest-schema/manifest.schema.1.0.0.json';
// Rule: where the research copy exists, the fixture is byte-identical to it (skipped on a fresh clone).
test.skipIf(!existsSync(SHARED_SCHEMA))('the schema fixture matches the research copy', () => {
  expect(readFileSync(SCHEMA_FILE, 'utf8')).toBe(readFileSync(SHARED_SCHEMA, 'utf8'));
});
