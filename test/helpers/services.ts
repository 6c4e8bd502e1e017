import net from 'node:net';

const DEFAULT_PORTS: Record<string, number> = {
  'redis:': 6379,
  'rediss:': 6379,
  'postgres:': 5432,
  'postgresql:': 5432,
};

/**
 * Whether a service some tests need (Redis; later PostgreSQL) answers at `url`, for `describe.skipIf`.
 * When it does not, those tests are skipped with a warning on the console, so that a newcomer's
 * `npm test` passes and says what it left out. With REQUIRE_<NAME>=1 (set by .ci/run, where the service
 * runs) a missing service throws instead, failing the run: there the tests must not silently vanish.
 */
export async function requireService(
  name: string,
  url: string,
  env: Record<string, string | undefined> = process.env,
): Promise<boolean> {
  const parsed = new URL(url);
  const host = parsed.hostname.replace(/^\[(.*)\]$/, '$1') || '127.0.0.1';
  const port = Number(parsed.port) || DEFAULT_PORTS[parsed.protocol];
  if (!port) throw new Error(`requireService: no port in ${parsed.protocol}// URL for ${name}`);
  if (await answers(host, port)) return true;
  const flag = `REQUIRE_${name.toUpperCase()}`;
  if (env[flag] === '1')
    throw new Error(
      `${name} does not answer on ${host}:${port}, and ${flag}=1 says its tests must run (.ci/run starts it)`,
    );
  console.warn(
    `NOTE: ${name} does not answer on ${host}:${port}, so its tests are SKIPPED. Start ${name} to run them; ${flag}=1 makes this an error.`,
  );
  return false;
}

/** A TCP connection is accepted within a second. */
function answers(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}
