import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { loadSigningKeys } from '../src/actions/signing-keys.js';
import { cleanEnv, ROOT } from './helpers/process.js';

/**
 * `npm run jwks` (scripts/jwks.mjs), run as the README says: it reads only [actions] and the [command /name]
 * sections, and makes a key only when a command is declared. (In the image, with no compiler:
 * test/process/production-install.test.ts.)
 */

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'phonegate-jwks-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function jwks(configText: string | undefined, env: Record<string, string> = {}) {
  const configFile = join(dir, 'config.ini');
  if (configText !== undefined) writeFileSync(configFile, configText);
  return spawnSync('npm', ['run', '-s', 'jwks'], {
    cwd: ROOT,
    env: { ...cleanEnv(), ...(configText === undefined ? {} : { CONFIG_FILE: configFile }), ...env },
    encoding: 'utf8',
  });
}

describe('npm run jwks (issue 19)', () => {
  // Rule: a config.ini with only a declared command and [actions] (no Slack, no Bandwidth) is enough: the JWKS of the key.
  test('needs nothing but [actions] and the commands; creates the key (0600) and prints its public half', async () => {
    const keyFile = join(dir, 'keys', 'signing.pem');
    const result = jwks(
      `[actions]\nsigning_key_file = ${keyFile}\n\n[command /deploy]\nurl = https://deploy.example/hook\n`,
    );
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    const printed = JSON.parse(result.stdout) as { keys: Array<Record<string, string>> };
    // The same document the bot serves from that key.
    expect(printed).toEqual((await loadSigningKeys({ keyFile })).jwks());
    expect(JSON.stringify(printed)).not.toContain('"d"');
  }, 30_000);

  // Rule: [actions] keys come from the environment too, as for the bot.
  test('ACTIONS_SIGNING_KEY_FILE is read', () => {
    const keyFile = join(dir, 'from-env.pem');
    const result = jwks('[command /deploy]\nurl = https://deploy.example/hook\n', {
      ACTIONS_SIGNING_KEY_FILE: keyFile,
    });
    expect(result.status, result.stderr).toBe(0);
    expect(existsSync(keyFile)).toBe(true);
  }, 30_000);

  // Rule: with no command declared there is nothing to sign: it says so, exits 1 and creates no key.
  test('no command declared: a plain sentence, and no key file', () => {
    const keyFile = join(dir, 'signing.pem');
    const result = jwks(`[actions]\nsigning_key_file = ${keyFile}\n`);
    expect(result.status).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe(
      `jwks: no command is declared in ${join(dir, 'config.ini')} ([command /name]): nothing is signed, so there is no key to publish (none was created)\n`,
    );
    expect(existsSync(keyFile)).toBe(false);
  }, 30_000);

  // Rule: problems in the sections it reads are reported as the bot reports them; other sections are not its business.
  test('a bad command or [actions] key is one line each; a broken [bandwidth] is not read', () => {
    const result = jwks(
      '[bandwidth]\naccount_id = "quoted"\n[actions]\nsigning_key_fil = x\n[command /deploy]\nurl = ftp://x\n',
    );
    expect(result.status).toBe(1);
    expect(result.stderr).toBe(
      [
        'config: [actions] signing_key_fil: is not a known key: did you mean signing_key_file?',
        'config: [command /deploy] url: must be an http(s) URL',
        '',
      ].join('\n'),
    );
  }, 30_000);
});
