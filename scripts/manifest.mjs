// `npm run manifest`: prints manifest.yml for Socket Mode, with the built-in commands and those declared in
// config.ini ([command /name]); `--http https://YOUR_HOST` makes it for HTTP mode, and `--out FILE` writes it
// to FILE instead of stdout (`npm run manifest > manifest.yml` would also catch the lines npm prints first).
// Only the [command /name] sections are read, so it works before the rest of config.ini is filled in.
import { writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { compiled } from './compiled.mjs';

const BUILT_IN = `    - command: /login
      description: Verify your phone with a one-time code
      should_escape: false
    - command: /logout
      description: End your PhoneGate session
      should_escape: false
    - command: /whoami
      description: Show your linked phone and your sessions
      should_escape: false
    - command: /admin
      description: PhoneGate administration (needs an admin step-up code)
      usage_hint: "<help|sessions|approvals|revoke|link|unlink|audit> [args]"
      # Mentions arrive escaped as <@U123|name>, so user arguments are ids.
      should_escape: true
`;

const SOCKET_HEADER = `# Slack app manifest for PhoneGate, set up for Socket Mode (no public URL needed):
# create the app from this manifest at https://api.slack.com/apps, then add an
# app-level token with connections:write and set it as [slack] app_token.
#
# To run in HTTP mode instead:
#   - set settings.socket_mode_enabled: false
#   - add \`url: https://YOUR_HOST/slack/events\` to each slash command
#   - add \`request_url: https://YOUR_HOST/slack/events\` under
#     settings.event_subscriptions and under settings.interactivity
# and set [slack] signing_secret instead of app_token.
# (\`npm run manifest -- --http https://YOUR_HOST\` prints that version.)
`;

const httpHeader = (events) => `# Slack app manifest for PhoneGate, set up for HTTP mode: Slack posts to ${events}.
# Create the app from this manifest at https://api.slack.com/apps and set [slack] signing_secret.
`;

/**
 * The manifest as YAML text. `commands`: the declared ones ({ name, description, usage? }), listed after the
 * built-in ones; `http`: the public origin in HTTP mode, or undefined for Socket Mode. Text from config.ini is
 * written as JSON strings, which YAML reads as they are.
 */
export function manifestYaml({ commands = [], http } = {}) {
  const events = http === undefined ? undefined : `${http.replace(/\/+$/, '')}/slack/events`;
  const url = events === undefined ? '' : `      url: ${events}\n`;
  const builtIn = events === undefined ? BUILT_IN : BUILT_IN.replace(/( {6}should_escape: \w+\n)/g, `${url}$1`);
  const declared = commands
    .map(
      (c) =>
        `    - command: ${c.name}\n      description: ${JSON.stringify(c.description)}\n` +
        (c.usage ? `      usage_hint: ${JSON.stringify(c.usage)}\n` : '') +
        `${url}      should_escape: false\n`,
    )
    .join('');
  const requestUrl = events === undefined ? '' : `    request_url: ${events}\n`;
  return `${events === undefined ? SOCKET_HEADER : httpHeader(events)}display_information:
  name: PhoneGate
  description: Gates Slack commands behind one-time codes sent to your phone by text or voice call.
  background_color: "#1d3557"
features:
  app_home:
    home_tab_enabled: true
    messages_tab_enabled: true
    # The bot sends direct messages but does not read replies.
    messages_tab_read_only_enabled: true
  bot_user:
    display_name: phonegate
    always_online: true
  slash_commands:
${builtIn}${declared}oauth_config:
  scopes:
    bot:
      # Slash commands.
      - commands
      # chat.postMessage and chat.postEphemeral, including to a user's DM with the app; views.* need no scope.
      - chat:write
settings:
  event_subscriptions:
${requestUrl}    bot_events:
      - app_home_opened
  interactivity:
    is_enabled: true
${requestUrl}  org_deploy_enabled: false
  socket_mode_enabled: ${events === undefined}
  token_rotation_enabled: false
`;
}

const USAGE = 'the options are --http https://YOUR_HOST and --out FILE';
const HTTP_NEEDED = '--http needs your public URL, like --http https://phonegate.example.com';

/** A mistake in the command line: one line, exit 2 (nothing is written). */
function refuse(reason) {
  process.stderr.write(`manifest: ${reason}\n`);
  process.exit(2);
}

/** `--http https://host` and `--out file`, checked; exits 2 with a one-line reason on anything else. */
function parseArguments(args) {
  let values;
  try {
    ({ values } = parseArgs({ args, options: { http: { type: 'string' }, out: { type: 'string' } }, strict: true }));
  } catch (error) {
    const named = /'([^']+)'/.exec(error.message)?.[1] ?? '';
    if (error.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' && named.startsWith('--http')) refuse(HTTP_NEEDED);
    if (error.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE')
      refuse('--out needs a file name, like --out manifest.yml');
    if (error.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') refuse(`unknown option ${named}: ${USAGE}`);
    refuse(`unexpected argument ${JSON.stringify(args.find((a) => !a.startsWith('-')) ?? '')}: ${USAGE}`);
  }
  const { http, out } = values;
  if (http !== undefined) {
    if (/^http:\/\//i.test(http))
      refuse('--http needs an https:// URL: Slack sends commands and events only to HTTPS request URLs');
    if (!/^https:\/\/[^/]/i.test(http) || !URL.canParse(http)) refuse(HTTP_NEEDED);
  }
  if (out === '') refuse('--out needs a file name, like --out manifest.yml');
  return { http, out };
}

async function main() {
  const { http, out } = parseArguments(process.argv.slice(2));
  const dist = compiled('manifest');
  const { ConfigError, declaredCommandsOf, readConfigFile } = await import(dist('config.js'));
  let text;
  try {
    text = manifestYaml({ commands: declaredCommandsOf(readConfigFile(process.env)), http });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    for (const problem of error.problems) process.stderr.write(`config: ${problem}\n`);
    process.exit(1);
  }
  if (out === undefined) {
    process.stdout.write(text);
    return;
  }
  try {
    writeFileSync(out, text);
  } catch (error) {
    process.stderr.write(`manifest: ${out}: cannot be written (${error.code ?? 'error'})\n`);
    process.exit(1);
  }
  process.stderr.write(`manifest: wrote ${out}\n`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main();
