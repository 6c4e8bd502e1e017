// `npm run admin -- <command>`: the operator's commands on the configured store (src/operator.ts).
// Compiles only if a source changed since the last build, as `npm start` does.
import { join } from 'node:path';
import { buildIfChanged, root } from './build-if-changed.mjs';

buildIfChanged();
await import(join(root, 'dist', 'operator-main.js'));
