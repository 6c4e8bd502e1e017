/**
 * Slack drops an interaction that is not acknowledged within 3 seconds (measured at Slack, so network
 * time counts too; we keep a second of margin). Work that may take longer
 * (a Bandwidth call) races this deadline; if it loses, the listener acknowledges with a "working"
 * view and shows the result later with views.update.
 */
export const SLACK_DEADLINE_MS = 2000;

export type Raced<T> = { done: true; value: T } | { done: false };

/** `work`'s value if it settles within `ms`; a deadline of 0 or less has passed already (tests use it for the late path). */
export async function withinDeadline<T>(work: Promise<T>, ms: number): Promise<Raced<T>> {
  if (ms <= 0) return { done: false };
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<Raced<T>>((resolve) => {
    timer = setTimeout(() => resolve({ done: false }), ms);
  });
  try {
    return await Promise.race([work.then((value): Raced<T> => ({ done: true, value })), late]);
  } finally {
    clearTimeout(timer);
  }
}
