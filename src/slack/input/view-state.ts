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

/** The command a window confirms: the id binding it to the command kept on the server, and how it is shown. */
export interface Confirms {
  windowId: string;
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
  return typeof windowId === 'string' && typeof shows === 'string'
    ? { requestId, confirms: { windowId, shows } }
    : { requestId };
}

/** The request id a window was opened for ('' if it carries none): it can only make a step fail. */
export function requestIdOf(privateMetadata: string | undefined): string {
  return windowOf(privateMetadata).requestId;
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
