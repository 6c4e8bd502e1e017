import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type Route = (req: IncomingMessage, res: ServerResponse, rawBody: Buffer) => void | Promise<void>;

/** A real HTTP server on 127.0.0.1, port 0; `close` also ends connections a route left hanging. */
export async function serve(route: Route): Promise<{ origin: string; close: () => Promise<void> }> {
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => void route(req, res, Buffer.concat(chunks)));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

export type Handler = (path: string, body: string, authorization: string) => Promise<[number, unknown]>;

/** Serves a fake's handler on 127.0.0.1 over real HTTP; JSON bodies out, any body in. */
export function serveOverHttp(handler: Handler): Promise<{ origin: string; close: () => Promise<void> }> {
  return serve((req, res, rawBody) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    handler(path, rawBody.toString('utf8'), req.headers.authorization ?? '').then(
      ([status, payload]) => {
        const text = typeof payload === 'string' ? payload : JSON.stringify(payload);
        res
          .writeHead(status, { 'content-type': typeof payload === 'string' ? 'text/plain' : 'application/json' })
          .end(text);
      },
      () => req.socket.destroy(), // a fault that stands for a network failure
    );
  });
}
