import { DELIVERIES, type Delivery } from '../../core/ports.js';
import { ACTION, BLOCK } from '../ids.js';

/** What a submitted or clicked window carries back. None of it decides what a code grants. */

/** The request id a window was opened for ('' if it carries none): it can only make a step fail. */
export function requestIdOf(privateMetadata: string | undefined): string {
  try {
    const parsed: unknown = JSON.parse(privateMetadata ?? '');
    const requestId = (parsed as { requestId?: unknown } | null)?.requestId;
    return typeof requestId === 'string' ? requestId : '';
  } catch {
    return '';
  }
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
