// `npm run jwks`: prints the JWKS of the keys that sign action tokens ([actions] signing_key_file and
// previous_key_files), the same document the bot serves at /.well-known/jwks.json. Pin it at an endpoint
// that cannot reach the bot. Only [actions] and the [command /name] sections are read (file and
// environment), so Slack and Bandwidth need not be set up. Like the bot, it creates the signing key (mode
// 0600) if it does not exist yet, and only when a command is declared: nothing else signs with it.
import { compiled } from './compiled.mjs';

const dist = compiled('jwks');
const { ConfigError, readConfigFile, signingConfigOf } = await import(dist('config.js'));
const { loadSigningKeys } = await import(dist('actions/signing-keys.js'));

try {
  const source = readConfigFile(process.env);
  const { actions, commands } = signingConfigOf({ ...source, env: process.env });
  if (commands.length === 0) {
    process.stderr.write(
      `jwks: no command is declared in ${source.fileName} ([command /name]): nothing is signed, so there is no key to publish (none was created)\n`,
    );
    process.exit(1);
  }
  const keys = await loadSigningKeys({ keyFile: actions.signingKeyFile, previousKeyFiles: actions.previousKeyFiles });
  process.stdout.write(`${JSON.stringify(keys.jwks(), null, 2)}\n`);
} catch (error) {
  const problems = error instanceof ConfigError ? error.problems : [error.message];
  for (const problem of problems) process.stderr.write(`config: ${problem}\n`);
  process.exit(1);
}
