// `npm run jwks`: prints the JWKS of the keys that sign action tokens ([actions] signing_key_file and
// previous_key_files), the same document the bot serves at /.well-known/jwks.json. Pin it at an endpoint
// that cannot reach the bot. Like the bot, it creates the signing key (mode 0600) if it does not exist yet.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const tsc = spawnSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-b'], {
  cwd: root,
  stdio: ['ignore', 'ignore', 'inherit'],
});
if (tsc.status !== 0) process.exit(tsc.status ?? 1);
const dist = (file) => pathToFileURL(join(root, 'dist', file)).href;
const { ConfigError, loadConfig } = await import(dist('config.js'));
const { loadSigningKeys } = await import(dist('actions/signing-keys.js'));

try {
  const { actions } = loadConfig(process.env);
  const keys = await loadSigningKeys({ keyFile: actions.signingKeyFile, previousKeyFiles: actions.previousKeyFiles });
  process.stdout.write(`${JSON.stringify(keys.jwks(), null, 2)}\n`);
} catch (error) {
  const problems = error instanceof ConfigError ? error.problems : [error.message];
  for (const problem of problems) process.stderr.write(`config: ${problem}\n`);
  process.exit(1);
}
