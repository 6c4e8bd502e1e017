// Compiles src/ to dist/ only if a source changed since the last build (for `npm start` and `npm run
// admin`). `tsc -b` alone costs ~0.4 s even when nothing changed; comparing file times costs ~10 ms.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = fileURLToPath(new URL('..', import.meta.url));
const stamp = join(root, 'dist', '.tsbuildinfo');

function newestInput(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestInput(path) : statSync(path).mtimeMs);
  }
  return newest;
}

function builtAt() {
  try {
    return statSync(stamp).mtimeMs;
  } catch {
    return 0; // never built
  }
}

/** Builds dist/ if needed; exits the process with tsc's status if the build fails. */
export function buildIfChanged() {
  if (!existsSync(join(root, 'src'))) return; // an installed image: dist/ only, nothing to build from
  const inputs = Math.max(
    newestInput(join(root, 'src')),
    ...['tsconfig.json', 'package.json'].map((f) => statSync(join(root, f)).mtimeMs),
  );
  if (inputs < builtAt()) return;
  const tsc = spawnSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-b'], {
    cwd: root,
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  if (tsc.status !== 0) process.exit(tsc.status ?? 1);
  const now = new Date();
  utimesSync(stamp, now, now); // tsc -b leaves the stamp alone when outputs are unchanged
}
