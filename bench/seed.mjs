// The state of many users, made by cloning one user whom the real app logged in. Whatever rows the
// app wrote for that user (grant, delivery, request and challenge, counters, audit events, in any
// table or key layout) are copied once per clone with the user id replaced, every UUID made unique
// per clone, and, for every second clone, every timestamp moved a day back ("aged": its session and
// codes have expired, its audit events are a day old). Rows that name neither the user nor one of
// its UUIDs are not copied. SQLite: one INSERT ... SELECT per template row, generated inside SQLite;
// Redis: a Lua script per batch of clones.
//
// The audit trail is kept at its bound, as a running bot keeps it: the template's audit events are
// cloned only for as many clones as fill AUDIT_MAX_EVENTS (and one more, so the first purge trims a few).

import { createClient } from '@redis/client';
import Database from 'better-sqlite3';

const DAY_MS = 24 * 60 * 60 * 1000;
const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g;
export const cloneId = (prefix, i) => `${prefix}${String(i).padStart(8, '0')}`;
export const isAged = (i) => i % 2 === 0;

/** The audit trail's bound on security events (src/core/audit.ts, DEFAULT_RETENTION.maxEvents). */
export const AUDIT_MAX_EVENTS = 5000;
/** A key of the audit trail's events, in any backend's spelling (`state:audit:…`, `keyv::audit:…`). */
const AUDIT_KEY = /(?:^|:)audit:\d/;

/** How many clones get the template's audit events: enough to fill the bound, and one more. */
function auditClones(keys) {
  const perUser = keys.filter((key) => AUDIT_KEY.test(key)).length;
  return perUser === 0 ? 0 : Math.ceil(AUDIT_MAX_EVENTS / perUser) + 1;
}

/** Every ms timestamp within two days of `now` in the text, moved a day back. */
function age(text, now) {
  return text.replace(/\d{13}/g, (digits) =>
    Math.abs(Number(digits) - now) < 2 * DAY_MS ? String(Number(digits) - DAY_MS) : digits,
  );
}

/** The rows (of any shape) that belong to `userId`: naming it, or naming a UUID found in those. */
function belongingTo(rows, texts, userId) {
  const mine = new Set(rows.filter((row) => texts(row).some((t) => t.includes(userId))));
  if (mine.size === 0) throw new Error(`no state of ${userId} to clone (did its login fail?)`);
  const uuids = new Set([...mine].flatMap((row) => texts(row).flatMap((t) => t.match(UUID) ?? [])));
  for (const row of rows)
    if (!mine.has(row) && texts(row).some((t) => [...uuids].some((u) => t.includes(u)))) mine.add(row);
  return {
    rows: [...mine],
    uuids: [...new Set([...mine].flatMap((row) => texts(row).flatMap((t) => t.match(UUID) ?? [])))],
  };
}

/** A key with its user, UUIDs and hashes named, for the report: `state:scope:<user>:login`. */
function shape(key, userId) {
  return key
    .replaceAll(userId, '<user>')
    .replace(UUID, '<uuid>')
    .replace(/[0-9a-f]{64}/g, '<hash>')
    .replace(/\d{10,}/g, '<time>');
}

// ---------------------------------------------------------------------------------------------- SQLite

// The app's own driver (better-sqlite3); sync calls, wrapped so that the seed reads as before.
const open = async (file) => new Database(file);
const all = async (db, sql, ...params) => db.prepare(sql).all(params);
const exec = async (db, sql) => db.exec(sql);
const close = async (db) => db.close();
const quote = (text) => `'${String(text).replaceAll("'", "''")}'`;

