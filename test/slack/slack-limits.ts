/**
 * Slack's size limits for what the bot builds (Block Kit reference: section text 3,000, section field
 * 2,000, context element 3,000, header 150, modal title/submit/close 24, private_metadata 3,000;
 * chat.postMessage and response_url text: 4,000 advised, cut past 40,000). Returns each breach.
 */
export const LIMITS = {
  section: 3000,
  field: 2000,
  context: 3000,
  header: 150,
  title: 24,
  metadata: 3000,
  message: 4000,
} as const;

export function viewProblems(view: any): string[] {
  const problems: string[] = [];
  const over = (what: string, text: string | undefined, max: number) => {
    if (text !== undefined && text.length > max) problems.push(`${what} is ${text.length} characters (max ${max})`);
  };
  for (const key of ['title', 'submit', 'close'] as const) over(key, view[key]?.text, LIMITS.title);
  over('private_metadata', view.private_metadata, LIMITS.metadata);
  for (const [i, block] of (view.blocks ?? []).entries()) {
    if (block.type === 'section') {
      over(`block ${i} section text`, block.text?.text, LIMITS.section);
      for (const field of block.fields ?? []) over(`block ${i} field`, field.text, LIMITS.field);
    }
    if (block.type === 'context')
      for (const element of block.elements ?? []) over(`block ${i} context`, element.text, LIMITS.context);
    if (block.type === 'header') over(`block ${i} header`, block.text?.text, LIMITS.header);
  }
  return problems;
}

export function messageProblems(text: string): string[] {
  return text.length < LIMITS.message ? [] : [`message is ${text.length} characters (max ${LIMITS.message - 1})`];
}
