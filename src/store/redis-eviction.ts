import { guardStore, PING_DEADLINE_MS } from './errors.js';

/**
 * Redis under memory pressure evicts keys unless its maxmemory-policy is `noeviction`. For PhoneGate an
 * evicted key can be a security fact: a lock (the user may guess again), a replay claim (a request runs
 * twice), an epoch (an ended session's grant counts again). So the policy is checked when the store
 * opens (DESIGN invariant 4: fail closed).
 */

/** What to do at start-up, given the server's policy (undefined: it could not be read). */
export type EvictionVerdict = { start: true; warning?: string } | { start: false; problem: string };

const RISK = 'a lock, a replay claim or a session ending';

export function evictionVerdict(policy: string | undefined, allowEviction: boolean): EvictionVerdict {
  if (policy === undefined)
    return {
      start: true,
      warning: `could not read Redis' eviction policy (CONFIG GET and INFO are refused here): make sure the server has maxmemory-policy noeviction, or under memory pressure it may drop ${RISK}`,
    };
  if (policy === 'noeviction') return { start: true };
  if (allowEviction)
    return {
      start: true,
      warning: `Redis may evict keys (maxmemory-policy ${policy}) and [store] allow_eviction = yes lets PhoneGate run on it: under memory pressure it may drop ${RISK}. Set maxmemory-policy noeviction on the server to be safe`,
    };
  return {
    start: false,
    problem: `Redis may evict keys (maxmemory-policy ${policy}), which could drop ${RISK}: set maxmemory-policy noeviction on the server (or, knowing this, [store] allow_eviction = yes)`,
  };
}

/** The part of the node-redis client this needs. */
interface RedisCommands {
  sendCommand(args: string[]): Promise<unknown>;
}

/**
 * The server's maxmemory-policy: by CONFIG GET, or where CONFIG is disabled (as on some managed
 * services) from INFO memory; undefined when neither answers.
 */
export async function readEvictionPolicy(client: RedisCommands): Promise<string | undefined> {
  const ask = (args: string[]) => guardStore('read', () => client.sendCommand(args), PING_DEADLINE_MS);
  try {
    const policy = configValue(await ask(['CONFIG', 'GET', 'maxmemory-policy']), 'maxmemory-policy');
    if (policy) return policy;
  } catch {
    // CONFIG renamed or refused: try INFO.
  }
  try {
    return /^maxmemory_policy:(\S+)/m.exec(String(await ask(['INFO', 'memory'])))?.[1];
  } catch {
    return undefined;
  }
}

/** CONFIG GET's answer: a flat [name, value] list (RESP2) or a map (RESP3). */
function configValue(reply: unknown, name: string): string | undefined {
  if (Array.isArray(reply)) {
    const at = reply.indexOf(name);
    return at >= 0 && typeof reply[at + 1] === 'string' ? reply[at + 1] : undefined;
  }
  if (reply instanceof Map) return typeof reply.get(name) === 'string' ? reply.get(name) : undefined;
  if (reply && typeof reply === 'object') {
    const value = (reply as Record<string, unknown>)[name];
    return typeof value === 'string' ? value : undefined;
  }
  return undefined;
}
