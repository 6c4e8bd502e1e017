import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Approvals } from '../../src/core/approvals.js';
import { AuditLog, type AuditRecord } from '../../src/core/audit.js';
import { Lockout, type LockoutPolicy } from '../../src/core/lockout.js';
import { type ConfiguredPhones, PhoneDirectory } from '../../src/core/phones.js';
import type { Notice } from '../../src/core/ports.js';
import { Requests } from '../../src/core/requests.js';
import { CodeSender, type SendPolicy } from '../../src/core/send-code.js';
import { Sessions } from '../../src/core/sessions.js';
import { CodeVerifier } from '../../src/core/verify-code.js';
import { openStore, type Store } from '../../src/store/index.js';
import { TestClock } from './clock.js';
import { MemoryProvider } from './memory-provider.js';

export const U1 = 'U0000USER1';
export const U2 = 'U0000USER2';
export const PHONE1 = '+14155550111';
export const PHONE2 = '+14155550122';
export const MINUTE = 60_000;

export const defaultPolicy: SendPolicy & LockoutPolicy & { maxAttempts: number } = {
  codeDigits: 6,
  codeTtlMs: 5 * MINUTE,
  maxAttempts: 5,
  resendCooldownMs: 30_000,
  maxSendsPerHour: 5,
  maxSendsPerPhonePerHour: 10,
  maxSendsPerHourTotal: 300,
  lockoutFailures: 10,
  lockoutMs: 15 * MINUTE,
};

/** The core on a real SQLite file, with an injected clock and an in-memory provider. */
export async function coreFixture(
  options: {
    policy?: Partial<typeof defaultPolicy>;
    ignoreWindow?: boolean;
    ignoreScope?: boolean;
    dbFile?: string;
    /** Another backend than a fresh SQLite file (e.g. a PostgreSQL schema that two fixtures share). */
    storeUrl?: string;
    clock?: TestClock;
    /** Who has which phone; default U1 and U2 with a phone each. */
    phones?: ConfiguredPhones;
  } = {},
) {
  const policy = { ...defaultPolicy, ...options.policy };
  const clock = options.clock ?? new TestClock();
  const dbFile = options.dbFile ?? join(mkdtempSync(join(tmpdir(), 'phonegate-core-')), 'state.sqlite');
  const store: Store = await openStore(options.storeUrl ?? `sqlite://${dbFile}`, clock);
  const provider = new MemoryProvider(clock, { ignoreWindow: options.ignoreWindow, ignoreScope: options.ignoreScope });
  const audit: AuditRecord[] = [];
  const notices: Array<{ userId: string; notice: Notice }> = [];
  const auditLog = new AuditLog(clock, [(record) => void audit.push(record)]);
  const notifier = { notify: async (userId: string, notice: Notice) => void notices.push({ userId, notice }) };
  const phones = new PhoneDirectory(store.kv, options.phones ?? { byUser: { [U1]: PHONE1, [U2]: PHONE2 } });
  const sessions = new Sessions(store.kv, clock, { login: 720 * MINUTE, admin: 15 * MINUTE });
  const lockout = new Lockout({
    store: store.kv,
    counters: store.counters,
    clock,
    audit: auditLog,
    notifier,
    sessions,
    policy,
  });
  const requests = new Requests({
    store: store.kv,
    counters: store.counters,
    phones,
    sessions,
    lockout,
    clock,
    policy,
  });
  const shared = {
    requests,
    counters: store.counters,
    provider,
    phones,
    sessions,
    lockout,
    audit: auditLog,
    clock,
    policy,
  };
  const sender = new CodeSender(shared);
  const verifier = new CodeVerifier(shared);
  const approvals = new Approvals({ store: store.kv, counters: store.counters, sessions, audit: auditLog, clock });
  return {
    approvals,
    clock,
    store,
    provider,
    audit,
    notices,
    phones,
    sessions,
    lockout,
    requests,
    sender,
    verifier,
    policy,
    dbFile,
  };
}

export type CoreFixture = Awaited<ReturnType<typeof coreFixture>>;

/** open + send: returns the request id and the code the user received. */
export async function requestCode(
  f: CoreFixture,
  userId = U1,
  scope: 'login' | 'admin' | 'approval' = 'login',
  delivery: 'sms' | 'voice' = 'sms',
  approvalId?: string,
) {
  const opened = await f.requests.open(userId, scope, approvalId);
  if (!opened.ok) throw new Error(`open refused: ${opened.reason}`);
  const sent = await f.sender.send(userId, opened.request.requestId, delivery);
  if (!sent.ok) throw new Error(`send refused: ${sent.reason}`);
  return { requestId: opened.request.requestId, code: f.provider.lastCode() };
}
