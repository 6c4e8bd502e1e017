// The bot's configuration for the demo: a CONFIG_FILE in the demo's temporary folder for the settings,
// environment variables for the secrets (made up for this run), and nothing of the user's own settings.
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BOT, FROM_NUMBER, PEOPLE } from './people.mjs';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const ACCOUNT_ID = '9900000';

/** Secrets shared by the bot and the stand-ins, new for every run. */
export function makeSecrets() {
  return {
    botToken: `xoxb-demo-${randomBytes(12).toString('hex')}`,
    signingSecret: randomBytes(16).toString('hex'),
    clientId: `demo-client-${randomBytes(4).toString('hex')}`,
    clientSecret: randomBytes(16).toString('hex'),
  };
}

/**
 * The config sections, read from config.ini.default (so a section added there is covered): any variable
 * of the user's environment named `<SECTION>_...` would win over the demo's file, and could send the
 * demo's bot to the real Slack or Bandwidth. CONFIG_FILE and PHONES_ likewise.
 */
function configSections() {
  const template = readFileSync(join(ROOT, 'config.ini.default'), 'utf8');
  return [...template.matchAll(/^\[([a-z]+)\]/gm)].map((m) => m[1].toUpperCase());
}

/** The environment the bot runs with: the user's own, less every variable the bot's config reads, plus the secrets. */
export function botEnv(env, secrets, configFile) {
  const prefixes = configSections().map((section) => `${section}_`);
  const kept = Object.fromEntries(
    Object.entries(env).filter(
      ([name]) => name !== 'CONFIG_FILE' && !prefixes.some((prefix) => name.toUpperCase().startsWith(prefix)),
    ),
  );
  return {
    ...kept,
    CONFIG_FILE: configFile,
    SLACK_BOT_TOKEN: secrets.botToken,
    SLACK_SIGNING_SECRET: secrets.signingSecret,
    BANDWIDTH_CLIENT_ID: secrets.clientId,
    BANDWIDTH_CLIENT_SECRET: secrets.clientSecret,
  };
}

/** Writes config.ini into `dir` and returns its path. */
export function writeBotConfig(dir, { slackApiUrl, mfaBaseUrl, tokenUrl, deployUrl }) {
  const file = join(dir, 'config.ini');
  const admins = PEOPLE.filter((p) => p.admin).map((p) => p.id);
  const text = `; Written by \`npm run demo\` for this run only; removed when the demo stops.
; The secrets (bot token, signing secret, Bandwidth client) are in the bot's environment.

[bandwidth]
account_id = ${ACCOUNT_ID}
voice_application_id = demo-voice-application
messaging_application_id = demo-messaging-application
mfa_base_url = ${mfaBaseUrl}
oauth_token_url = ${tokenUrl}

[numbers]
from_number = ${FROM_NUMBER}

[slack]
; 0: a free port, which the bot logs when ready.
port = 0
host = 127.0.0.1
api_url = ${slackApiUrl}
app_name = ${BOT.name}

[phones]
${PEOPLE.map((p) => `${p.id} = ${p.phone}`).join('\n')}

[store]
url = sqlite://${join(dir, 'state.sqlite')}

[policy]
admins = ${admins.join(',')}

[actions]
signing_key_file = ${join(dir, 'actions-signing-key.pem')}

[command /deploy]
url = ${deployUrl}
; A fresh admin step-up code before it runs, and only admins may: the strongest gate PhoneGate has.
scope = admin
allow = admins
description = Deploy a service (demo: nothing really runs)
usage = <service> <version>

[log]
level = info
`;
  writeFileSync(file, text, { mode: 0o600 });
  return file;
}