/** The schema of the app's SQLite file and the rows of `userId`. */
export async function sqliteTemplate(file, userId) {
  const db = await open(file);
  try {
    const schema = await all(
      db,
      "SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%' ORDER BY type = 'index'",
    );
    const tables = [];
    for (const { name } of schema.filter((s) => s.type === 'table')) {
      const columns = (await all(db, `PRAGMA table_info("${name}")`)).map((c) => c.name);
      for (const row of await all(db, `SELECT * FROM "${name}"`)) tables.push({ name, columns, row });
    }
    // Across tables: a counter keyed by a challenge id belongs to the user whose request names it.
    const found = belongingTo(
      tables,
      ({ columns, row }) => columns.map((c) => row[c]).filter((v) => typeof v === 'string'),
      userId,
    );
    const byTable = new Map();
    for (const { name, columns, row } of found.rows) {
      if (!byTable.has(name)) byTable.set(name, { name, columns, rows: [], uuids: found.uuids });
      byTable.get(name).rows.push(row);
    }
    tables.length = 0;
    tables.push(...byTable.values());
    const shapes = tables.flatMap((t) => t.rows.map((row) => `${t.name}:${shape(String(row[t.columns[0]]), userId)}`));
    return { schema: schema.map((s) => s.sql), tables, userId, shapes };
  } finally {
    await close(db);
  }
}

/** A new SQLite file with the app's schema and `users` clones of the template (ids prefix + 8 digits). */
export async function sqliteClones(file, template, { users, prefix, now }) {
  const db = await open(file);
  try {
    await exec(db, 'PRAGMA journal_mode=WAL');
    for (const sql of template.schema) await exec(db, sql);
    await exec(db, 'BEGIN');
    const firstKey = (table, row) => String(row[table.columns[0]]);
    const audited = auditClones(template.tables.flatMap((t) => t.rows.map((row) => firstKey(t, row))));
    for (const table of template.tables) {
      const uuids = table.uuids;
      const chain = (text) => {
        let expr = `replace(${quote(text)}, ${quote(template.userId)}, ${quote(prefix)} || printf('%08d', n.i))`;
        for (const u of uuids)
          if (text.includes(u)) expr = `replace(${expr}, ${quote(u)}, ${quote(u.slice(0, 28))} || printf('%08x', n.i))`;
        return expr;
      };
      for (const row of table.rows) {
        const exprs = table.columns.map((c) => {
          const v = row[c];
          if (v === null || v === undefined) return 'NULL';
          if (typeof v === 'number')
            return Math.abs(v - now) < 2 * DAY_MS
              ? `CASE WHEN n.i % 2 = 0 THEN ${v - DAY_MS} ELSE ${v} END`
              : String(v);
          if (typeof v !== 'string') throw new Error(`cannot clone a ${typeof v} in ${table.name}.${c}`);
          const aged = age(v, now);
          return aged === v ? chain(v) : `CASE WHEN n.i % 2 = 0 THEN ${chain(aged)} ELSE ${chain(v)} END`;
        });
        await exec(
          db,
          `INSERT OR IGNORE INTO "${table.name}" (${table.columns.map((c) => `"${c}"`).join(', ')})
           WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${AUDIT_KEY.test(firstKey(table, row)) ? Math.min(users, audited) : users}) SELECT ${exprs.join(', ')} FROM n`,
        );
      }
    }
    await exec(db, 'COMMIT');
    const [{ rows }] = await all(
      db,
      `SELECT (${template.tables.map((t) => `(SELECT count(*) FROM "${t.name}")`).join(' + ') || 0}) AS rows`,
    );
    return rows;
  } finally {
    await close(db);
  }
}

// ----------------------------------------------------------------------------------------------- Redis

/** The string keys of `userId` (with their remaining ttl) in the app's Redis database (all of it is the app's). */
export async function redisTemplate(url, userId) {
  const client = createClient({ url });
  await client.connect();
  try {
    const keys = [];
    for await (const batch of client.scanIterator({ MATCH: '*', COUNT: 1000 })) keys.push(...batch);
    const rows = [];
    for (const key of keys) {
      if ((await client.type(key)) !== 'string') continue;
      rows.push({ k: key, v: await client.get(key), ttl: await client.pTTL(key) });
    }
    const found = belongingTo(rows, (row) => [row.k, row.v], userId);
    return { rows: found.rows, uuids: found.uuids, userId, shapes: found.rows.map((row) => shape(row.k, userId)) };
  } finally {
    client.destroy();
  }
}

