// The user API under /api/v1 (docs/operator.md): every route behind the bearer-token check, each
// seeing only the caller's own mailbox.
import type { Me } from '@pullmail/client/wire';
import { Hono } from 'hono';
import type { AppContext } from '../../context.ts';
import { requireUser, type UserEnv } from '../middleware/auth.ts';
import { exportRoutes } from './export.ts';
import { folderRoutes } from './folders.ts';
import { inboxRoutes } from './inbox.ts';
import { messageRoutes } from './messages.ts';
import { consentRoutes } from './consent-tokens.ts';
import { policyRoutes } from './policy.ts';

export function userRoutes(app: Hono, ctx: AppContext): void {
  const auth = requireUser(ctx.accounts, ctx.loginThrottle);
  // `/x/*` matches `/x` too (hono): naming both ran the check twice for `/x`, two token and throttle reads a request
  for (const path of ['/api/v1/messages/*', '/api/v1/sent', '/api/v1/inbox/*', '/api/v1/requests/*', '/api/v1/rules/*', '/api/v1/settings', '/api/v1/consent-tokens/*', '/api/v1/folders/*', '/api/v1/mail/*', '/api/v1/changes', '/api/v1/me', '/api/v1/export']) {
    app.use(path, auth as never);
  }
  // who the token belongs to: the CLI needs it for the From of the messages it writes itself
  app.route('/api/v1', new Hono<UserEnv>().get('/me', (c) => c.json({ address: c.get('mailbox').address } satisfies Me)));
  app.route('/api/v1', messageRoutes(ctx));
  app.route('/api/v1', inboxRoutes(ctx));
  app.route('/api/v1', folderRoutes(ctx));
  app.route('/api/v1', exportRoutes(ctx));
  app.route('/api/v1', policyRoutes(ctx));
  app.route('/api/v1', consentRoutes(ctx));
}
