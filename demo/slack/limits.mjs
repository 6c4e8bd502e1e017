// Slack's checks of what an app sends, the ones a Block Kit mistake of ours would hit: a view or message
// Slack would refuse is refused here too, with Slack's kind of message, instead of being drawn anyway.
// Numbers from the Block Kit reference (as test/slack/slack-limits.ts holds them for the unit tests).

const LIMITS = {
  title: 24,
  metadata: 3000,
  callbackId: 255,
  blocksInView: 100,
  blocksInMessage: 50,
  section: 3000,
  fields: 10,
  field: 2000,
  header: 150,
  context: 3000,
  contextElements: 10,
  actionsElements: 25,
  buttonText: 75,
  buttonValue: 2000,
  id: 255,
  label: 2000,
  placeholder: 150,
  options: 10,
  optionText: 75,
  optionValue: 150,
  messageText: 40_000,
};

const BLOCKS = new Set(['section', 'header', 'context', 'divider', 'actions', 'input', 'image', 'rich_text']);

/** The first problem of a view, in Slack's words, or undefined. */
export function viewProblem(view, type) {
  if (!view || typeof view !== 'object') return '[ERROR] missing required field: view';
  if (view.type !== type) return `[ERROR] must be ${type} [json-pointer:/view/type]`;
  const at = (pointer, problem) => `[ERROR] ${problem} [json-pointer:/view${pointer}]`;
  if (type === 'modal' && !view.title?.text) return at('/title', 'missing required field: title');
  for (const key of ['title', 'submit', 'close']) {
    const text = view[key]?.text;
    if (text !== undefined && text.length > LIMITS.title)
      return at(`/${key}/text`, `must be less than ${LIMITS.title + 1} characters`);
  }
  if ((view.private_metadata ?? '').length > LIMITS.metadata)
    return at('/private_metadata', `must be less than ${LIMITS.metadata + 1} characters`);
  if ((view.callback_id ?? '').length > LIMITS.callbackId)
    return at('/callback_id', `must be less than ${LIMITS.callbackId + 1} characters`);
  const blocks = view.blocks;
  if (!Array.isArray(blocks)) return at('/blocks', 'missing required field: blocks');
  if (blocks.length > LIMITS.blocksInView) return at('/blocks', `no more than ${LIMITS.blocksInView} items allowed`);
  if (type === 'modal' && blocks.some((b) => b?.type === 'input') && !view.submit)
    return at('/submit', 'submit is required when an input block is within the blocks array');
  return blocksProblem(blocks, (pointer, problem) => at(`/blocks${pointer}`, problem));
}

/** A message's problem as a Slack error answer, or undefined. */
export function messageProblem({ text, blocks }) {
  if ((text === undefined || text === '') && (!Array.isArray(blocks) || blocks.length === 0))
    return { ok: false, error: 'no_text' };
  if (typeof text === 'string' && text.length > LIMITS.messageText) return { ok: false, error: 'msg_too_long' };
  if (blocks === undefined) return undefined;
  if (!Array.isArray(blocks) || blocks.length > LIMITS.blocksInMessage) return { ok: false, error: 'invalid_blocks' };
  const problem = blocksProblem(blocks, (pointer, p) => `[ERROR] ${p} [json-pointer:/blocks${pointer}]`);
  return problem ? { ok: false, error: 'invalid_blocks', response_metadata: { messages: [problem] } } : undefined;
}

function blocksProblem(blocks, at) {
  const blockIds = new Set();
  for (const [i, block] of blocks.entries()) {
    const here = (pointer, problem) => at(`/${i}${pointer}`, problem);
    const over = (pointer, text, max) =>
      typeof text === 'string' && text.length > max ? here(pointer, `must be less than ${max + 1} characters`) : '';
    if (!BLOCKS.has(block?.type)) return here('/type', `unsupported block type: ${block?.type}`);
    if (block.block_id !== undefined) {
      if (blockIds.has(block.block_id)) return here('/block_id', 'duplicate block_id');
      blockIds.add(block.block_id);
      const long = over('/block_id', block.block_id, LIMITS.id);
      if (long) return long;
    }
    let problem = '';
    switch (block.type) {
      case 'section':
        if (!block.text && !block.fields) return here('', 'must provide either text or fields');
        problem = over('/text/text', block.text?.text, LIMITS.section);
        if ((block.fields ?? []).length > LIMITS.fields)
          return here('/fields', `no more than ${LIMITS.fields} items allowed`);
        for (const [j, field] of (block.fields ?? []).entries())
          problem ||= over(`/fields/${j}/text`, field.text, LIMITS.field);
        if (block.accessory) problem ||= elementProblem(block.accessory, '/accessory', here);
        break;
      case 'header':
        if (block.text?.type !== 'plain_text') return here('/text/type', 'must be plain_text');
        problem = over('/text/text', block.text.text, LIMITS.header);
        break;
      case 'context':
        if ((block.elements ?? []).length > LIMITS.contextElements)
          return here('/elements', `no more than ${LIMITS.contextElements} items allowed`);
        for (const [j, element] of (block.elements ?? []).entries())
          problem ||= over(`/elements/${j}/text`, element.text, LIMITS.context);
        break;
      case 'actions':
        if (!Array.isArray(block.elements) || block.elements.length === 0)
          return here('/elements', 'missing required field: elements');
        if (block.elements.length > LIMITS.actionsElements)
          return here('/elements', `no more than ${LIMITS.actionsElements} items allowed`);
        for (const [j, element] of block.elements.entries())
          problem ||= elementProblem(element, `/elements/${j}`, here);
        break;
      case 'input':
        if (!block.label?.text) return here('/label', 'missing required field: label');
        problem =
          over('/label/text', block.label.text, LIMITS.label) || elementProblem(block.element, '/element', here);
        break;
    }
    if (problem) return problem;
  }
  return undefined;
}

function elementProblem(element, pointer, here) {
  const over = (p, text, max) =>
    typeof text === 'string' && text.length > max
      ? here(`${pointer}${p}`, `must be less than ${max + 1} characters`)
      : '';
  if (!element?.type) return here(`${pointer}/type`, 'missing required field: type');
  const id = over('/action_id', element.action_id, LIMITS.id);
  if (id) return id;
  switch (element.type) {
    case 'button':
      return (
        over('/text/text', element.text?.text, LIMITS.buttonText) || over('/value', element.value, LIMITS.buttonValue)
      );
    case 'plain_text_input':
      return over('/placeholder/text', element.placeholder?.text, LIMITS.placeholder);
    case 'radio_buttons': {
      const options = element.options ?? [];
      if (options.length === 0 || options.length > LIMITS.options)
        return here(`${pointer}/options`, `must hold 1 to ${LIMITS.options} items`);
      for (const [k, option] of options.entries()) {
        const problem =
          over(`/options/${k}/text/text`, option.text?.text, LIMITS.optionText) ||
          over(`/options/${k}/value`, option.value, LIMITS.optionValue);
        if (problem) return problem;
      }
      return '';
    }
    default:
      return '';
  }
}
