import { randomInt } from 'node:crypto';

/** A code of `digits` digits that none of `sent` equals: a guess that is sure to be wrong. */
export function wrongCode(sent: ReadonlyArray<{ code: string }>, digits: number): string {
  for (;;) {
    const candidate = String(randomInt(10 ** digits)).padStart(digits, '0');
    if (!sent.some((s) => s.code === candidate)) return candidate;
  }
}
