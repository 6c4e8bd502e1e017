// The Slack stand-in as one piece: what it remembers (workspace.mjs), the Web API and response_urls it
// serves the app (web-api.mjs), and what the people do, sent to the app as Slack sends it
// (people-actions.mjs).
import { peopleActions } from './people-actions.mjs';
import { startSlackApi } from './web-api.mjs';
import { Workspace } from './workspace.mjs';

/**
 * @param {{ botToken: string, signingSecret: string, botUrl: () => string, onChange: () => void }} options
 * `botUrl` is where the app listens (known only once it started); its /slack/events gets the requests.
 */
export async function startSlackStandIn({ botToken, signingSecret, botUrl, onChange }) {
  const workspace = new Workspace({ onChange });
  const api = await startSlackApi({ workspace, botToken });
  const people = peopleActions({ workspace, botUrl, signingSecret, responseUrl: api.responseUrl });
  return { workspace, people, apiUrl: api.apiUrl, origin: api.origin, close: api.close };
}
