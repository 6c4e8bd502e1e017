import { describe, expect, test } from 'vitest';
import type { RequestState } from '../../../src/core/requests.js';
import { windowOf } from '../../../src/slack/input/view-state.js';
import {
  codeEntryModal,
  deliveryChoiceModal,
  deliveryPreferenceModal,
  messageModal,
  retryModal,
  sendingModal,
} from '../../../src/slack/views/modals.js';
import { viewProblems } from '../slack-limits.js';

const NOW = Date.UTC(2026, 11, 2, 10, 0);
const PHONE = '+14155550101';
const request: RequestState = { requestId: 'req-0001', scope: 'login', phone: PHONE, digits: 6 };
const withCode = (delivery: 'sms' | 'voice', digits = 6): RequestState => ({
  ...request,
  digits,
  sent: { delivery, codeExpiresAt: NOW + 5 * 60_000 },
});
const text = (view: unknown) => JSON.stringify(view);

describe('modals carry the request id only, and the phone masked', () => {
  const windows = {
    'delivery choice': deliveryChoiceModal(request),
    'code entry': codeEntryModal(withCode('sms'), NOW),
    retry: retryModal(request, 'No code has been sent for this request yet.'),
  };

  // Rule (invariant 1): nothing in a window decides what a code grants: private_metadata is the request id alone.
  test.each(Object.entries(windows))('%s: private_metadata is exactly {requestId}', (_name, view) => {
    expect(JSON.parse(view.private_metadata!)).toEqual({ requestId: 'req-0001' });
    expect(windowOf(view.private_metadata).requestId).toBe('req-0001');
    expect(text(view)).not.toMatch(/"scope"|login-|"userId"/);
  });

  // Rule (invariant 6): the full number never reaches Slack.
  test.each(Object.entries({ ...windows, sending: sendingModal(request, 'voice') }))(
    '%s: the phone is masked, never whole',
    (name, view) => {
      if (name !== 'retry') expect(text(view)).toContain('•••• 0101'); // the retry window shows only why
      expect(text(view)).not.toContain(PHONE);
      expect(text(view)).not.toContain('4155550101');
      expect(viewProblems(view)).toEqual([]);
    },
  );
});

describe('each window has the callback and blocks its listener reads', () => {
  test('delivery choice: callback delivery_choice, radio buttons in block/action "delivery", sms preselected', () => {
    const view = deliveryChoiceModal({ ...request, scope: 'admin' });
    expect(view).toMatchObject({
      type: 'modal',
      callback_id: 'delivery_choice',
      title: { text: 'Admin step-up' },
      submit: { text: 'Send code' },
    });
    const input = view.blocks.find((b) => b.type === 'input') as any;
    expect(input).toMatchObject({
      block_id: 'delivery',
      element: { type: 'radio_buttons', action_id: 'delivery', initial_option: { value: 'sms' } },
    });
    expect(input.element.options.map((o: any) => o.value)).toEqual(['sms', 'voice']);
  });

  test('code entry: callback code_entry, the code input, and the two buttons; the other method is offered', () => {
    const bySms = codeEntryModal(withCode('sms'), NOW, 'A note');
    expect(bySms.callback_id).toBe('code_entry');
    expect(bySms.blocks.map((b) => b.type)).toEqual(['section', 'context', 'input', 'actions']);
    expect(bySms.blocks[2]).toMatchObject({
      block_id: 'code',
      label: { text: '6-digit code' },
      element: { type: 'plain_text_input', action_id: 'code', placeholder: { text: '123456' } },
    });
    expect((bySms.blocks[3] as any).elements.map((e: any) => [e.action_id, e.text.text])).toEqual([
      ['resend_code', 'Resend code'],
      ['switch_delivery', 'Call me instead'],
    ]);
    const byVoice = codeEntryModal(withCode('voice', 8), NOW);
    expect(byVoice.blocks.map((b) => b.type)).toEqual(['section', 'input', 'actions']);
    expect((byVoice.blocks[2] as any).elements[1].text.text).toBe('Text me instead');
    expect((byVoice.blocks[1] as any).element.placeholder.text).toHaveLength(8);
    expect(text(byVoice.blocks[0])).toContain('8-digit code by voice call');
  });

  test('retry: no input to type into, one "Resend code" button', () => {
    const view = retryModal(request, 'Why');
    expect(view.callback_id).toBeUndefined();
    expect(view.blocks.map((b) => b.type)).toEqual(['section', 'actions']);
    expect((view.blocks[1] as any).elements.map((e: any) => e.action_id)).toEqual(['resend_code']);
  });

  test('delivery preference: callback delivery_preference, no request in it, the current method preselected', () => {
    const view = deliveryPreferenceModal('voice');
    expect(view).toMatchObject({ callback_id: 'delivery_preference', submit: { text: 'Save' } });
    expect(view.private_metadata).toBeUndefined();
    expect((view.blocks[1] as any).element.initial_option.value).toBe('voice');
    expect((deliveryPreferenceModal(undefined).blocks[1] as any).element.initial_option.value).toBe('sms');
  });

  test('sending and message windows have nothing to submit', () => {
    for (const view of [sendingModal(request, 'sms'), messageModal('Log in', 'Done.')]) {
      expect(view.submit).toBeUndefined();
      expect(view.callback_id).toBeUndefined();
      expect(view.blocks.map((b) => b.type)).toEqual(['section']);
    }
    expect(messageModal('Log in', 'Done.')).toMatchObject({
      title: { text: 'Log in' },
      close: { text: 'Done' },
      blocks: [{ text: { type: 'mrkdwn', text: 'Done.' } }],
    });
  });
});
