// The admin UI under /admin (docs/web.md "Admin"): sign-in and sign-out open to anyone, every other
// screen behind an admin session. Screens call the same use cases as the admin API and CLI.
import type { Hono } from 'hono';
import type { AppContext } from '../../context.ts';
import { webArea } from '../app.ts';
import { aliasRoutes } from './aliases.ts';
import { domainRoutes } from './domains.ts';
import { ADMIN, ADMIN_SIGN_IN, requireAdminSession, type AdminEnv } from './frame.ts';
import { healthRoutes } from './health.ts';
import { queueRoutes } from './queue.ts';
import { adminSignInRoutes } from './sign-in.ts';
import { userRoutes } from './users.ts';

export function adminRoutes(ctx: AppContext): Hono<AdminEnv> {
  const app = webArea(ctx, { kind: 'admin', home: `${ADMIN}/`, anonymousForms: [ADMIN_SIGN_IN] }) as unknown as Hono<AdminEnv>;
  adminSignInRoutes(app, ctx);
  app.use('*', requireAdminSession(ctx));
  app.get('/', (c) => c.redirect(`${ADMIN}/users`, 302));
  userRoutes(app, ctx);
  aliasRoutes(app, ctx);
  domainRoutes(app, ctx);
  queueRoutes(app, ctx);
  healthRoutes(app, ctx);
  return app;
}
