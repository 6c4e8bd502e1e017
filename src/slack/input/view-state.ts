import { DELIVERIES, type Delivery } from '../../core/ports.js';
import { ACTION, BLOCK } from '../ids.js';

/** What a submitted or clicked window carries back. None of it decides what a code grants. */

/**
 * What a request window carries in its private_metadata: the request it belongs to and, for a step-up
 * that runs a command, which window it is and the command it shows. The request id and window id can
 * only make a step fail; what runs is kept on the server (pending-commands.ts); `shows` is display only.
 */
export interface WindowRef {
  requestId: string;
  confirms?: Confirms | undefined;
}

/**
 * What a window confirms: how it is shown and, for a step-up's command, the id binding it to the
 * command kept on the server (an approval's window is bound to its approval by the request itself).
 */
export interface Confirms {
  windowId?: string | undefined;
  /** mrkdwn, numbers masked (what the window shows; never read to decide anything). */
  shows: string;
}

/** The window a view belongs to; an empty request id if it carries none. */
export function windowOf(privateMetadata: string | undefined): WindowRef {
  let parsed: { requestId?: unknown; windowId?: unknown; shows?: unknown } | null = null;
  try {
    parsed = JSON.parse(privateMetadata ?? '');
  } catch {
    return { requestId: '' };
  }
  const requestId = typeof parsed?.requestId === 'string' ? parsed.requestId : '';
  const { windowId, shows } = parsed ?? {};
  if (typeof shows !== 'string') return { requestId };
  return { requestId, confirms: typeof windowId === 'string' ? { windowId, shows } : { shows } };
}

type ViewState = {
  state: {
    values: Record<string, Record<string, { value?: string | null; selected_option?: { value?: string } | null }>>;
  };
};

/** The delivery method chosen in a submitted delivery choice or preference, if it is a valid one. */
export function chosenDelivery(view: ViewState): Delivery | undefined {
  const value = view.state.values[BLOCK.delivery]?.[ACTION.delivery]?.selected_option?.value;
  return DELIVERIES.find((d) => d === value);
}

/** The code as typed in the code entry ('' if none). */
export function typedCode(view: ViewState): string {
  return view.state.values[BLOCK.code]?.[ACTION.code]?.value ?? '';
}

/** The text typed in a form's input ('' when none): `blockId`/`actionId` as the form built it. */
export function typedText(view: ViewState, blockId: string, actionId: string): string {
  return (view.state.values[blockId]?.[actionId]?.value ?? '').trim();
}

/** An id a form carries in private_metadata (`draftId`, `approvalId`); '' when absent. */
export function formId(privateMetadata: string | undefined, key: 'draftId' | 'approvalId'): string {
  try {
    const value = (JSON.parse(privateMetadata ?? '') as Record<string, unknown> | null)?.[key];
    return typeof value === 'string' ? value : '';
  } catch {
    return '';
  }
}
