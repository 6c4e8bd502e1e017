// The one way the demo serves HTTP: on 127.0.0.1 only, with a close() that also ends kept-alive and
// streaming connections (server.close() alone waits for them forever).
import { createServer } from 'node:http';

export const HOST = '127.0.0.1';
/** No request to the demo is larger (a view is at most 250 kB in Slack). */
const MAX_BODY_BYTES = 1024 * 1024;

/**
 * Serves `handle(req, res, rawBody)` on 127.0.0.1. `port` 0 picks a free one; a `preferred` port that is
 * taken falls back to a free one. A handler that throws answers 500 (the server keeps serving).
 */
export async function listen(handle, { port = 0, fallback = false } = {}) {
  const server = createServer((req, res) => {
    const chunks = [];
    let size = 0;
    req.on('data', (chunk) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) req.destroy();
      else chunks.push(chunk);
    });
    req.on('end', () => {
      Promise.resolve()
        .then(() => handle(req, res, Buffer.concat(chunks)))
        .catch((error) => {
          if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
          res.end(`demo error: ${error?.message ?? error}`);
        });
    });
  });
  server.keepAliveTimeout = 30_000;
  const bind = (p) =>
    new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen({ port: p, host: HOST }, () => {
        server.off('error', reject);
        resolve();
      });
    });
  try {
    await bind(port);
  } catch (error) {
    if (!(fallback && error.code === 'EADDRINUSE')) throw error;
    await bind(0);
  }
  const origin = `http://${HOST}:${server.address().port}`;
  return {
    origin,
    port: server.address().port,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** Sends a JSON answer. */
export function json(res, status, value, headers = {}) {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers }).end(JSON.stringify(value));
}
