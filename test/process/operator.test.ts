import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { type AuditRecord, AuditTrail } from '../../src/core/audit.js';
import { systemClock } from '../../src/core/ports.js';
import { openStore } from '../../src/store/index.js';
import { PHONES, testEnv, USERS } from '../helpers/harness.js';
import { buildOnce, Cluster, cleanEnv, freePort, ROOT, removeReplicaTempFiles, StandIns } from '../helpers/replicas.js';

/**
 * Issue 18 §5: nobody can lock the team out. `npm run admin` is the operator's way back, from a shell on
 * the host with no Slack: on the configured store whether the bot runs or not, audited as `operator`.
 * The real command, as an operator types it (npm, the compiled entry).
 */

const run = promisify(execFile);
const TIMEOUT_MS = 60_000;
let dir: string;
let storeUrl: string;
let closedSlack: string;
let standIns: StandIns | undefined;
let cluster: Cluster | undefined;

beforeAll(async () => {
  buildOnce();
  dir = mkdtempSync(join(tmpdir(), 'phonegate-operator-'));
  storeUrl = `sqlite://${join(dir, 'state.sqlite')}`;
  writeFileSync(join(dir, 'none.ini'), ''); // an empty config file: the checkout's config.ini is never read
  closedSlack = `http://127.0.0.1:${await freePort()}/api/`; // nothing listens: DMs fail fast, and are only logged
}, TIMEOUT_MS);
afterEach(async () => {
  await cluster?.stop();
  await standIns?.close();
  cluster = undefined;
  standIns = undefined;
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
  removeReplicaTempFiles();
});

/** `npm run admin -- <args>` with the bot's environment (an admin with no phone); never throws on a non-zero exit. */
async function admin(args: string[], env: Record<string, string> = {}) {
  const base: Record<string, string> = {
    ...cleanEnv(),
    ...testEnv('basic'),
    STORE_URL: storeUrl,
    CONFIG_FILE: join(dir, 'none.ini'),
    SLACK_API_URL: closedSlack,
  };
  delete base.PHONES_U0ALICE01; // the only admin has no phone: nobody can step up
  try {
    const { stdout, stderr } = await run('npm', ['run', '--silent', 'admin', '--', ...args], {
      cwd: ROOT,
      env: { ...base, ...env },
      timeout: 30_000,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

async function storedEvents(): Promise<AuditRecord[]> {
  const store = await openStore(storeUrl, systemClock);
  try {
    return await new AuditTrail(store).recent(50);
  } finally {
    await store.close();
  }
}

describe('npm run admin (the bot not running)', () => {
  test(
    'links the phone of an admin who has none: audited as operator, and the number never printed whole',
    async () => {
      const linked = await admin(['link', USERS.alice, '+1 (415) 555-0177']);
      expect(linked).toMatchObject({ code: 0 });
      expect(linked.stdout).toContain(`Linked •••• 0177 to ${USERS.alice}`);
      expect(`${linked.stdout}${linked.stderr}`).not.toMatch(/555.?0177/);
      const [event] = await storedEvents();
      expect(event).toMatchObject({
        event: 'authn_phone_linked',
        userId: USERS.alice,
        actorId: 'operator',
        outcome: 'success',
      });
      // A JSON audit line on stderr too (the log is the record of last resort), and the DM's failure is only logged.
      expect(linked.stderr).toContain('"event":"authn_phone_linked"');
      expect(linked.stderr).toContain('could not send a direct message');
    },
    TIMEOUT_MS,
  );

  test(
    'a mistake is told with the usage and exit code 2; a refused number changes nothing and exits 1',
    async () => {
      expect(await admin([])).toMatchObject({ code: 2, stdout: expect.stringContaining('usage: npm run admin') });
      expect(await admin(['link', '@alice', '+14155550177'])).toMatchObject({
        code: 2,
        stdout: expect.stringContaining('give a Slack user id like U0123ABCD'),
      });
      const refused = await admin(['link', USERS.bob, '+1 900 555 0101']);
      expect(refused).toMatchObject({ code: 1, stdout: expect.stringContaining('premium-rate') });
    },
    TIMEOUT_MS,
  );
});

describe('npm run admin (the bot running on the same store)', () => {
  test(
    'unlink and revoke while the bot serves: the bot sees them at once',
    async () => {
      standIns = await StandIns.start();
      cluster = await Cluster.start(storeUrl, standIns, { PHONES_U0ALICE01: PHONES.alice }, 1);
      const bot = cluster.a;
      const sessions = await admin(['sessions']);
      expect(sessions).toMatchObject({ code: 0 });

      const unlinked = await admin(['unlink', USERS.bob]);
      expect(unlinked).toMatchObject({ code: 0, stdout: expect.stringContaining(`Removed ${USERS.bob}'s phone`) });
      const login = await bot.command(standIns, '/login', USERS.bob);
      expect(login.json.text).toContain('No phone is linked to your Slack account');

      const revoked = await admin(['revoke', USERS.carol]);
      expect(revoked).toMatchObject({ code: 0, stdout: expect.stringContaining('had no live session') });
    },
    TIMEOUT_MS,
  );
});
