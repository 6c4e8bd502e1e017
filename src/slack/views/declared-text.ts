import { echo, userText } from './format.js';

/** The sentences of declared commands ([command /name] in config.ini). */

/** A command as the user typed it, safe to show in code style (backticks removed, numbers masked, escaped, cut). */
export function typed(name: string, text: string): string {
  const args = echo(text.replace(/`/g, ''), 200);
  return `\`${args === '' ? name : `${name} ${args}`}\``;
}

export function running(name: string, text: string): string {
  return `:hourglass_flowing_sand: Running ${typed(name, text)}…`;
}

export function notAllowed(name: string): string {
  return `You're not on the list of people who can run \`${name}\`. Nothing was run. If you need it, ask whoever runs this bot.`;
}

export function notSetUp(name: string): string {
  return `\`${userText(name.replace(/`/g, ''), 40)}\` is not set up here. Ask whoever runs this bot to declare it in PhoneGate's config.ini.`;
}

export function noLongerSetUp(name: string): string {
  return `\`${name}\` is no longer set up here, so nothing was run.`;
}

/** The endpoint gave no answer to show; `why` is callAction's sentence (the status, no secret). */
export function failed(name: string, text: string, why: string, mayHaveRun: boolean): string {
  return `:warning: ${typed(name, text)} failed. ${why}${mayHaveRun ? ' It may still have run: check before trying again.' : ''}`;
}

export function deliveryUnknown(name: string): string {
  return `I can't tell how your phone was checked for this session, so \`${name}\` was not run. Run \`/logout\`, then \`/login\`, and try again.`;
}
