// The baseline: a bare Bolt app in HTTP mode that acks /whoami, and nothing else. Run as its own
// process by bench/run.mjs (so that its CPU time can be read from /proc), with the same signing
// secret and the same Slack stand-in as the real app. Prints "listening <port>" when ready.
//
// With BENCH_READ, it first makes the one read the real app's gate makes, through the same driver
// and with the same request, and acks only then: "bare + read", the cost of the store call alone.
//   sqlite:<file>  the gate's statement on better-sqlite3, kept prepared as the app keeps it
//   redis:<url>    keyv's getMany on Redis: MGET of the five keys
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
const read = await storeRead(process.env.BENCH_READ);
let checked = false;
app.command('/whoami', async ({ ack, command }) => {
  if (read) {
    const found = await read(command.user_id);
    // The first read must find the user's rows (a logged-in user has a grant and a delivery), or this measures nothing.
    if (!checked && found.filter((row) => row != null).length < 2) {
      console.error(`the gate's read for ${command.user_id} found ${JSON.stringify(found)}`);
      process.exit(1);
    }
    checked = true;
  }
  await ack({ response_type: 'ephemeral', text: 'ok' });
});
await app.init(); // auth.test against the stand-in, as the real app does
const server = await app.start(Number(process.env.BENCH_PORT ?? 0));
console.log(`listening ${server.address().port}`);
process.on('SIGTERM', () => app.stop().then(() => process.exit(0)));

/** The keys the gate reads for a user (src/core/sessions.ts userState), as keyv names them. */
function gateKeys(userId) {
  return ['epoch', 'delivery', 'phone']
    .map((k) => `${k}:${userId}`)
    .concat([`scope:${userId}:login`, `scope:${userId}:admin`]);
}

async function storeRead(spec) {
  if (!spec) return undefined;
  if (spec.startsWith('sqlite:')) {
    const { default: Database } = await import('better-sqlite3');
    const db = new Database(spec.slice('sqlite:'.length));
    db.exec('CREATE TABLE IF NOT EXISTS keyv(key VARCHAR(255) PRIMARY KEY, value TEXT )');
    const statement = db.prepare('SELECT key, value FROM keyv WHERE key IN (SELECT value FROM json_each(?))');
    return async (userId) => statement.all([JSON.stringify(gateKeys(userId).map((k) => `state:${k}`))]);
  }
  if (spec.startsWith('redis:')) {
    const { createClient } = await import('@redis/client');
    const client = createClient({ url: spec.slice('redis:'.length) });
    await client.connect();
    return (userId) => client.mGet(gateKeys(userId).map((k) => `keyv::${k}`));
  }
  throw new Error(`BENCH_READ: sqlite:<file> or redis:<url>, not ${spec}`);
}
