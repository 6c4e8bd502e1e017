// The compiled dist/ that the scripts import. Where TypeScript is installed (a checkout), `tsc -b` brings it
// up to date first; a production install (the container image, the systemd steps) has no compiler, only the
// dist/ that was built before the devDependencies went, which is used as it is.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

/** Compiles if it can, then returns a function that names a dist/ module as an import URL. Exits 1 if there is no dist/. */
export function compiled(script) {
  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  if (existsSync(tsc)) {
    const build = spawnSync(process.execPath, [tsc, '-b'], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
    if (build.status !== 0) process.exit(build.status ?? 1);
  } else if (!existsSync(join(root, 'dist', 'config.js'))) {
    process.stderr.write(
      `${script}: dist/ is missing and TypeScript is not installed here: run \`npm run build\` first\n`,
    );
    process.exit(1);
  }
  return (file) => pathToFileURL(join(root, 'dist', file)).href;
}
