// The user API under /api/v1 (docs/operator.md): every route behind the bearer-token check, each
// seeing only the caller's own mailbox.
import type { Hono } from 'hono';
import type { AppContext } from '../../context.ts';
import { requireUser } from '../middleware/auth.ts';
import { folderRoutes } from './folders.ts';
import { inboxRoutes } from './inbox.ts';
import { messageRoutes } from './messages.ts';
import { consentRoutes } from './consent-tokens.ts';
import { policyRoutes } from './policy.ts';

export function userRoutes(app: Hono, ctx: AppContext): void {
  const auth = requireUser(ctx.accounts, ctx.loginThrottle);
  for (const path of ['/api/v1/messages', '/api/v1/messages/*', '/api/v1/sent', '/api/v1/inbox', '/api/v1/inbox/*', '/api/v1/requests', '/api/v1/requests/*', '/api/v1/rules', '/api/v1/rules/*', '/api/v1/settings', '/api/v1/consent-tokens', '/api/v1/consent-tokens/*', '/api/v1/folders', '/api/v1/folders/*', '/api/v1/mail/*', '/api/v1/changes']) {
    app.use(path, auth as never);
  }
  app.route('/api/v1', messageRoutes(ctx));
  app.route('/api/v1', inboxRoutes(ctx));
  app.route('/api/v1', folderRoutes(ctx));
  app.route('/api/v1', policyRoutes(ctx));
  app.route('/api/v1', consentRoutes(ctx));
}
