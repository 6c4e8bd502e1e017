import type { Purpose } from '../core/ports.js';

/**
 * The text a user reads or hears with their code. It names the scope in words and never uses
 * Bandwidth's `{SCOPE}` placeholder, which would show the per-challenge scope (`login-9f2c…`).
 */
export function codeMessage(appName: string, purpose: Purpose, lifetimeMinutes: number): string {
  return `Your ${appName} ${purpose} code is {CODE}. It expires in ${lifetimeMinutes} minutes. Do not share it.`;
}
