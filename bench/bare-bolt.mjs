// The baseline: a bare Bolt app in HTTP mode that acks /whoami, and nothing else. Run as its own
// process by bench/run.mjs (so that its CPU time can be read from /proc), with the same signing
// secret and the same Slack stand-in as the real app. Prints "listening <port>" when ready.
import bolt from '@slack/bolt';

const { App, HTTPReceiver, LogLevel } = bolt;
const receiver = new HTTPReceiver({ signingSecret: process.env.BENCH_SIGNING_SECRET, endpoints: '/slack/events' });
const app = new App({
  token: process.env.BENCH_BOT_TOKEN,
  receiver,
  logLevel: LogLevel.WARN,
  clientOptions: { slackApiUrl: process.env.BENCH_SLACK_API_URL },
  deferInitialization: true,
});
app.command('/whoami', async ({ ack }) => ack({ response_type: 'ephemeral', text: 'ok' }));
await app.init(); // auth.test against the stand-in, as the real app does
const server = await app.start(Number(process.env.BENCH_PORT ?? 0));
console.log(`listening ${server.address().port}`);
process.on('SIGTERM', () => app.stop().then(() => process.exit(0)));
