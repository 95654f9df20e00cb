// The address a request came from: the socket's peer, as @hono/node-server hands it over in `c.env`.
// No proxy header is trusted (a client could write any). Requests without a socket (app.request in
// tests) count as one client, 'local'.
import type { Context } from 'hono';

export function clientAddress(c: Context): string {
  const env = c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined;
  return env?.incoming?.socket?.remoteAddress ?? 'local';
}
