// `npm start`: compile only if a source changed since the last build, then run the bot in this process.
import { join } from 'node:path';
import { buildIfChanged, root } from './build-if-changed.mjs';

buildIfChanged();
await import(join(root, 'dist', 'main.js'));
