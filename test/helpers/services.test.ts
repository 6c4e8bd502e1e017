import net from 'node:net';
import { afterEach, describe, expect, test, vi } from 'vitest';
import { requireService } from './services.js';

/** A port that was just free: listened on, then closed. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('requireService', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  // Rule: a service that answers runs its tests, and nothing is printed.
  test('a listening service: true, no note', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const server = net.createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as net.AddressInfo;
      await expect(requireService('redis', `redis://127.0.0.1:${port}/5`, {})).resolves.toBe(true);
      expect(warn).not.toHaveBeenCalled();
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  // Rule: no service: false (the tests are skipped), with a note saying so on the console.
  test('no service: false, with a visible note', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const port = await closedPort();
    await expect(requireService('redis', `redis://127.0.0.1:${port}/5`, {})).resolves.toBe(false);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0]![0])).toMatch(
      new RegExp(`redis does not answer on 127\\.0\\.0\\.1:${port}, so its tests are SKIPPED.*REQUIRE_REDIS=1`),
    );
  });

  // Rule: where REQUIRE_<NAME>=1 (CI), no service fails instead of skipping.
  test('no service with REQUIRE_<NAME>=1: an error', async () => {
    const port = await closedPort();
    await expect(
      requireService('postgres', `postgres://127.0.0.1:${port}/db`, { REQUIRE_POSTGRES: '1' }),
    ).rejects.toThrow(/postgres does not answer .* REQUIRE_POSTGRES=1 says its tests must run/);
  });
});
