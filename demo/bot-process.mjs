// The bot, started as `npm start` starts it: node with the flags of package.json's start script running
// scripts/start.mjs (which compiles src/ when it changed, then runs dist/main.js). It runs as a child
// in its own process group, so that the terminal's Ctrl-C reaches the demo alone and the demo stops
// the bot in order; orphan-guard.mjs stops it if the demo itself dies.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './bot-config.mjs';

const GUARD = new URL('./orphan-guard.mjs', import.meta.url).href;
/** The bot's own shutdown waits up to 10 s for requests in flight; then it is killed. */
const STOP_WITHIN_MS = 12_000;
/** What the page shows of the bot's log. */
const KEPT_LINES = 300;

/** The node flags of `npm start` (`exec node <flags> scripts/start.mjs`), so the demo runs the bot as it does. */
export function startFlags() {
  const script = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).scripts?.start ?? '';
  const flags = /^exec node ((?:--\S+ )*)scripts\/start\.mjs$/.exec(script)?.[1];
  if (flags === undefined)
    throw new Error(`package.json's start script is "${script}", not "exec node [--flags] scripts/start.mjs"`);
  return flags.split(' ').filter(Boolean);
}

/**
 * Starts the bot and resolves with its port once it logs "ready"; rejects with its output if it exits
 * first. `onLine` gets each log line (parsed JSON when it is JSON).
 */
export function startBot({ env, folder, onLine, onExit, readyWithinMs = 180_000 }) {
  const child = spawn(process.execPath, [...startFlags(), '--import', GUARD, 'scripts/start.mjs'], {
    cwd: ROOT,
    env: { ...env, PHONEGATE_DEMO_FOLDER: folder },
    stdio: ['pipe', 'pipe', 'pipe'],
    detached: true,
  });
  const lines = [];
  let exited;
  const exit = new Promise((resolve) =>
    child.once('exit', (code, signal) => {
      exited = { code, signal };
      resolve(exited);
    }),
  );
  let resolveReady;
  const ready = new Promise((resolve) => (resolveReady = resolve));
  const take = (stream, source) => {
    let rest = '';
    stream.setEncoding('utf8').on('data', (chunk) => {
      const parts = (rest + chunk).split('\n');
      rest = parts.pop();
      for (const text of parts) {
        if (text === '') continue;
        let parsed;
        try {
          parsed = JSON.parse(text);
        } catch {
          parsed = undefined;
        }
        const line = { source, text, json: parsed };
        lines.push(line);
        if (lines.length > KEPT_LINES) lines.shift();
        if (parsed?.msg === 'ready') resolveReady(parsed.port);
        onLine?.(line);
      }
    });
  };
  take(child.stdout, 'stdout');
  take(child.stderr, 'stderr');
  child.stdin.on('error', () => {}); // the bot ended first
  exit.then((how) => onExit?.(how));

  const started = Promise.race([
    ready,
    exit.then((how) => {
      throw new Error(`the bot exited before it was ready (${describeExit(how)}):\n${tail(lines)}`);
    }),
    new Promise((_, reject) =>
      setTimeout(
        () => reject(new Error(`the bot was not ready within ${readyWithinMs / 1000} s:\n${tail(lines)}`)),
        readyWithinMs,
      ).unref(),
    ),
  ]);

  return {
    pid: child.pid,
    lines,
    started,
    get exited() {
      return exited;
    },
    /** SIGTERM to the bot's group (its graceful shutdown); SIGKILL if it is still there after a while. */
    async stop() {
      if (exited) return exited;
      signalGroup(child.pid, 'SIGTERM');
      const timer = setTimeout(() => signalGroup(child.pid, 'SIGKILL'), STOP_WITHIN_MS);
      const how = await exit;
      clearTimeout(timer);
      signalGroup(child.pid, 'SIGKILL'); // anything the bot started and left behind
      return how;
    },
  };
}

function signalGroup(pgid, signal) {
  try {
    process.kill(-pgid, signal);
  } catch {
    // the group is gone
  }
}

const describeExit = ({ code, signal }) => (signal ? `signal ${signal}` : `exit code ${code}`);
const tail = (lines) =>
  lines
    .slice(-40)
    .map((l) => `  ${l.text}`)
    .join('\n');