const CLONE = `
local tpl = cjson.decode(ARGV[1])
local from, to = tonumber(ARGV[2]), tonumber(ARGV[3])
local prefix, shift, audited = ARGV[5], tonumber(ARGV[7]), tonumber(ARGV[8])
local function esc(s) return (string.gsub(s, '%W', '%%%0')) end
local user = esc(ARGV[4])
local uuids = {}
for j, u in ipairs(cjson.decode(ARGV[6])) do uuids[j] = {esc(u), string.sub(u, 1, 28)} end
local function subst(s, i)
  s = string.gsub(s, user, prefix .. string.format('%08d', i))
  for _, u in ipairs(uuids) do s = string.gsub(s, u[1], u[2] .. string.format('%08x', i)) end
  return s
end
local n = 0
for i = from, to do
  local aged = (i % 2 == 0)
  for _, t in ipairs(tpl) do
    local ttl = t.ttl
    if aged and ttl > 0 then ttl = ttl - shift end
    if (ttl == -1 or ttl > 0) and (i <= audited or not t.audit) then
      local k, v = subst(aged and t.ka or t.k, i), subst(aged and t.va or t.v, i)
      if ttl > 0 then redis.call('SET', k, v, 'PX', ttl) else redis.call('SET', k, v) end
      -- The app keeps the audit trail's keys in a sorted set too (src/store/redis.ts), so the purge finds them by range.
      local ordered = string.match(k, '^keyv::(audit:.*)$')
      if ordered then redis.call('ZADD', 'state:index:ordered', 0, ordered) end
      n = n + 1
    end
  end
end
return n`;

/** `users` clones of the template into the (emptied) database at `url`; aged state past its ttl is left out, as Redis would have expired it. */
export async function redisClones(url, template, { users, prefix, now }) {
  const client = createClient({ url });
  await client.connect();
  try {
    await client.flushDb('ASYNC'); // a large database freed in the background: the shared server keeps answering
    const tpl = template.rows.map((r) => ({ ...r, ka: age(r.k, now), va: age(r.v, now), audit: AUDIT_KEY.test(r.k) }));
    const audited = auditClones(template.rows.map((r) => r.k));
    let written = 0;
    // Batches of 500 clones: each script holds the (shared) server for a few milliseconds only.
    for (let from = 1; from <= users; from += 500) {
      const to = Math.min(users, from + 499);
      written += Number(
        await client.eval(CLONE, {
          keys: [],
          arguments: [
            JSON.stringify(tpl),
            String(from),
            String(to),
            template.userId,
            prefix,
            JSON.stringify(template.uuids),
            String(DAY_MS),
            String(audited),
          ],
        }),
      );
    }
    return written;
  } finally {
    client.destroy();
  }
}

/** An empty database number on the Redis server at `base` (12 to 15), or undefined when none answers or all hold keys. */
export async function emptyRedisDb(base) {
  const client = createClient({ url: base, socket: { connectTimeout: 1000, reconnectStrategy: false } });
  client.on('error', () => {});
  try {
    await client.connect();
  } catch {
    return undefined;
  }
  try {
    for (let db = 12; db <= 15; db++) {
      await client.select(db);
      if ((await client.dbSize()) === 0) return `${base.replace(/\/+\d*$/, '')}/${db}`;
    }
    return undefined;
  } finally {
    client.destroy();
  }
}

export async function flushRedis(url) {
  const client = createClient({ url });
  await client.connect();
  try {
    await client.flushDb('ASYNC');
  } finally {
    client.destroy();
  }
}
