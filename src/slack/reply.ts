import type { RespondArguments } from '@slack/bolt';

/** A reply only the user who typed the command sees. */
export function ephemeral(text: string): RespondArguments {
  return { response_type: 'ephemeral', text };
}
