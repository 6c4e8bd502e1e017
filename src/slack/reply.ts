import type { RespondArguments } from '@slack/bolt';

/** A reply only the user who typed the command sees. */
export function ephemeral(text: string): RespondArguments {
  return { response_type: 'ephemeral', text };
}

/**
 * Posts a late reply to a slash command's response_url (valid 30 minutes, 5 uses), so it appears
 * where the user typed the command. Throws if Slack refuses it.
 */
export async function postToResponseUrl(responseUrl: string, text: string): Promise<void> {
  await postMessageToResponseUrl(responseUrl, ephemeral(text));
}

/** The same, with a whole message (blocks, `replace_original` to update the one posted there before). */
export async function postMessageToResponseUrl(responseUrl: string, message: Record<string, unknown>): Promise<void> {
  const res = await fetch(responseUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(message),
    signal: AbortSignal.timeout(5000),
  });
  if (!res.ok) throw new Error(`response_url answered HTTP ${res.status}`);
}
