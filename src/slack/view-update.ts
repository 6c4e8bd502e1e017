import type { types, webApi } from '@slack/bolt';
import type { Logger } from '../logger.js';

/**
 * Replaces a modal's content. With `hash` (the view's hash from the payload that led here), Slack
 * refuses the update if the view changed since (`hash_conflict`): a newer result or a submission got
 * there first, and an older result must not overwrite it. That refusal is expected and quiet.
 * Returns whether the view was updated; any other Slack error is thrown.
 */
export async function updateView(
  client: webApi.WebClient,
  viewId: string,
  hash: string | undefined,
  view: types.ModalView,
  logger: Logger,
): Promise<boolean> {
  try {
    await client.views.update({ view_id: viewId, view, ...(hash ? { hash } : {}) });
    return true;
  } catch (error) {
    if (slackErrorCode(error) !== 'hash_conflict') throw error;
    logger.info({ viewId }, 'the window changed meanwhile; an older result did not overwrite it');
    return false;
  }
}

/** The `error` of a Slack Web API answer with ok:false (WebAPIPlatformError keeps it in `data`). */
export function slackErrorCode(error: unknown): string | undefined {
  const data = (error as { data?: { error?: unknown } } | null)?.data;
  return typeof data?.error === 'string' ? data.error : undefined;
}
