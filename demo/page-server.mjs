// Serves the demo's page and what it asks for: the files in page/ (no build step, nothing from the
// internet), the state as one person sees it, a server-sent event per change, and the person's actions.
// Only a page served from here may act: the Host must be this server's (no DNS rebinding), and actions
// are JSON posts (another site's form cannot send one without a CORS preflight, which is never allowed).
import { readFile } from 'node:fs/promises';
import { json, listen } from './http.mjs';

const FILES = {
  '/': ['index.html', 'text/html; charset=utf-8'],
  '/app.js': ['app.js', 'text/javascript; charset=utf-8'],
  '/blocks.js': ['blocks.js', 'text/javascript; charset=utf-8'],
  '/mrkdwn.js': ['mrkdwn.js', 'text/javascript; charset=utf-8'],
  '/style.css': ['style.css', 'text/css; charset=utf-8'],
};
const SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
};

/**
 * @param {{ port: number, fallback: boolean, state: (as: string) => object, act: (action: object) => Promise<void>,
 *   people: string[] }} options
 * @returns the server, and `changed()` to tell every open page.
 */
export async function startPageServer({ port, fallback, state, act, people }) {
  const streams = new Set();
  let allowedHosts = new Set();
  const server = await listen(
    async (req, res, rawBody) => {
      if (!allowedHosts.has(req.headers.host ?? '')) return json(res, 421, { error: 'unknown host' });
      const url = new URL(req.url ?? '/', 'http://localhost');
      if (req.method === 'GET' && FILES[url.pathname]) {
        const [file, type] = FILES[url.pathname];
        const text = await readFile(new URL(`./page/${file}`, import.meta.url));
        return res.writeHead(200, { 'content-type': type, ...SECURITY_HEADERS }).end(text);
      }
      if (req.method === 'GET' && url.pathname === '/state') {
        const as = url.searchParams.get('as') ?? '';
        return json(res, 200, state(people.includes(as) ? as : people[0]), SECURITY_HEADERS);
      }
      if (req.method === 'GET' && url.pathname === '/events') {
        res.writeHead(200, { 'content-type': 'text/event-stream', ...SECURITY_HEADERS });
        res.write('retry: 1000\n\n');
        streams.add(res);
        res.on('close', () => streams.delete(res));
        return;
      }
      if (req.method === 'POST' && url.pathname === '/act') {
        if (!(req.headers['content-type'] ?? '').startsWith('application/json'))
          return json(res, 415, { error: 'JSON only' });
        let action;
        try {
          action = JSON.parse(rawBody.toString('utf8'));
        } catch {
          return json(res, 400, { error: 'not JSON' });
        }
        if (!people.includes(action?.as)) return json(res, 400, { error: 'no such person' });
        try {
          await act(action);
        } catch (error) {
          return json(res, 400, { error: error.message });
        }
        return json(res, 200, { ok: true });
      }
      if (url.pathname === '/favicon.ico') return res.writeHead(204).end();
      return json(res, 404, { error: 'not found' });
    },
    { port, fallback },
  );
  allowedHosts = new Set([`127.0.0.1:${server.port}`, `localhost:${server.port}`]);

  let pending = false;
  let version = 0;
  const heartbeat = setInterval(() => {
    for (const res of streams) res.write(': still here\n\n');
  }, 15_000).unref();
  return {
    ...server,
    url: `${server.origin}/`,
    /** Tells every open page that something changed (once per turn of the event loop, however many changes). */
    changed() {
      if (pending) return;
      pending = true;
      setImmediate(() => {
        pending = false;
        version += 1;
        for (const res of streams) res.write(`data: ${version}\n\n`);
      });
    },
    close() {
      clearInterval(heartbeat);
      for (const res of streams) res.end();
      return server.close();
    },
  };
}
