// The webmail under /mail (docs/web.md): sign-in and sign-out open to anyone, every other screen
// behind the session. Each screen module parses the request, calls one use case and renders.
import type { Hono } from 'hono';
import type { AppContext } from '../../context.ts';
import { webArea } from '../app.ts';
import { folderRoutes } from './folders.ts';
import { MAIL, requireMailbox, SIGN_IN, type MailEnv } from './frame.ts';
import { signInRoutes } from './sign-in.ts';

export function mailRoutes(ctx: AppContext): Hono<MailEnv> {
  const app = webArea(ctx, { kind: 'user', home: `${MAIL}/`, anonymousForms: [SIGN_IN] }) as unknown as Hono<MailEnv>;
  signInRoutes(app, ctx);
  app.use('*', requireMailbox());
  folderRoutes(app, ctx);
  return app;
}
