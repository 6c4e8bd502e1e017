// Block Kit, drawn for the page: the blocks and elements PhoneGate sends (and those approvals will):
// header, section (text, fields, a button accessory), context, divider, actions with buttons (style
// primary/danger), and input blocks with plain_text_input (one line or multiline) and radio_buttons.
// Text goes in through mrkdwn.js (escaped) or textContent, never raw. A block the stand-in does not
// draw says so, rather than vanishing.
import { mrkdwnToHtml, plainToHtml } from './mrkdwn.js';

const h = (tag, attributes = {}, ...children) => {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === false) continue;
    if (name === 'className') element.className = value;
    else if (name === 'html')
      element.innerHTML = value; // only ever the output of mrkdwn.js
    else if (name.startsWith('on')) element.addEventListener(name.slice(2), value);
    else element.setAttribute(name, value === true ? '' : value);
  }
  element.append(...children.filter((c) => c !== undefined && c !== null));
  return element;
};

export { h };

/** A text object (mrkdwn or plain_text) as an element whose content is safe HTML. */
export function textElement(text, names, tag = 'div', className = 'text') {
  if (!text) return undefined;
  const html = text.type === 'mrkdwn' ? mrkdwnToHtml(text.text, names) : plainToHtml(text.text, text.emoji !== false);
  return h(tag, { className, html });
}

/** Slack names the blocks and elements an app left unnamed; the stand-in names them by position (as people-actions.mjs). */
const blockIdOf = (block, index) => block.block_id ?? `b${index}`;
const actionIdOf = (element, index) => element.action_id ?? `a${index}`;

/**
 * @param {object[]} blocks
 * @param {{ names: Record<string, string>, onClick?: (blockId: string, actionId: string) => void,
 *   errors?: Record<string, string>, disabled?: boolean }} context
 */
export function renderBlocks(blocks, context) {
  return h('div', { className: 'blocks' }, ...(blocks ?? []).map((block, i) => renderBlock(block, i, context)));
}

function renderBlock(block, index, context) {
  const blockId = blockIdOf(block, index);
  const { names } = context;
  switch (block.type) {
    case 'header':
      return h('h3', { className: 'block header', html: plainToHtml(block.text?.text, block.text?.emoji !== false) });
    case 'divider':
      return h('hr', { className: 'block divider' });
    case 'section':
      return h(
        'div',
        { className: 'block section' },
        h(
          'div',
          { className: 'section-main' },
          textElement(block.text, names),
          block.fields
            ? h('div', { className: 'fields' }, ...block.fields.map((f) => textElement(f, names, 'div', 'field')))
            : undefined,
        ),
        block.accessory ? renderElement(block.accessory, 0, blockId, context) : undefined,
      );
    case 'context':
      return h(
        'div',
        { className: 'block context' },
        ...(block.elements ?? []).map((e) =>
          e.type === 'image'
            ? h('span', { className: 'image-alt' }, `[${e.alt_text ?? 'image'}]`)
            : textElement(e, names, 'span'),
        ),
      );
    case 'actions':
      return h(
        'div',
        { className: 'block actions', 'data-block': blockId },
        ...(block.elements ?? []).map((e, j) => renderElement(e, j, blockId, context)),
      );
    case 'input':
      return renderInput(block, blockId, context);
    default:
      return unsupported(`block "${block.type}"`);
  }
}

function renderElement(element, index, blockId, context) {
  if (element.type !== 'button') return unsupported(`element "${element.type}"`);
  const actionId = actionIdOf(element, index);
  return h('button', {
    type: 'button',
    className: `block-button${element.style ? ` ${element.style}` : ''}`,
    'data-block': blockId,
    'data-action': actionId,
    disabled: context.disabled || !context.onClick,
    onclick: () => context.onClick?.(blockId, actionId),
    html: plainToHtml(element.text?.text, element.text?.emoji !== false),
  });
}

function renderInput(block, blockId, context) {
  const element = block.element ?? {};
  const actionId = actionIdOf(element, 0);
  const id = `input-${blockId}-${actionId}`;
  const error = context.errors?.[blockId];
  let control;
  if (element.type === 'plain_text_input') {
    const attributes = {
      id,
      className: 'text-input',
      'data-block': blockId,
      'data-action': actionId,
      placeholder: element.placeholder?.text,
      maxlength: element.max_length,
      'aria-invalid': error ? 'true' : undefined,
    };
    control = element.multiline
      ? h('textarea', { ...attributes, rows: 4 })
      : h('input', { ...attributes, type: 'text' });
    if (element.initial_value) control.value = element.initial_value;
  } else if (element.type === 'radio_buttons') {
    control = h(
      'div',
      { className: 'radios', role: 'radiogroup', 'aria-labelledby': `${id}-label` },
      ...(element.options ?? []).map((option, i) =>
        h(
          'label',
          { className: 'radio' },
          h('input', {
            type: 'radio',
            name: id,
            value: option.value,
            'data-block': blockId,
            'data-action': actionId,
            id: `${id}-${i}`,
            checked: element.initial_option?.value === option.value,
          }),
          h(
            'span',
            {},
            textElement(option.text, context.names, 'span', 'option-text'),
            option.description
              ? textElement(option.description, context.names, 'span', 'option-description')
              : undefined,
          ),
        ),
      ),
    );
  } else {
    control = unsupported(`input element "${element.type}"`);
  }
  return h(
    'div',
    { className: `block input${error ? ' has-error' : ''}`, 'data-block': blockId },
    h(
      'label',
      { className: 'input-label', for: element.type === 'plain_text_input' ? id : undefined, id: `${id}-label` },
      block.label?.text ?? '',
      block.optional ? h('span', { className: 'optional' }, ' (optional)') : undefined,
    ),
    control,
    block.hint ? textElement(block.hint, context.names, 'div', 'hint') : undefined,
    error ? h('div', { className: 'input-error', role: 'alert' }, error) : undefined,
  );
}

const unsupported = (what) => h('div', { className: 'block unsupported' }, `(the stand-in does not draw ${what})`);

/** What the inputs under `root` hold: `{ [blockId]: { [actionId]: text or the chosen option's value } }`. */
export function enteredValues(root) {
  const values = {};
  for (const input of root.querySelectorAll('[data-block][data-action]')) {
    if (input.tagName === 'BUTTON') continue;
    if (input.type === 'radio' && !input.checked) continue;
    const { block, action } = input.dataset;
    values[block] = { ...values[block], [action]: input.value };
  }
  return values;
}

/** Puts values read by enteredValues back (a view updated in place keeps what was typed, as in Slack). */
export function restoreValues(root, values) {
  for (const input of root.querySelectorAll('[data-block][data-action]')) {
    const value = values[input.dataset.block]?.[input.dataset.action];
    if (value === undefined || input.tagName === 'BUTTON') continue;
    if (input.type === 'radio') input.checked = input.value === value;
    else input.value = value;
  }
}
