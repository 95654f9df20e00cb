// The node's control socket: the admin API (routes/admin.ts) on a Unix socket in the data directory, so
// `pullmail-server user …` works while a node holds the embedded database (README "Managing users on a
// running node"). No token is asked for: the socket file is the owner's only (mode 0600, in a 0700
// directory), so who can open it could read the database files anyway.
import { chmodSync, mkdirSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { getRequestListener } from '@hono/node-server';
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { requestId } from 'hono/request-id';
import type { AppContext } from '../context.ts';
import { PullmailError } from '../errors.ts';
import { sendBodyLimit } from './body.ts';
import { controlSocketPath } from './control-path.ts';
import { errorResponse } from './errors.ts';
import { adminRoutes } from './routes/admin.ts';

/** Unix socket paths are limited to 108 bytes with the final NUL (sockaddr_un). */
export const MAX_SOCKET_PATH_BYTES = 107;

function controlApp(ctx: AppContext): Hono {
  const app = new Hono();
  const log = ctx.log.child({ sub: 'control' });
  app.use('*', requestId({ limitLength: 64 }));
  const tooLarge = () => {
    throw new PullmailError('too_large', 'request body is too large');
  };
  const otherLimit = bodyLimit({ maxSize: ctx.config.maxRequestBytes, onError: tooLarge });
  // each message of an import (pullmail-server import) is a whole message
  const messageLimit = bodyLimit({ maxSize: sendBodyLimit(ctx.config), onError: tooLarge });
  app.use('*', (c, next) => (c.req.path.endsWith('/messages') ? messageLimit : otherLimit)(c, next));
  app.route('/api/v1/admin', adminRoutes(ctx, { trusted: true }));
  app.notFound((c) => c.json({ error: 'not_found', detail: `no route for ${c.req.method} ${c.req.path}` }, 404));
  app.onError((err, c) => errorResponse(c, err, log));
  return app;
}

/**
 * Listens on controlSocketPath(dataDir). The caller holds the data directory's lock, so a socket file
 * left there is a crashed node's and is replaced. Resolves with a close function, or undefined (and a
 * warning) when the path is too long for a Unix socket.
 */
export async function listenControl(ctx: AppContext, dataDir: string): Promise<(() => Promise<void>) | undefined> {
  const path = controlSocketPath(dataDir);
  if (Buffer.byteLength(path) > MAX_SOCKET_PATH_BYTES) {
    ctx.log.warn({ path }, 'control socket path is too long for a Unix socket: user commands need the node stopped, or PULLMAIL_ADMIN_TOKEN and --url');
    return undefined;
  }
  mkdirSync(join(dataDir, 'run'), { recursive: true, mode: 0o700 });
  chmodSync(join(dataDir, 'run'), 0o700);
  rmSync(path, { force: true });
  const server: Server = createServer(getRequestListener(controlApp(ctx).fetch));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => resolve());
  });
  chmodSync(path, 0o600);
  return () =>
    new Promise<void>((resolve) => {
      // a command in flight gets a moment to finish, as on the HTTP listener
      const timer = setTimeout(() => server.closeAllConnections(), 5_000);
      server.close(() => {
        clearTimeout(timer);
        rmSync(path, { force: true });
        resolve();
      });
      server.closeIdleConnections();
    });
}
