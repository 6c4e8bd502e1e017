import { readdirSync, readFileSync } from 'node:fs';
import net from 'node:net';
import { fileURLToPath } from 'node:url';

/** What the tests that start the real process (`npm start`) share. */

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The environment of someone who has configured nothing for this app, and is not inside npm. */
export function cleanEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (value === undefined) continue;
    if (/^(SLACK|BANDWIDTH|NUMBERS|PHONES|POLICY|STORE|LOG)_/.test(name)) continue;
    if (name === 'CONFIG_FILE' || /^npm_/i.test(name)) continue;
    env[name] = value;
  }
  return env;
}

export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  const address = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return address.port;
}

/** Live (not zombie) pids of a process group, from /proc. */
export function groupMembers(pgid: number): Array<{ pid: number; argv: string[] }> {
  const members: Array<{ pid: number; argv: string[] }> = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(pgrp) !== pgid || state === 'Z') continue;
      members.push({
        pid: Number(entry),
        argv: readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').filter(Boolean),
      });
    } catch {
      // ended while we looked
    }
  }
  return members;
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}
