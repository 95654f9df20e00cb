// Puts the app on a socket (HTTP, or HTTPS with PULLMAIL_TLS_CERT/KEY) and closes it gracefully:
// stop accepting, let in-flight requests finish, then cut idle and remaining sockets at a deadline.
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import type { Hono } from 'hono';

export interface Listener {
  port: number;
  close(deadlineMs?: number): Promise<void>;
}

export function listen(app: Hono, opts: { host: string; port: number; tls?: { cert: string; key: string } }): Promise<Listener> {
  return new Promise((resolve, reject) => {
    let server: ServerType;
    const onListening = (info: AddressInfo) => {
      resolve({
        port: info.port,
        close: (deadlineMs = 10_000) => closeGracefully(server, deadlineMs),
      });
    };
    // node checks the header and request timeouts below only every connectionsCheckingInterval (30 s by
    // default), which would let a slowloris client stay 20 + 30 s instead of 20
    const checking = { connectionsCheckingInterval: 1_000 };
    server = opts.tls
      ? serve({ fetch: app.fetch, hostname: opts.host, port: opts.port, createServer: createHttpsServer, serverOptions: { ...checking, cert: opts.tls.cert, key: opts.tls.key } }, onListening)
      : serve({ fetch: app.fetch, hostname: opts.host, port: opts.port, serverOptions: checking }, onListening);
    server.once('error', reject);
    // slowloris: a client must send its headers within 20 s. A whole request may take 10 minutes: a raw
    // message upload is streamed into the store, and 25 MB from a slow home link takes a while
    const s = server as unknown as { headersTimeout: number; requestTimeout: number; keepAliveTimeout: number };
    s.headersTimeout = 20_000;
    s.requestTimeout = 600_000;
    s.keepAliveTimeout = 5_000;
  });
}

function closeGracefully(server: ServerType, deadlineMs: number): Promise<void> {
  const s = server as unknown as { closeIdleConnections(): void; closeAllConnections(): void };
  return new Promise((resolve) => {
    const timer = setTimeout(() => s.closeAllConnections(), deadlineMs);
    server.close(() => {
      clearTimeout(timer);
      resolve();
    });
    s.closeIdleConnections();
  });
}
