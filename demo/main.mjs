// `npm run demo`: PhoneGate on this machine, with no account and no config file. Prints one URL; Ctrl-C
// (or SIGTERM) stops the bot and every server and removes the temporary folder, then exits 0.
// DEMO_PORT chooses the page's port (default 3100, or any free one if that is taken; 0: any free one).
import { DEFAULT_PORT, Demo } from './demo.mjs';

const port = process.env.DEMO_PORT === undefined ? DEFAULT_PORT : Number(process.env.DEMO_PORT);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  process.stderr.write(`DEMO_PORT must be a port number (0 for any free one), not "${process.env.DEMO_PORT}"\n`);
  process.exit(1);
}

let stopping = false;
const demo = new Demo({
  port,
  onBotExit: ({ code, signal, lines }) => {
    process.stderr.write(
      `The bot stopped on its own (${signal ?? `exit code ${code}`}); its last lines:\n${lines
        .slice(-20)
        .map((l) => `  ${l.text}`)
        .join('\n')}\n`,
    );
    void stop(1);
  },
});

async function stop(code) {
  // One stop: under npm the same Ctrl-C comes twice (from the terminal, and forwarded by npm).
  if (stopping) return;
  stopping = true;
  await demo.stop();
  process.exit(code);
}
process.on('SIGINT', () => void stop(0));
process.on('SIGTERM', () => void stop(0));

process.stdout.write('Starting the PhoneGate demo (the first start also compiles the bot: up to half a minute)...\n');
try {
  await demo.start();
} catch (error) {
  if (!stopping) {
    process.stderr.write(`The demo could not start: ${error.message}\n`);
    await stop(1);
  }
}
if (!stopping)
  process.stdout.write(
    `PhoneGate demo, with a stand-in for Slack (not Slack), on this machine only: ${demo.url}\nCtrl-C stops it.\n`,
  );
