import { connect } from 'node:net';

/**
 * Writes `bytes` as they are to the server at `baseUrl` over a plain TCP socket (no HTTP client would
 * send a malformed request line) and resolves with everything the server answered, up to its close.
 */
export function rawRequest(baseUrl: string, bytes: string): Promise<string> {
  const { hostname, port } = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.end(bytes));
    let answer = '';
    socket.setEncoding('utf8').on('data', (chunk: string) => (answer += chunk));
    socket.on('close', () => resolve(answer));
    socket.on('error', reject);
  });
}

/** Request lines whose target no URL parser accepts; Node's HTTP parser lets them through to the handler. */
export const MALFORMED_REQUEST_LINES = [
  'GET http://[::1 HTTP/1.1',
  'POST http://[::1 HTTP/1.1',
  'GET http:// HTTP/1.1',
];
