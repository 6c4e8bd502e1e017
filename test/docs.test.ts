import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { describe, expect, test } from 'vitest';
import { ROOT } from './helpers/process.js';

/**
 * The README and docs/ link to each other by file and heading; text moves between them (and is added by
 * several people at once), so every relative link must still land somewhere.
 */

const DOCS = [
  'README.md',
  'CONTRIBUTING.md',
  'SECURITY.md',
  ...readdirSync(join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];

/** A heading's anchor as GitHub makes it: lower case, punctuation dropped, spaces to hyphens. */
const slug = (heading: string) =>
  heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');

function anchorsOf(file: string): Set<string> {
  const text = readFileSync(join(ROOT, file), 'utf8').replace(/^```[\s\S]*?^```/gm, '');
  return new Set([...text.matchAll(/^#{1,6} (.+)$/gm)].map(([, heading]) => slug(heading!)));
}

/** Relative links (markdown and <img src>) outside code, as [from, target]. */
function linksOf(file: string): string[] {
  const text = readFileSync(join(ROOT, file), 'utf8')
    .replace(/^```[\s\S]*?^```/gm, '')
    .replace(/`[^`\n]*`/g, '');
  return [...text.matchAll(/\]\(([^)\s]+)\)|<img src="([^"]+)"/g)]
    .map(([, link, img]) => (link ?? img)!)
    .filter((link) => !/^[a-z]+:/.test(link));
}

describe('the links of the README and docs/ (issue 19)', () => {
  // Rule: a relative link names a file that exists, and its #anchor a heading of that file.
  test.each(DOCS)('%s', (file) => {
    const broken: string[] = [];
    for (const link of linksOf(file)) {
      const [path = '', anchor] = link.split('#');
      const target = path === '' ? file : relative(ROOT, join(ROOT, dirname(file), path));
      // The screenshots are drawn by `npm run screenshots` from the demo page; they are checked there.
      if (target.startsWith('docs/images/')) continue;
      if (!existsSync(join(ROOT, target))) broken.push(`${link} (no file ${target})`);
      else if (anchor && target.endsWith('.md') && !anchorsOf(target).has(anchor))
        broken.push(`${link} (no heading #${anchor} in ${target})`);
    }
    expect(broken).toEqual([]);
  });

  // Rule: the checker can fail: a link to a heading that does not exist is caught.
  test('a missing heading is caught', () => {
    expect(anchorsOf('README.md').has('troubleshooting')).toBe(true);
    expect(anchorsOf('README.md').has('no-such-heading')).toBe(false);
  });
});
