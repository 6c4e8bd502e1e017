// Loaded into the demo's bot before scripts/start.mjs (node --import): the bot must not outlive the
// demo, however the demo ends. The demo holds the other end of this process's stdin and never writes
// to it; when the demo dies (even by SIGKILL) the pipe closes, and the bot stops as on SIGTERM (its
// own graceful shutdown), then removes the demo's temporary folder, which nobody else is left to remove.
import { rmSync } from 'node:fs';

const folder = process.env.PHONEGATE_DEMO_FOLDER;
let orphaned = false;

function demoGone() {
  if (orphaned) return;
  orphaned = true;
  if (folder) process.once('exit', () => rmSync(folder, { recursive: true, force: true }));
  // Before the bot has set up its own shutdown (still compiling, say), nothing is open: exit now.
  if (process.listenerCount('SIGTERM') === 0) process.exit(0);
  process.kill(process.pid, 'SIGTERM');
  setTimeout(() => process.exit(1), 15_000).unref();
}

process.stdin.on('data', () => {});
process.stdin.once('end', demoGone);
process.stdin.once('close', demoGone);
process.stdin.once('error', demoGone);
// Nobody reads the bot's output any more: a write must not throw EPIPE in the middle of the shutdown.
process.stdout.on('error', () => {});
process.stderr.on('error', () => {});
