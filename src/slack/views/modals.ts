import type { types } from '@slack/bolt';
import { maskPhone } from '../../core/phones.js';
import { DELIVERIES, type Delivery, otherDelivery } from '../../core/ports.js';
import type { RequestState } from '../../core/requests.js';
import { ACTION, BLOCK, CALLBACK } from '../ids.js';
import type { Confirms } from '../input/view-state.js';
import { deliveryChoice, scopeTitle } from './format.js';
import { codeSent, sending } from './text.js';

type ModalView = types.ModalView;

/**
 * Modal views: pure functions of data. private_metadata carries only the request id, which can make a
 * submission fail as "replaced" but never decides what a code grants (that is server-side state).
 */

const plain = (text: string) => ({ type: 'plain_text' as const, text, emoji: true });
const section = (text: string): types.SectionBlock => ({ type: 'section', text: { type: 'mrkdwn', text } });
const notice = (text: string): types.ContextBlock => ({ type: 'context', elements: [{ type: 'mrkdwn', text }] });

/** The request a window was opened for, and the command it confirms (see input/view-state.ts for reading it back). */
export const requestMetadata = (requestId: string, confirms?: Confirms) =>
  JSON.stringify(confirms ? { requestId, ...confirms } : { requestId });

/** A step-up window says, above all else, which command its code runs; an approval's, what its code approves. */
const confirmsBlock = (confirms: Confirms | undefined): types.ContextBlock[] =>
  confirms ? [notice(`:lock: ${confirms.windowId ? `This code runs ${confirms.shows}` : confirms.shows}`)] : [];

const deliveryInput = (label: string, initial: Delivery): types.InputBlock => {
  const options = DELIVERIES.map((delivery) => ({
    text: plain(deliveryChoice[delivery].label),
    value: delivery,
    description: plain(deliveryChoice[delivery].description),
  }));
  return {
    type: 'input',
    block_id: BLOCK.delivery,
    label: plain(label),
    element: {
      type: 'radio_buttons',
      action_id: ACTION.delivery,
      initial_option: options.find((o) => o.value === initial)!,
      options,
    },
  };
};

export const chooseDeliveryError = {
  response_action: 'errors',
  errors: { [BLOCK.delivery]: 'Choose text message or voice call.' },
} as const;

export function deliveryChoiceModal(request: RequestState, confirms?: Confirms): ModalView {
  return {
    type: 'modal',
    callback_id: CALLBACK.deliveryChoice,
    private_metadata: requestMetadata(request.requestId, confirms),
    title: plain(scopeTitle[request.scope]),
    submit: plain('Send code'),
    close: plain('Cancel'),
    blocks: [
      ...confirmsBlock(confirms),
      section(`I'll send a one-time code to your phone *${maskPhone(request.phone)}*. How should it arrive?`),
      deliveryInput('Send the code by', 'sms'),
    ],
  };
}

/** From the Home tab: choose how future codes arrive, without sending one. */
export function deliveryPreferenceModal(current: Delivery | undefined): ModalView {
  return {
    type: 'modal',
    callback_id: CALLBACK.deliveryPreference,
    title: plain('Code delivery'),
    submit: plain('Save'),
    close: plain('Cancel'),
    blocks: [
      section('How should your one-time codes arrive from now on?'),
      deliveryInput('Send codes by', current ?? 'sms'),
    ],
  };
}

export function sendingModal(request: RequestState, delivery: Delivery, confirms?: Confirms): ModalView {
  return {
    type: 'modal',
    private_metadata: requestMetadata(request.requestId, confirms),
    title: plain(scopeTitle[request.scope]),
    close: plain('Cancel'),
    blocks: [...confirmsBlock(confirms), section(sending(delivery, maskPhone(request.phone)))],
  };
}

/** The code-entry window. `request.sent` must be set. `note` is shown above the input (a resend, a wait). */
export function codeEntryModal(request: RequestState, now: number, note?: string, confirms?: Confirms): ModalView {
  const sent = request.sent!;
  const other = otherDelivery(sent.delivery);
  return {
    type: 'modal',
    callback_id: CALLBACK.codeEntry,
    private_metadata: requestMetadata(request.requestId, confirms),
    title: plain(scopeTitle[request.scope]),
    submit: plain('Verify'),
    close: plain('Cancel'),
    blocks: [
      ...confirmsBlock(confirms),
      section(codeSent(sent.delivery, maskPhone(request.phone), request.digits, sent.codeExpiresAt, now)),
      ...(note ? [notice(note)] : []),
      {
        type: 'input',
        block_id: BLOCK.code,
        label: plain(`${request.digits}-digit code`),
        element: {
          type: 'plain_text_input',
          action_id: ACTION.code,
          max_length: 16,
          placeholder: plain('123456'.padEnd(request.digits, '7').slice(0, request.digits)),
        },
      },
      {
        type: 'actions',
        elements: [
          { type: 'button', action_id: ACTION.resendCode, text: plain('Resend code') },
          {
            type: 'button',
            action_id: ACTION.switchDelivery,
            text: plain(other === 'voice' ? 'Call me instead' : 'Text me instead'),
          },
        ],
      },
    ],
  };
}

/** No code can be entered right now (none is out, or it stopped working): say why, offer a new one. */
export function retryModal(request: RequestState, text: string, confirms?: Confirms): ModalView {
  return {
    type: 'modal',
    private_metadata: requestMetadata(request.requestId, confirms),
    title: plain(scopeTitle[request.scope]),
    close: plain('Cancel'),
    blocks: [
      ...confirmsBlock(confirms),
      section(text),
      { type: 'actions', elements: [{ type: 'button', action_id: ACTION.resendCode, text: plain('Resend code') }] },
    ],
  };
}

/** A closing window with one message: a success, or why the request cannot go on. */
export function messageModal(title: string, text: string): ModalView {
  return { type: 'modal', title: plain(title), close: plain('Done'), blocks: [section(text)] };
}
